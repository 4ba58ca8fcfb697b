//! What the two demo services share at their edges, so each `main.rs` stays a few lines:
//!
//! | module | what it holds |
//! |---|---|
//! | [`duration`] | human durations on the command line, at most one day |
//! | [`query`] | the strict percent-escape check made before a query string is read |
//! | [`logging`] | the `tracing` set-up: `RUST_LOG` or `info`, plain text unless a person watches |
//! | [`shutdown`] | the future that completes on SIGINT or SIGTERM, for graceful shutdown |

#![deny(missing_docs)]

pub mod duration;
pub mod logging;
pub mod query;
pub mod shutdown;
