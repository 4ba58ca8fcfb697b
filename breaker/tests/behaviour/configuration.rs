//! Every setting is checked once, by `build`, and a bad one is an error naming its field.

use std::time::Duration;
use trip_breaker::{Backoff, Builder, CircuitBreaker, Config, SlidingWindow};

fn base() -> Builder {
    CircuitBreaker::builder("config")
}

fn field_of(builder: Builder) -> &'static str {
    builder.build().expect_err("invalid").field()
}

#[test]
fn the_defaults_are_the_python_librarys_and_valid() {
    let config = base().build().expect("defaults are valid").config();
    assert_eq!(config.failure_threshold(), Some(5));
    assert_eq!(config.recovery_timeout(), Duration::from_secs(30));
    assert_eq!(config.half_open_max_calls(), 1);
    assert_eq!(config.success_threshold(), 1);
    assert_eq!(config.minimum_calls(), 10);
    assert_eq!(config.sliding_window(), SlidingWindow::count(100));
    assert_eq!(config.failures_within(), None);
    assert_eq!(config.half_open_max_wait(), None);
    assert_eq!(config, Config::default());
}

#[test]
fn every_setting_reads_back_as_it_was_set() {
    let backoff = Backoff::exponential(1.5, Duration::from_secs(90)).with_jitter(0.25);
    let config = base()
        .failure_threshold(7)
        .failures_within(4, Duration::from_secs(20))
        .recovery_timeout(Duration::from_secs(45))
        .backoff(backoff)
        .half_open_max_calls(3)
        .success_threshold(2)
        .half_open_max_wait(Duration::from_secs(4))
        .failure_rate_threshold(40.0)
        .slow_call_duration(Duration::from_millis(800))
        .slow_call_rate_threshold(60.0)
        .sliding_window(SlidingWindow::time(Duration::from_secs(30), 15))
        .minimum_calls(12)
        .build()
        .expect("valid")
        .config();
    assert_eq!(config.failure_threshold(), Some(7));
    assert_eq!(config.failures_within(), Some((4, Duration::from_secs(20))));
    assert_eq!(config.recovery_timeout(), Duration::from_secs(45));
    assert_eq!(config.backoff(), Some(backoff));
    assert_eq!(backoff.multiplier(), 1.5);
    assert_eq!(backoff.max(), Duration::from_secs(90));
    assert_eq!(backoff.jitter(), 0.25);
    assert_eq!(config.half_open_max_calls(), 3);
    assert_eq!(config.success_threshold(), 2);
    assert_eq!(config.half_open_max_wait(), Some(Duration::from_secs(4)));
    assert_eq!(config.failure_rate_threshold(), Some(40.0));
    assert_eq!(
        config.slow_call_duration(),
        Some(Duration::from_millis(800))
    );
    assert_eq!(config.slow_call_rate_threshold(), Some(60.0));
    assert_eq!(
        config.sliding_window(),
        SlidingWindow::time(Duration::from_secs(30), 15)
    );
    assert_eq!(config.minimum_calls(), 12);
    let rebuilt = base().config(config.clone()).build().expect("valid");
    assert_eq!(rebuilt.config(), config, "a config can seed a builder");
}

#[test]
fn every_invalid_value_names_its_field() {
    let rate = || {
        base()
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
    };
    let cases: Vec<(Builder, &str)> = vec![
        (base().failure_threshold(0), "failure_threshold"),
        (base().without_failure_threshold(), "failure_threshold"),
        (
            base().failures_within(0, Duration::from_secs(1)),
            "failures_within",
        ),
        (
            base().failures_within(10_001, Duration::from_secs(1)),
            "failures_within",
        ),
        (base().failures_within(3, Duration::ZERO), "failures_within"),
        (base().recovery_timeout(Duration::ZERO), "recovery_timeout"),
        (base().half_open_max_calls(0), "half_open_max_calls"),
        (base().success_threshold(0), "success_threshold"),
        (
            base().half_open_max_wait(Duration::ZERO),
            "half_open_max_wait",
        ),
        (base().failure_rate_threshold(0.0), "failure_rate_threshold"),
        (
            base().failure_rate_threshold(100.5),
            "failure_rate_threshold",
        ),
        (
            base().failure_rate_threshold(f64::NAN),
            "failure_rate_threshold",
        ),
        (base().slow_call_rate_threshold(50.0), "slow_call_duration"),
        (
            base().slow_call_duration(Duration::ZERO),
            "slow_call_duration",
        ),
        (rate().minimum_calls(0), "minimum_calls"),
        (rate().minimum_calls(101), "minimum_calls"),
        (
            rate().sliding_window(SlidingWindow::count(0)),
            "sliding_window",
        ),
        (
            rate().sliding_window(SlidingWindow::count(1_000_001)),
            "sliding_window",
        ),
        (
            rate().sliding_window(SlidingWindow::time(Duration::ZERO, 10)),
            "sliding_window",
        ),
        (
            rate().sliding_window(SlidingWindow::time(Duration::from_secs(1), 0)),
            "sliding_window",
        ),
        (
            rate().sliding_window(SlidingWindow::time(Duration::from_secs(1), 101)),
            "sliding_window",
        ),
        (
            rate().sliding_window(SlidingWindow::time(Duration::from_millis(99), 10)),
            "sliding_window",
        ),
        (
            base().backoff(Backoff::exponential(0.5, Duration::from_secs(60))),
            "backoff.multiplier",
        ),
        (
            base().backoff(Backoff::exponential(f64::INFINITY, Duration::from_secs(60))),
            "backoff.multiplier",
        ),
        (
            base().backoff(Backoff::exponential(2.0, Duration::from_secs(29))),
            "backoff.max",
        ),
        (
            base().backoff(Backoff::exponential(2.0, Duration::from_secs(60)).with_jitter(1.0)),
            "backoff.jitter",
        ),
        (
            base().backoff(Backoff::exponential(2.0, Duration::from_secs(60)).with_jitter(-0.1)),
            "backoff.jitter",
        ),
    ];
    for (builder, field) in cases {
        let shown = format!("{builder:?}");
        assert_eq!(field_of(builder), field, "{shown}");
    }
}

#[test]
fn the_boundaries_themselves_are_valid() {
    let rate = || {
        base()
            .without_failure_threshold()
            .failure_rate_threshold(100.0)
    };
    for builder in [
        base().failure_threshold(1),
        base().failures_within(10_000, Duration::from_nanos(1)),
        rate().minimum_calls(100),
        rate()
            .sliding_window(SlidingWindow::count(1_000_000))
            .minimum_calls(1),
        rate().sliding_window(SlidingWindow::time(Duration::from_millis(100), 10)),
        rate().sliding_window(SlidingWindow::time(Duration::from_secs(100), 100)),
        base().backoff(Backoff::exponential(1.0, Duration::from_secs(30)).with_jitter(0.0)),
        base()
            .without_failure_threshold()
            .failures_within(1, Duration::from_secs(1)),
        base()
            .without_failure_threshold()
            .slow_call_duration(Duration::from_secs(1))
            .slow_call_rate_threshold(0.001),
    ] {
        let shown = format!("{builder:?}");
        builder
            .build()
            .unwrap_or_else(|err| panic!("{shown}: {err}"));
    }
}

#[test]
fn the_error_message_names_the_field_and_the_reason() {
    let error = base().failure_threshold(0).build().expect_err("invalid");
    assert_eq!(
        error.to_string(),
        "invalid circuit breaker setting `failure_threshold`: must be at least 1 (got 0)"
    );
    assert_eq!(error.reason(), "must be at least 1 (got 0)");
}
