//! The log line of every state change, with the breaker's name, the state left, the state
//! entered and the reason as fields of their own, so `--log-format json` gives a log shipper
//! `"breaker"`, `"from"`, `"to"` and `"reason"` to index without parsing the message.
//!
//! The message reads as the breaker crate's own line (`circuit call_service_b: CLOSED -> OPEN
//! (3 consecutive failures)`), and the level is the same: a warning when the circuit opens,
//! information otherwise. `from` and `to` are the lower-case names the metrics use.

use breaker::{Event, EventKind, State};
use tracing::{info, warn};

/// The listener to give the breaker's builder ([`on_event`](breaker::Builder::on_event)):
/// logs each `StateChanged` event and ignores the rest.
pub fn log(event: &Event<'_>) {
    let EventKind::StateChanged(transition) = event.kind else {
        return;
    };
    let breaker = event.breaker;
    let from = transition.from.as_str();
    let to = transition.to.as_str();
    let reason = transition.reason;
    match transition.to {
        State::Open | State::ForcedOpen => {
            warn!(breaker, from, to, %reason, "circuit {breaker}: {transition}");
        }
        _ => info!(breaker, from, to, %reason, "circuit {breaker}: {transition}"),
    }
}
