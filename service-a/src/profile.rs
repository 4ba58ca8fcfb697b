//! The three profiles: which defaults the client flags take when they are not given.
//!
//! A profile only chooses defaults; every flag works in any of them (`--retry-attempts 3` adds
//! retries to the article profile). Each profile is a value of the settings themselves,
//! [`ClientSettings::ARTICLE`](crate::upstream::ClientSettings::ARTICLE),
//! [`ClientSettings::PRODUCTION`](crate::upstream::ClientSettings::PRODUCTION) and
//! [`ClientSettings::ADAPTIVE`](crate::upstream::ClientSettings::ADAPTIVE), which the flags
//! given overlay. The defaults that differ:
//!
//! | flag | `article` | `production` | `adaptive` |
//! |---|---|---|---|
//! | `--call-deadline` | none | 5s | 5s |
//! | `--retry-attempts` | 1 (no retry) | 3 | 3 |
//! | `--failure-threshold` | 3 consecutive | none | none |
//! | `--failure-rate-threshold` | none | 50% | 50% |
//! | `--slow-call-threshold` | none | 1s | 1s |
//! | `--max-concurrent` | none (no bulkhead) | 32 | adaptive |
//! | `--adaptive-throttle` | none | none | 1.5 |
//!
//! The same in all three: `--request-timeout 3s`, `--recovery-timeout 10s`,
//! `--half-open-max-calls 1`, `--retry-backoff 50ms`, `--retry-backoff-max 1s`,
//! `--retry-budget 20%`, `--slow-call-rate-threshold 50%`, `--sliding-window 30s`,
//! `--minimum-calls 20`, `--bulkhead-wait 0ms`, `--max-response-bytes 1048576`,
//! `--throttle-window 10s`, `--throttle-max-rejection 0.9`, `--throttle-minimum-requests 20`,
//! `--adaptive-min-limit 2`, `--adaptive-initial-limit 20`, `--adaptive-max-limit 200`. The
//! rate settings only act where a rate policy is on, the throttle's where a throttle is, the
//! adaptive limit's where `--max-concurrent adaptive` is.
//!
//! K is 1.5 in the adaptive profile, go-zero's value, rather than the SRE book's 2: the throttle
//! lets through about K times what B accepts, so while B sheds load the calls that reach it
//! fail at about `1 - 1/K`, a third with 1.5 but a half with 2, and a half is the profile's
//! failure-rate threshold: with K 2 the breaker would open on the very overload the throttle is
//! there to ride out.
//!
//! The per-attempt timeout is 3 s in production too: longer than B's 2 s fail delay, so a failing
//! B is always seen as its 500 rather than, at random, as a timeout racing it; shorter than the
//! 5 s deadline (one attempt whole and most of a retry fit in it) and than the 10 s recovery
//! timeout; the 1 s slow-call threshold still marks every call B makes wait.

use std::fmt;

use clap::ValueEnum;
use serde::Serialize;

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
    /// Production, with client-side adaptive throttling and a concurrency limit learned from
    /// B's latency: for a B that slows down or sheds load rather than dies.
    Adaptive,
}

impl Profile {
    /// The lowercase name, as on the command line and in `/breaker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Article => "article",
            Profile::Production => "production",
            Profile::Adaptive => "adaptive",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
