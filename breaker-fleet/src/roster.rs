//! [`Roster`]: the other replicas' views as read at one heartbeat, fenced by generation.
//!
//! Redis keeps only the live replicas (each one's heartbeat refreshes its key and its place in
//! a sorted set, both with a time to live), so what a heartbeat reads is live. The roster
//! remembers, per replica, the highest generation it accepted: a view below it is late or
//! replayed and is dropped, so a stale verdict can never reopen or close anyone; a view from a
//! clock far ahead is garbage. The memory is bounded: replicas not read for a while are
//! forgotten.

use std::collections::HashMap;

use crate::view::{Garbage, View};

/// How far ahead of this replica's wall clock a generation may be before it is garbage: a
/// replica whose clock runs further ahead would fence out its own later views once corrected.
pub const MAX_CLOCK_AHEAD_MS: u64 = 60_000;

/// One view read at a heartbeat, with its age on Redis's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The view.
    pub view: View,
    /// Milliseconds since its replica published it, on Redis's clock.
    pub age_ms: u64,
}

/// The generations accepted so far, per replica.
#[derive(Debug)]
pub(crate) struct Roster {
    last: HashMap<String, Remembered>,
    /// The most replicas remembered; past it the least recently read are forgotten.
    most: usize,
}

#[derive(Debug, Clone, Copy)]
struct Remembered {
    generation: u64,
    /// When it was last read, on Redis's clock.
    read_at: u64,
}

impl Roster {
    pub(crate) fn new(most: usize) -> Self {
        Self {
            last: HashMap::new(),
            most: most.max(1),
        }
    }

    /// The views of one heartbeat, read at `read_at` on Redis's clock, worth deciding on: not
    /// `me`, not late or replayed, not from a clock far ahead of `wall_ms`. Their open time is
    /// what is left now. Each garbage view is returned beside, to be reported.
    pub(crate) fn admit(
        &mut self,
        me: &str,
        reads: Vec<Read>,
        wall_ms: u64,
        read_at: u64,
    ) -> (Vec<View>, Vec<(String, Garbage)>) {
        let mut views = Vec::with_capacity(reads.len());
        let mut garbage = Vec::new();
        for Read { mut view, age_ms } in reads {
            if view.id == me {
                continue;
            }
            if view.generation > wall_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
                garbage.push((
                    view.id.clone(),
                    Garbage::Invalid("a generation from a clock far ahead"),
                ));
                continue;
            }
            let entry = self.last.entry(view.id.clone()).or_insert(Remembered {
                generation: 0,
                read_at,
            });
            if view.generation < entry.generation {
                continue;
            }
            *entry = Remembered {
                generation: view.generation,
                read_at,
            };
            view.open_ms = view.open_ms.saturating_sub(age_ms);
            views.push(view);
        }
        self.forget_beyond_bound();
        (views, garbage)
    }

    fn forget_beyond_bound(&mut self) {
        while self.last.len() > self.most {
            let oldest = self
                .last
                .iter()
                .min_by_key(|(_, remembered)| remembered.read_at)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => self.last.remove(&id),
                None => break,
            };
        }
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::closed_view;

    fn read(id: &str, generation: u64) -> Read {
        Read {
            view: closed_view(id, generation),
            age_ms: 0,
        }
    }

    fn ids(views: &[View]) -> Vec<(&str, u64)> {
        views
            .iter()
            .map(|v| (v.id.as_str(), v.generation))
            .collect()
    }

    #[test]
    fn a_late_or_replayed_view_is_dropped_and_the_same_one_read_again_is_kept() {
        let mut roster = Roster::new(8);
        let (views, _) = roster.admit("me", vec![read("a", 10), read("b", 5)], 100, 1);
        assert_eq!(ids(&views), [("a", 10), ("b", 5)]);
        let (views, _) = roster.admit("me", vec![read("a", 9), read("b", 5)], 100, 2);
        assert_eq!(ids(&views), [("b", 5)], "a's generation 9 comes after 10");
        let (views, _) = roster.admit("me", vec![read("a", 11)], 100, 3);
        assert_eq!(ids(&views), [("a", 11)]);
    }

    #[test]
    fn my_own_view_is_not_among_the_others() {
        let mut roster = Roster::new(8);
        let (views, garbage) = roster.admit("me", vec![read("me", 1), read("a", 1)], 100, 1);
        assert_eq!(ids(&views), [("a", 1)]);
        assert!(garbage.is_empty());
    }

    #[test]
    fn a_generation_from_a_clock_far_ahead_is_garbage_and_fences_nothing() {
        let mut roster = Roster::new(8);
        let ahead = 100 + MAX_CLOCK_AHEAD_MS + 1;
        let (views, garbage) = roster.admit("me", vec![read("a", ahead)], 100, 1);
        assert!(views.is_empty());
        assert_eq!(garbage.len(), 1);
        assert!(garbage[0].1.to_string().contains("far ahead"));
        let (views, _) = roster.admit("me", vec![read("a", 50)], 100, 2);
        assert_eq!(ids(&views), [("a", 50)], "the bad view raised no fence");
        let (views, _) = roster.admit("me", vec![read("a", ahead - 1)], 100, 3);
        assert_eq!(views.len(), 1, "a minute ahead is still a clock");
    }

    #[test]
    fn the_time_left_open_is_what_is_left_now() {
        let mut roster = Roster::new(8);
        let mut open = read("a", 1);
        open.view.open_ms = 5_000;
        open.age_ms = 1_200;
        let (views, _) = roster.admit("me", vec![open.clone()], 100, 1);
        assert_eq!(views[0].open_ms, 3_800);
        open.age_ms = 9_000;
        let (views, _) = roster.admit("me", vec![open], 100, 2);
        assert_eq!(views[0].open_ms, 0);
    }

    #[test]
    fn the_memory_is_bounded_forgetting_the_least_recently_read() {
        let mut roster = Roster::new(2);
        roster.admit("me", vec![read("a", 1), read("b", 1)], 100, 1);
        roster.admit("me", vec![read("c", 1), read("b", 2)], 100, 2);
        assert_eq!(roster.remembered(), 2);
        let (views, _) = roster.admit("me", vec![read("a", 1)], 100, 3);
        assert_eq!(
            views.len(),
            1,
            "a was forgotten, so generation 1 is news again"
        );
    }
}
