//! What the unit tests share: a Closed breaker as the fleet reads it, a Closed replica's view.

use breaker::State;

use crate::evidence::Local;
use crate::view::{PeerState, View};

/// A Closed breaker with no failure.
pub(crate) fn closed() -> Local {
    Local {
        state: State::Closed,
        opened_by: None,
        remaining: None,
        consecutive_failures: 0,
        failed_calls: 0,
        window_calls: None,
        failure_rate: None,
        probes_in_flight: 0,
    }
}

/// The view of a Closed replica `id` with no failure, at generation `generation`.
pub(crate) fn closed_view(id: &str, generation: u64) -> View {
    View {
        id: id.to_owned(),
        generation,
        state: PeerState::Closed,
        own_trip: false,
        open_ms: 0,
        reason: None,
        failures: 0,
        window_calls: 0,
        window_failures: 0,
        probe: None,
    }
}
