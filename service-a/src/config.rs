//! Command-line configuration, parsed and checked once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use breaker::{CircuitBreaker, ConfigError};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use reqwest::Url;
use service_kit::server::ServerLimits;

/// The breaker's name, as the article's decorated function is called.
pub const BREAKER_NAME: &str = "call_service_b";

/// The article's Service A address (`app.run(port=5000)`).
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5000);

/// Where the article's Service B listens.
pub const DEFAULT_SERVICE_B_URL: &str = "http://127.0.0.1:5001";

/// The article's `requests.get(..., timeout=3)`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The article's `FAILURE_THRESHOLD`.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

/// The article's `RECOVERY_TIMEOUT`.
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings for Service A.
///
/// Durations are human strings (`10s`, `250ms`). Parse with [`Config::parse_checked`] (or
/// [`Config::try_parse_checked_from`]) rather than clap's plain `parse`, so that breaker settings
/// that parse but cannot work (`--failure-threshold 0`) are refused like any other bad flag.
///
/// ```
/// use service_a::Config;
/// use std::time::Duration;
///
/// let config = Config::try_parse_checked_from(["service-a", "--recovery-timeout", "30s"])?;
/// assert_eq!(config.recovery_timeout, Duration::from_secs(30));
/// assert_eq!(config.failure_threshold, 3);
///
/// let err = Config::try_parse_checked_from(["service-a", "--failure-threshold", "0"])
///     .expect_err("no breaker can open after zero failures");
/// assert_eq!(err.exit_code(), 2);
/// assert!(err.to_string().contains("--failure-threshold"));
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "service-a",
    version,
    about = "Calls service B through a circuit breaker, as in the article",
    long_about = None
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SERVICE_A_LISTEN", default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Base URL of service B; `/api` is appended to its path.
    #[arg(
        long,
        env = "SERVICE_B_URL",
        default_value = DEFAULT_SERVICE_B_URL,
        value_parser = parse_service_b_url
    )]
    pub service_b_url: Url,

    /// Longest wait for service B's whole answer; keep it shorter than the recovery timeout.
    #[arg(long, default_value = "3s", value_parser = parse_request_timeout)]
    pub request_timeout: Duration,

    /// Consecutive failures that open the circuit.
    #[arg(long, default_value_t = DEFAULT_FAILURE_THRESHOLD)]
    pub failure_threshold: u32,

    /// How long the circuit stays open before a probe may pass.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub recovery_timeout: Duration,

    /// Probes that may test service B at the same time while half-open.
    #[arg(long, default_value_t = 1)]
    pub half_open_max_calls: u32,

    /// Call service B directly, with no circuit breaker (the article's "cost of no circuit
    /// breaker").
    #[arg(long)]
    pub no_breaker: bool,

    /// How long slow clients are waited for, how many are served at once, how long shutdown
    /// waits: the flags both services share.
    #[command(flatten)]
    pub server: ServerLimits,
}

impl Default for Config {
    /// The article's setup: port 5000, B on 5001, 3 s timeout, 3 failures, 10 s recovery.
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            service_b_url: default_service_b_url(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
            half_open_max_calls: 1,
            no_breaker: false,
            server: ServerLimits::default(),
        }
    }
}

impl Config {
    /// Parses the process's arguments and checks them; on error prints clap's message and exits
    /// with code 2.
    pub fn parse_checked() -> Self {
        let config = Self::parse();
        if let Err(err) = config.check() {
            err.exit();
        }
        config
    }

    /// [`parse_checked`](Self::parse_checked) for given arguments, returning the error instead
    /// of exiting.
    ///
    /// # Errors
    ///
    /// Clap's error for an unparsable flag, or one from [`check`](Self::check).
    pub fn try_parse_checked_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let config = Self::try_parse_from(args)?;
        config.check()?;
        Ok(config)
    }

    /// Checks the breaker settings the way the breaker itself will, so a bad value is reported
    /// as a usage error naming its flag (exit code 2) rather than failing later at start-up.
    ///
    /// # Errors
    ///
    /// A `ValueValidation` clap error naming the flag whose value the breaker refuses.
    pub fn check(&self) -> Result<(), clap::Error> {
        // Building is the breaker's only public validation; the breaker is thrown away.
        self.breaker_builder()
            .build()
            .map(drop)
            .map_err(|err| flag_error(&err))
    }

    /// A breaker builder with this configuration's settings and the default clock.
    pub fn breaker_builder(&self) -> breaker::Builder {
        CircuitBreaker::builder(BREAKER_NAME)
            .failure_threshold(self.failure_threshold)
            .recovery_timeout(self.recovery_timeout)
            .half_open_max_calls(self.half_open_max_calls)
    }
}

