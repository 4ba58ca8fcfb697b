//! The check [`StrictQuery`](crate::strict_query::StrictQuery) makes before it reads a query
//! string.
//!
//! axum's `Query` (like `serde_urlencoded` under it) decodes leniently: `fail=%zz` arrives as
//! the text `%zz`. Both services refuse such a URL with a 400 instead, so a caller learns that
//! its encoding is wrong rather than getting an answer for a value it did not mean. The check
//! is pure (no HTTP types), so it is tested on strings alone.
//!
//! ```
//! use service_kit::query::{MalformedQuery, check_encoding};
//!
//! assert_eq!(check_encoding("fail=true%26x%3D1"), Ok(()));
//! assert!(matches!(check_encoding("fail=%zz"), Err(MalformedQuery::BadEscape { at: 5, .. })));
//! ```

use percent_encoding::percent_decode_str;

/// Why a query string was refused before deserializing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedQuery {
    /// A `%` not followed by two hex digits.
    #[error("malformed query string: bad percent-escape {escape:?} at byte {at}")]
    BadEscape {
        /// The `%` and what follows it, at most three bytes.
        escape: String,
        /// Offset of the `%` in the raw query string.
        at: usize,
    },
    /// The escapes decode to bytes that are not UTF-8.
    #[error("malformed query string: percent-escapes do not decode to UTF-8")]
    NotUtf8,
}

/// Checks that every `%` starts a valid escape and that the decoded text is UTF-8.
///
/// Decoding the whole string at once is enough: `&` and `=` are ASCII, so each key and value is
/// UTF-8 exactly when the whole is.
pub fn check_encoding(query: &str) -> Result<(), MalformedQuery> {
    let bytes = query.as_bytes();
    for (at, _) in query.match_indices('%') {
        let digits = bytes.get(at + 1..at + 3);
        if !digits.is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit)) {
            let end = (at + 3).min(bytes.len());
            return Err(MalformedQuery::BadEscape {
                escape: String::from_utf8_lossy(&bytes[at..end]).into_owned(),
                at,
            });
        }
    }
    percent_decode_str(query)
        .decode_utf8()
        .map(drop)
        .map_err(|_| MalformedQuery::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_queries_pass() {
        for query in [
            "",
            "fail=true",
            "fail=true%20",
            "fail=tr%75e",
            "fail=true%26x%3D1",
            "a=%C3%A9&b=+",
            "fail",
            "%25zz",
        ] {
            assert_eq!(check_encoding(query), Ok(()), "{query}");
        }
    }

    #[test]
    fn a_percent_without_two_hex_digits_is_refused() {
        let bad = |escape: &str, at| {
            Err(MalformedQuery::BadEscape {
                escape: escape.into(),
                at,
            })
        };
        assert_eq!(check_encoding("fail=%zz"), bad("%zz", 5));
        assert_eq!(check_encoding("fail=%4"), bad("%4", 5));
        assert_eq!(check_encoding("%"), bad("%", 0));
        assert_eq!(check_encoding("%%41"), bad("%%4", 0));
        assert!(check_encoding("fail=%+1").is_err());
    }

    #[test]
    fn a_multibyte_character_after_a_percent_is_refused_without_panicking() {
        assert!(matches!(
            check_encoding("a=%é"),
            Err(MalformedQuery::BadEscape { at: 2, .. })
        ));
    }

    #[test]
    fn escapes_that_are_not_utf8_are_refused() {
        assert_eq!(check_encoding("fail=%ff"), Err(MalformedQuery::NotUtf8));
    }
}
