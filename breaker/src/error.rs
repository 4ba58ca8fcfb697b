//! The errors a caller sees: a bad setting at build time, or a failed call.

use crate::Rejected;
use std::fmt;

/// A setting that cannot work, found by [`Builder::build`](crate::Builder::build).
///
/// It names the field and says why, for example
/// ``invalid circuit breaker setting `failure_threshold`: must be at least 1 (got 0)``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid circuit breaker setting `{field}`: {reason}")]
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

    /// The setting at fault, as named by the builder method that sets it.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Why the value cannot work.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The error of [`CircuitBreaker::call`](crate::CircuitBreaker::call): either the breaker
/// refused the call (the closure never ran) or the call ran and failed.
#[derive(Debug)]
pub enum Error<E> {
    /// The breaker rejected the call; the closure was not invoked.
    Rejected(Rejected),
    /// The call ran and returned this error.
    Inner(E),
}

impl<E> Error<E> {
    /// Whether the breaker refused the call.
    pub fn is_rejected(&self) -> bool {
        matches!(self, Error::Rejected(_))
    }

    /// The rejection, if the breaker refused the call.
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Error::Rejected(rejected) => Some(rejected),
            Error::Inner(_) => None,
        }
    }

    /// The call's own error, if the call ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Rejected(_) => None,
            Error::Inner(inner) => Some(inner),
        }
    }
}

impl<E> From<Rejected> for Error<E> {
    fn from(rejected: Rejected) -> Self {
        Error::Rejected(rejected)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected(rejected) => rejected.fmt(f),
            Error::Inner(inner) => inner.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Rejected(rejected) => Some(rejected),
            Error::Inner(inner) => Some(inner),
        }
    }
}
