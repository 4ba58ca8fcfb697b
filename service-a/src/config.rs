//! Command-line configuration, parsed and checked once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use reqwest::Url;
use service_kit::logging::LogFlags;
use service_kit::server::ServerLimits;

use crate::admin::token::AdminFlags;
use crate::client_flags::ClientFlags;
use crate::dashboard::hub::DashboardFlags;
use crate::fleet::{FleetFlags, FleetSettings};
use crate::upstream::ClientSettings;

/// The article's Service A address (`app.run(port=5000)`).
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5000);

/// Where the article's Service B listens.
pub const DEFAULT_SERVICE_B_URL: &str = "http://127.0.0.1:5001";

/// Settings for Service A.
///
/// Durations are human strings (`10s`, `250ms`), at most one day. Parse with
/// [`Config::parse_checked`] (or [`Config::try_parse_checked_from`]) rather than clap's plain
/// `parse`, so that settings that parse but cannot work together (`--request-timeout 20s` with
/// `--recovery-timeout 10s`, `--half-open-max-calls 0`) are refused like any other bad flag.
/// The client flags and the three profiles are in [`ClientFlags`] and [`crate::profile`].
///
/// ```
/// use service_a::Config;
/// use std::time::Duration;
///
/// let settings = Config::try_parse_checked_from(["service-a", "--recovery-timeout", "30s"])?;
/// let breaker = settings.client().breaker.expect("the breaker is on");
/// assert_eq!(breaker.recovery_timeout, Duration::from_secs(30));
/// assert_eq!(breaker.failure_threshold, Some(3));
///
/// let err = Config::try_parse_checked_from(["service-a", "--request-timeout", "20s"])
///     .expect_err("a call would outlive the open period");
/// assert_eq!(err.exit_code(), 2);
/// assert!(err.to_string().contains("--request-timeout"));
/// assert!(err.to_string().contains("--recovery-timeout"));
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "service-a",
    version,
    about = "Calls service B through a circuit breaker, as in the article",
    long_about = None
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SERVICE_A_LISTEN", default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Base URL of service B; `/api` is appended to its path.
    #[arg(
        long,
        env = "SERVICE_B_URL",
        default_value = DEFAULT_SERVICE_B_URL,
        value_parser = parse_service_b_url
    )]
    pub service_b_url: Url,

    /// How service A calls B: the profile, the breaker and the other layers.
    #[command(flatten)]
    pub client: ClientFlags,

    /// How slow clients are waited for, how many are served at once, how long shutdown
    /// waits: the flags both services share.
    #[command(flatten)]
    pub server: ServerLimits,

    /// How log lines are written.
    #[command(flatten)]
    pub log: LogFlags,

    /// The token that turns on the admin actions of `POST /breaker`.
    #[command(flatten)]
    pub admin: AdminFlags,

    /// How many dashboards may watch at once.
    #[command(flatten)]
    pub dashboard: DashboardFlags,

    /// The fleet: the breaker's state shared with the other replicas through Redis.
    #[command(flatten)]
    pub fleet: FleetFlags,
}

impl Default for Config {
    /// The article's setup: port 5000, B on 5001, the article profile (3 s timeout, 3
    /// failures, 10 s recovery).
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            service_b_url: default_service_b_url(),
            client: ClientFlags::default(),
            server: ServerLimits::default(),
            log: LogFlags::default(),
            admin: AdminFlags::default(),
            dashboard: DashboardFlags::default(),
            fleet: FleetFlags::default(),
        }
    }
}

impl Config {
    /// Parses the process's arguments and checks them; on error prints clap's message and exits
    /// with code 2.
    pub fn parse_checked() -> Settings {
        Settings::check(Self::parse()).unwrap_or_else(|err| err.exit())
    }

    /// [`parse_checked`](Self::parse_checked) for given arguments, returning the error instead
    /// of exiting.
    ///
    /// # Errors
    ///
    /// Clap's error for an unparsable flag, or one from [`Settings::check`].
    pub fn try_parse_checked_from<I, T>(args: I) -> Result<Settings, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Settings::check(Self::try_parse_from(args)?)
    }
}

/// A [`Config`] whose flags have been checked, with the client stack's settings resolved from
/// them: what [`AppState`](crate::AppState) is built from. [`Settings::check`] is its only
/// constructor, so holding one means the flags work together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    config: Config,
    client: ClientSettings,
    fleet: Option<FleetSettings>,
}

