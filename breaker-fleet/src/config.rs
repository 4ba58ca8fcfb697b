//! The fleet's settings, validated once by [`FleetBuilder::build`], and the replica's name,
//! [`ReplicaId`].

use std::fmt;
use std::time::Duration;

use crate::redis_url::RedisUrl;

/// The longest replica id, in bytes: it is a Redis key's tail and a line in `/breaker`.
pub const MAX_ID_BYTES: usize = 64;

/// The most replicas a fleet may have by default; more are read up to this many and the
/// excess is said once in the log.
pub const DEFAULT_MAX_REPLICAS: u32 = 64;
/// The most replicas any fleet may be set to have.
pub const MAX_REPLICAS: u32 = 1_000;

/// How often a replica publishes and reads, by default.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_millis(300);
/// How long any Redis operation may take, by default, before the replica runs on its own.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(100);
/// How long the lease of the fleet's one probe lasts, by default: long enough for a probe's
/// answer (service A's 3 s request timeout) and the publishing of its result.
pub const DEFAULT_PROBE_LEASE: Duration = Duration::from_secs(5);
/// How far back a replica's failures count towards the fleet's, by default.
pub const DEFAULT_FAILURE_WINDOW: Duration = Duration::from_secs(10);
/// The prefix of every key the fleet writes, by default.
pub const DEFAULT_KEY_PREFIX: &str = "breaker-fleet";

/// The longest lease and failure window: a day, as every duration of the breaker's flags.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A replica's name within its fleet: 1 to [`MAX_ID_BYTES`] bytes of ASCII letters, digits and
/// `.`, `_`, `-`, `:` (a host name and a port, say), so that it is safe in a Redis key, a log
/// line and JSON alike.
///
/// ```
/// use breaker_fleet::ReplicaId;
///
/// assert_eq!(ReplicaId::new("a-7f9c:5000").unwrap().as_str(), "a-7f9c:5000");
/// assert!(ReplicaId::new("").is_err());
/// assert!(ReplicaId::new("a b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplicaId(String);

impl ReplicaId {
    /// `id`, if it is a valid replica id.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming `id` and why.
    pub fn new(id: &str) -> Result<Self, ConfigError> {
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(ConfigError::new(
                "id",
                format!("must be 1 to {MAX_ID_BYTES} bytes (got {})", id.len()),
            ));
        }
        if let Some(bad) = id.chars().find(|c| !is_id_char(*c)) {
            return Err(ConfigError::new(
                "id",
                format!("may hold only letters, digits and . _ - : (got {bad:?})"),
            ));
        }
        Ok(Self(id.to_owned()))
    }

    /// A replica id made from `text` whatever it holds: each character a replica id may not
    /// hold becomes `-`, and it is cut to [`MAX_ID_BYTES`]; empty becomes `replica`. For
    /// defaults made of a host name.
    pub fn sanitized(text: &str) -> Self {
        let mut id: String = text
            .chars()
            .map(|c| if is_id_char(c) { c } else { '-' })
            .collect();
        id.truncate(MAX_ID_BYTES);
        if id.is_empty() {
            id.push_str("replica");
        }
        Self(id)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fleet setting that cannot work, naming the setting and why, e.g.
/// ``invalid fleet setting `quorum`: must be at least 1 (got 0)``. It never quotes the Redis
/// URL's password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fleet setting `{field}`: {reason}")]
pub struct ConfigError {
    field: &'static str,
    reason: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The setting at fault, as its builder method names it (`redis_url`, `quorum`, ...).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Why the value cannot work.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The fleet's settings, validated: what the background task runs with.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    pub(crate) redis: RedisUrl,
    pub(crate) id: ReplicaId,
    pub(crate) quorum: u32,
    pub(crate) heartbeat: Duration,
    pub(crate) redis_timeout: Duration,
    pub(crate) probe_lease: Duration,
    pub(crate) failure_window: Duration,
    pub(crate) max_replicas: u32,
    pub(crate) key_prefix: String,
}

impl FleetConfig {
    /// This replica's id.
    pub fn id(&self) -> &ReplicaId {
        &self.id
    }

    /// Distinct replicas whose evidence, or whose Open circuits, it takes to open the others.
    pub fn quorum(&self) -> u32 {
        self.quorum
    }

    /// How often the replica publishes and reads.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// The Redis URL, its password shown as `***`.
    pub fn redis_url(&self) -> &str {
        self.redis.redacted()
    }
}

/// Configures a fleet; from [`Fleet::builder`](crate::Fleet::builder). Nothing is checked
/// until [`build`](Self::build), which names the first invalid setting.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct FleetBuilder {
    redis_url: String,
    id: String,
    quorum: u32,
    heartbeat: Duration,
    redis_timeout: Duration,
    probe_lease: Duration,
    failure_window: Duration,
    max_replicas: u32,
    key_prefix: String,
}

