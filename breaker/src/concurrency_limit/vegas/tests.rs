//! The Vegas rule's steps, driven by chosen samples and times.

use super::*;

const MS: u64 = 1_000_000;

fn vegas(initial: u32) -> Vegas {
    let bounds = Bounds {
        min_limit: 2,
        max_limit: 100,
        floor_interval: Duration::from_secs(60),
        floor_samples: 3,
    };
    Vegas::new(bounds, initial, 0)
}

fn ok(rtt_ms: u64, in_flight: u32) -> Sample {
    Sample {
        rtt: rtt_ms * MS,
        in_flight,
        dropped: false,
    }
}

/// A whole window of calls alike: as many as the limit. Returns the limit after it.
fn window(limit: &mut Vegas, now: u64, sample: Sample) -> u32 {
    for _ in 0..limit.limit() {
        limit.on_sample(now, sample);
    }
    limit.limit()
}

#[test]
fn the_first_call_sets_the_floor() {
    let mut limit = vegas(20);
    assert_eq!(limit.on_sample(MS, ok(20, 20)), 20);
    assert_eq!(limit.floor(), Some(20 * MS));
}

#[test]
fn the_limit_steps_once_per_window_of_limit_calls() {
    let mut limit = vegas(20);
    for _ in 0..19 {
        assert_eq!(limit.on_sample(0, ok(20, 20)), 20);
    }
    assert_eq!(limit.on_sample(0, ok(20, 20)), 26);
}

#[test]
fn no_queue_adds_beta_a_short_queue_adds_log_a_long_one_takes_log() {
    let mut limit = vegas(20);
    // queue = ceil(20 × (1 - 20/20)) = 0: + 6.
    assert_eq!(window(&mut limit, 0, ok(20, 20)), 26);
    // queue = ceil(26 × (1 - 20/22)) = 3: within [alpha, beta], unchanged.
    assert_eq!(window(&mut limit, 0, ok(22, 26)), 26);
    // queue = ceil(26 × (1 - 20/21)) = 2: + 1.
    assert_eq!(window(&mut limit, 0, ok(21, 26)), 27);
    // queue = ceil(27 × (1 - 20/40)) = 14: - 1.
    assert_eq!(window(&mut limit, 0, ok(40, 27)), 26);
}

#[test]
fn the_window_is_judged_on_its_average_round_trip() {
    let mut limit = vegas(20);
    for call in 0..20 {
        // Half at the floor, half twice it: 30 ms on average, a queue of 7.
        limit.on_sample(0, ok(if call % 2 == 0 { 20 } else { 40 }, 20));
    }
    assert_eq!(limit.limit(), 19);
}

#[test]
fn a_window_with_few_in_flight_changes_nothing() {
    let mut limit = vegas(20);
    assert_eq!(window(&mut limit, 0, ok(20, 9)), 20);
    assert_eq!(window(&mut limit, 0, ok(80, 9)), 20);
}

#[test]
fn a_drop_in_the_window_cuts_the_limit_and_leaves_the_floor() {
    let mut limit = vegas(20);
    limit.on_sample(0, ok(20, 20));
    let drop = Sample {
        rtt: 1,
        in_flight: 1,
        dropped: true,
    };
    limit.on_sample(0, drop);
    assert_eq!(window(&mut limit, 0, ok(20, 20)), 19);
    assert_eq!(limit.floor(), Some(20 * MS));
}

#[test]
fn a_sample_with_no_elapsed_time_is_not_a_floor() {
    let mut limit = vegas(20);
    limit.on_sample(0, ok(0, 20));
    assert_eq!(limit.floor(), None);
}

#[test]
fn after_the_interval_the_limit_is_pinned_until_the_floor_is_measured_again() {
    let mut limit = vegas(20);
    limit.on_sample(0, ok(20, 20));
    let later = 60_000 * MS;
    assert_eq!(limit.on_sample(later, ok(30, 20)), 2, "pinned to min_limit");
    // Calls that started with more in flight than the pin queued: they do not count.
    assert_eq!(limit.on_sample(later, ok(25, 20)), 2);
    assert_eq!(limit.on_sample(later, ok(28, 2)), 2);
    assert_eq!(limit.on_sample(later, ok(27, 1)), 2);
    assert_eq!(limit.on_sample(later, ok(29, 2)), 20, "the estimate again");
    assert_eq!(limit.floor(), Some(27 * MS), "the backend got slower");
}