impl Settings {
    /// Checks `config` the way the client stack and the breaker will, so a bad value is
    /// reported as a usage error naming its flag (exit code 2) rather than failing later at
    /// start-up.
    ///
    /// # Errors
    ///
    /// A `ValueValidation` clap error naming the flag, or both flags, at fault.
    pub fn check(config: Config) -> Result<Self, clap::Error> {
        let client = config
            .client
            .resolve()
            .map_err(|err| usage_error(err.to_string()))?;
        config.server.check().map_err(usage_error)?;
        let fleet = config
            .fleet
            .resolve(client.breaker.is_some())
            .map_err(|err| usage_error(err.to_string()))?;
        Ok(Self {
            config,
            client,
            fleet,
        })
    }

    /// The flags as given.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every layer's settings: the flags given and the profile's defaults for the rest.
    pub fn client(&self) -> &ClientSettings {
        &self.client
    }

    /// The fleet's settings; `None` without `--fleet-redis`.
    pub fn fleet(&self) -> Option<&FleetSettings> {
        self.fleet.as_ref()
    }
}

impl Default for Settings {
    /// [`Config::default`], checked.
    fn default() -> Self {
        // `defaults_match_the_article` proves the defaults pass the check.
        Self::check(Config::default()).expect("the default flags are valid")
    }
}

/// A refused flag ([`FlagError`](crate::client_flags::FlagError)'s words) as clap's usage error, which exits with code 2.
fn usage_error(message: String) -> clap::Error {
    Config::command().error(ErrorKind::ValueValidation, message)
}

fn default_service_b_url() -> Url {
    // Parsing a constant either always works or never does, and `defaults_match_the_article`
    // proves it works: this cannot fail at run time.
    Url::parse(DEFAULT_SERVICE_B_URL).expect("DEFAULT_SERVICE_B_URL is a valid URL")
}

