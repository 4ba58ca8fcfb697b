//! [`CallError`]: every way a call to service B can go wrong, in words, and what each says about
//! B: the breaker's verdict and whether a retry may help.

use std::fmt;
use std::time::Duration;

use breaker::{Outcome, Rejected};
use reqwest::{StatusCode, Url};

use service_kit::cut::Quoted;

use super::bulkhead::{BulkheadFull, Overload};

/// A call to service B that brought back no good answer.
///
/// `Display` gives the text clients see in `{"status":"error","message":...}` and the breaker
/// records as its last failure, so both say the same thing:
///
/// | variant | text | breaker | retried |
/// |---|---|---|---|
/// | `Status` 502, 503, 504 | `503 Service Unavailable for url: http://127.0.0.1:5001/api` | failure | yes |
/// | `Throttled` (503 or 429 with `Retry-After`) | `503 Service Unavailable for url: http://127.0.0.1:5001/api (Retry-After: 1h)` | failure | after the wait, within the deadline |
/// | `Status` 3xx, 408, 429, other 5xx | `500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true` | failure | no |
/// | `Status` other 4xx | `404 Not Found for url: http://127.0.0.1:5001/nowhere/api` | ignored | no |
/// | `TooLarge` | `response from service B exceeds 1048576 bytes` | failure | no |
/// | `Timeout` | `timed out after 3s calling http://127.0.0.1:5001/api` | failure | yes |
/// | `Connect` | `could not connect to http://127.0.0.1:5001/api: Connection refused (os error 111)` | failure | yes |
/// | `Other` | `request to http://127.0.0.1:5001/api failed: <reason>` | failure | no |
/// | `BulkheadFull` | `bulkhead full: 32 calls to service B already in flight` | ignored | no |
/// | `Rejected` | the breaker's own text: `Circuit "call_service_b" OPEN until ...` | (is the breaker) | no |
/// | `Deadline` | `call deadline of 5s exceeded calling http://127.0.0.1:5001/api` | (outside it) | no |
///
/// A 4xx other than 408 (timeout) and 429 (too many requests) says the request was wrong, not
/// that B is unwell; 408 and 429 are B saying it is overloaded, which is what the breaker is
/// for. A bulkhead rejection happens inside the breaker but says nothing about B.
///
/// Every URL and reason a text quotes is cut to [`QUOTE_LIMIT`](service_kit::cut::QUOTE_LIMIT)
/// bytes ([`Quoted`]), so a long URL cannot make a long message or log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// B answered with a status other than 2xx, like Python's `raise_for_status()`; a 3xx is
    /// one too, since redirects are not followed.
    Status {
        /// The status B sent.
        status: StatusCode,
        /// The URL called.
        url: Url,
    },
    /// B answered 503 or 429 with a `Retry-After`: it asks not to be called again before
    /// `retry_after` has passed.
    Throttled {
        /// 503 or 429.
        status: StatusCode,
        /// The URL called.
        url: Url,
        /// The wait B asked for, at most a day.
        retry_after: Duration,
    },
    /// B's body was longer than `--max-response-bytes`; reading stopped there.
    TooLarge {
        /// The cap.
        limit: u64,
        /// The URL called.
        url: Url,
    },
    /// One attempt brought no whole answer within the per-attempt timeout.
    Timeout {
        /// The per-attempt timeout.
        after: Duration,
        /// The URL called.
        url: Url,
    },
    /// No connection to B could be made (refused, unreachable, name not resolved).
    Connect {
        /// The URL called.
        url: Url,
        /// The innermost cause, e.g. `Connection refused (os error 111)`.
        reason: String,
    },
    /// Anything else: the connection broke mid-answer, the body could not be read.
    Other {
        /// The URL called.
        url: Url,
        /// The innermost cause.
        reason: String,
    },
    /// The bulkhead had no place; B was not called.
    BulkheadFull(BulkheadFull),
    /// The breaker refused the call; B was not called.
    Rejected(Rejected),
    /// The whole call, retries included, ran out of time.
    Deadline {
        /// The call deadline.
        after: Duration,
        /// The URL called.
        url: Url,
    },
}

impl CallError {
    /// Sorts a reqwest error: no connection at all, or anything else.
    pub fn from_reqwest(err: &reqwest::Error, url: &Url) -> Self {
        let url = url.clone();
        let reason = root_cause(err);
        if err.is_connect() {
            CallError::Connect { url, reason }
        } else {
            CallError::Other { url, reason }
        }
    }

