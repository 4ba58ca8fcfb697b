//! The live dashboard: `GET /`, a page that watches the circuit move, fed by `GET /events`.
//!
//! The page (HTML, CSS and JavaScript compiled into the binary, no CDN, no build step) shows the
//! state diagram with the current state lit and a countdown while Open, the calls by outcome
//! and the failure rate, the bulkhead's limit (learned, with `--max-concurrent adaptive`) and the
//! calls it holds, a chart of calls per second over the last minute, the transitions with
//! their reasons, buttons that make calls through service A, and, given the admin token, the
//! [admin actions](crate::admin).
//!
//! # `GET /events`: the contract
//!
//! Server-sent events (`text/event-stream`), three kinds, each `data` one JSON object:
//!
//! | `event:` | when | `data` |
//! |---|---|---|
//! | `transition` | the breaker changed state; on connecting, the last [`RECENT`] are replayed first, oldest first | `{"from":"closed","to":"open","reason":"3 consecutive failures","at":"2026-11-26T16:56:35.622Z"}` ([`TransitionEvent`]) |
//! | `snapshot` | on connecting (after the replay), then every second ([`SNAPSHOT_EVERY`]), and after `lagged` | `{"name":"call_service_b","state":"open","failure_count":3,"probe_successes":0,"open_until":"...","remaining_seconds":1.42,"calls":{...},"failure_rate":75.0,"window":null,"rejection_probability":null,"transitions":1,"last_failure":"...","bulkhead":{"limit":11,"in_flight":9,"adaptive":true}}` ([`SnapshotEvent`]); with `--fleet-redis`, `"fleet"` as in `GET /breaker` |
//! | `lagged` | this client read too slowly and skipped transitions | `{"missed":12}` ([`LaggedEvent`]) |
//!
//! States are named as [`State::as_str`](breaker::State::as_str) names them (`closed`, `open`,
//! `half_open`, `forced_open`, `disabled`) and reasons as the breaker words them in its log.
//!
//! # Bounds
//!
//! * Each client is at most [`BUFFER`] transitions behind: a slower one skips the oldest, gets
//!   `lagged` and a fresh snapshot. The server holds one shared channel of [`BUFFER`]
//!   transitions, whatever the clients do.
//! * At most `--max-event-streams` clients at once (default [`DEFAULT_MAX_EVENT_STREAMS`]); the
//!   next gets 503 `{"status":"error","message":"too many event streams: ..."}`.
//! * A client that goes away frees its slot and its place in the channel as soon as the server
//!   next writes to it (within a second: the snapshots).
//! * At shutdown every stream ends, so an open dashboard does not hold the server for its
//!   shutdown grace.
//!
//! | file | what it holds |
//! |---|---|
//! | `hub.rs` | [`EventHub`]: the breaker's listener, the channel, the replay, the slots |
//! | `feed.rs` | the `/events` handler: one client's stream |
//! | `payload.rs` | the JSON of each event |
//! | `assets.rs` | `GET /` and `GET /dashboard/{file}`, with their Content-Security-Policy |
//! | `assets/` | the page: `index.html` and `style.css`; `main.js` wires the scripts: `state.js` the state and its diagram, `chart.js` the chart, `timeline.js` the transitions, `calls.js` the call buttons, `admin.js` the admin actions |

mod assets;
mod feed;
pub(crate) mod hub;
mod payload;

pub use assets::{CONTENT_SECURITY_POLICY_VALUE, file, page};
pub use feed::{SNAPSHOT_EVERY, events};
pub use hub::{
    BUFFER, DEFAULT_MAX_EVENT_STREAMS, DashboardFlags, EventHub, MAX_EVENT_STREAMS, RECENT,
    StreamsFull, Subscription,
};
pub use payload::{BulkheadNow, LaggedEvent, SnapshotEvent, TransitionEvent};
