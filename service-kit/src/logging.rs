//! The `tracing` set-up both binaries use.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Logs to stdout at the level `RUST_LOG` asks for, `info` by default (which includes every
/// state change of the breaker).
///
/// Colour codes only when a person is watching: the scripts grep plain log lines.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
}
