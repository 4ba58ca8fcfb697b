//! The answers to a path no route serves (404) and a method a route does not take (405).
//!
//! Both echo what the client sent, cut to [`ECHO_LIMIT`] bytes so that a 10 KB path does not
//! come back as a 10 KB message.
//!
//! ```
//! use axum::{Router, routing::get};
//! use service_kit::fallback::{method_not_allowed, not_found};
//!
//! let app: Router = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .method_not_allowed_fallback(method_not_allowed)
//!     .fallback(not_found);
//! ```

use std::borrow::Cow;

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error_body::refusal;

/// The most bytes of a client's path or method an error message repeats; a longer one is cut
/// on a character boundary and ends with `…`.
pub const ECHO_LIMIT: usize = 200;

/// A request no route answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// 404: no route for this path.
    #[error("no route for {}", echo(path))]
    NotFound {
        /// The path as sent.
        path: String,
    },
    /// 405: the path exists but not for this method.
    #[error("method {} not allowed for {}", echo(method), echo(path))]
    MethodNotAllowed {
        /// The method as sent.
        method: String,
        /// The path as sent.
        path: String,
    },
}

impl RouteError {
    /// 404 or 405.
    pub fn status(&self) -> StatusCode {
        match self {
            RouteError::NotFound { .. } => StatusCode::NOT_FOUND,
            RouteError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

impl IntoResponse for RouteError {
    fn into_response(self) -> Response {
        refusal(self.status(), self.to_string())
    }
}

/// The router's fallback: 404 `no route for <path>`.
pub async fn not_found(uri: Uri) -> RouteError {
    RouteError::NotFound {
        path: uri.path().to_owned(),
    }
}

/// The router's method-not-allowed fallback: 405 `method <method> not allowed for <path>`.
pub async fn method_not_allowed(method: Method, uri: Uri) -> RouteError {
    RouteError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// `text` as an error message may repeat it: whole up to [`ECHO_LIMIT`] bytes, otherwise its
/// first characters within the limit and `…`.
pub fn echo(text: &str) -> Cow<'_, str> {
    if text.len() <= ECHO_LIMIT {
        return Cow::Borrowed(text);
    }
    let mut end = ECHO_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_echoed_whole() {
        assert_eq!(echo("/nope"), "/nope");
        let exactly = "a".repeat(ECHO_LIMIT);
        assert_eq!(echo(&exactly), exactly);
    }

    #[test]
    fn a_long_text_is_cut_at_the_limit_and_marked() {
        let long = "a".repeat(10_000);
        let echoed = echo(&long);
        assert_eq!(echoed, format!("{}…", "a".repeat(ECHO_LIMIT)));
    }

    #[test]
    fn the_cut_never_splits_a_character() {
        // 'é' is two bytes: the 200th byte falls in the middle of the 100th one after "a".
        let long = format!("a{}", "é".repeat(200));
        let echoed = echo(&long);
        assert_eq!(echoed, format!("a{}…", "é".repeat(99)));
        assert!(echoed.len() <= ECHO_LIMIT + '…'.len_utf8());
    }

    #[test]
    fn the_messages_echo_bounded_paths_and_methods() {
        let path = format!("/{}", "x".repeat(10_000));
        let not_found = RouteError::NotFound { path: path.clone() };
        assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            not_found.to_string(),
            format!("no route for /{}…", "x".repeat(ECHO_LIMIT - 1))
        );
        let wrong_method = RouteError::MethodNotAllowed {
            method: "M".repeat(10_000),
            path,
        };
        assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(wrong_method.to_string().len() < 3 * ECHO_LIMIT);
    }
}
