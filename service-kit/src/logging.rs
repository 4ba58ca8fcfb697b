//! The `tracing` set-up both binaries use, and their `--log-format` flag.
//!
//! `text` (the default) writes the lines a person reads, `json` one JSON object per line for a
//! log shipper: the event's fields sit at the top level beside `timestamp`, `level`, `target`
//! and `message`, so a transition logged with `from`, `to` and `reason` fields reads
//!
//! ```text
//! {"timestamp":"...","level":"WARN","message":"circuit call_service_b: CLOSED -> OPEN (3 consecutive failures)","breaker":"call_service_b","from":"closed","to":"open","reason":"3 consecutive failures","target":"breaker"}
//! ```
//!
//! A line written inside a request also carries that request's span (`"span":{...}`).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for a person: `2026-... WARN breaker: circuit ...`.
    #[default]
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

/// The logging flags both services `#[command(flatten)]`.
///
/// ```
/// use clap::Parser;
/// use service_kit::logging::{LogFlags, LogFormat};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     log: LogFlags,
/// }
///
/// assert_eq!(Cli::try_parse_from(["demo"])?.log.log_format, LogFormat::Text);
/// let cli = Cli::try_parse_from(["demo", "--log-format", "json"])?;
/// assert_eq!(cli.log.log_format, LogFormat::Json);
/// let err = Cli::try_parse_from(["demo", "--log-format", "xml"]).err().unwrap();
/// assert_eq!(err.exit_code(), 2);
/// assert!(err.to_string().contains("--log-format"));
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Logging")]
pub struct LogFlags {
    /// How log lines are written: `text` for a person, `json` for one JSON object per line.
    /// `RUST_LOG` chooses which lines (default `info`, which includes every state change of
    /// the breaker).
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormat,
}

/// Logs to stdout in `format`, at the level `RUST_LOG` asks for, `info` by default (which
/// includes every state change of the breaker).
///
/// Colour codes only in text, and only when a person is watching: the scripts grep plain log
/// lines.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            // The request's own span says which request; the list of every enclosing span
            // would repeat it on each line.
            .with_span_list(false)
            .init(),
    }
}
