//! Outage modes: the pure core behind `POST /mode`.
//!
//! Nothing here reads a clock or locks anything; the caller passes `now`, so expiry is a plain
//! function of (state, now) and tests need neither a runtime nor sleeps.

use service_kit::fallback::echo;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::capacity::{Capacity, CapacityError};

/// The longest `for` or `delay` a mode accepts.
///
/// A simulated outage longer than a day is a typo, and the cap keeps `now + for` far from
/// overflowing an [`Instant`].
pub const MAX_DURATION: Duration = service_kit::duration::MAX;

/// How `/api` behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The article's behaviour: only `fail=true` fails.
    Healthy,
    /// Every call waits the mode's delay, then answers 500, whatever its `fail` value.
    Fail,
    /// Every call waits the mode's delay, then answers as in [`Mode::Healthy`].
    Slow,
    /// Each call independently answers 503 `Service B: Unavailable` at once with the mode's
    /// failure rate, and otherwise as in [`Mode::Healthy`]: a transient fault, what retries
    /// are for.
    Flaky,
    /// At most the mode's `concurrency` calls are served at once, each holding its slot for
    /// the `service_time` before answering as in [`Mode::Healthy`]; up to `queue` more wait
    /// in arrival order; the rest are answered 503 `Service B: Overloaded` at once
    /// ([`capacity`](crate::capacity)).
    Capacity,
}

impl Mode {
    /// Every mode, in the order error messages list them.
    pub const ALL: [Mode; 5] = [
        Mode::Healthy,
        Mode::Fail,
        Mode::Slow,
        Mode::Flaky,
        Mode::Capacity,
    ];

    /// The lowercase name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Healthy => "healthy",
            Mode::Fail => "fail",
            Mode::Slow => "slow",
            Mode::Flaky => "flaky",
            Mode::Capacity => "capacity",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = ModeError;

    /// Only the exact lowercase names, like `fail=true` on `/api`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| ModeError::UnknownMode(echo(s).into_owned()))
    }
}

/// Why a mode setting was refused. Each message names the offending field of the `/mode` body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModeError {
    /// `mode` is not one of the known names.
    #[error("`mode` must be one of healthy, fail, slow, flaky, capacity (got {0:?})")]
    UnknownMode(String),
    /// A duration field could not be parsed.
    #[error("`{field}` must be a duration like 30s or 250ms (got {value:?}: {reason})")]
    Unparsable {
        /// The body field, `for` or `delay`.
        field: &'static str,
        /// The text as sent.
        value: String,
        /// What `humantime` disliked.
        reason: String,
    },
    /// `for` was zero, which would expire before any call saw the mode.
    #[error("`for` must be greater than zero; leave it out for no expiry")]
    ZeroLifetime,
    /// `slow` with no delay is just `healthy`.
    #[error("`delay` must be greater than zero in mode slow")]
    ZeroSlowDelay,
    /// A duration above [`MAX_DURATION`].
    #[error("`{field}` must be at most 1day (got {})", humantime::format_duration(*.value))]
    TooLong {
        /// The body field, `for` or `delay`.
        field: &'static str,
        /// The duration as parsed.
        value: Duration,
    },
    /// A field that the mode would silently ignore.
    #[error("`{field}` does not apply to mode {mode}")]
    DoesNotApply {
        /// The body field.
        field: &'static str,
        /// The mode asked for.
        mode: Mode,
    },
    /// `flaky` without its `failure_rate`.
    #[error("`failure_rate` is required in mode flaky: a probability from 0 to 1")]
    MissingFailureRate,
    /// A `failure_rate` that is not a probability.
    #[error("`failure_rate` must be a number from 0 to 1 (got {0})")]
    BadFailureRate(String),
    /// A `capacity` setting with a missing or out-of-range number.
    #[error(transparent)]
    Capacity(#[from] CapacityError),
}

/// A validated mode: what `/api` should do and for how long.
///
/// Built only through [`ModeSetting::new`], [`ModeSetting::flaky`] or [`ModeSetting::healthy`],
/// so an unchecked setting cannot reach the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeSetting {
    mode: Mode,
    delay: Duration,
    lasts: Option<Duration>,
    /// In [0, 1]; zero except in `flaky`.
    failure_rate: f64,
    /// Only in `capacity`.
    capacity: Option<Capacity>,
}

impl ModeSetting {
    /// Back to the article's behaviour, with no expiry.
    pub const fn healthy() -> Self {
        Self {
            mode: Mode::Healthy,
            delay: Duration::ZERO,
            lasts: None,
            failure_rate: 0.0,
            capacity: None,
        }
    }

