//! Response classifiers: what a result means for the breaker.

use crate::Outcome;
use std::fmt;

/// Decides whether a result is a success, a failure or neither. Any
/// `Fn(&Result<T, E>) -> Outcome` is a classifier.
pub trait Classify<T, E> {
    /// The verdict on `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<F, T, E> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// The default classifier: `Ok` is a success, `Err` a failure described by its `Display`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorIsFailure;

impl<T, E: fmt::Display> Classify<T, E> for ErrorIsFailure {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        crate::call::default_classifier(result)
    }
}
