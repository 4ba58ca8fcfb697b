//! The two profiles: which defaults the client flags take when they are not given.
//!
//! A profile only chooses defaults; every flag works in either (`--retry-attempts 3` adds
//! retries to the article profile). The defaults that differ:
//!
//! | flag | `article` | `production` |
//! |---|---|---|
//! | `--call-deadline` | none | 5s |
//! | `--retry-attempts` | 1 (no retry) | 3 |
//! | `--failure-threshold` | 3 consecutive | none |
//! | `--failure-rate-threshold` | none | 50% |
//! | `--slow-call-threshold` | none | 1s |
//! | `--max-concurrent` | none (no bulkhead) | 32 |
//!
//! The same in both: `--request-timeout 3s`, `--recovery-timeout 10s`, `--half-open-max-calls 1`,
//! `--retry-backoff 50ms`, `--retry-backoff-max 1s`, `--retry-budget 20%`, `--slow-call-rate-threshold 50%`,
//! `--sliding-window 30s`, `--minimum-calls 20`, `--bulkhead-wait 0ms`,
//! `--max-response-bytes 1048576`. The rate settings only act where a rate policy is on.
//!
//! The per-attempt timeout is 3 s in production too: longer than B's 2 s fail delay, so a failing
//! B is always seen as its 500 rather than, at random, as a timeout racing it; shorter than the
//! 5 s deadline (one attempt whole and most of a retry fit in it) and than the 10 s recovery
//! timeout; the 1 s slow-call threshold still marks every call B makes wait.

use std::fmt;
use std::time::Duration;

use clap::ValueEnum;
use serde::Serialize;

use crate::flag_value::Percent;

/// Which defaults the client flags take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The article's service A: the breaker alone (3 consecutive failures, 10 s recovery) and a
    /// 3 s timeout.
    #[default]
    Article,
    /// The article's best practices on top: retries with backoff and a budget, a rate-based
    /// breaker with slow calls, a bulkhead, a per-attempt timeout and an overall deadline.
    Production,
}

impl Profile {
    /// The lowercase name, as on the command line and in `/breaker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Article => "article",
            Profile::Production => "production",
        }
    }

    /// This profile's defaults.
    pub fn defaults(self) -> Defaults {
        match self {
            Profile::Article => ARTICLE,
            Profile::Production => PRODUCTION,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value each client flag takes when it is not given. `None` means the feature is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// `--request-timeout`.
    pub request_timeout: Duration,
    /// `--call-deadline`.
    pub call_deadline: Option<Duration>,
    /// `--retry-attempts`.
    pub retry_attempts: u32,
    /// `--retry-backoff`.
    pub retry_backoff: Duration,
    /// `--retry-backoff-max`.
    pub retry_backoff_max: Duration,
    /// `--retry-budget`.
    pub retry_budget: Option<Percent>,
    /// `--failure-threshold`.
    pub failure_threshold: Option<u32>,
    /// `--failure-rate-threshold`.
    pub failure_rate_threshold: Option<Percent>,
    /// `--slow-call-threshold`.
    pub slow_call_threshold: Option<Duration>,
    /// `--slow-call-rate-threshold`.
    pub slow_call_rate_threshold: Option<Percent>,
    /// `--sliding-window`.
    pub sliding_window: Duration,
    /// `--minimum-calls`.
    pub minimum_calls: u32,
    /// `--recovery-timeout`.
    pub recovery_timeout: Duration,
    /// `--half-open-max-calls`.
    pub half_open_max_calls: u32,
    /// `--max-concurrent`.
    pub max_concurrent: Option<usize>,
    /// `--bulkhead-wait`.
    pub bulkhead_wait: Duration,
    /// `--max-response-bytes`.
    pub max_response_bytes: u64,
}

const fn percent(value: u8) -> Percent {
    match Percent::new(value) {
        Some(percent) => percent,
        None => panic!("a percentage is at most 100"),
    }
}

/// The article's `requests.get(..., timeout=3)`, `FAILURE_THRESHOLD = 3` and
/// `RECOVERY_TIMEOUT = 10`.
const ARTICLE: Defaults = Defaults {
    request_timeout: Duration::from_secs(3),
    call_deadline: None,
    retry_attempts: 1,
    retry_backoff: Duration::from_millis(50),
    retry_backoff_max: Duration::from_secs(1),
    retry_budget: Some(percent(20)),
    failure_threshold: Some(3),
    failure_rate_threshold: None,
    slow_call_threshold: None,
    slow_call_rate_threshold: Some(percent(50)),
    sliding_window: Duration::from_secs(30),
    minimum_calls: 20,
    recovery_timeout: Duration::from_secs(10),
    half_open_max_calls: 1,
    max_concurrent: None,
    bulkhead_wait: Duration::ZERO,
    max_response_bytes: 1024 * 1024,
};

/// The article's best practices with the thresholds it suggests ("based on SLA"): a rate over
/// 30 s rather than a run of failures, timeouts shorter than the breaker's, a bulkhead.
const PRODUCTION: Defaults = Defaults {
    call_deadline: Some(Duration::from_secs(5)),
    retry_attempts: 3,
    failure_threshold: None,
    failure_rate_threshold: Some(percent(50)),
    slow_call_threshold: Some(Duration::from_secs(1)),
    max_concurrent: Some(32),
    ..ARTICLE
};
