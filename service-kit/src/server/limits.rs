//! The bounds a server holds every client to, as command-line flags both services share.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::duration;
use crate::flag::count_in;

/// `--header-timeout`'s default.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// `--max-connections`'s default: high enough for any load this demo sees, low enough to stay
/// under a usual open-files limit once raised (`ulimit -n`).
pub const DEFAULT_MAX_CONNECTIONS: NonZeroU32 = NonZeroU32::new(10_000).unwrap();

/// `--shutdown-grace`'s default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// `--body-timeout`'s default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The most `--max-connections` (and either share) may be: each connection is a file
/// descriptor, and Linux lets a process open at most `fs.nr_open` of them (1,048,576 unless
/// raised), so a higher cap could never be reached; the accept errors would come first.
pub const MAX_CONNECTIONS: NonZeroU32 = NonZeroU32::new(1_000_000).unwrap();

/// Without `--max-connections-per-client`, one client address may hold this share of
/// `--max-connections`: one tenth, so that one client takes at most a tenth of the server,
/// while a browser (six connections) or a load test of a few hundred stays well within it.
pub const DEFAULT_PER_CLIENT_DIVISOR: u32 = 10;

/// How long a server waits on a slow client, how many it serves at once, and how long it lets
/// requests finish when asked to stop.
///
/// Both services `#[command(flatten)]` it, so they take the same flags with the same defaults;
/// [`serve`](super::serve) applies them. Durations go through [`duration`], so none exceeds one
/// day.
///
/// ```
/// use clap::Parser;
/// use service_kit::server::ServerLimits;
/// use std::time::Duration;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     server: ServerLimits,
/// }
///
/// let cli = Cli::try_parse_from(["demo", "--header-timeout", "2s"])?;
/// assert_eq!(cli.server.header_timeout, Duration::from_secs(2));
/// assert_eq!(cli.server.max_connections.get(), 10_000);
///
/// let err = Cli::try_parse_from(["demo", "--shutdown-grace", "2days"]).err().unwrap();
/// assert_eq!(err.exit_code(), 2);
/// assert!(err.to_string().contains("--shutdown-grace"));
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Connections")]
pub struct ServerLimits {
    /// Longest wait for a client that should be sending: the rest of a request's headers, the
    /// next request on an idle keep-alive connection, the next piece of a request body. The
    /// connection is closed (or the body refused, 408) when it runs out.
    #[arg(
        long,
        default_value = "10s",
        value_parser = duration::parse_positive,
        allow_hyphen_values = true
    )]
    pub header_timeout: Duration,

    /// Longest time a whole request body may take, from when its head has been read, whatever
    /// its pace; past it the request is answered 408 and the connection closed.
    #[arg(
        long,
        default_value = "10s",
        value_parser = duration::parse_positive,
        allow_hyphen_values = true
    )]
    pub body_timeout: Duration,

    /// Connections served at once, at most 1000000. At the cap, a new connection takes the
    /// place of the one idle longest (never one with a request in flight); with none idle, it
    /// waits in the kernel's queue until one closes or goes idle.
    #[arg(
        long,
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = count_in(NonZeroU32::MIN, MAX_CONNECTIONS),
        allow_hyphen_values = true
    )]
    pub max_connections: NonZeroU32,

    /// Connections one client address may hold at once, at most --max-connections; past
    /// this, its new connections are closed as soon as they are accepted, so other clients
    /// still get in. Default: a tenth of --max-connections; 0 for no per-client limit (behind
    /// a proxy every client has the proxy's address).
    #[arg(
        long,
        value_name = "N",
        value_parser = count_in(0, MAX_CONNECTIONS.get()),
        allow_hyphen_values = true
    )]
    pub max_connections_per_client: Option<u32>,

    /// Connections the addresses of one IPv4 /24 or IPv6 /64 may hold at once, at most
    /// --max-connections; past this, their new connections are closed as soon as they are
    /// accepted. 0 (the default) for no limit: clients behind one NAT, or beside an attacker
    /// in its network, share it.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        value_parser = count_in(0, MAX_CONNECTIONS.get()),
        allow_hyphen_values = true
    )]
    pub max_connections_per_prefix: u32,

    /// On SIGINT or SIGTERM, how long requests in flight may take to finish before they are
    /// cut.
    #[arg(
        long,
        default_value = "5s",
        value_parser = duration::parse,
        allow_hyphen_values = true
    )]
    pub shutdown_grace: Duration,
}

impl ServerLimits {
    /// The connections one client address may hold at once, `None` for no limit:
    /// `--max-connections-per-client`, or a tenth of `--max-connections` (at least one)
    /// without it.
    pub fn per_client_cap(&self) -> Option<NonZeroU32> {
        match self.max_connections_per_client {
            None => Some(
                NonZeroU32::new(
                    self.max_connections
                        .get()
                        .div_ceil(DEFAULT_PER_CLIENT_DIVISOR),
                )
                .unwrap_or(NonZeroU32::MIN),
            ),
            Some(cap) => NonZeroU32::new(cap),
        }
    }

    /// The connections one IPv4 /24 or IPv6 /64 may hold at once, `None` for no limit.
    pub fn per_prefix_cap(&self) -> Option<NonZeroU32> {
        NonZeroU32::new(self.max_connections_per_prefix)
    }

