//! The fleet's flags: `--fleet-redis` turns the fleet on; `--fleet-quorum`, `--fleet-id` and
//! `--fleet-heartbeat` tune it, and are refused without it.

use std::ffi::OsStr;
use std::fmt;
use std::time::Duration;

use breaker_fleet::{Fleet, MAX_REPLICAS, ReplicaId};
use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use service_kit::duration::parse_positive as positive_duration;

use crate::client_flags::FlagError;
use crate::flag_value::count_in;

/// The shortest heartbeat: each costs one Redis round trip.
pub const MIN_HEARTBEAT: Duration = Duration::from_millis(20);
/// The longest heartbeat: a replica not heard from for three is no longer live.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(60);

/// The Redis URL of `--fleet-redis`, checked; `Debug` and every error show it without its
/// password.
#[derive(Clone, PartialEq, Eq)]
pub struct FleetRedis {
    url: String,
    shown: String,
}

impl FleetRedis {
    /// The URL as given, password included: for the Redis client only.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with its password shown as `***`.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The value parser of `--fleet-redis`: its errors never quote the value.
    pub fn parser() -> impl TypedValueParser<Value = FleetRedis> {
        RedisParser
    }
}

impl fmt::Debug for FleetRedis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FleetRedis({})", self.shown)
    }
}

#[derive(Clone)]
struct RedisParser;

impl TypedValueParser for RedisParser {
    type Value = FleetRedis;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<FleetRedis, clap::Error> {
        let flag = arg.map_or_else(|| "--fleet-redis".to_owned(), ToString::to_string);
        let refuse = |reason: &str| {
            cmd.clone().error(
                ErrorKind::ValueValidation,
                format!("invalid value for '{flag}' (not shown: it may hold a password): {reason}"),
            )
        };
        let text = value.to_str().ok_or_else(|| refuse("not UTF-8"))?;
        // The fleet's own check of the URL; its error never quotes the password.
        let fleet = Fleet::builder(text, "check")
            .build()
            .map_err(|err| refuse(err.reason()))?;
        Ok(FleetRedis {
            url: text.to_owned(),
            shown: fleet.config().redis_url().to_owned(),
        })
    }
}

/// The fleet's flags as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct FleetFlags {
    /// Shares the breaker's state with the other replicas of service A through this Redis
    /// (`redis://[:password@]host:port`); off without it. Prefer the environment variable
    /// when it holds a password: a command line is visible to other users.
    #[arg(long, env = "FLEET_REDIS", hide_env_values = true, value_parser = FleetRedis::parser())]
    pub fleet_redis: Option<FleetRedis>,

    /// Distinct replicas whose failures, or whose open circuits, it takes to open the others
    /// (default: 1, the fleet as one breaker); needs --fleet-redis.
    #[arg(long, value_parser = count_in(1, MAX_REPLICAS), allow_hyphen_values = true)]
    pub fleet_quorum: Option<u32>,

    /// This replica's name in the fleet: letters, digits and . _ - : (default: the host name
    /// and the listening port); needs --fleet-redis.
    #[arg(long)]
    pub fleet_id: Option<String>,

    /// How often this replica publishes its state and reads the others' (default: 300ms);
    /// needs --fleet-redis.
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub fleet_heartbeat: Option<Duration>,
}

/// The fleet's settings, resolved from the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// Where the fleet shares.
    pub redis: FleetRedis,
    /// `--fleet-quorum`.
    pub quorum: u32,
    /// `--fleet-id`, checked; `None`: the host name and the port listened on.
    pub id: Option<ReplicaId>,
    /// `--fleet-heartbeat`.
    pub heartbeat: Duration,
}

impl FleetFlags {
    /// The fleet's settings, or `None` when it is off; `breaker_on` says whether there is a
    /// breaker to share.
    ///
    /// # Errors
    ///
    /// A [`FlagError`] naming the flag: a fleet flag without `--fleet-redis`, a fleet without
    /// a breaker, a bad id or heartbeat.
    pub fn resolve(&self, breaker_on: bool) -> Result<Option<FleetSettings>, FlagError> {
        let Some(redis) = &self.fleet_redis else {
            for (given, flag) in [
                (self.fleet_quorum.is_some(), "--fleet-quorum"),
                (self.fleet_id.is_some(), "--fleet-id"),
                (self.fleet_heartbeat.is_some(), "--fleet-heartbeat"),
            ] {
                if given {
                    return Err(refused(flag, "the fleet is off without --fleet-redis"));
                }
            }
            return Ok(None);
        };
        if !breaker_on {
            return Err(refused(
                "--fleet-redis",
                "there is no breaker to share with --no-breaker",
            ));
        }
        let id = self
            .fleet_id
            .as_deref()
            .map(ReplicaId::new)
            .transpose()
            .map_err(|err| refused("--fleet-id", err.reason()))?;
        let heartbeat = self
            .fleet_heartbeat
            .unwrap_or(breaker_fleet::DEFAULT_HEARTBEAT);
        if !(MIN_HEARTBEAT..=MAX_HEARTBEAT).contains(&heartbeat) {
            return Err(refused(
                "--fleet-heartbeat",
                &format!(
                    "{} must be from {} to {}",
                    humantime::format_duration(heartbeat),
                    humantime::format_duration(MIN_HEARTBEAT),
                    humantime::format_duration(MAX_HEARTBEAT)
                ),
            ));
        }
        Ok(Some(FleetSettings {
            redis: redis.clone(),
            quorum: self.fleet_quorum.unwrap_or(1),
            id,
            heartbeat,
        }))
    }
}

fn refused(flag: &str, reason: &str) -> FlagError {
    FlagError {
        flag: flag.to_owned(),
        reason: reason.to_owned(),
    }
}
