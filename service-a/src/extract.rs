//! A stricter `Query` extractor whose rejection is an [`AppError`].

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Like [`axum::extract::Query`], but a broken percent-escape (`fail=%zz`) is refused instead
/// of being passed on literally, and every rejection becomes a JSON [`AppError`].
///
/// axum's `Query` decodes leniently, so `fail=%zz` would reach B as the text `%zz`; refusing it
/// tells the caller their URL encoding is wrong rather than answering for a value they did not
/// mean. (Service B has the same extractor; each service owns its HTTP boundary.)
#[derive(Debug, Clone, Copy, Default)]
pub struct StrictQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for StrictQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        check_encoding(parts.uri.query().unwrap_or_default())?;
        let Query(value) = Query::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

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
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'%' {
            decoded.push(byte);
            i += 1;
            continue;
        }
        let high = bytes.get(i + 1).copied().and_then(hex_digit);
        let low = bytes.get(i + 2).copied().and_then(hex_digit);
        let (Some(high), Some(low)) = (high, low) else {
            let end = (i + 3).min(bytes.len());
            return Err(MalformedQuery::BadEscape {
                escape: String::from_utf8_lossy(&bytes[i..end]).into_owned(),
                at: i,
            });
        };
        decoded.push(high << 4 | low);
        i += 3;
    }
    String::from_utf8(decoded)
        .map(drop)
        .map_err(|_| MalformedQuery::NotUtf8)
}

fn hex_digit(byte: u8) -> Option<u8> {
    // `to_digit(16)` is below 16, so it always fits a byte.
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_queries_pass() {
        for query in ["", "fail=true", "fail=true%26x%3D1", "a=%C3%A9&b=+", "fail"] {
            assert_eq!(check_encoding(query), Ok(()), "{query}");
        }
    }

    #[test]
    fn a_percent_without_two_hex_digits_is_refused() {
        assert_eq!(
            check_encoding("fail=%zz"),
            Err(MalformedQuery::BadEscape {
                escape: "%zz".into(),
                at: 5
            })
        );
        assert!(matches!(
            check_encoding("fail=%4"),
            Err(MalformedQuery::BadEscape { at: 5, .. })
        ));
        assert!(matches!(
            check_encoding("fail=%"),
            Err(MalformedQuery::BadEscape { .. })
        ));
    }

    #[test]
    fn escapes_that_are_not_utf8_are_refused() {
        assert_eq!(check_encoding("fail=%ff"), Err(MalformedQuery::NotUtf8));
    }
}
