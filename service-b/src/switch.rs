//! The mode shared by every request: a [`ModeState`] behind a lock.

use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;
use tracing::info;

use crate::mode::{ModeSetting, ModeSnapshot, ModeState};

/// The current outage mode, shared by all handlers.
///
/// A std `Mutex` is fine here because no `.await` happens while it is held and each critical
/// section is a few comparisons; `/api` takes it once per call.
#[derive(Debug, Default)]
pub struct ModeSwitch {
    state: Mutex<ModeState>,
}

impl ModeSwitch {
    /// Puts `setting` in force from `now` and returns the resulting view.
    pub fn set(&self, setting: ModeSetting, now: Instant) -> ModeSnapshot {
        let state = ModeState::start(setting, now);
        *self.lock() = state;
        info!(
            mode = %setting.mode(),
            delay = ?setting.delay(),
            lasts = ?setting.lasts(),
            "mode changed"
        );
        state.snapshot(now)
    }

    /// The setting in force at `now`. An expired mode is replaced by `healthy` here, so the
    /// revert is logged once, when the first request notices it.
    pub fn current(&self, now: Instant) -> ModeSetting {
        self.observe(now).at(now)
    }

    /// The JSON view of the mode in force at `now`.
    pub fn snapshot(&self, now: Instant) -> ModeSnapshot {
        self.observe(now).snapshot(now)
    }

    fn observe(&self, now: Instant) -> ModeState {
        let mut state = self.lock();
        if state.is_expired(now) {
            let expired = state.setting().mode();
            *state = ModeState::default();
            drop(state);
            info!(mode = %expired, "mode expired; back to healthy");
            return ModeState::default();
        }
        *state
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ModeState> {
        // The state is a plain Copy value written in one assignment, so a panic elsewhere
        // cannot leave it half-updated: a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::mode::Mode;

    #[test]
    fn an_expired_mode_is_replaced_by_healthy_for_good() {
        let switch = ModeSwitch::default();
        let start = Instant::now();
        let setting = ModeSetting::new(
            Mode::Fail,
            None,
            Duration::from_secs(2),
            Some(Duration::from_secs(5)),
        )
        .expect("valid");
        assert_eq!(switch.set(setting, start).remaining_ms, Some(5000));
        assert_eq!(
            switch.current(start + Duration::from_secs(4)).mode(),
            Mode::Fail
        );
        assert_eq!(
            switch.current(start + Duration::from_secs(5)).mode(),
            Mode::Healthy
        );
        // Even a clock that went backwards must not resurrect the old mode.
        assert_eq!(switch.current(start).mode(), Mode::Healthy);
    }
}
