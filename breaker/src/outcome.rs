//! How a call ended: success, failure (with its text) or ignored.

use crate::text::Text;
use std::fmt;

/// The verdict on a finished call, as a classifier gives it to
/// [`CircuitBreaker::call_with`](crate::CircuitBreaker::call_with) or the tower middleware.
///
/// ```
/// use breaker::Outcome;
///
/// // An HTTP client error says nothing about the backend's health: ignore it.
/// fn classify(status: u16) -> Outcome {
///     match status {
///         500.. => Outcome::failure(format_args!("HTTP {status}")),
///         400..=499 => Outcome::ignored(),
///         _ => Outcome::success(),
///     }
/// }
/// assert!(classify(503).is_failure());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub(crate) Kind);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Success,
    Failure(Text),
    Ignored,
}

impl Outcome {
    /// The call succeeded.
    pub fn success() -> Self {
        Outcome(Kind::Success)
    }

    /// The call failed; `cause` becomes the breaker's last failure. Texts up to 23 bytes are
    /// stored inline, without allocating.
    pub fn failure(cause: impl fmt::Display) -> Self {
        Outcome(Kind::Failure(Text::display(cause)))
    }

    /// The call counts as neither success nor failure; a probe slot it held is freed.
    pub fn ignored() -> Self {
        Outcome(Kind::Ignored)
    }

    /// Whether this is a success.
    pub fn is_success(&self) -> bool {
        matches!(self.0, Kind::Success)
    }

    /// Whether this is a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self.0, Kind::Failure(_))
    }

    /// Whether this is ignored.
    pub fn is_ignored(&self) -> bool {
        matches!(self.0, Kind::Ignored)
    }

    /// The failure's text, if this is a failure.
    pub fn cause(&self) -> Option<&str> {
        match &self.0 {
            Kind::Failure(cause) => Some(cause.as_str()),
            _ => None,
        }
    }
}
