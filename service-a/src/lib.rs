//! Service A: the consumer of the circuit-breaker article, in Rust.
//!
//! `GET /call?fail=<v>` calls service B's `/api?fail=<v>` through a circuit breaker named
//! `call_service_b` (3 consecutive failures open it for 10 s; calls time out after 3 s). A
//! success answers `{"status":"success","data":"<B's body>"}`; a failure, a timeout, an
//! unreachable B or a rejection by the open circuit answers 500
//! `{"status":"error","message":"<why>"}` (a full bulkhead, in the production profile, 503),
//! where an Open rejection reads exactly like the Python library's: `Circuit "call_service_b"
//! OPEN until 2025-05-15 08:40:21.758729+00:00 (3 failures, 8 sec remaining) (last_failure:
//! ...)`.
//!
//! Beyond the article: `GET /call-fallback` serves the last good answer (or `cached_data`)
//! instead of an error; `GET /breaker` and `GET /metrics` show the breaker; `--no-breaker`
//! calls B directly, for the "cost of no circuit breaker" comparison. Each state change is
//! logged (`circuit call_service_b: CLOSED -> OPEN (3 consecutive failures)`), with `breaker`,
//! `from`, `to` and `reason` fields for `--log-format json`.
//! `--profile production` puts the article's other practices around the breaker: retries with
//! backoff and a budget, a rate-based breaker with slow calls, a bulkhead, per-attempt timeouts
//! and a deadline (see [`upstream`] for the order and [`profile`] for the defaults).
//!
//! # Module map
//!
//! Floors, bottom up: a module imports only from its own floor's leaves or from floors below
//! (`cargo modules dependencies --lib --acyclic -p service-a` checks it).
//!
//! 1. Words: [`flag_value`] (percentages, bounded counts and `none` on the command line),
//!    [`profile`] (the `article` and `production` defaults), [`cache`] (the last good answer).
//! 2. The client stack, [`upstream`]: its settings ([`ClientSettings`], [`BREAKER_NAME`]),
//!    [`metrics::call_durations`] (what its breaker layer times), its layers, [`ServiceB`], and
//!    [`CallError`], everything that can go wrong with a call and what it says about B.
//! 3. What is shown of it: [`metrics`] (what `/metrics` shows, and where each number comes
//!    from) and [`layers_view`] (the `layers` of `/breaker`).
//! 4. Flags: [`client_flags`] (the client stack's flags, resolved into [`ClientSettings`]),
//!    `admin::token` ([`admin::AdminFlags`], the token kept and compared), `dashboard::hub`
//!    ([`dashboard::DashboardFlags`], the event streams' hub); then [`config`], the command
//!    line ([`Config`]), parsed and checked once into [`Settings`].
//! 5. [`state`]: [`AppState`], what every handler shares; the breaker's clock is injected here.
//!    Beside it, [`fleet`]: with `--fleet-redis`, the breaker's state shared with the other
//!    replicas through Redis (its flags, its status, its metrics); a learner can skip it.
//! 6. Answers: [`error`] ([`AppError`], A's own errors as JSON bodies; the refusals both
//!    services share are `service_kit`'s), [`snapshot`] ([`BreakerView`], the JSON of
//!    `/breaker`).
//! 7. Handlers: `call` (private: the two call handlers, and [`AppState::call_service_b`], a
//!    call that runs to its end whoever hangs up), [`forwarded`] (the bound on the values A
//!    passes on to B, `fail`), [`dashboard`] (the live page at `/` and its event stream,
//!    `/events`), [`admin`] (`POST /breaker`, guarded by `--admin-token`).
//! 8. [`routes`] ([`app`], the router) and [`server`] ([`run`], serving a listener until
//!    shutdown, with `service_kit`'s limits).
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let settings = service_a::Settings::default();
//! let state = service_a::AppState::new(&settings)?;
//! let config = settings.config();
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! let stopped = service_a::run(listener, state, config.server, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! println!("{} request(s) cut at shutdown", stopped.requests_cut);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod admin;
pub mod cache;
mod call;
pub mod client_flags;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod flag_value;
pub mod fleet;
pub mod forwarded;
pub mod layers_view;
pub mod metrics;
pub mod profile;
pub mod routes;
pub mod server;
pub mod snapshot;
pub mod state;
pub mod upstream;

pub use call::CallReply;
pub use client_flags::ClientFlags;
pub use config::{Config, Settings};
pub use error::AppError;
pub use profile::Profile;
pub use routes::app;
pub use server::run;
pub use service_kit::error_body::ErrorBody;
pub use service_kit::server::{ServerLimits, Stopped};
pub use snapshot::BreakerView;
pub use state::AppState;
pub use upstream::{BREAKER_NAME, CallError, ClientSettings, ServiceB, SetupError, classify};
