//! The admin token: checked once on the command line, then kept only as its SHA-256 digest.
//!
//! A request's token is hashed and the two digests compared with `subtle`'s constant-time
//! equality: how long the comparison takes says nothing about how much of a guess was right,
//! nor, since both sides are 32 bytes, how long the token is. Keeping only the digest means the
//! token itself is nowhere in the service's memory to be printed by accident: `Debug` shows
//! `AdminToken(..)`, and a bad `--admin-token` is refused without repeating it.

use std::ffi::OsStr;
use std::fmt;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest token accepted: 16 characters of a random hex string are 64 bits, beyond
/// guessing over HTTP.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The longest token accepted; a request head is at most 16 KiB anyway.
pub const MAX_TOKEN_CHARS: usize = 512;

/// The token admin requests must present as `Authorization: Bearer <token>`.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken {
    digest: [u8; 32],
}

/// Why a token was refused on the command line. No message repeats the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Fewer than [`MIN_TOKEN_CHARS`].
    #[error(
        "must be at least {MIN_TOKEN_CHARS} characters (got {0}); `openssl rand -hex 16` makes one"
    )]
    TooShort(usize),
    /// More than [`MAX_TOKEN_CHARS`].
    #[error("must be at most {MAX_TOKEN_CHARS} characters (got {0})")]
    TooLong(usize),
    /// A character an `Authorization: Bearer` header cannot carry.
    #[error(
        "may hold only letters, digits and - . _ ~ + / (then = at the end), as a bearer token \
         does (RFC 6750)"
    )]
    Character,
}

/// Why a request's credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A bearer token, but not the right one.
    Wrong,
}

impl AdminToken {
    /// Checks `text` and keeps its digest.
    ///
    /// # Errors
    ///
    /// [`TokenError`] when it is too short, too long, or not a bearer token.
    pub fn new(text: &str) -> Result<Self, TokenError> {
        let chars = text.chars().count();
        if chars < MIN_TOKEN_CHARS {
            return Err(TokenError::TooShort(chars));
        }
        if chars > MAX_TOKEN_CHARS {
            return Err(TokenError::TooLong(chars));
        }
        if !is_bearer_token(text) {
            return Err(TokenError::Character);
        }
        Ok(Self {
            digest: digest(text.as_bytes()),
        })
    }

    /// Whether `headers` carry `Authorization: Bearer <this token>`.
    ///
    /// # Errors
    ///
    /// [`Refusal::Missing`] without a bearer token, [`Refusal::Wrong`] with another one.
    pub fn authorize(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let presented = headers
            .get(AUTHORIZATION)
            .and_then(|value| bearer(value.as_bytes()))
            .ok_or(Refusal::Missing)?;
        if bool::from(digest(presented).ct_eq(&self.digest)) {
            Ok(())
        } else {
            Err(Refusal::Wrong)
        }
    }

    /// The value parser of `--admin-token`: its errors name the flag and never the value.
    pub fn parser() -> impl TypedValueParser<Value = AdminToken> {
        Parser
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

#[derive(Clone)]
struct Parser;

impl TypedValueParser for Parser {
    type Value = AdminToken;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<AdminToken, clap::Error> {
        let flag = arg.map_or_else(|| "--admin-token".to_owned(), ToString::to_string);
        let refuse = |reason: String| {
            cmd.clone().error(
                ErrorKind::ValueValidation,
                format!("invalid value for '{flag}' (not shown): {reason}"),
            )
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse(TokenError::Character.to_string()))?;
        AdminToken::new(text).map_err(|err| refuse(err.to_string()))
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The token of an `Authorization` value `Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110, 11.1).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.starts_with(b" ") {
        return None;
    }
    let token = rest.trim_ascii_start();
    (!token.is_empty()).then_some(token)
}

/// RFC 6750's `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_bearer_token(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// The admin flag.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct AdminFlags {
    /// Turns on `POST /breaker` (force_open, force_open_for, disable, reset) for requests
    /// with `Authorization: Bearer <token>`; at least 16 characters, e.g. `openssl rand -hex
    /// 16`. Prefer the environment variable: a command line is visible to other users.
    #[arg(
        long,
        env = "SERVICE_A_ADMIN_TOKEN",
        hide_env_values = true,
        value_parser = AdminToken::parser()
    )]
    pub admin_token: Option<AdminToken>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(authorization).expect("valid header"),
        );
        headers
    }

    #[test]
    fn only_the_same_bearer_token_is_authorized() {
        let token = AdminToken::new(TOKEN).expect("valid");
        assert_eq!(
            token.authorize(&headers(&format!("Bearer {TOKEN}"))),
            Ok(())
        );
        assert_eq!(
            token.authorize(&headers(&format!("bearer  {TOKEN}"))),
            Ok(())
        );
        assert_eq!(
            token.authorize(&headers(&format!("Bearer {TOKEN}0"))),
            Err(Refusal::Wrong)
        );
        assert_eq!(
            token.authorize(&headers("Bearer 0123")),
            Err(Refusal::Wrong)
        );
        for missing in [
            TOKEN.to_owned(),
            format!("Basic {TOKEN}"),
            format!("Bearer{TOKEN}"),
            "Bearer ".to_owned(),
        ] {
            assert_eq!(
                token.authorize(&headers(&missing)),
                Err(Refusal::Missing),
                "{missing}"
            );
        }
        assert_eq!(token.authorize(&HeaderMap::new()), Err(Refusal::Missing));
    }

    #[test]
    fn a_token_must_be_long_enough_and_fit_a_bearer_header() {
        assert!(AdminToken::new("abcdefghijklmno+/_~.-=").is_ok());
        assert_eq!(
            AdminToken::new("short").unwrap_err(),
            TokenError::TooShort(5)
        );
        assert_eq!(
            AdminToken::new(&"a".repeat(513)).unwrap_err(),
            TokenError::TooLong(513)
        );
        for bad in [
            "0123456789 abcdef",
            "0123456789abcdef\n",
            "0123456789=abcdef",
            "0123456789abcdéf",
            "================",
        ] {
            assert_eq!(
                AdminToken::new(bad).unwrap_err(),
                TokenError::Character,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = AdminToken::new(TOKEN).expect("valid");
        assert_eq!(format!("{token:?}"), "AdminToken(..)");
    }
}