    /// Refuses shares over the cap, which would say a client may hold more connections than
    /// the server serves: `--max-connections 10 --max-connections-per-client 20`.
    ///
    /// # Errors
    ///
    /// A message naming both flags, in the words of the services' other refusals, for a clap
    /// usage error (exit code 2).
    pub fn check(&self) -> Result<(), String> {
        let cap = self.max_connections.get();
        for (flag, share) in [
            (
                "--max-connections-per-client",
                self.max_connections_per_client,
            ),
            (
                "--max-connections-per-prefix",
                Some(self.max_connections_per_prefix),
            ),
        ] {
            if let Some(share) = share.filter(|share| *share > cap) {
                return Err(format!(
                    "invalid value for {flag}: {share} is more than the connections served at \
                     once (--max-connections {cap}); give at most {cap}, or 0 for no limit"
                ));
            }
        }
        Ok(())
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: None,
            max_connections_per_prefix: 0,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerLimits,
    }

    fn parse(args: &[&str]) -> Result<ServerLimits, clap::Error> {
        Cli::try_parse_from(std::iter::once("demo").chain(args.iter().copied()))
            .map(|cli| cli.server)
    }

    #[test]
    fn the_flag_defaults_are_the_documented_constants() {
        assert_eq!(parse(&[]).expect("no flags"), ServerLimits::default());
        let limits = ServerLimits::default();
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
        assert_eq!(limits.body_timeout, Duration::from_secs(10));
        assert_eq!(limits.max_connections.get(), 10_000);
        assert_eq!(limits.max_connections_per_client, None);
        assert_eq!(limits.per_client_cap().map(NonZeroU32::get), Some(1_000));
        assert_eq!(limits.per_prefix_cap(), None);
        assert_eq!(limits.shutdown_grace, Duration::from_secs(5));
    }

    #[test]
    fn the_per_client_cap_is_a_tenth_of_the_connections_unless_given() {
        let cap = |args: &[&str]| {
            parse(args)
                .expect("valid")
                .per_client_cap()
                .map(NonZeroU32::get)
        };
        assert_eq!(cap(&["--max-connections", "200"]), Some(20));
        assert_eq!(cap(&["--max-connections", "15"]), Some(2));
        assert_eq!(cap(&["--max-connections", "1"]), Some(1));
        assert_eq!(
            cap(&[
                "--max-connections",
                "200",
                "--max-connections-per-client",
                "7"
            ]),
            Some(7)
        );
        assert_eq!(cap(&["--max-connections-per-client", "0"]), None);
    }

    #[test]
    fn every_flag_is_read() {
        let limits = parse(&[
            "--header-timeout",
            "250ms",
            "--body-timeout",
            "1m",
            "--max-connections",
            "3",
            "--max-connections-per-client",
            "2",
            "--max-connections-per-prefix",
            "3",
            "--shutdown-grace",
            "0s",
        ])
        .expect("valid");
        assert_eq!(limits.check(), Ok(()));
        assert_eq!(limits.header_timeout, Duration::from_millis(250));
        assert_eq!(limits.body_timeout, Duration::from_secs(60));
        assert_eq!(limits.max_connections.get(), 3);
        assert_eq!(limits.max_connections_per_client, Some(2));
        assert_eq!(limits.per_prefix_cap().map(NonZeroU32::get), Some(3));
        assert_eq!(limits.shutdown_grace, Duration::ZERO);
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_flag() {
        for (args, flag) in [
            (&["--header-timeout", "0s"][..], "--header-timeout"),
            (&["--header-timeout", "25h"][..], "--header-timeout"),
            (&["--header-timeout", "soon"][..], "--header-timeout"),
            (&["--body-timeout", "0s"][..], "--body-timeout"),
            (&["--body-timeout", "24h 1ms"][..], "--body-timeout"),
            (&["--body-timeout", "soon"][..], "--body-timeout"),
            (&["--max-connections", "0"][..], "--max-connections"),
            (
                &["--max-connections-per-client=-1"][..],
                "--max-connections-per-client",
            ),
            (
                &["--max-connections-per-client", "99999999999"][..],
                "--max-connections-per-client",
            ),
            (&["--max-connections=-1"][..], "--max-connections"),
            (
                &["--max-connections", "99999999999"][..],
                "--max-connections",
            ),
            (
                &["--shutdown-grace", "999999999999s"][..],
                "--shutdown-grace",
            ),
        ] {
            let err = parse(args).expect_err("must be refused");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn a_share_over_the_cap_is_refused_naming_both_flags() {
        for flag in [
            "--max-connections-per-client",
            "--max-connections-per-prefix",
        ] {
            let limits = parse(&["--max-connections", "10", flag, "20"]).expect("parses");
            assert_eq!(
                limits.check(),
                Err(format!(
                    "invalid value for {flag}: 20 is more than the connections served at once \
                     (--max-connections 10); give at most 10, or 0 for no limit"
                ))
            );
            let equal = parse(&["--max-connections", "10", flag, "10"]).expect("parses");
            assert_eq!(equal.check(), Ok(()), "the whole cap is a share");
        }
        assert_eq!(ServerLimits::default().check(), Ok(()));
    }

    #[test]
    fn a_negative_number_reaches_the_parser_and_is_refused_with_the_range() {
        for flag in [
            "--max-connections",
            "--max-connections-per-client",
            "--max-connections-per-prefix",
        ] {
            let err = parse(&[flag, "-1"]).expect_err("refused");
            assert_eq!(err.exit_code(), 2);
            let text = err.to_string();
            assert!(text.contains(flag), "{text}");
            assert!(text.contains("must be a whole number from"), "{text}");
            assert!(text.contains("to 1000000 (got \"-1\")"), "{text}");
        }
        let err = parse(&["--max-connections", "0"]).expect_err("refused");
        assert!(
            err.to_string()
                .contains("must be a whole number from 1 to 1000000 (got \"0\")"),
            "{err}"
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
