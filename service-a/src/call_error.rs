//! How a call to service B went wrong, in words, and what that says about B's health.

use std::fmt;
use std::time::Duration;

use breaker::Outcome;
use reqwest::{StatusCode, Url};

/// A call to service B that did not bring back a good answer.
///
/// `Display` gives the text clients see in `{"status":"error","message":...}` and the breaker
/// records as its last failure, so both say the same thing:
///
/// | variant   | text |
/// |-----------|------|
/// | `Status`  | `500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true` |
/// | `Timeout` | `timed out after 3s calling http://127.0.0.1:5001/api` |
/// | `Connect` | `could not connect to http://127.0.0.1:5001/api: Connection refused (os error 111)` |
/// | `Other`   | `request to http://127.0.0.1:5001/api failed: <reason>` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// B answered with a 4xx or 5xx status, like Python's `raise_for_status()`.
    Status {
        /// The status B sent.
        status: StatusCode,
        /// The URL called.
        url: Url,
    },
    /// B did not answer in full within the request timeout.
    Timeout {
        /// The request timeout.
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
}

impl CallError {
    /// Sorts a reqwest error. A timeout is checked first: a connect attempt cut short by the
    /// timeout is a timeout, which is what the client waited for.
    pub fn from_reqwest(err: &reqwest::Error, url: &Url, timeout: Duration) -> Self {
        let url = url.clone();
        if err.is_timeout() {
            CallError::Timeout {
                after: timeout,
                url,
            }
        } else if err.is_connect() {
            CallError::Connect {
                url,
                reason: root_cause(err),
            }
        } else {
            CallError::Other {
                url,
                reason: root_cause(err),
            }
        }
    }

    /// Whether B refused the request itself (4xx). Such an answer says the request was wrong,
    /// not that B is unwell.
    pub fn is_client_error(&self) -> bool {
        matches!(self, CallError::Status { status, .. } if status.is_client_error())
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Status { status, url } => write!(f, "{status} for url: {url}"),
            CallError::Timeout { after, url } => write!(
                f,
                "timed out after {} calling {url}",
                humantime::format_duration(*after)
            ),
            CallError::Connect { url, reason } => {
                write!(f, "could not connect to {url}: {reason}")
            }
            CallError::Other { url, reason } => write!(f, "request to {url} failed: {reason}"),
        }
    }
}

impl std::error::Error for CallError {}

/// The breaker's verdict on a call to B: a good answer is a success, a 4xx is ignored, and
/// anything else is a failure whose text becomes the breaker's `last_failure`.
pub fn classify(result: &Result<String, CallError>) -> Outcome {
    match result {
        Ok(_) => Outcome::success(),
        Err(err) if err.is_client_error() => Outcome::ignored(),
        Err(err) => Outcome::failure(err),
    }
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

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    #[test]
    fn a_status_error_reads_like_raise_for_status() {
        let err = CallError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            url: url("http://127.0.0.1:5001/api?fail=true"),
        };
        assert_eq!(
            err.to_string(),
            "500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true"
        );
    }

    #[test]
    fn timeout_and_connection_errors_name_what_happened_and_the_url() {
        let timeout = CallError::Timeout {
            after: Duration::from_millis(300),
            url: url("http://127.0.0.1:5001/api"),
        };
        assert_eq!(
            timeout.to_string(),
            "timed out after 300ms calling http://127.0.0.1:5001/api"
        );
        let connect = CallError::Connect {
            url: url("http://127.0.0.1:5001/api"),
            reason: "Connection refused (os error 111)".to_owned(),
        };
        assert_eq!(
            connect.to_string(),
            "could not connect to http://127.0.0.1:5001/api: Connection refused (os error 111)"
        );
    }

    #[test]
    fn success_counts_4xx_is_ignored_and_everything_else_fails() {
        let api = url("http://127.0.0.1:5001/api");
        assert!(classify(&Ok("Service B: Success".to_owned())).is_success());

        let bad_request = CallError::Status {
            status: StatusCode::BAD_REQUEST,
            url: api.clone(),
        };
        assert!(classify(&Err(bad_request)).is_ignored());

        for err in [
            CallError::Status {
                status: StatusCode::SERVICE_UNAVAILABLE,
                url: api.clone(),
            },
            CallError::Timeout {
                after: Duration::from_secs(3),
                url: api.clone(),
            },
            CallError::Connect {
                url: api.clone(),
                reason: "refused".to_owned(),
            },
        ] {
            let text = err.to_string();
            let outcome = classify(&Err(err));
            assert_eq!(
                outcome.cause(),
                Some(text.as_str()),
                "the cause is the message"
            );
        }
    }
}
