//! What the two demo services share at their edges, so each keeps only what is its own:
//!
//! | module | what it holds |
//! |---|---|
//! | [`server`] | serving a router with connection limits and a bounded graceful shutdown |
//! | [`body_limit`] | a route's cap on request bodies, a declared length over it refused at once |
//! | [`cut`] | quoting outside text (a URL, a backend's body) in a message or log field, bounded |
//! | [`log_limit`] | at most a few log lines of one kind a second, and how many were held back |
//! | [`log_episode`] | one log line when a lasting condition (a cap reached) begins, one with a count when it ends |
//! | [`flag`] | the whole-number parser of the numeric flags, whose refusals name the range |
//! | [`shutdown`] | the future that completes on SIGINT or SIGTERM, for graceful shutdown |
//! | [`duration`] | human durations on the command line, at most one day |
//! | [`error_body`] | the JSON body of every error answer, `{"status":"error","message":...}` |
//! | [`fallback`] | the 404 and 405 answers, echoing a bounded path and method |
//! | [`strict_query`] | [`StrictQuery`](strict_query::StrictQuery), the query extractor both use |
//! | [`query`] | the percent-escape check it makes before reading a query string |
//! | `test_support` | (feature `test-support`) what the services' tests check alike: a binary that refuses its flags, a binary read line by line and stopped with SIGTERM, the help listing the connection flags |
//! | [`logging`] | the `tracing` set-up and `--log-format` (`text` or `json`): `RUST_LOG` or `info`, colour only when a person watches |
//!
//! Floors, bottom up, every import pointing down (`cargo modules dependencies --lib --acyclic -p
//! service-kit` checks it): [`duration`], [`error_body`], [`query`], [`logging`], [`shutdown`];
//! then [`fallback`] and [`strict_query`] (on `error_body` and `query`); then [`server`] (on
//! `duration`). Inside `server`, `limits` and `connection` are below `accept`, `drain` and the
//! module itself.

#![deny(missing_docs)]

pub mod body_limit;
pub mod cut;
pub mod duration;
pub mod error_body;
pub mod fallback;
pub mod flag;
pub mod log_episode;
pub mod log_limit;
pub mod logging;
pub mod query;
pub mod server;
pub mod shutdown;
pub mod strict_query;
#[cfg(feature = "test-support")]
pub mod test_support;