impl FleetBuilder {
    pub(crate) fn new(redis_url: &str, id: &str) -> Self {
        Self {
            redis_url: redis_url.to_owned(),
            id: id.to_owned(),
            quorum: 1,
            heartbeat: DEFAULT_HEARTBEAT,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
            probe_lease: DEFAULT_PROBE_LEASE,
            failure_window: DEFAULT_FAILURE_WINDOW,
            max_replicas: DEFAULT_MAX_REPLICAS,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
        }
    }

    /// Distinct replicas that must contribute failures (or report Open) before the fleet opens
    /// the others. 1: the fleet acts as one breaker; 2 or more: one replica whose own path to
    /// the backend is broken cannot open the rest. Default 1.
    pub fn quorum(mut self, replicas: u32) -> Self {
        self.quorum = replicas;
        self
    }

    /// How often the replica publishes its state and reads the others'. A replica not heard
    /// from for three heartbeats is no longer live. Default 300 ms.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// How long any Redis operation may take; past it the replica runs on its own breaker
    /// until Redis answers again. Shorter than the heartbeat. Default 100 ms.
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        self.redis_timeout = timeout;
        self
    }

    /// How long the lease of the fleet's one probe lasts: the holder's time to send its probe
    /// and publish the result. A holder that dies is replaced when it runs out. Default 5 s.
    pub fn probe_lease(mut self, lease: Duration) -> Self {
        self.probe_lease = lease;
        self
    }

    /// How far back a replica's consecutive failures count towards the fleet's. Default 10 s.
    pub fn failure_window(mut self, window: Duration) -> Self {
        self.failure_window = window;
        self
    }

    /// The most replicas read at each heartbeat; past it the fleet is capped and the log says
    /// so once. Default 64, at most 1,000.
    pub fn max_replicas(mut self, replicas: u32) -> Self {
        self.max_replicas = replicas;
        self
    }

    /// The prefix of every key the fleet writes: `PREFIX:BREAKER:...`. Default
    /// `breaker-fleet`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Every setting checked; [`FleetBuilder::build`] (beside the fleet it builds) starts from
    /// them.
    pub(crate) fn validate(self) -> Result<FleetConfig, ConfigError> {
        let redis = RedisUrl::parse(&self.redis_url)
            .map_err(|reason| ConfigError::new("redis_url", reason))?;
        let id = ReplicaId::new(&self.id)?;
        if self.quorum == 0 || self.quorum > MAX_REPLICAS {
            return Err(ConfigError::new(
                "quorum",
                format!("must be from 1 to {MAX_REPLICAS} (got {})", self.quorum),
            ));
        }
        if self.max_replicas == 0 || self.max_replicas > MAX_REPLICAS {
            return Err(ConfigError::new(
                "max_replicas",
                format!(
                    "must be from 1 to {MAX_REPLICAS} (got {})",
                    self.max_replicas
                ),
            ));
        }
        if self.quorum > self.max_replicas {
            return Err(ConfigError::new(
                "quorum",
                format!(
                    "{} is more than the replicas read (max_replicas {})",
                    self.quorum, self.max_replicas
                ),
            ));
        }
        positive("heartbeat", self.heartbeat, Duration::from_secs(60))?;
        positive("redis_timeout", self.redis_timeout, Duration::from_secs(60))?;
        positive("probe_lease", self.probe_lease, DAY)?;
        positive("failure_window", self.failure_window, DAY)?;
        if self.redis_timeout >= self.heartbeat {
            return Err(ConfigError::new(
                "redis_timeout",
                format!(
                    "{:?} must be shorter than the heartbeat ({:?})",
                    self.redis_timeout, self.heartbeat
                ),
            ));
        }
        if self.key_prefix.is_empty()
            || self.key_prefix.len() > MAX_ID_BYTES
            || !self.key_prefix.chars().all(is_id_char)
        {
            return Err(ConfigError::new(
                "key_prefix",
                format!(
                    "must be 1 to {MAX_ID_BYTES} bytes of letters, digits and . _ - : (got {:?})",
                    self.key_prefix
                ),
            ));
        }
        Ok(FleetConfig {
            redis,
            id,
            quorum: self.quorum,
            heartbeat: self.heartbeat,
            redis_timeout: self.redis_timeout,
            probe_lease: self.probe_lease,
            failure_window: self.failure_window,
            max_replicas: self.max_replicas,
            key_prefix: self.key_prefix,
        })
    }
}