    /// Checks a setting of `healthy`, `fail` or `slow`: `delay` is how long each `/api` call
    /// waits (ignored by `healthy`, so pass `None` there), `lasts` how long until the mode
    /// reverts to `healthy` by itself (`None`: until changed). `flaky` needs its failure rate:
    /// see [`ModeSetting::flaky`].
    pub fn new(
        mode: Mode,
        delay: Option<Duration>,
        default_delay: Duration,
        lasts: Option<Duration>,
    ) -> Result<Self, ModeError> {
        if mode == Mode::Healthy {
            if delay.is_some() {
                return Err(does_not_apply("delay", mode));
            }
            if lasts.is_some() {
                return Err(does_not_apply("for", mode));
            }
            return Ok(Self::healthy());
        }
        if mode == Mode::Flaky {
            return Err(ModeError::MissingFailureRate);
        }
        if mode == Mode::Capacity {
            return Err(CapacityError::Missing("concurrency").into());
        }
        let delay = delay.unwrap_or(default_delay);
        if delay > MAX_DURATION {
            return Err(ModeError::TooLong {
                field: "delay",
                value: delay,
            });
        }
        if mode == Mode::Slow && delay.is_zero() {
            return Err(ModeError::ZeroSlowDelay);
        }
        Ok(Self {
            mode,
            delay,
            lasts: check_lifetime(lasts)?,
            failure_rate: 0.0,
            capacity: None,
        })
    }

    /// Checks a `flaky` setting: each call answers 503 with probability `failure_rate` (from 0
    /// to 1), at once; `lasts` as in [`ModeSetting::new`].
    pub fn flaky(failure_rate: f64, lasts: Option<Duration>) -> Result<Self, ModeError> {
        if !(0.0..=1.0).contains(&failure_rate) {
            return Err(ModeError::BadFailureRate(
                echo(&failure_rate.to_string()).into_owned(),
            ));
        }
        Ok(Self {
            mode: Mode::Flaky,
            delay: Duration::ZERO,
            lasts: check_lifetime(lasts)?,
            failure_rate,
            capacity: None,
        })
    }

    /// A `capacity` setting (checked by [`Capacity::new`]); `lasts` as in [`ModeSetting::new`].
    pub fn capacity(capacity: Capacity, lasts: Option<Duration>) -> Result<Self, ModeError> {
        Ok(Self {
            mode: Mode::Capacity,
            delay: Duration::ZERO,
            lasts: check_lifetime(lasts)?,
            failure_rate: 0.0,
            capacity: Some(capacity),
        })
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// How long each `/api` call waits in this mode (zero when healthy).
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// How long the mode lasts before reverting to `healthy`, if it expires at all.
    pub fn lasts(&self) -> Option<Duration> {
        self.lasts
    }

    /// The probability that a call answers 503: zero except in `flaky`.
    pub fn failure_rate(&self) -> f64 {
        self.failure_rate
    }

    /// The slots, service time and queue: only in `capacity`.
    pub fn limits(&self) -> Option<Capacity> {
        self.capacity
    }
}

fn does_not_apply(field: &'static str, mode: Mode) -> ModeError {
    ModeError::DoesNotApply { field, mode }
}

/// `for`: longer than zero and at most [`MAX_DURATION`], when given.
fn check_lifetime(lasts: Option<Duration>) -> Result<Option<Duration>, ModeError> {
    match lasts {
        Some(lasts) if lasts.is_zero() => Err(ModeError::ZeroLifetime),
        Some(lasts) if lasts > MAX_DURATION => Err(ModeError::TooLong {
            field: "for",
            value: lasts,
        }),
        _ => Ok(lasts),
    }
}

/// A mode in force since some instant, perhaps until another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeState {
    setting: ModeSetting,
    until: Option<Instant>,
}

impl Default for ModeState {
    /// Healthy, for good.
    fn default() -> Self {
        Self {
            setting: ModeSetting::healthy(),
            until: None,
        }
    }
}

impl ModeState {
    /// Puts `setting` in force from `now`.
    pub fn start(setting: ModeSetting, now: Instant) -> Self {
        // `lasts` is capped at MAX_DURATION, so the addition cannot overflow.
        Self {
            setting,
            until: setting.lasts.map(|lasts| now + lasts),
        }
    }

    /// The setting as started, whether or not it has expired.
    pub fn setting(&self) -> ModeSetting {
        self.setting
    }

