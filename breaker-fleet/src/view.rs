//! [`View`]: what one replica publishes at each heartbeat and on each transition, and how it
//! is written to and read from Redis (JSON, bounded, checked field by field).
//!
//! ```json
//! {"id":"a-1:5000","generation":1733530000123,"state":"open","own_trip":true,"open_ms":8400,
//!  "reason":"3 consecutive failures","failures":3,"window_calls":0,"window_failures":0,
//!  "probe":{"token":1733529990123456,"ok":false}}
//! ```

use serde::{Deserialize, Serialize};

use crate::config::{MAX_ID_BYTES, ReplicaId};

/// The longest value read from a replica's key; a longer one is garbage.
pub const MAX_VIEW_BYTES: usize = 1_024;
/// The longest reason kept; a longer one is cut.
const MAX_REASON_BYTES: usize = 160;

/// A replica's state as it publishes it, in the breaker's words (`closed`, `open`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    /// Calls flow.
    Closed,
    /// Calls are rejected.
    Open,
    /// Probes may pass.
    HalfOpen,
    /// Opened by an admin.
    ForcedOpen,
    /// Disabled by an admin.
    Disabled,
}

impl From<breaker::State> for PeerState {
    fn from(state: breaker::State) -> Self {
        match state {
            breaker::State::Closed => PeerState::Closed,
            breaker::State::Open => PeerState::Open,
            breaker::State::HalfOpen => PeerState::HalfOpen,
            breaker::State::ForcedOpen => PeerState::ForcedOpen,
            breaker::State::Disabled => PeerState::Disabled,
        }
    }
}

/// How the fleet's probe of one lease ended, as its holder reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The lease the probe was sent under: Redis's clock, in microseconds, when it was taken.
    pub token: u64,
    /// Whether it succeeded.
    pub ok: bool,
}

/// What one replica publishes: its verdict (state, time left open, why, generation) beside its
/// recent evidence (failures and calls), and the result of the last probe it sent for the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// Who publishes it.
    pub id: String,
    /// Grows with every view the replica publishes: milliseconds of its wall clock, at least
    /// one more than the last. A view whose generation is not above the last one read from
    /// that replica is late or replayed, and is ignored.
    pub generation: u64,
    /// The breaker's state.
    pub state: PeerState,
    /// Open by the replica's own evidence (a trip policy or a failed probe), not by the fleet
    /// or an admin: only such replicas count towards "`quorum` replicas open".
    pub own_trip: bool,
    /// While Open, the milliseconds left when published.
    pub open_ms: u64,
    /// Why the breaker is Open, in its words; cut to 160 bytes.
    pub reason: Option<String>,
    /// Consecutive failures, if the last came within the failure window; else 0.
    pub failures: u32,
    /// Calls in the breaker's sliding window, when it keeps one.
    pub window_calls: u32,
    /// Failed calls in the sliding window.
    pub window_failures: u32,
    /// The last probe this replica sent for the fleet, and how it ended.
    pub probe: Option<ProbeReport>,
}

/// Why a value read under a replica's key was ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Garbage {
    /// Longer than [`MAX_VIEW_BYTES`], or not a string (the read reported which).
    #[error("{0}")]
    Unreadable(String),
    /// Not a view's JSON.
    #[error("not a view: {0}")]
    NotAView(String),
    /// A view whose fields cannot be right.
    #[error("{0}")]
    Invalid(&'static str),
}

