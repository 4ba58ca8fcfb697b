//! The Vegas rule's steps, driven by chosen samples and times.

use super::*;

const MS: u64 = 1_000_000;

fn vegas(initial: u32) -> Vegas {
    vegas_up_to(initial, 100)
}

fn vegas_up_to(initial: u32, max_limit: u32) -> Vegas {
    let bounds = Bounds {
        min_limit: 2,
        max_limit,
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

/// Sets the floor with a window of calls that each started alone, far from the limit, so the
/// window leaves the limit where it was.
fn set_floor(limit: &mut Vegas, rtt_ms: u64) {
    let before = limit.limit();
    assert_eq!(window(limit, 0, ok(rtt_ms, 1)), before);
    assert_eq!(limit.floor(), Some(rtt_ms * MS));
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

#[test]
fn a_shorter_round_trip_lowers_the_floor() {
    let mut limit = vegas(20);
    limit.on_sample(0, ok(20, 20));
    limit.on_sample(0, ok(15, 20));
    assert_eq!(limit.floor(), Some(15 * MS));
}

#[test]
fn a_round_trip_equal_to_the_floor_does_not_put_off_its_measurement() {
    let mut limit = vegas(20);
    limit.on_sample(0, ok(20, 20));
    // The floor seen again, a second before the interval ends: the interval still runs from 0.
    assert_eq!(limit.on_sample(59_000 * MS, ok(20, 20)), 20);
    assert_eq!(
        limit.on_sample(60_000 * MS, ok(20, 20)),
        2,
        "pinned to min_limit"
    );
}

#[test]
fn calls_with_no_elapsed_time_fill_the_window_but_stay_out_of_its_average() {
    let mut limit = vegas(20);
    set_floor(&mut limit, 20);
    for _ in 0..10 {
        limit.on_sample(0, ok(40, 20));
    }
    for _ in 0..10 {
        limit.on_sample(0, ok(0, 20));
    }
    // The twenty calls make the window; the ten at 40 ms make its average: a queue of
    // ceil(20 × (1 - 20/40)) = 10, over beta.
    assert_eq!(limit.limit(), 19);
}

#[test]
fn a_window_with_exactly_half_the_limit_in_flight_is_judged() {
    let mut limit = vegas(20);
    set_floor(&mut limit, 20);
    // 10 × 2 = 20 is not below the limit: no queue, + 6.
    assert_eq!(window(&mut limit, 0, ok(20, 10)), 26);
}

#[test]
fn a_queue_of_exactly_beta_holds_the_limit() {
    let mut limit = vegas(20);
    set_floor(&mut limit, 29);
    // queue = ceil(20 × (1 - 29/40)) = ceil(5.5) = 6 = beta: not over it.
    assert_eq!(window(&mut limit, 0, ok(40, 20)), 20);
}

#[test]
fn from_a_limit_of_100_every_step_is_scaled_by_its_log10_of_2() {
    let mut limit = vegas_up_to(100, 1000);
    set_floor(&mut limit, 100);
    // log = 2, alpha = 6, beta = 12. No queue: + beta.
    assert_eq!(window(&mut limit, 0, ok(100, 100)), 112);
    // queue = ceil(112 × (1 - 100/103)) = 4, below alpha: + log.
    assert_eq!(window(&mut limit, 0, ok(103, 112)), 114);
    // queue = ceil(114 × (1 - 100/107)) = 8, within [alpha, beta]: unchanged.
    assert_eq!(window(&mut limit, 0, ok(107, 114)), 114);
    // queue = ceil(114 × (1 - 100/125)) = 23, over beta: - log.
    assert_eq!(window(&mut limit, 0, ok(125, 114)), 112);
    // A drop: - log.
    let drop = Sample {
        rtt: 1,
        in_flight: 1,
        dropped: true,
    };
    limit.on_sample(0, drop);
    assert_eq!(window(&mut limit, 0, ok(100, 112)), 110);
}