/// Turns a breaker setting error into a clap usage error naming the command-line flag.
fn flag_error(err: &ConfigError) -> clap::Error {
    let flag = match err.field() {
        "failure_threshold" => "--failure-threshold",
        "recovery_timeout" => "--recovery-timeout",
        "half_open_max_calls" => "--half-open-max-calls",
        // Settings without a flag keep the breaker's defaults, so this is not expected; the
        // breaker's own message still names the field.
        _ => "a circuit breaker setting",
    };
    Config::command().error(
        ErrorKind::ValueValidation,
        format!("invalid value for {flag}: {}", err.reason()),
    )
}

fn default_service_b_url() -> Url {
    // Parsing a constant either always works or never does, and `defaults_match_the_article`
    // proves it works: this cannot fail at run time.
    Url::parse(DEFAULT_SERVICE_B_URL).expect("DEFAULT_SERVICE_B_URL is a valid URL")
}

/// Accepts an absolute `http://` URL with a host and no query or fragment.
///
/// `https` is refused up front: this build of reqwest has no TLS, so every call would fail.
fn parse_service_b_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("not a URL ({err})"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "the scheme must be http (got {:?}; this build has no TLS)",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("the URL has no host".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the base URL must have no query or fragment".to_owned());
    }
    Ok(url)
}

/// A human duration longer than zero: a zero timeout would fail every call before it started.
fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text).map_err(|err| err.to_string())?;
    if timeout.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_checked_from(std::iter::once("service-a").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_match_the_article() {
        let config = parse(&[]).expect("no flags is valid");
        assert_eq!(config, Config::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(config.service_b_url.as_str(), "http://127.0.0.1:5001/");
        assert_eq!(config.request_timeout, Duration::from_secs(3));
        assert_eq!(config.failure_threshold, 3);
        assert_eq!(config.recovery_timeout, Duration::from_secs(10));
        assert_eq!(config.half_open_max_calls, 1);
        assert!(!config.no_breaker);
    }

    #[test]
    fn durations_are_human_strings() {
        let config = parse(&["--request-timeout", "250ms", "--recovery-timeout", "1m"])
            .expect("valid durations");
        assert_eq!(config.request_timeout, Duration::from_millis(250));
        assert_eq!(config.recovery_timeout, Duration::from_secs(60));
    }

    #[test]
    fn every_invalid_flag_is_a_usage_error_naming_the_flag() {
        for (args, flag) in [
            (&["--failure-threshold", "0"][..], "--failure-threshold"),
            (&["--failure-threshold=-1"][..], "--failure-threshold"),
            (&["--recovery-timeout", "0s"][..], "--recovery-timeout"),
            (&["--recovery-timeout", "soon"][..], "--recovery-timeout"),
            (&["--half-open-max-calls", "0"][..], "--half-open-max-calls"),
            (&["--request-timeout", "0ms"][..], "--request-timeout"),
            (&["--request-timeout", "3 parsecs"][..], "--request-timeout"),
            (&["--service-b-url", "not a url"][..], "--service-b-url"),
            (
                &["--service-b-url", "https://b.example"][..],
                "--service-b-url",
            ),
            (&["--service-b-url", "http://b/?x=1"][..], "--service-b-url"),
            (&["--listen", "nowhere"][..], "--listen"),
        ] {
            let err = parse(args).expect_err("must be refused");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn a_breaker_error_says_why() {
        let err = parse(&["--failure-threshold", "0"]).expect_err("refused");
        assert!(
            err.to_string()
                .contains("invalid value for --failure-threshold: must be at least 1 (got 0)"),
            "{err}"
        );
    }

    #[test]
    fn the_builder_carries_every_breaker_flag() {
        let config = parse(&[
            "--failure-threshold",
            "5",
            "--recovery-timeout",
            "20s",
            "--half-open-max-calls",
            "2",
        ])
        .expect("valid");
        let cb = config.breaker_builder().build().expect("valid");
        assert_eq!(cb.name(), BREAKER_NAME);
        let settings = cb.config();
        assert_eq!(settings.failure_threshold(), Some(5));
        assert_eq!(settings.recovery_timeout(), Duration::from_secs(20));
        assert_eq!(settings.half_open_max_calls(), 2);
    }

    #[test]
    fn clap_definition_is_consistent() {
        Config::command().debug_assert();
    }
}
