//! The values A forwards to B are bounded: `fail` over [`MAX_FORWARDED_BYTES`] is refused with a
//! 400 naming it and the limit, before B is called.
//!
//! A forwards `fail` percent-encoded, so a value of 15,000 `!` makes a 45 KB URL to B: B
//! refuses it (431), and A would quote that URL in its answer and its log. 256 bytes is far
//! more than any value B acts on (`true`).
//!
//! The bound is checked by the routes' query extractor, `ForwardedQuery`, rather than by a
//! middleware: an extractor costs the usual call nothing beyond its length check, where axum's
//! `from_fn` boxes a clone of the route and its future on every request.

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use service_kit::error_body::refusal;
use service_kit::strict_query::StrictQuery;

/// The query parameters A passes on to B.
pub const FORWARDED: &[&str] = &["fail"];

/// The most bytes (decoded) of a forwarded value.
pub const MAX_FORWARDED_BYTES: usize = 256;

/// The query of a route that forwards values to B: a forwarded value over
/// [`MAX_FORWARDED_BYTES`] is refused with a 400 naming it; the rest is [`StrictQuery`]'s.
#[derive(Debug)]
pub(crate) struct ForwardedQuery<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for ForwardedQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some((name, length)) = too_long(parts.uri.query().unwrap_or_default()) {
            return Err(refusal(
                StatusCode::BAD_REQUEST,
                format!(
                    "`{name}` is passed on to service B and must be at most \
                     {MAX_FORWARDED_BYTES} bytes (got {length})"
                ),
            ));
        }
        let StrictQuery(query) = StrictQuery::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self(query))
    }
}

/// The first forwarded parameter over the limit in `query`, and its decoded length.
///
/// A query no longer than the limit cannot hold a longer value, since decoding only shortens:
/// the usual call (`fail=true`) is passed without decoding anything. A query that does not
/// decode is left to [`StrictQuery`], which refuses it.
fn too_long(query: &str) -> Option<(&'static str, usize)> {
    if query.len() <= MAX_FORWARDED_BYTES {
        return None;
    }
    let uri = format!("/?{query}").parse().ok()?;
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri).ok()?;
    pairs.iter().find_map(|(name, value)| {
        let forwarded = FORWARDED.iter().find(|forwarded| **forwarded == name)?;
        (value.len() > MAX_FORWARDED_BYTES).then_some((*forwarded, value.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_at_the_limit_passes_and_one_byte_more_does_not() {
        let at = format!("fail={}", "t".repeat(MAX_FORWARDED_BYTES));
        assert_eq!(too_long(&at), None);
        let over = format!("fail={}", "t".repeat(MAX_FORWARDED_BYTES + 1));
        assert_eq!(too_long(&over), Some(("fail", MAX_FORWARDED_BYTES + 1)));
    }

    #[test]
    fn the_limit_is_on_the_decoded_value() {
        // 200 escapes of three bytes each: 600 bytes sent, 200 decoded.
        let encoded = format!("fail={}", "%21".repeat(200));
        assert_eq!(too_long(&encoded), None);
        let encoded = format!("x=1&fail={}", "%C3%A9".repeat(200));
        assert_eq!(too_long(&encoded), Some(("fail", 400)));
    }

    #[test]
    fn other_parameters_are_not_forwarded_and_not_bounded_here() {
        let other = format!("fail=true&note={}", "n".repeat(10_000));
        assert_eq!(too_long(&other), None);
    }
}
