//! What the two demo services share at their edges, so each keeps only what is its own:
//!
//! | module | what it holds |
//! |---|---|
//! | [`server`] | serving a router with connection limits and a bounded graceful shutdown |
//! | [`shutdown`] | the future that completes on SIGINT or SIGTERM, for graceful shutdown |
//! | [`duration`] | human durations on the command line, at most one day |
//! | [`query`] | the strict percent-escape check made before a query string is read |
//! | [`logging`] | the `tracing` set-up: `RUST_LOG` or `info`, plain text unless a person watches |

#![deny(missing_docs)]

pub mod duration;
pub mod logging;
pub mod query;
pub mod server;
pub mod shutdown;