    /// The breaker's verdict on an attempt that failed this way (see the table above).
    pub fn outcome(&self) -> Outcome {
        match self {
            CallError::Status { status, .. } if status_is_ignored(*status) => Outcome::ignored(),
            CallError::BulkheadFull(_) | CallError::Rejected(_) => Outcome::ignored(),
            _ => Outcome::failure(self),
        }
    }

    /// Whether another attempt may succeed where this one failed: only the transient failures
    /// (and a 429 with `Retry-After`, once its wait is over), never B's deterministic 500,
    /// another 4xx, or a refusal by the breaker or the bulkhead.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Connect { .. } | CallError::Timeout { .. } | CallError::Throttled { .. } => {
                true
            }
            CallError::Status { status, .. } => matches!(
                *status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ),
            _ => false,
        }
    }

    /// The wait B asked for before the next attempt, if it asked for one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the bulkhead refused the call.
    pub fn is_bulkhead_full(&self) -> bool {
        matches!(self, CallError::BulkheadFull(_))
    }
}

/// A 4xx says the request was wrong, except 408 and 429, where B says it is overloaded.
fn status_is_ignored(status: StatusCode) -> bool {
    status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
}

/// The breaker's classifier: a good answer is a success, a failure is judged by
/// [`CallError::outcome`].
pub fn classify(result: &Result<String, CallError>) -> Outcome {
    match result {
        Ok(_) => Outcome::success(),
        Err(err) => err.outcome(),
    }
}

/// For an adaptive limit, B was too loaded when an attempt timed out, B refused the
/// connection, or B answered 503 or 429 (overloaded, too many requests), as Netflix's limiters
/// count a timeout or an UNAVAILABLE as a drop. Any other failure (a 500 after B's delay, a
/// 4xx) is the call's own and says nothing about B's load.
impl Overload for CallError {
    fn is_overload(&self) -> bool {
        match self {
            CallError::Timeout { .. } | CallError::Throttled { .. } | CallError::Connect { .. } => {
                true
            }
            CallError::Status { status, .. } => matches!(
                *status,
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
            ),
            _ => false,
        }
    }
}

impl From<BulkheadFull> for CallError {
    fn from(full: BulkheadFull) -> Self {
        CallError::BulkheadFull(full)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Status { status, url } => {
                write!(f, "{status} for url: {}", Quoted(url.as_str()))
            }
            CallError::Throttled {
                status,
                url,
                retry_after,
            } => write!(
                f,
                "{status} for url: {} (Retry-After: {})",
                Quoted(url.as_str()),
                human(*retry_after)
            ),
            CallError::TooLarge { limit, .. } => {
                write!(f, "response from service B exceeds {limit} bytes")
            }
            CallError::Timeout { after, url } => {
                write!(
                    f,
                    "timed out after {} calling {}",
                    human(*after),
                    Quoted(url.as_str())
                )
            }
            CallError::Connect { url, reason } => {
                write!(
                    f,
                    "could not connect to {}: {}",
                    Quoted(url.as_str()),
                    Quoted(reason)
                )
            }
            CallError::Other { url, reason } => write!(
                f,
                "request to {} failed: {}",
                Quoted(url.as_str()),
                Quoted(reason)
            ),
            CallError::BulkheadFull(full) => full.fmt(f),
            CallError::Rejected(rejected) => rejected.fmt(f),
            CallError::Deadline { after, url } => {
                write!(
                    f,
                    "call deadline of {} exceeded calling {}",
                    human(*after),
                    Quoted(url.as_str())
                )
            }
        }
    }
}

impl std::error::Error for CallError {}

fn human(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(duration)
}