/// Accepts an absolute `http://` URL with a host and no query or fragment.
///
/// `https` is refused up front: this build of reqwest has no TLS, so every call would fail.
/// `--service-b-url`'s parser, which `proxy-floor` shares.
pub fn parse_service_b_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("not a URL ({err})"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "the scheme must be http (got {:?}; this build has no TLS)",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("the URL has no host".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the base URL must have no query or fragment".to_owned());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::flag_value::Percent;
    use crate::profile::Profile;
    use crate::upstream::{BREAKER_NAME, BreakerSettings, BulkheadSettings, RetrySettings};

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        Config::try_parse_checked_from(std::iter::once("service-a").chain(args.iter().copied()))
    }

    fn settings(args: &[&str]) -> ClientSettings {
        parse(args)
            .map(|settings| settings.client().clone())
            .unwrap_or_else(|err| panic!("{args:?}: {err}"))
    }

    fn percent(value: u8) -> Option<Percent> {
        Percent::new(value)
    }

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn defaults_match_the_article() {
        let checked = parse(&[]).expect("no flags is valid");
        assert_eq!(checked, Settings::default());
        let config = checked.config();
        assert_eq!(config.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(config.service_b_url.as_str(), "http://127.0.0.1:5001/");
        let settings = settings(&[]);
        assert_eq!(settings.profile, Profile::Article);
        assert_eq!(settings.request_timeout, secs(3));
        assert_eq!(settings.call_deadline, None);
        assert!(!settings.retry.is_on());
        assert_eq!(settings.bulkhead, None);
        let breaker = settings.breaker.expect("on");
        assert_eq!(breaker.failure_threshold, Some(3));
        assert_eq!(breaker.failure_rate_threshold, None);
        assert_eq!(breaker.slow_call_threshold, None);
        assert_eq!(breaker.recovery_timeout, secs(10));
        assert_eq!(breaker.half_open_max_calls, 1);
        assert_eq!(settings.max_response_bytes, 1_048_576);
    }

    #[test]
    fn the_production_profile_turns_every_layer_on_with_the_documented_defaults() {
        assert_eq!(
            settings(&["--profile", "production"]),
            ClientSettings {
                profile: Profile::Production,
                call_deadline: Some(secs(5)),
                retry: RetrySettings {
                    attempts: 3,
                    backoff: Duration::from_millis(50),
                    backoff_max: secs(1),
                    budget: percent(20),
                },
                breaker: Some(BreakerSettings {
                    failure_threshold: None,
                    failure_rate_threshold: percent(50),
                    slow_call_threshold: Some(secs(1)),
                    slow_call_rate_threshold: percent(50),
                    sliding_window: secs(30),
                    minimum_calls: 20,
                    recovery_timeout: secs(10),
                    half_open_max_calls: 1,
                    throttle: None,
                }),
                bulkhead: Some(BulkheadSettings {
                    max_concurrent: 32,
                    wait: Duration::ZERO,
                    adaptive: None,
                }),
                request_timeout: secs(3),
                max_response_bytes: 1_048_576,
            }
        );
    }

    #[test]
    fn the_adaptive_profile_is_production_with_a_throttle_and_an_adaptive_limit() {
        let adaptive = settings(&["--profile", "adaptive"]);
        let production = settings(&["--profile", "production"]);
        let breaker = adaptive.breaker.expect("a breaker");
        let throttle = breaker.throttle.expect("a throttle");
        assert_eq!(throttle.k.get(), 1.5);
        assert_eq!(throttle.window, secs(10));
        assert_eq!(throttle.max_rejection.get(), 0.9);
        assert_eq!(throttle.minimum_requests, 20);
        assert_eq!(
            BreakerSettings {
                throttle: None,
                ..breaker
            },
            production.breaker.expect("a breaker"),
            "the trip policies are production's"
        );
        let bulkhead = adaptive.bulkhead.expect("a bulkhead");
        assert_eq!(bulkhead.max_concurrent, 200);
        assert!(bulkhead.adaptive.is_some());
        assert_eq!(
            ClientSettings {
                profile: Profile::Production,
                breaker: production.breaker,
                bulkhead: production.bulkhead,
                ..adaptive
            },
            production,
            "every other layer is production's"
        );
        let fixed = settings(&["--profile", "adaptive", "--max-concurrent", "8"]);
        assert_eq!(
            fixed.bulkhead.map(|b| (b.max_concurrent, b.adaptive)),
            Some((8, None))
        );
        let unthrottled = settings(&["--profile", "adaptive", "--adaptive-throttle", "none"]);
        assert_eq!(unthrottled.breaker.and_then(|b| b.throttle), None);
    }

    #[test]
    fn every_flag_works_in_either_profile() {
        let article = settings(&[
            "--retry-attempts",
            "3",
            "--max-concurrent",
            "8",
            "--call-deadline",
            "4s",
        ]);
        assert_eq!(article.retry.attempts, 3);
        assert_eq!(article.retry.budget, percent(20));
        assert_eq!(article.bulkhead.map(|b| b.max_concurrent), Some(8));
        assert_eq!(article.call_deadline, Some(secs(4)));
        assert_eq!(article.breaker.and_then(|b| b.failure_threshold), Some(3));

        let production = settings(&[
            "--profile",
            "production",
            "--retry-budget",
            "none",
            "--max-concurrent",
            "none",
            "--call-deadline",
            "none",
            "--failure-threshold",
            "5",
            "--no-breaker",
        ]);
        assert_eq!(production.retry.budget, None);
        assert_eq!(production.bulkhead, None);
        assert_eq!(production.call_deadline, None);
        assert_eq!(production.breaker, None);
        assert_eq!(production.retry.attempts, 3);
    }

    #[test]
    fn durations_are_human_strings() {
        let settings = settings(&["--request-timeout", "250ms", "--recovery-timeout", "1m"]);
        assert_eq!(settings.request_timeout, Duration::from_millis(250));
        assert_eq!(settings.breaker.map(|b| b.recovery_timeout), Some(secs(60)));
    }

    #[test]
    fn every_invalid_flag_is_a_usage_error_naming_the_flag() {
        for (args, flag) in [
            (&["--failure-threshold", "0"][..], "--failure-threshold"),
            (&["--failure-threshold=-1"][..], "--failure-threshold"),
            (&["--recovery-timeout", "0s"][..], "--recovery-timeout"),
            (&["--recovery-timeout", "soon"][..], "--recovery-timeout"),
            (
                &["--recovery-timeout", "999999999999s"][..],
                "--recovery-timeout",
            ),
            (&["--half-open-max-calls", "0"][..], "--half-open-max-calls"),
            (
                &["--half-open-max-calls", "10001"][..],
                "--half-open-max-calls",
            ),
            (&["--request-timeout", "0ms"][..], "--request-timeout"),
            (&["--request-timeout", "3 parsecs"][..], "--request-timeout"),
            (&["--request-timeout", "2days"][..], "--request-timeout"),
            (&["--call-deadline", "0s"][..], "--call-deadline"),
            (&["--retry-attempts", "0"][..], "--retry-attempts"),
            (&["--retry-attempts", "11"][..], "--retry-attempts"),
            (&["--retry-budget", "120%"][..], "--retry-budget"),
            (&["--retry-backoff", "0ms"][..], "--retry-backoff"),
            (
                &["--failure-rate-threshold", "0%"][..],
                "--failure-rate-threshold",
            ),
            (
                &["--slow-call-threshold", "0s"][..],
                "--slow-call-threshold",
            ),
            (
                &[
                    "--slow-call-threshold",
                    "1s",
                    "--slow-call-rate-threshold",
                    "0%",
                ][..],
                "--slow-call-rate-threshold",
            ),
            (
                &["--sliding-window", "5ms", "--failure-rate-threshold", "50%"][..],
                "--sliding-window",
            ),
            (&["--minimum-calls", "0"][..], "--minimum-calls"),
            (&["--max-concurrent", "0"][..], "--max-concurrent"),
            (&["--max-concurrent", "10001"][..], "--max-concurrent"),
            (&["--bulkhead-wait", "soon"][..], "--bulkhead-wait"),
            (&["--max-response-bytes", "0"][..], "--max-response-bytes"),
            (
                &["--max-response-bytes", "1073741825"][..],
                "--max-response-bytes",
            ),
            (&["--profile", "staging"][..], "--profile"),
            (&["--service-b-url", "not a url"][..], "--service-b-url"),
            (
                &["--service-b-url", "https://b.example"][..],
                "--service-b-url",
            ),
            (&["--service-b-url", "http://b/?x=1"][..], "--service-b-url"),
            (&["--listen", "nowhere"][..], "--listen"),
            (&["--fleet-quorum", "2"][..], "--fleet-quorum"),
            (&["--fleet-id", "a-1"][..], "--fleet-id"),
            (&["--fleet-heartbeat", "1s"][..], "--fleet-heartbeat"),
            (&["--fleet-redis", "http://127.0.0.1"][..], "--fleet-redis"),
            (
                &["--fleet-redis", "redis://127.0.0.1", "--no-breaker"][..],
                "--fleet-redis",
            ),
            (
                &["--fleet-redis", "redis://127.0.0.1", "--fleet-id", "a b"][..],
                "--fleet-id",
            ),
            (
                &[
                    "--fleet-redis",
                    "redis://127.0.0.1",
                    "--fleet-heartbeat",
                    "5ms",
                ][..],
                "--fleet-heartbeat",
            ),
            (
                &["--fleet-redis", "redis://127.0.0.1", "--fleet-quorum", "0"][..],
                "--fleet-quorum",
            ),
        ] {
            let err = parse(args).expect_err("must be refused");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn every_bound_itself_is_accepted() {
        let settings = settings(&[
            "--max-response-bytes",
            "1073741824",
            "--retry-attempts",
            "10",
            "--max-concurrent",
            "10000",
            "--half-open-max-calls",
            "10000",
            "--retry-backoff",
            "1s",
            "--retry-backoff-max",
            "1s",
        ]);
        assert_eq!(settings.max_response_bytes, 1 << 30);
        assert_eq!(settings.retry.attempts, 10);
        assert_eq!(settings.bulkhead.map(|b| b.max_concurrent), Some(10_000));
        assert_eq!(
            settings.breaker.map(|b| b.half_open_max_calls),
            Some(10_000)
        );
        assert_eq!(settings.retry.backoff_max, settings.retry.backoff);
    }

    #[test]
    fn timeouts_that_defeat_each_other_are_refused_naming_both_flags() {
        for (args, flags) in [
            (
                &["--request-timeout", "10s"][..],
                ["--request-timeout", "--recovery-timeout"],
            ),
            (
                &["--request-timeout", "3s", "--recovery-timeout", "2s"][..],
                ["--request-timeout", "--recovery-timeout"],
            ),
            (
                &["--profile", "production", "--call-deadline", "1s"][..],
                ["--call-deadline", "--request-timeout"],
            ),
            (
                &["--retry-backoff", "2s", "--retry-backoff-max", "1s"][..],
                ["--retry-backoff-max", "--retry-backoff"],
            ),
        ] {
            let err = parse(args).expect_err("must be refused");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            for flag in flags {
                assert!(err.to_string().contains(flag), "{args:?}: {err}");
            }
        }
        let err = parse(&["--request-timeout", "20s"]).expect_err("refused");
        assert!(
            err.to_string().contains(
                "invalid value for --request-timeout: 20s must be shorter than the recovery \
                 timeout (--recovery-timeout 10s)"
            ),
            "{err}"
        );
        // Without a breaker there is no recovery timeout to outlive.
        assert!(parse(&["--request-timeout", "20s", "--no-breaker"]).is_ok());
        // A deadline must leave the attempt's own timeout room to fire first.
        let err = parse(&["--request-timeout", "2s", "--call-deadline", "2s"]).expect_err("equal");
        assert!(err.to_string().contains("--call-deadline"), "{err}");
        assert!(parse(&["--request-timeout", "2s", "--call-deadline", "2001ms"]).is_ok());
    }

    #[test]
    fn a_breaker_error_says_why() {
        let err = parse(&["--failure-threshold", "0"]).expect_err("refused");
        assert!(
            err.to_string().contains(
                "invalid value '0' for '--failure-threshold <FAILURE_THRESHOLD>': must be a \
                 whole number from 1 to 1000000 (got \"0\"), or none"
            ),
            "{err}"
        );
        let err = parse(&["--sliding-window", "5ms", "--failure-rate-threshold", "50%"])
            .expect_err("refused");
        assert!(
            err.to_string().contains(
                "invalid value for --sliding-window: each of the 1 buckets of a 5ms window would \
                 be shorter than"
            ),
            "{err}"
        );
        let err = parse(&["--failure-threshold", "none"]).expect_err("no policy left");
        assert!(
            err.to_string()
                .contains("--failure-threshold: no trip policy left"),
            "{err}"
        );
    }

    #[test]
    fn the_breaker_gets_every_breaker_flag() {
        let settings = settings(&[
            "--failure-threshold",
            "5",
            "--recovery-timeout",
            "20s",
            "--half-open-max-calls",
            "2",
            "--failure-rate-threshold",
            "40%",
            "--minimum-calls",
            "7",
        ]);
        let cb = settings
            .breaker
            .expect("on")
            .builder()
            .build()
            .expect("valid");
        assert_eq!(cb.name(), BREAKER_NAME);
        let config = cb.config();
        assert_eq!(config.failure_threshold(), Some(5));
        assert_eq!(config.recovery_timeout(), secs(20));
        assert_eq!(config.half_open_max_calls(), 2);
        assert_eq!(config.failure_rate_threshold(), Some(40.0));
        assert_eq!(config.minimum_calls(), 7);
    }

    #[test]
    fn the_fleet_is_off_by_default_and_takes_its_defaults_with_fleet_redis() {
        assert_eq!(parse(&[]).expect("valid").fleet(), None);
        let on = parse(&["--fleet-redis", "redis://127.0.0.1:6379"]).expect("valid");
        let fleet = on.fleet().expect("on");
        assert_eq!(fleet.quorum, 1);
        assert_eq!(fleet.heartbeat, Duration::from_millis(300));
        assert_eq!(fleet.id, None, "the host name and the port, once listening");
        let tuned = parse(&[
            "--fleet-redis",
            "redis://127.0.0.1:6379",
            "--fleet-quorum",
            "2",
            "--fleet-id",
            "a-1:5000",
            "--fleet-heartbeat",
            "100ms",
        ])
        .expect("valid");
        let fleet = tuned.fleet().expect("on");
        assert_eq!(fleet.quorum, 2);
        assert_eq!(fleet.id.as_ref().map(|id| id.as_str()), Some("a-1:5000"));
        assert_eq!(fleet.heartbeat, Duration::from_millis(100));
    }

    #[test]
    fn the_fleets_redis_password_is_never_repeated() {
        for url in ["http://:s3cret@127.0.0.1", "redis://:s3cret@[nowhere"] {
            let err = parse(&["--fleet-redis", url]).expect_err("refused");
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains("--fleet-redis"), "{err}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
        let on = parse(&["--fleet-redis", "redis://:s3cret@127.0.0.1:6379"]).expect("valid");
        assert!(!format!("{on:?}").contains("s3cret"), "{on:?}");
        let fleet = on.fleet().expect("on");
        assert_eq!(fleet.redis.shown(), "redis://:***@127.0.0.1:6379");
        assert_eq!(fleet.redis.url(), "redis://:s3cret@127.0.0.1:6379");
    }

    #[test]
    fn clap_definition_is_consistent() {
        Config::command().debug_assert();
    }
}
