//! A change of state and the reason for it: what events carry and what the log says.

use crate::State;
use std::fmt;

/// Why the breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// This many failures in a row reached `failure_threshold`.
    ConsecutiveFailures(u32),
    /// The failure rate over the window reached `failure_rate_threshold`.
    FailureRate {
        /// The rate measured, in percent.
        rate: f64,
        /// The configured threshold, in percent.
        threshold: f64,
    },
    /// The slow-call rate over the window reached `slow_call_rate_threshold`.
    SlowCallRate {
        /// The rate measured, in percent.
        rate: f64,
        /// The configured threshold, in percent.
        threshold: f64,
    },
    /// The open duration passed: probes may now test the backend.
    RecoveryTimeoutElapsed,
    /// A probe failed (or was slow while a slow-call policy is on): open again.
    ProbeFailed,
    /// This many probes succeeded, reaching `success_threshold`.
    ProbesSucceeded(u32),
    /// [`CircuitBreaker::force_open`](crate::CircuitBreaker::force_open) was called.
    ForcedOpen,
    /// [`CircuitBreaker::disable`](crate::CircuitBreaker::disable) was called.
    Disabled,
    /// [`CircuitBreaker::reset`](crate::CircuitBreaker::reset) was called.
    Reset,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ConsecutiveFailures(count) => write!(f, "{count} consecutive failures"),
            Reason::FailureRate { rate, threshold } => {
                write!(f, "failure rate {rate:.1}% >= {threshold}%")
            }
            Reason::SlowCallRate { rate, threshold } => {
                write!(f, "slow-call rate {rate:.1}% >= {threshold}%")
            }
            Reason::RecoveryTimeoutElapsed => f.write_str("recovery timeout elapsed"),
            Reason::ProbeFailed => f.write_str("half-open probe failed"),
            Reason::ProbesSucceeded(1) => f.write_str("half-open probe succeeded"),
            Reason::ProbesSucceeded(count) => write!(f, "{count} half-open probes succeeded"),
            Reason::ForcedOpen => f.write_str("forced open"),
            Reason::Disabled => f.write_str("disabled"),
            Reason::Reset => f.write_str("reset"),
        }
    }
}

/// One change of state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

impl fmt::Display for Transition {
    /// `CLOSED -> OPEN (3 consecutive failures)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.from, self.to, self.reason)
    }
}
