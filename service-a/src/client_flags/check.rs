//! The rules between the client flags, and the breaker's own validation, refused as a
//! [`FlagError`] naming the flag at fault.

use std::time::Duration;

use breaker::ConfigError;

use crate::upstream::ClientSettings;

/// A refused combination, to be reported as a usage error (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value for {flag}: {reason}")]
pub struct FlagError {
    /// The flag named first.
    pub flag: String,
    /// Why, naming the other flag where two disagree.
    pub reason: String,
}

/// The rules between flags, and the breaker's own validation.
pub(super) fn check(settings: &ClientSettings) -> Result<(), FlagError> {
    let attempt = settings.request_timeout;
    // Equal is refused too: the deadline's timer starts first, so it could cut the attempt a
    // tick before the attempt's own timeout fires, and a call cut by the deadline counts as
    // nothing for the breaker: a hung B might then never open the circuit.
    if let Some(deadline) = settings.call_deadline
        && deadline <= attempt
    {
        return Err(FlagError {
            flag: "--call-deadline".to_owned(),
            reason: format!(
                "{} must be longer than one attempt (--request-timeout {})",
                human(deadline),
                human(attempt)
            ),
        });
    }
    let retry = settings.retry;
    if retry.backoff_max < retry.backoff {
        return Err(FlagError {
            flag: "--retry-backoff-max".to_owned(),
            reason: format!(
                "{} is shorter than the first backoff (--retry-backoff {})",
                human(retry.backoff_max),
                human(retry.backoff)
            ),
        });
    }
    let Some(breaker) = &settings.breaker else {
        return Ok(());
    };
    // The article's advice: a call must give up before the circuit would let a probe through,
    // or one hung call outlives a whole open period.
    if attempt >= breaker.recovery_timeout {
        return Err(FlagError {
            flag: "--request-timeout".to_owned(),
            reason: format!(
                "{} must be shorter than the recovery timeout (--recovery-timeout {})",
                human(attempt),
                human(breaker.recovery_timeout)
            ),
        });
    }
    // Building is the breaker's only public validation; the breaker is thrown away.
    breaker
        .builder()
        .build()
        .map(drop)
        .map_err(|err| breaker_flag_error(&err))
}

/// A breaker setting error in the flags' words. Each flag is named as the breaker's field
/// (`failure_rate_threshold` is `--failure-rate-threshold`) but the breaker's
/// `slow_call_duration`, `--slow-call-threshold`, and the throttle's, `--adaptive-throttle`
/// (its K) and `--throttle-*`.
fn breaker_flag_error(err: &ConfigError) -> FlagError {
    let flag = match err.field() {
        "slow_call_duration" => "--slow-call-threshold".to_owned(),
        "adaptive_throttle.k" => "--adaptive-throttle".to_owned(),
        field if field.starts_with("adaptive_throttle.") => {
            format!(
                "--throttle-{}",
                field["adaptive_throttle.".len()..].replace('_', "-")
            )
        }
        field => format!("--{}", field.replace('_', "-")),
    };
    FlagError {
        flag,
        reason: err.reason().to_owned(),
    }
}

/// `duration` as the refusals write it, in humantime's words (`1s 500ms`).
pub(super) fn human(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(duration)
}