    /// True once a mode with a `for` has run its course.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.until.is_some_and(|until| now >= until)
    }

    /// What is in force at `now`: this setting, or `healthy` once it has expired.
    pub fn at(&self, now: Instant) -> ModeSetting {
        if self.is_expired(now) {
            ModeSetting::healthy()
        } else {
            self.setting
        }
    }

    /// The JSON view of the mode in force at `now`.
    pub fn snapshot(&self, now: Instant) -> ModeSnapshot {
        if self.is_expired(now) {
            return ModeState::default().snapshot(now);
        }
        let setting = self.setting;
        ModeSnapshot {
            mode: setting.mode,
            delay_ms: matches!(setting.mode, Mode::Fail | Mode::Slow)
                .then(|| millis(setting.delay)),
            failure_rate: (setting.mode == Mode::Flaky).then_some(setting.failure_rate),
            concurrency: setting.capacity.map(|capacity| capacity.concurrency()),
            service_time_ms: setting
                .capacity
                .map(|capacity| millis(capacity.service_time())),
            queue: setting.capacity.map(|capacity| capacity.queue()),
            remaining_ms: self
                .until
                .map(|until| millis(until.saturating_duration_since(now))),
        }
    }
}

/// The body of `GET /mode` and `POST /mode`:
/// `{"mode":"fail","delay_ms":2000,"remaining_ms":29999}`, or
/// `{"mode":"flaky","delay_ms":null,"failure_rate":0.1,"remaining_ms":null}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModeSnapshot {
    /// The mode in force.
    pub mode: Mode,
    /// How long each `/api` call waits; `null` when healthy or flaky.
    pub delay_ms: Option<u64>,
    /// In `flaky` only (absent otherwise): the probability that a call answers 503.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// In `capacity` only (absent otherwise): how many calls are served at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// In `capacity` only (absent otherwise): how long each call holds its slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time_ms: Option<u64>,
    /// In `capacity` only (absent otherwise): how many calls may wait for a slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<u32>,
    /// Time left before the mode reverts to `healthy`; `null` when it does not expire.
    pub remaining_ms: Option<u64>,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_S: Duration = Duration::from_secs(2);

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn mode_names_parse_exactly() {
        assert_eq!("fail".parse::<Mode>(), Ok(Mode::Fail));
        assert_eq!("slow".parse::<Mode>(), Ok(Mode::Slow));
        assert_eq!("healthy".parse::<Mode>(), Ok(Mode::Healthy));
        assert_eq!("flaky".parse::<Mode>(), Ok(Mode::Flaky));
        assert_eq!("capacity".parse::<Mode>(), Ok(Mode::Capacity));
        for name in ["FAIL", "fail ", "", "broken"] {
            assert_eq!(
                name.parse::<Mode>(),
                Err(ModeError::UnknownMode(name.into()))
            );
        }
    }

    #[test]
    fn delay_defaults_to_the_fail_delay() {
        let setting = ModeSetting::new(Mode::Fail, None, TWO_S, None).expect("valid");
        assert_eq!(setting.delay(), TWO_S);
    }

    #[test]
    fn fail_mode_may_fail_at_once_but_slow_mode_needs_a_delay() {
        assert!(ModeSetting::new(Mode::Fail, Some(Duration::ZERO), TWO_S, None).is_ok());
        assert_eq!(
            ModeSetting::new(Mode::Slow, Some(Duration::ZERO), TWO_S, None),
            Err(ModeError::ZeroSlowDelay)
        );
    }

    #[test]
    fn zero_lifetime_is_refused() {
        assert_eq!(
            ModeSetting::new(Mode::Fail, None, TWO_S, Some(Duration::ZERO)),
            Err(ModeError::ZeroLifetime)
        );
    }

    #[test]
    fn durations_over_a_day_are_refused_naming_the_field() {
        let too_long = MAX_DURATION + Duration::from_millis(1);
        let err = ModeSetting::new(Mode::Fail, None, TWO_S, Some(too_long)).expect_err("too long");
        assert!(
            err.to_string().starts_with("`for` must be at most 1day"),
            "{err}"
        );
        let err = ModeSetting::new(Mode::Slow, Some(too_long), TWO_S, None).expect_err("too long");
        assert!(
            err.to_string().starts_with("`delay` must be at most 1day"),
            "{err}"
        );
        assert!(ModeSetting::new(Mode::Fail, None, TWO_S, Some(MAX_DURATION)).is_ok());
        assert!(ModeSetting::new(Mode::Slow, Some(MAX_DURATION), TWO_S, None).is_ok());
    }

    #[test]
    fn healthy_refuses_fields_it_would_ignore() {
        assert_eq!(
            ModeSetting::new(Mode::Healthy, Some(TWO_S), TWO_S, None),
            Err(does_not_apply("delay", Mode::Healthy))
        );
        assert_eq!(
            ModeSetting::new(Mode::Healthy, None, TWO_S, Some(TWO_S)),
            Err(does_not_apply("for", Mode::Healthy))
        );
        assert_eq!(
            does_not_apply("for", Mode::Healthy).to_string(),
            "`for` does not apply to mode healthy"
        );
    }

    #[test]
    fn flaky_takes_a_probability_and_no_delay() {
        let setting = ModeSetting::flaky(0.1, Some(secs(30))).expect("valid");
        assert_eq!(setting.mode(), Mode::Flaky);
        assert_eq!(setting.failure_rate(), 0.1);
        assert_eq!(setting.delay(), Duration::ZERO);
        for rate in [0.0, 1.0] {
            assert!(ModeSetting::flaky(rate, None).is_ok(), "{rate}");
        }
        for rate in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(
                    ModeSetting::flaky(rate, None),
                    Err(ModeError::BadFailureRate(_))
                ),
                "{rate}"
            );
        }
        assert_eq!(
            ModeSetting::new(Mode::Flaky, None, TWO_S, None),
            Err(ModeError::MissingFailureRate)
        );
        assert_eq!(
            ModeSetting::flaky(0.5, Some(Duration::ZERO)),
            Err(ModeError::ZeroLifetime)
        );
    }

    #[test]
    fn a_flaky_snapshot_shows_its_rate_and_others_leave_it_out() {
        let start = Instant::now();
        let flaky = ModeState::start(ModeSetting::flaky(0.25, None).expect("valid"), start);
        assert_eq!(
            serde_json::to_string(&flaky.snapshot(start)).expect("serializable"),
            r#"{"mode":"flaky","delay_ms":null,"failure_rate":0.25,"remaining_ms":null}"#
        );
    }

    #[test]
    fn a_capacity_snapshot_shows_its_limits_and_others_leave_them_out() {
        let start = Instant::now();
        let capacity = Capacity::new(8, Duration::from_millis(20), 64).expect("valid");
        let setting = ModeSetting::capacity(capacity, Some(secs(20))).expect("valid");
        assert_eq!(setting.limits(), Some(capacity));
        assert_eq!(setting.delay(), Duration::ZERO);
        let state = ModeState::start(setting, start);
        assert_eq!(
            serde_json::to_string(&state.snapshot(start)).expect("serializable"),
            r#"{"mode":"capacity","delay_ms":null,"concurrency":8,"service_time_ms":20,"queue":64,"remaining_ms":20000}"#
        );
        assert_eq!(state.at(start + secs(20)), ModeSetting::healthy());
        assert_eq!(ModeSetting::healthy().limits(), None);
        assert_eq!(
            ModeSetting::capacity(capacity, Some(Duration::ZERO)),
            Err(ModeError::ZeroLifetime)
        );
        assert_eq!(
            ModeSetting::new(Mode::Capacity, None, TWO_S, None),
            Err(CapacityError::Missing("concurrency").into())
        );
    }

    #[test]
    fn a_mode_with_for_reverts_to_healthy_exactly_when_it_runs_out() {
        let start = Instant::now();
        let setting = ModeSetting::new(Mode::Fail, None, TWO_S, Some(secs(30))).expect("valid");
        let state = ModeState::start(setting, start);

        let just_before = start + secs(30) - Duration::from_millis(1);
        assert!(!state.is_expired(just_before));
        assert_eq!(state.at(just_before).mode(), Mode::Fail);
        assert_eq!(state.snapshot(just_before).remaining_ms, Some(1));

        let deadline = start + secs(30);
        assert!(state.is_expired(deadline));
        assert_eq!(state.at(deadline), ModeSetting::healthy());
    }

    #[test]
    fn a_mode_without_for_never_expires() {
        let start = Instant::now();
        let setting = ModeSetting::new(Mode::Slow, None, TWO_S, None).expect("valid");
        let state = ModeState::start(setting, start);
        let much_later = start + MAX_DURATION * 10;
        assert!(!state.is_expired(much_later));
        assert_eq!(state.at(much_later).mode(), Mode::Slow);
    }

    #[test]
    fn snapshot_serializes_like_the_contract() {
        let start = Instant::now();
        let setting = ModeSetting::new(Mode::Fail, None, TWO_S, Some(secs(30))).expect("valid");
        let state = ModeState::start(setting, start);
        let json = serde_json::to_string(&state.snapshot(start + Duration::from_millis(1)))
            .expect("serializable");
        assert_eq!(
            json,
            r#"{"mode":"fail","delay_ms":2000,"remaining_ms":29999}"#
        );

        let expired = serde_json::to_string(&state.snapshot(start + secs(31))).expect("ok");
        assert_eq!(
            expired,
            r#"{"mode":"healthy","delay_ms":null,"remaining_ms":null}"#
        );
    }
}