fn positive(field: &'static str, value: Duration, most: Duration) -> Result<(), ConfigError> {
    if value.is_zero() || value > most {
        return Err(ConfigError::new(
            field,
            format!("must be longer than zero and at most {most:?} (got {value:?})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fleet;

    /// The longest lease and failure window, written out rather than read from `DAY`, so that
    /// the bound is checked against the number it promises.
    const A_DAY: Duration = Duration::from_secs(86_400);

    fn build(builder: FleetBuilder) -> Result<crate::Fleet, ConfigError> {
        builder.build()
    }

    #[test]
    fn the_defaults_build() {
        let fleet = build(Fleet::builder("redis://127.0.0.1:6379", "a:5000")).expect("valid");
        let config = fleet.config();
        assert_eq!(config.quorum(), 1);
        assert_eq!(config.heartbeat(), DEFAULT_HEARTBEAT);
        assert_eq!(config.id().as_str(), "a:5000");
    }

    #[test]
    fn every_invalid_setting_is_named() {
        let base = || Fleet::builder("redis://127.0.0.1:6379", "a");
        for (builder, field) in [
            (Fleet::builder("http://x", "a"), "redis_url"),
            (Fleet::builder("redis://127.0.0.1", "a b"), "id"),
            (Fleet::builder("redis://127.0.0.1", &"x".repeat(65)), "id"),
            (base().quorum(0), "quorum"),
            (base().quorum(1_001), "quorum"),
            (base().max_replicas(0), "max_replicas"),
            (base().max_replicas(1_001), "max_replicas"),
            (base().max_replicas(3).quorum(4), "quorum"),
            (base().heartbeat(Duration::ZERO), "heartbeat"),
            (base().heartbeat(Duration::from_secs(61)), "heartbeat"),
            (base().redis_timeout(Duration::ZERO), "redis_timeout"),
            (base().redis_timeout(DEFAULT_HEARTBEAT), "redis_timeout"),
            (base().probe_lease(Duration::ZERO), "probe_lease"),
            (base().failure_window(Duration::ZERO), "failure_window"),
            (base().key_prefix(""), "key_prefix"),
            (base().key_prefix("a b"), "key_prefix"),
            (base().key_prefix("p".repeat(65)), "key_prefix"),
            (
                base().probe_lease(A_DAY + Duration::from_millis(1)),
                "probe_lease",
            ),
            (
                base().failure_window(A_DAY + Duration::from_millis(1)),
                "failure_window",
            ),
        ] {
            let err = build(builder).expect_err(field);
            assert_eq!(err.field(), field, "{err}");
        }
    }

    #[test]
    fn the_bounds_themselves_are_accepted() {
        let fleet = Fleet::builder("redis://:pw@127.0.0.1", &"x".repeat(64))
            .quorum(1_000)
            .max_replicas(1_000)
            .heartbeat(Duration::from_secs(60))
            .redis_timeout(Duration::from_secs(59))
            .probe_lease(A_DAY)
            .failure_window(A_DAY)
            .key_prefix("p".repeat(64))
            .build()
            .expect("every bound is allowed");
        let config = fleet.config();
        assert_eq!(config.quorum(), 1_000);
        assert_eq!(config.heartbeat(), Duration::from_secs(60));
        assert_eq!(config.redis_url(), "redis://:***@127.0.0.1");
        assert_eq!(config.id().to_string(), "x".repeat(64));
    }

    #[test]
    fn an_error_names_the_setting_and_says_why() {
        let err = Fleet::builder("redis://127.0.0.1", "a")
            .quorum(0)
            .build()
            .expect_err("no quorum");
        assert_eq!(err.field(), "quorum");
        assert_eq!(err.reason(), "must be from 1 to 1000 (got 0)");
        assert_eq!(
            err.to_string(),
            "invalid fleet setting `quorum`: must be from 1 to 1000 (got 0)"
        );
    }

    #[test]
    fn a_sanitized_id_is_always_valid() {
        for text in ["", "host name", "é", &"y".repeat(200), "ok:5000"] {
            let id = ReplicaId::sanitized(text);
            assert_eq!(ReplicaId::new(id.as_str()).as_ref(), Ok(&id), "{text:?}");
        }
        assert_eq!(
            ReplicaId::sanitized("my host:5000").as_str(),
            "my-host:5000"
        );
    }
}
