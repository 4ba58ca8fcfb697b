//! Command-line configuration, parsed once by clap.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use service_kit::logging::LogFlags;
use service_kit::server::ServerLimits;

/// The address the article's Service A calls (`http://localhost:5001`).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 5001);

/// How long `GET /api?fail=true` waits before answering 500, as in the article's `time.sleep(2)`.
pub const DEFAULT_FAIL_DELAY: Duration = Duration::from_secs(2);

/// Settings for Service B.
///
/// `--listen` and `--fail-delay` can also come from the environment, so scripts can start the
/// binary without building a command line. Durations are human strings (`2s`, `250ms`), at most
/// one day ([`service_kit::duration`]). Parse with [`Config::parse_checked`] (or
/// [`Config::try_parse_checked_from`]) rather than clap's plain `parse`, so that flags that
/// parse but disagree (`--max-connections 10 --max-connections-per-client 20`) are refused like
/// any other bad flag.
///
/// ```
/// use service_b::Config;
/// use std::time::Duration;
///
/// let config = Config::try_parse_checked_from(["service-b", "--fail-delay", "250ms"])?;
/// assert_eq!(config.fail_delay, Duration::from_millis(250));
///
/// let err = Config::try_parse_checked_from([
///     "service-b",
///     "--max-connections",
///     "10",
///     "--max-connections-per-client",
///     "20",
/// ])
/// .expect_err("a share over the cap");
/// assert_eq!(err.exit_code(), 2);
/// assert!(err.to_string().contains("--max-connections-per-client"));
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "service-b",
    version,
    about = "An unreliable backend for circuit-breaker demos",
    long_about = None
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SERVICE_B_LISTEN", default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// How long `/api?fail=true` waits before answering 500 (e.g. `2s`, `250ms`); also the
    /// default `delay` of the `fail` and `slow` outage modes.
    #[arg(
        long,
        env = "SERVICE_B_FAIL_DELAY",
        default_value = "2s",
        value_parser = service_kit::duration::parse,
        allow_hyphen_values = true
    )]
    pub fail_delay: Duration,

    /// How long slow clients are waited for, how many are served at once, how long shutdown
    /// waits: the flags both services share.
    #[command(flatten)]
    pub server: ServerLimits,

    /// How log lines are written.
    #[command(flatten)]
    pub log: LogFlags,
}

impl Default for Config {
    /// The article's setup: port 5001 on loopback, a two-second failure; the default limits.
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            fail_delay: DEFAULT_FAIL_DELAY,
            server: ServerLimits::default(),
            log: LogFlags::default(),
        }
    }
}

impl Config {
    /// Parses the process's arguments and checks them; on error prints clap's message and exits
    /// with code 2.
    pub fn parse_checked() -> Self {
        Self::check(Self::parse()).unwrap_or_else(|err| err.exit())
    }

    /// [`parse_checked`](Self::parse_checked) for given arguments, returning the error instead
    /// of exiting.
    ///
    /// # Errors
    ///
    /// Clap's error for an unparsable flag, or a share of connections over the cap.
    pub fn try_parse_checked_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::check(Self::try_parse_from(args)?)
    }

    fn check(config: Self) -> Result<Self, clap::Error> {
        config
            .server
            .check()
            .map_err(|reason| Self::command().error(ErrorKind::ValueValidation, reason))?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_article() {
        let config = Config::try_parse_from(["service-b"]).expect("no flags is valid");
        assert_eq!(config, Config::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:5001");
        assert_eq!(config.fail_delay, Duration::from_secs(2));
    }

    #[test]
    fn fail_delay_accepts_human_durations() {
        for (text, expected) in [
            ("250ms", Duration::from_millis(250)),
            ("2s", Duration::from_secs(2)),
            ("1m 30s", Duration::from_secs(90)),
        ] {
            let config = Config::try_parse_from(["service-b", "--fail-delay", text])
                .unwrap_or_else(|err| panic!("{text}: {err}"));
            assert_eq!(config.fail_delay, expected, "{text}");
        }
    }

    #[test]
    fn unparsable_flags_are_usage_errors_with_exit_code_2() {
        for args in [
            ["service-b", "--fail-delay", "soon"],
            ["service-b", "--listen", "not-an-address"],
            ["service-b", "--no-such-flag", "x"],
        ] {
            let err = Config::try_parse_from(args).expect_err("must be rejected");
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn the_fail_delay_is_at_most_one_day() {
        let config = Config::try_parse_from(["service-b", "--fail-delay", "24h"]).expect("a day");
        assert_eq!(config.fail_delay, service_kit::duration::MAX);
        let err = Config::try_parse_from(["service-b", "--fail-delay", "999999999999s"])
            .expect_err("longer than a day");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--fail-delay"), "{err}");
        assert!(err.to_string().contains("at most 1day"), "{err}");
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Config::command().debug_assert();
    }
}
