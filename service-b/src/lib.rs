//! Service B: the unreliable backend of the circuit-breaker article, in Rust.
//!
//! `GET /api?fail=true` waits `--fail-delay` (2 s), then answers 500 `Service B: Internal Error`;
//! any other call answers 200 `Service B: Success`. For recovery walkthroughs and experiments,
//! `POST /mode` makes every call fail or slow down for a while, fail at random with 503
//! (`flaky`), or go through a server of limited capacity that queues and then refuses with 503
//! (`capacity`), without the client changing its URL, and `GET /stats` counts the calls that
//! reached this service and how many it served at once.
//!
//! # Module map
//!
//! Floors, bottom up: a module imports only from floors below it (`cargo modules dependencies
//! --lib --acyclic -p service-b` checks it).
//!
//! 1. [`config`]: the command line (`--listen`, `--fail-delay`, the shared connection limits),
//!    parsed once by clap; [`capacity`]: the `capacity` mode's limits, checked.
//! 2. [`mode`]: outage modes and their expiry, a pure core that takes `now` as an argument;
//!    [`gate`]: the `capacity` mode at run time, slots and a bounded queue, and its counters.
//! 3. [`stats`]: atomic counters of `/api` calls, failures and calls in flight;
//!    [`mode_request`]: the JSON body of `POST /mode` and its validation into a
//!    [`ModeSetting`]; [`switch`]: the mode shared by all requests, behind a lock.
//! 4. [`state`]: [`AppState`], what every handler shares.
//! 5. [`error`]: [`AppError`], `POST /mode`'s refusals as 4xx JSON bodies (the refusals both
//!    services share, and the JSON body itself, are in `service_kit`); `api` (private): the
//!    `/api` handler and the pure decision behind it.
//! 6. [`routes`]: [`app`], the router, and the middleware that counts `/api` calls;
//!    [`server`]: [`run`], serving a listener until shutdown, with `service_kit`'s limits.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5001").await?;
//! let stopped = service_b::run(listener, service_b::Config::default(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! println!("{} request(s) cut at shutdown", stopped.requests_cut);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod api;
pub mod capacity;
pub mod config;
pub mod error;
pub mod gate;
pub mod mode;
pub mod mode_request;
pub mod routes;
pub mod server;
pub mod state;
pub mod stats;
pub mod switch;

pub use api::{FAILURE_BODY, OVERLOADED_BODY, SUCCESS_BODY, UNAVAILABLE_BODY};
pub use config::Config;
pub use error::AppError;
pub use mode::{Mode, ModeSetting, ModeSnapshot};
pub use routes::app;
pub use server::run;
pub use service_kit::server::{ServerLimits, Stopped};
pub use state::AppState;
pub use stats::StatsSnapshot;
