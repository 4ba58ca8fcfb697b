//! [`EpisodeLog`]: one line when a condition that lasts begins (a cap reached), one with a count
//! when it ends, however often it is met in between, so that a crowd keeping a server at its cap
//! writes two lines, not one per connection. [`LogLimiter`](crate::log_limit::LogLimiter) is
//! its sibling for lines about single events (at most a few a second).
//!
//! ```
//! use service_kit::log_episode::EpisodeLog;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let cap = EpisodeLog::new(Duration::from_secs(10));
//! let began = (0..1_000).filter(|_| cap.met().began()).count();
//! assert_eq!(began, 1); // tracing::warn!("connection limit reached ...") once
//! assert!(cap.clear().is_none(), "met too recently to be over");
//!
//! tokio::time::advance(Duration::from_secs(10)).await;
//! let ended = cap.clear().expect("quiet long enough");
//! assert_eq!(ended.times_met, 1_000); // tracing::info!("... no longer reached: 1000 times")
//! # }
//! ```

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Tracks episodes of one condition; an episode ends once the condition has not been met for
/// `quiet`. See the [module](self) docs.
///
/// A std mutex: held for a few comparisons, never across an `.await`.
#[derive(Debug)]
pub struct EpisodeLog {
    quiet: Duration,
    state: Mutex<Option<Episode>>,
}

/// An episode under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Episode {
    began: Instant,
    last_met: Instant,
    times_met: u64,
}

/// What meeting the condition means for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Met {
    /// This begins an episode: write its line. `previous` is the episode before, when it was
    /// still open (nothing cleared it) and is over: write its end first.
    Began {
        /// The episode this one follows, if it had not been ended yet.
        previous: Option<Ended>,
    },
    /// The episode goes on: write nothing.
    Continued,
}

impl Met {
    /// Whether this begins an episode.
    pub fn began(self) -> bool {
        matches!(self, Met::Began { .. })
    }
}

/// An episode that is over: what its end line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// How often the condition was met in it, the first time included.
    pub times_met: u64,
    /// From the first time it was met to the last.
    pub lasted: Duration,
}

impl EpisodeLog {
    /// An episode ends once the condition has not been met for `quiet`.
    pub const fn new(quiet: Duration) -> Self {
        Self {
            quiet,
            state: Mutex::new(None),
        }
    }

    /// The condition is met now. Reads tokio's clock, so a paused clock drives the episodes.
    pub fn met(&self) -> Met {
        met(&mut self.lock(), Instant::now(), self.quiet)
    }

    /// The condition is not met now: the episode's end, when this ends one (it was last met
    /// `quiet` ago or longer).
    pub fn clear(&self) -> Option<Ended> {
        clear(&mut self.lock(), Instant::now(), self.quiet)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Episode>> {
        // Every update leaves the state consistent: a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pure rule behind [`EpisodeLog::met`].
fn met(state: &mut Option<Episode>, now: Instant, quiet: Duration) -> Met {
    let previous = clear(state, now, quiet);
    match state {
        Some(episode) => {
            episode.last_met = now;
            episode.times_met += 1;
            Met::Continued
        }
        None => {
            *state = Some(Episode {
                began: now,
                last_met: now,
                times_met: 1,
            });
            Met::Began { previous }
        }
    }
}

/// The pure rule behind [`EpisodeLog::clear`].
fn clear(state: &mut Option<Episode>, now: Instant, quiet: Duration) -> Option<Ended> {
    let episode = (*state)?;
    if now.saturating_duration_since(episode.last_met) < quiet {
        return None;
    }
    *state = None;
    Some(Ended {
        times_met: episode.times_met,
        lasted: episode.last_met - episode.began,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn an_episode_begins_once_and_ends_with_its_count_after_the_quiet() {
        let mut state = None;
        let start = Instant::now();
        assert_eq!(met(&mut state, start, QUIET), Met::Began { previous: None });
        for second in 1..=30 {
            let now = start + Duration::from_secs(second);
            assert_eq!(met(&mut state, now, QUIET), Met::Continued);
            assert_eq!(clear(&mut state, now, QUIET), None, "met a moment ago");
        }
        let last = start + Duration::from_secs(30);
        assert_eq!(
            clear(&mut state, last + QUIET - Duration::from_millis(1), QUIET),
            None
        );
        assert_eq!(
            clear(&mut state, last + QUIET, QUIET),
            Some(Ended {
                times_met: 31,
                lasted: Duration::from_secs(30)
            })
        );
        assert_eq!(
            clear(&mut state, last + QUIET * 2, QUIET),
            None,
            "ended once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn meeting_it_after_the_quiet_without_a_clear_ends_the_old_one_and_begins_anew() {
        let mut state = None;
        let start = Instant::now();
        met(&mut state, start, QUIET);
        met(&mut state, start + Duration::from_secs(1), QUIET);
        assert_eq!(
            met(&mut state, start + Duration::from_secs(11), QUIET),
            Met::Began {
                previous: Some(Ended {
                    times_met: 2,
                    lasted: Duration::from_secs(1)
                })
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_ends_that_never_began() {
        assert_eq!(clear(&mut None, Instant::now(), QUIET), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_shell_reads_tokios_clock() {
        let log = EpisodeLog::new(QUIET);
        assert!(log.met().began());
        assert!(!log.met().began());
        tokio::time::advance(QUIET).await;
        assert_eq!(log.clear().map(|ended| ended.times_met), Some(2));
        assert!(log.met().began());
    }
}
