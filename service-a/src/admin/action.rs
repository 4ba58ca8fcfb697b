//! What an admin may do to the breaker, read from the JSON body of `POST /breaker`.

use std::fmt;
use std::time::Duration;

use breaker::CircuitBreaker;
use serde::Deserialize;
use service_kit::fallback::echo;

/// The largest body `POST /breaker` reads; the longest action is under 60 bytes.
pub const MAX_BODY_BYTES: usize = 1024;

/// One admin action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `{"action":"force_open"}`: reject every call until `reset`.
    ForceOpen,
    /// `{"action":"force_open_for","duration":"30s"}`: open for this long, then probe as after
    /// a trip.
    ForceOpenFor(Duration),
    /// `{"action":"disable"}`: let every call through, trip on nothing, until `reset`.
    Disable,
    /// `{"action":"reset"}`: closed, every count forgotten.
    Reset,
}

/// The body as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    action: String,
    duration: Option<String>,
}

const EXPECTED: &str = "expected {\"action\":\"force_open\"|\"disable\"|\"reset\"} or \
                        {\"action\":\"force_open_for\",\"duration\":\"30s\"}";

impl Action {
    /// The action `body` asks for.
    ///
    /// # Errors
    ///
    /// A message for a 400: not JSON, an unknown action or field, a missing, misplaced or
    /// invalid duration (human, from 1 ms to one day, as every duration flag).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let request: Request = serde_json::from_slice(body)
            .map_err(|err| format!("invalid body: {err}; {EXPECTED}"))?;
        match (request.action.as_str(), request.duration) {
            ("force_open_for", Some(duration)) => service_kit::duration::parse_positive(&duration)
                .map(Action::ForceOpenFor)
                .map_err(|err| format!("invalid duration for force_open_for: {err}")),
            ("force_open_for", None) => Err(format!("force_open_for needs a duration; {EXPECTED}")),
            ("force_open" | "disable" | "reset", Some(_)) => Err(format!(
                "a duration goes only with force_open_for, not {}",
                request.action
            )),
            ("force_open", None) => Ok(Action::ForceOpen),
            ("disable", None) => Ok(Action::Disable),
            ("reset", None) => Ok(Action::Reset),
            (other, _) => Err(format!("unknown action \"{}\"; {EXPECTED}", echo(other))),
        }
    }

    /// Does it to `breaker`.
    pub fn apply(self, breaker: &CircuitBreaker) {
        match self {
            Action::ForceOpen => breaker.force_open(),
            Action::ForceOpenFor(duration) => breaker.force_open_for(duration),
            Action::Disable => breaker.disable(),
            Action::Reset => breaker.reset(),
        }
    }
}

impl fmt::Display for Action {
    /// As in the body: `force_open`, `force_open_for 30s`, `disable`, `reset`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::ForceOpen => f.write_str("force_open"),
            Action::ForceOpenFor(duration) => {
                write!(
                    f,
                    "force_open_for {}",
                    humantime::format_duration(*duration)
                )
            }
            Action::Disable => f.write_str("disable"),
            Action::Reset => f.write_str("reset"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_from_its_body() {
        for (body, action) in [
            (r#"{"action":"force_open"}"#, Action::ForceOpen),
            (
                r#"{"action":"force_open_for","duration":"1m 30s"}"#,
                Action::ForceOpenFor(Duration::from_secs(90)),
            ),
            (r#"{"action":"disable"}"#, Action::Disable),
            (r#"{"action":"reset"}"#, Action::Reset),
        ] {
            assert_eq!(Action::parse(body.as_bytes()), Ok(action), "{body}");
        }
        assert_eq!(
            Action::ForceOpenFor(Duration::from_secs(30)).to_string(),
            "force_open_for 30s"
        );
    }

    #[test]
    fn a_bad_body_says_what_is_wrong() {
        for (body, says) in [
            ("", "invalid body: EOF"),
            ("action=force_open", "invalid body: expected value"),
            (r#"{"action":"explode"}"#, r#"unknown action "explode""#),
            (
                r#"{"action":"force_open_for"}"#,
                "force_open_for needs a duration",
            ),
            (
                r#"{"action":"reset","duration":"30s"}"#,
                "a duration goes only with force_open_for, not reset",
            ),
            (r#"{"action":"reset","extra":1}"#, "unknown field `extra`"),
            (r#"{"duration":"30s"}"#, "missing field `action`"),
            (
                r#"{"action":"force_open_for","duration":"0s"}"#,
                "invalid duration for force_open_for: must be longer than zero",
            ),
            (
                r#"{"action":"force_open_for","duration":"2 days"}"#,
                "invalid duration for force_open_for: must be at most 1day",
            ),
            (
                r#"{"action":"force_open_for","duration":"soon"}"#,
                "invalid duration for force_open_for: ",
            ),
        ] {
            let err = Action::parse(body.as_bytes()).expect_err(body);
            assert!(err.contains(says), "{body}: {err}");
        }
    }
}
