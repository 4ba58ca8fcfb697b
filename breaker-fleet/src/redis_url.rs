//! The Redis URL, kept with its password and shown without it: every log line, error and
//! status the fleet writes names Redis by [`RedisUrl::redacted`].

/// A `redis://` URL, checked, with a redacted copy for everything that is shown.
#[derive(Clone)]
pub(crate) struct RedisUrl {
    full: String,
    redacted: String,
}

impl RedisUrl {
    /// `text`, if the Redis client takes it; otherwise why not, never quoting the password.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let redacted = redact(text);
        if !(text.starts_with("redis://") || text.starts_with("redis+unix://")) {
            return Err(format!("must start with redis:// (got {redacted})"));
        }
        if text.len() > 1_024 {
            return Err(format!("must be at most 1024 bytes (got {})", text.len()));
        }
        // The client's own error may quote the URL; it is replaced by ours.
        redis::Client::open(text).map_err(|_| format!("not a Redis URL: {redacted}"))?;
        Ok(Self {
            full: text.to_owned(),
            redacted,
        })
    }

    /// The URL as given, password and all, for the client only.
    pub(crate) fn full(&self) -> &str {
        &self.full
    }

    /// The URL with its password, if any, shown as `***`.
    pub(crate) fn redacted(&self) -> &str {
        &self.redacted
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// `redis://user:secret@host:6379/0` as `redis://user:***@host:6379/0`; a URL without a
/// password is unchanged. Whatever stands between `//` and the last `@` before the path is
/// the user information; its part after the first `:` is the password.
fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        // Not a URL: nothing can be told apart from a password; show none of it.
        return "(not a URL)".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return text.to_owned();
    };
    let (user_info, host) = authority.split_at(at);
    let user = match user_info.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        // `redis://secret@host`: the client reads a lone user information as the password.
        None => "***".to_owned(),
    };
    format!("{scheme}://{user}{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            (
                "redis://:s3cret@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            (
                "redis://fleet:s3cret@redis:6379",
                "redis://fleet:***@redis:6379",
            ),
            ("redis://s3cret@redis", "redis://***@redis"),
            ("redis://a:b@c:s3cret@redis", "redis://a:***@redis"),
            ("nonsense s3cret", "(not a URL)"),
        ] {
            assert_eq!(redact(url), shown);
        }
    }

    #[test]
    fn a_refused_url_is_named_without_its_password() {
        for url in ["http://:s3cret@host", "redis://:s3cret@[nope", "s3cret"] {
            let err = RedisUrl::parse(url).map(|_| ()).expect_err(url);
            assert!(!err.contains("s3cret"), "{err}");
        }
        let url = RedisUrl::parse("redis://:s3cret@127.0.0.1:1").expect("valid");
        assert_eq!(format!("{url:?}"), "redis://:***@127.0.0.1:1");
        assert_eq!(url.redacted(), "redis://:***@127.0.0.1:1");
        assert_eq!(url.full(), "redis://:s3cret@127.0.0.1:1");
    }

    #[test]
    fn a_url_of_1024_bytes_is_the_longest_taken() {
        let longest = format!("redis://127.0.0.1/{}", "0".repeat(1_024 - 18));
        assert_eq!(longest.len(), 1_024);
        assert!(RedisUrl::parse(&longest).is_ok());
        let err = RedisUrl::parse(&format!("{longest}0"))
            .map(|_| ())
            .expect_err("too long");
        assert!(err.contains("at most 1024 bytes"), "{err}");
    }
}