/// The deepest error in the chain: reqwest's own text ("error sending request for url ...")
/// repeats the URL and hides the reason, which the innermost source states plainly.
fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Url {
        Url::parse("http://127.0.0.1:5001/api").expect("test URL")
    }

    fn status(code: u16) -> CallError {
        CallError::Status {
            status: StatusCode::from_u16(code).expect("valid status"),
            url: api(),
        }
    }

    #[test]
    fn only_timeouts_refused_connections_and_overload_statuses_are_drops() {
        let drops = [
            CallError::Timeout {
                after: Duration::from_secs(3),
                url: api(),
            },
            CallError::Connect {
                url: api(),
                reason: "Connection refused (os error 111)".into(),
            },
            status(503),
            status(429),
            CallError::Throttled {
                status: StatusCode::SERVICE_UNAVAILABLE,
                url: api(),
                retry_after: Duration::from_secs(1),
            },
        ];
        for err in &drops {
            assert!(err.is_overload(), "{err}");
        }
        let own = [
            status(500),
            status(404),
            status(400),
            CallError::TooLarge {
                limit: 1,
                url: api(),
            },
        ];
        for err in &own {
            assert!(!err.is_overload(), "{err}");
        }
    }

    #[test]
    fn a_status_error_reads_like_raise_for_status() {
        let err = CallError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            url: Url::parse("http://127.0.0.1:5001/api?fail=true").expect("URL"),
        };
        assert_eq!(
            err.to_string(),
            "500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true"
        );
        assert_eq!(
            status(302).to_string(),
            "302 Found for url: http://127.0.0.1:5001/api"
        );
    }

    #[test]
    fn every_other_failure_names_what_happened_and_the_url() {
        for (err, text) in [
            (
                CallError::Timeout {
                    after: Duration::from_millis(300),
                    url: api(),
                },
                "timed out after 300ms calling http://127.0.0.1:5001/api",
            ),
            (
                CallError::Connect {
                    url: api(),
                    reason: "Connection refused (os error 111)".to_owned(),
                },
                "could not connect to http://127.0.0.1:5001/api: Connection refused (os error 111)",
            ),
            (
                CallError::TooLarge {
                    limit: 1_048_576,
                    url: api(),
                },
                "response from service B exceeds 1048576 bytes",
            ),
            (
                CallError::Deadline {
                    after: Duration::from_secs(5),
                    url: api(),
                },
                "call deadline of 5s exceeded calling http://127.0.0.1:5001/api",
            ),
        ] {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn a_long_url_or_reason_is_quoted_cut() {
        let long = Url::parse(&format!(
            "http://127.0.0.1:5001/api?fail={}",
            "%21".repeat(5_000)
        ))
        .expect("URL");
        for err in [
            CallError::Status {
                status: StatusCode::SERVICE_UNAVAILABLE,
                url: long.clone(),
            },
            CallError::Connect {
                url: long.clone(),
                reason: "r".repeat(5_000),
            },
        ] {
            let text = err.to_string();
            // A URL and a reason, each cut to the limit, and a few words around them.
            assert!(
                text.len() < 2 * service_kit::cut::QUOTE_LIMIT + 64,
                "{}",
                text.len()
            );
            assert!(text.contains(service_kit::cut::MARK), "{text}");
        }
    }

    #[test]
    fn the_breaker_ignores_client_errors_but_408_and_429_and_the_bulkhead() {
        for code in [400, 401, 403, 404, 405, 409, 410, 422] {
            assert!(status(code).outcome().is_ignored(), "{code}");
        }
        let full = CallError::BulkheadFull(BulkheadFull::new(32, Duration::ZERO));
        assert!(full.outcome().is_ignored());
        for code in [301, 302, 307, 408, 429, 500, 501, 502, 503, 504] {
            let err = status(code);
            assert_eq!(
                err.outcome().cause(),
                Some(err.to_string().as_str()),
                "{code}: a failure whose cause is the message"
            );
        }
    }

    #[test]
    fn only_connection_errors_timeouts_and_502_503_504_are_retried() {
        for code in [502, 503, 504] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [302, 400, 404, 408, 429, 500, 501] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(
            CallError::Timeout {
                after: Duration::from_secs(2),
                url: api()
            }
            .is_retryable()
        );
        assert!(
            CallError::Connect {
                url: api(),
                reason: "refused".to_owned()
            }
            .is_retryable()
        );
        for never in [
            CallError::TooLarge {
                limit: 10,
                url: api(),
            },
            CallError::Other {
                url: api(),
                reason: "reset".to_owned(),
            },
            CallError::BulkheadFull(BulkheadFull::new(1, Duration::ZERO)),
        ] {
            assert!(!never.is_retryable(), "{never}");
        }
    }

    #[test]
    fn the_classifier_judges_a_call_error_by_its_outcome() {
        assert!(classify(&Ok("Service B: Success".to_owned())).is_success());
        assert!(classify(&Err(status(404))).is_ignored());
        assert!(classify(&Err(status(429))).is_failure());
    }
}
