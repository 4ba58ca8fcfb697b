//! The last good answer from service B, for `/call-fallback`.

use std::sync::{Mutex, PoisonError};

/// What `/call-fallback` serves when B cannot answer and nothing good was ever seen.
pub const DEFAULT_FALLBACK: &str = "cached_data";

/// The most recent successful body from B, written by every successful call on either route.
/// Only a whole answer within `--max-response-bytes` is a success, so nothing bigger is kept.
///
/// A std `Mutex` is fine: no `.await` happens while it is held, and each critical section is
/// one pointer swap or one clone of a short string.
#[derive(Debug, Default)]
pub struct LastGood {
    body: Mutex<Option<String>>,
}

impl LastGood {
    /// Remembers `body` as the latest good answer.
    pub fn store(&self, body: &str) {
        let body = body.to_owned();
        *self.lock() = Some(body);
    }

    /// The latest good answer, if any call has succeeded yet.
    pub fn get(&self) -> Option<String> {
        self.lock().clone()
    }

    /// The latest good answer, or [`DEFAULT_FALLBACK`] before the first.
    pub fn get_or_default(&self) -> String {
        self.get().unwrap_or_else(|| DEFAULT_FALLBACK.to_owned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // The value is replaced in one assignment, so a panic elsewhere cannot leave it
        // half-written: a poisoned lock is still safe to read.
        self.body.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_placeholder_until_the_first_good_answer_then_the_latest() {
        let last = LastGood::default();
        assert_eq!(last.get(), None);
        assert_eq!(last.get_or_default(), "cached_data");
        last.store("first");
        last.store("Service B: Success");
        assert_eq!(last.get_or_default(), "Service B: Success");
    }
}