impl View {
    /// The JSON written to Redis.
    pub fn encode(&self) -> String {
        // A struct of strings and numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A view read from Redis, checked: size, shape, id and counts.
    ///
    /// # Errors
    ///
    /// [`Garbage`] saying what is wrong; the caller ignores the value.
    pub fn decode(bytes: &[u8]) -> Result<Self, Garbage> {
        if bytes.len() > MAX_VIEW_BYTES {
            return Err(Garbage::Unreadable(format!(
                "{} bytes, more than {MAX_VIEW_BYTES}",
                bytes.len()
            )));
        }
        let view: View =
            serde_json::from_slice(bytes).map_err(|err| Garbage::NotAView(err.to_string()))?;
        if ReplicaId::new(&view.id).is_err() {
            return Err(Garbage::Invalid("an id that is not a replica id"));
        }
        if view.window_failures > view.window_calls {
            return Err(Garbage::Invalid("more failures than calls in the window"));
        }
        if view.state != PeerState::Open && (view.open_ms != 0 || view.own_trip) {
            return Err(Garbage::Invalid("time left open while not Open"));
        }
        Ok(view)
    }

    /// `reason` cut to the length a view keeps, on a character boundary.
    pub fn cut_reason(reason: &str) -> String {
        // The last boundary at or before the limit; 0 always is one.
        let end = (0..=reason.len().min(MAX_REASON_BYTES))
            .rev()
            .find(|&end| reason.is_char_boundary(end))
            .unwrap_or(0);
        reason[..end].to_owned()
    }
}

/// The longest replica id, for the Lua script's bound on the ids it returns.
pub(crate) const MAX_ID: usize = MAX_ID_BYTES;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::closed_view as closed;

    #[test]
    fn a_view_reads_back_as_written() {
        let view = View {
            state: PeerState::Open,
            own_trip: true,
            open_ms: 8_400,
            reason: Some("3 consecutive failures".to_owned()),
            failures: 3,
            probe: Some(ProbeReport {
                token: 17,
                ok: false,
            }),
            ..closed("a-1:5000", 42)
        };
        assert_eq!(View::decode(view.encode().as_bytes()), Ok(view));
    }

    #[test]
    fn a_value_of_the_longest_size_is_read_and_one_byte_more_is_not() {
        let view = closed("a", 1);
        // JSON allows white space after the value: padded to the bound exactly, then past it.
        let longest = format!("{:<width$}", view.encode(), width = MAX_VIEW_BYTES);
        assert_eq!(longest.len(), MAX_VIEW_BYTES);
        assert_eq!(View::decode(longest.as_bytes()), Ok(view));
        let longer = format!("{longest} ");
        assert!(matches!(
            View::decode(longer.as_bytes()),
            Err(Garbage::Unreadable(_))
        ));
    }

    #[test]
    fn a_window_whose_every_call_failed_is_a_view() {
        let all_failed = View {
            window_calls: 3,
            window_failures: 3,
            ..closed("a", 1)
        };
        assert_eq!(View::decode(all_failed.encode().as_bytes()), Ok(all_failed));
    }

    #[test]
    fn garbage_is_refused_saying_why() {
        let too_long = format!("{{\"id\":\"{}\"}}", "x".repeat(MAX_VIEW_BYTES));
        let mut wrong_id = closed("a", 1);
        wrong_id.id = "a b".to_owned();
        let mut counts = closed("a", 1);
        counts.window_calls = 1;
        counts.window_failures = 2;
        let mut open_ms = closed("a", 1);
        open_ms.open_ms = 5;
        for (bytes, says) in [
            (too_long.into_bytes(), "more than 1024"),
            (b"not json".to_vec(), "not a view"),
            (b"{\"id\":\"a\"}".to_vec(), "not a view"),
            (b"[1,2]".to_vec(), "not a view"),
            (
                closed("a", 1)
                    .encode()
                    .replace("}", ",\"x\":1}")
                    .into_bytes(),
                "unknown field",
            ),
            (
                closed("a", 1).encode().replace("1,", "-1,").into_bytes(),
                "not a view",
            ),
            (wrong_id.encode().into_bytes(), "not a replica id"),
            (counts.encode().into_bytes(), "more failures than calls"),
            (open_ms.encode().into_bytes(), "time left open"),
        ] {
            let err = View::decode(&bytes).expect_err(says);
            assert!(err.to_string().contains(says), "{err} for {says}");
        }
    }

    #[test]
    fn a_long_reason_is_cut_on_a_character_boundary() {
        // One byte, then two-byte characters: the limit falls inside one, which is left out.
        let long = format!("a{}", "é".repeat(200));
        let cut = View::cut_reason(&long);
        assert_eq!(cut.len(), MAX_REASON_BYTES - 1);
        assert!(long.starts_with(&cut));
        assert_eq!(View::cut_reason("short"), "short");
    }
}
