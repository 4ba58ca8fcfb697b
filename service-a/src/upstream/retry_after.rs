//! B's `Retry-After` (RFC 9110, 10.2.3) on a 503 or a 429: how long B asks to be left alone,
//! which the retry policy waits at least, or, when that would pass the call's deadline, does
//! not retry at all.
//!
//! The header is either a number of seconds or an HTTP date; anything else is ignored, as if
//! B had sent none. A wait is at most [`MAX_WAIT`], the bound of every duration here.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The longest wait a `Retry-After` is read as: one day, as every duration flag.
pub(crate) const MAX_WAIT: Duration = service_kit::duration::MAX;

/// The wait B asks for with `status` and `headers`, read at `now`: only a 503 or a 429 with a
/// valid `Retry-After` asks for one. A date in the past asks for no wait.
pub(crate) fn asked(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if status != StatusCode::SERVICE_UNAVAILABLE && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time".
        text.parse::<u64>().map_or(MAX_WAIT, Duration::from_secs)
    } else {
        let date = httpdate::parse_http_date(text).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
        headers
    }

    fn now() -> SystemTime {
        httpdate::parse_http_date("Tue, 01 Dec 2026 12:00:00 GMT").expect("a date")
    }

    fn unavailable(value: &'static str) -> Option<Duration> {
        asked(StatusCode::SERVICE_UNAVAILABLE, &with(value), now())
    }

    #[test]
    fn seconds_are_read_as_a_wait() {
        assert_eq!(unavailable("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(unavailable(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            asked(StatusCode::TOO_MANY_REQUESTS, &with("2"), now()),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn an_http_date_is_read_as_the_wait_until_then() {
        assert_eq!(
            unavailable("Tue, 01 Dec 2026 12:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            unavailable("Tue, 01 Dec 2026 11:00:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past"
        );
    }

    #[test]
    fn a_wait_is_at_most_a_day() {
        assert_eq!(unavailable("99999999999999999999999"), Some(MAX_WAIT));
        assert_eq!(unavailable("172800"), Some(MAX_WAIT));
        assert_eq!(unavailable("Fri, 01 Dec 2028 12:00:00 GMT"), Some(MAX_WAIT));
    }

    #[test]
    fn anything_else_asks_for_nothing() {
        for value in ["soon", "-1", "1.5", "", "Tue, 01 Dec 2026"] {
            assert_eq!(unavailable(value), None, "{value:?}");
        }
        assert_eq!(
            asked(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), now()),
            None
        );
        for status in [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY] {
            assert_eq!(asked(status, &with("5"), now()), None, "{status}");
        }
    }
}
