//! The five states, and how one is packed with its generation into a single atomic word.

use std::fmt;

/// Where a breaker stands.
///
/// | state        | calls                                                             |
/// |--------------|-------------------------------------------------------------------|
/// | `Closed`     | flow; outcomes are recorded and may trip the circuit              |
/// | `Open`       | are rejected without touching the backend, until the open duration passes |
/// | `HalfOpen`   | a limited number of probes may run; the rest are rejected          |
/// | `ForcedOpen` | are all rejected, until [`reset`](crate::CircuitBreaker::reset)    |
/// | `Disabled`   | all flow and nothing can trip, until [`reset`](crate::CircuitBreaker::reset) |
///
/// `Display` gives the upper-case names the Python `circuitbreaker` library prints (`OPEN`,
/// `HALF_OPEN`); [`State::as_str`] gives the lower-case names used in JSON and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls flow.
    Closed,
    /// Calls are rejected without running.
    Open,
    /// Up to `half_open_max_calls` probes may run at once.
    HalfOpen,
    /// Manually opened: every call is rejected until `reset`.
    ForcedOpen,
    /// Manually disabled: every call flows and nothing trips until `reset`.
    Disabled,
}

impl State {
    /// The lower-case, snake-case name: `closed`, `open`, `half_open`, `forced_open`, `disabled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
        }
    }

    const fn tag(self) -> u64 {
        match self {
            State::Closed => 0,
            State::Open => 1,
            State::HalfOpen => 2,
            State::ForcedOpen => 3,
            State::Disabled => 4,
        }
    }

    const fn from_tag(tag: u64) -> State {
        match tag {
            0 => State::Closed,
            1 => State::Open,
            2 => State::HalfOpen,
            3 => State::ForcedOpen,
            _ => State::Disabled,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
            State::ForcedOpen => "FORCED_OPEN",
            State::Disabled => "DISABLED",
        })
    }
}

const TAG_BITS: u32 = 3;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// A state and its generation in one `u64`, so the hot path learns both with one atomic load.
///
/// The generation grows by one at every transition. A permit remembers the generation it was
/// issued in; an outcome that arrives after the breaker has moved on (a slow call that started
/// while Closed and ends after the circuit opened) is still counted in the metrics but no longer
/// steers the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateWord(u64);

impl StateWord {
    pub(crate) const fn new(state: State, generation: u64) -> Self {
        Self((generation << TAG_BITS) | state.tag())
    }

    pub(crate) const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    pub(crate) const fn bits(self) -> u64 {
        self.0
    }

    pub(crate) const fn state(self) -> State {
        State::from_tag(self.0 & TAG_MASK)
    }

    pub(crate) const fn generation(self) -> u64 {
        self.0 >> TAG_BITS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_word_round_trips_every_state_and_a_large_generation() {
        for state in [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::ForcedOpen,
            State::Disabled,
        ] {
            let word = StateWord::from_bits(StateWord::new(state, 1 << 59).bits());
            assert_eq!(word.state(), state);
            assert_eq!(word.generation(), 1 << 59);
        }
    }

    #[test]
    fn display_uses_the_python_names_and_as_str_the_json_names() {
        assert_eq!(State::HalfOpen.to_string(), "HALF_OPEN");
        assert_eq!(State::ForcedOpen.as_str(), "forced_open");
    }
}
