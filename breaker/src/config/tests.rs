//! The backoff's open durations, computed with the random number in hand.

use super::*;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn the_open_duration_grows_by_the_multiplier_on_each_trip_up_to_the_cap() {
    let backoff = Backoff::exponential(2.0, Duration::from_secs(5));
    let durations: Vec<_> = (1..=5)
        .map(|trip| backoff.open_duration(SECOND, trip, 0.5))
        .collect();
    assert_eq!(durations, [1, 2, 4, 5, 5].map(Duration::from_secs));
}

#[test]
fn jitter_spreads_by_its_fraction_either_way_and_never_beyond_the_cap() {
    let backoff = Backoff::exponential(1.0, Duration::from_secs(10)).with_jitter(0.2);
    let at = |unit| backoff.open_duration(Duration::from_secs(5), 1, unit);
    assert_eq!(
        at(0.0),
        Duration::from_secs(4),
        "the low end: 5 s less 20 %"
    );
    assert_eq!(at(0.25), Duration::from_millis(4_500));
    assert_eq!(at(0.5), Duration::from_secs(5), "the middle: no spread");
    assert_eq!(at(0.75), Duration::from_millis(5_500));
    let capped = backoff.open_duration(Duration::from_secs(10), 1, 0.999);
    assert_eq!(capped, Duration::from_secs(10), "never beyond the cap");
}

#[test]
fn an_enormous_trip_count_saturates_at_the_cap() {
    let backoff = Backoff::exponential(10.0, Duration::from_secs(60));
    assert_eq!(
        backoff.open_duration(SECOND, u32::MAX, 0.5),
        Duration::from_secs(60)
    );
}
