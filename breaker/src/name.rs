//! Breaker names, interned.
//!
//! A breaker's name is a label, like a metric name: a handful per process, living as long as
//! the process. Interning it once, when the breaker is built, lets every rejection carry the
//! name as a plain `&'static str`, a two-word copy, where an owned string would cost a clone
//! per rejection. Building many breakers with the same name stores the name once; only
//! distinct names take memory, as with any label set.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The one stored copy of `name`.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        // Nothing panics while this lock is held; a poisoned set is still a valid set.
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(interned) = names.get(name) {
        return interned;
    }
    let interned: &'static str = Box::leak(name.into());
    names.insert(interned);
    interned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_is_stored_once() {
        let first = intern("payments");
        let second = intern(&String::from("payments"));
        assert!(std::ptr::eq(first, second));
        assert_eq!(intern("inventory"), "inventory");
    }
}
