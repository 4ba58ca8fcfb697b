//! The default clock, for real, and a clock of one's own: every other test drives a
//! `ManualClock`, so these are the ones that would notice a production clock that never moves,
//! or a trait default the breaker does not use.
//!
//! The default clock reads `CLOCK_MONOTONIC_COARSE`, which moves once per kernel tick and so
//! trails real time: a tick is 4 ms on this project's 2-core VM (`clock_getres`), and ticks
//! come late on a busy VM. The tests compare the breaker's view of time with real time and
//! allow it to trail by [`TRAIL`], a dozen ticks; what they assert is what real time can only
//! make true (a circuit is not HalfOpen before its recovery timeout, less that allowance),
//! never how long an operation took.

use std::time::{Duration, Instant, SystemTime};
use trip_breaker::{CircuitBreaker, Clock, MonotonicClock, State};

/// How far the coarse clock may trail real time in these tests.
const TRAIL: Duration = Duration::from_millis(50);

/// The narrowest bucket a time window may have.
#[cfg(target_os = "linux")]
const NARROWEST_BUCKET: Duration = Duration::from_millis(10);

/// The kernel's tick: the resolution it reports for `CLOCK_MONOTONIC_COARSE`, which the default
/// clock reads on Linux.
#[cfg(target_os = "linux")]
fn kernel_tick() -> Duration {
    let rustix::time::Timespec { tv_sec, tv_nsec } =
        rustix::time::clock_getres(rustix::time::ClockId::MonotonicCoarse);
    Duration::new(tv_sec as u64, tv_nsec as u32)
}

/// The steps the default clock is seen to make: up to 20 changes between two readings, within
/// 2 s. A step spans every tick the thread did not see, so on a busy machine, where the thread
/// is often descheduled at the very tick it waits for, steps of several ticks are the rule.
#[cfg(target_os = "linux")]
fn coarse_steps() -> Vec<Duration> {
    let clock = MonotonicClock::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    // The origin is taken from the precise clock, so the coarse one reads zero until its next
    // tick: the step from zero is not a whole number of ticks.
    while clock.now().is_zero() && Instant::now() < deadline {
        std::hint::spin_loop();
    }
    let mut last = clock.now();
    let mut steps = Vec::new();
    while steps.len() < 20 && Instant::now() < deadline {
        let now = clock.now();
        assert!(now >= last, "monotonic: {now:?} after {last:?}");
        if now > last {
            steps.push(now - last);
        }
        last = now;
    }
    steps
}

/// How far the default clock trails the precise one, read just before it, at `samples` moments
/// a varying sleep apart, so that they fall anywhere between two ticks: a reading trails by how
/// long ago the last tick was, whatever the machine's load (being descheduled between the two
/// readings only shortens it).
#[cfg(target_os = "linux")]
fn trails(samples: u32) -> Vec<Duration> {
    let clock = MonotonicClock::new();
    (0..samples)
        .map(|i| {
            std::thread::sleep(Duration::from_micros(u64::from(i % 7) * 450));
            let precise = clock.now_precise();
            precise.saturating_sub(clock.now())
        })
        .collect()
}

/// The default clock moves in the kernel's ticks, which are narrower than a time window's
/// narrowest bucket, and keeps up with real time: what a time window's buckets need. Every step
/// is a whole number of ticks however many ticks the thread missed. A reading trails the
/// precise clock by the time since the last tick: half a tick in the middle on a quiet machine,
/// more on a busy VM, where the ticks themselves come late (the middle reached 5.9 ms of a 4 ms
/// tick beside two builds on a 2-core AMD EPYC VM). So the steps show the width, and
/// the middle of the trail, held to [`TRAIL`] as in the other tests, shows the clock keeping up
/// with real time, which a clock that stalled would not.
#[cfg(target_os = "linux")]
#[test]
fn the_coarse_clock_moves_in_kernel_ticks_no_wider_than_the_narrowest_bucket() {
    let tick = kernel_tick();
    assert!(
        !tick.is_zero() && tick <= NARROWEST_BUCKET,
        "a {tick:?} tick is coarser than a time window's narrowest bucket"
    );
    let steps = coarse_steps();
    assert!(!steps.is_empty(), "the default clock never moved in 2 s");
    for step in &steps {
        let ticks = (step.as_secs_f64() / tick.as_secs_f64()).round();
        let off = (step.as_secs_f64() - ticks * tick.as_secs_f64()).abs();
        assert!(
            ticks >= 1.0 && off <= 0.01 * tick.as_secs_f64(),
            "a step of {step:?} is not a whole number of {tick:?} ticks: {steps:?}"
        );
    }
    let mut trails = trails(200);
    trails.sort();
    let median = trails[trails.len() / 2];
    assert!(
        median <= TRAIL,
        "the default clock trails the precise one by {median:?} in the middle: it does not keep \
         up with real time"
    );
}

#[test]
fn the_precise_clock_reads_the_same_timeline_as_the_coarse_one() {
    let clock = MonotonicClock::new();
    // Old enough that both readings are well past the origin.
    let deadline = Instant::now() + Duration::from_secs(2);
    while clock.now() < TRAIL && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(clock.now() >= TRAIL, "the clock did not move in 2 s");
    for _ in 0..1_000 {
        let coarse = clock.now();
        let precise = clock.now_precise();
        let coarse_after = clock.now();
        assert!(precise >= coarse, "{precise:?} before {coarse:?}");
        assert!(
            precise <= coarse_after + TRAIL,
            "{precise:?} vs {coarse_after:?}"
        );
    }
}

/// Trips a breaker on the default clock with a 200 ms recovery, then watches it until it
/// half-opens. Each observation is bracketed by real time: Open is allowed only until the
/// recovery has passed by more than [`TRAIL`], HalfOpen only once it may have passed.
#[test]
fn a_breaker_on_the_default_clock_stays_open_for_its_recovery_then_half_opens() {
    const RECOVERY: Duration = Duration::from_millis(200);
    let cb = CircuitBreaker::builder("real-clock")
        .failure_threshold(1)
        .recovery_timeout(RECOVERY)
        .build()
        .expect("valid");
    let before = Instant::now();
    cb.try_acquire().expect("closed").failure("down");
    let after = Instant::now();

    let mut seen_open = 0;
    let give_up = after + RECOVERY + TRAIL + Duration::from_secs(5);
    let half_open_at = loop {
        let asked = Instant::now();
        let state = cb.state();
        let answered = Instant::now();
        match state {
            State::Open => {
                assert!(
                    asked < after + RECOVERY + TRAIL,
                    "still Open {:?} after the trip",
                    asked - after
                );
                seen_open += 1;
            }
            State::HalfOpen => break answered,
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            Instant::now() < give_up,
            "never half-opened: the clock is stuck"
        );
        std::thread::yield_now();
    };
    assert!(
        half_open_at + TRAIL >= before + RECOVERY,
        "half-open {:?} after the trip, before its {RECOVERY:?}",
        half_open_at - before
    );
    assert!(seen_open > 0, "the breaker was never seen Open");
    let probe = cb.try_acquire().expect("a probe");
    assert!(probe.is_probe());
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}

/// A rejection's countdown on the default clock: right after the trip it reads the whole
/// recovery timeout, never more (the deadline and "now" come from the same coarse clock), and
/// its wall-clock deadline is that far from the system clock.
#[test]
fn a_rejections_sec_remaining_stays_right_on_the_default_clock() {
    const RECOVERY: Duration = Duration::from_secs(10);
    let cb = CircuitBreaker::builder("countdown")
        .failure_threshold(1)
        .recovery_timeout(RECOVERY)
        .build()
        .expect("valid");
    cb.try_acquire().expect("closed").failure("down");
    let tripped = Instant::now();
    while tripped.elapsed() < Duration::from_millis(30) {
        let rejected = cb.try_acquire().expect_err("open");
        let remaining = rejected.remaining().expect("open has a deadline");
        assert!(remaining <= RECOVERY, "{remaining:?} left of {RECOVERY:?}");
        assert!(
            remaining + tripped.elapsed() + TRAIL >= RECOVERY,
            "{remaining:?} left {:?} after the trip",
            tripped.elapsed()
        );
        let text = rejected.to_string();
        assert!(text.contains("(1 failures, 10 sec remaining)"), "{text}");
        let retry_at = rejected.retry_at().expect("open has a deadline");
        let from_now = retry_at
            .duration_since(SystemTime::now())
            .expect("the deadline is ahead");
        assert!(
            from_now <= RECOVERY && from_now + Duration::from_secs(1) >= RECOVERY,
            "the wall-clock deadline is {from_now:?} away"
        );
    }
}

/// A slow call on the default clock is timed with the precise clock: a call that sleeps past
/// the threshold is slow, however busy the machine.
#[test]
fn the_default_clock_times_slow_calls() {
    let cb = CircuitBreaker::builder("timed")
        .slow_call_duration(Duration::from_millis(20))
        .build()
        .expect("valid");
    let slow = cb.try_acquire().expect("closed");
    std::thread::sleep(Duration::from_millis(25));
    slow.success();
    let calls = cb.snapshot().calls;
    assert_eq!((calls.successful, calls.slow), (1, 1));
}

/// A clock of one's own needs only `now` and `wall_origin`: the breaker reads time through the
/// trait's defaults for the rest.
#[test]
fn a_clock_that_implements_only_now_drives_the_breaker() {
    #[derive(Debug, Clone, Default)]
    struct Minutes(std::sync::Arc<std::sync::atomic::AtomicU64>);
    impl Clock for Minutes {
        fn now(&self) -> Duration {
            Duration::from_secs(60 * self.0.load(std::sync::atomic::Ordering::SeqCst))
        }
        fn wall_origin(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH
        }
    }
    let clock = Minutes::default();
    let cb = CircuitBreaker::builder("minutes")
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(90))
        .slow_call_duration(Duration::from_secs(60))
        .clock(clock.clone())
        .build()
        .expect("valid");
    let slow = cb.try_acquire().expect("closed");
    clock.0.store(1, std::sync::atomic::Ordering::SeqCst);
    slow.failure("a minute late");
    assert_eq!(
        cb.snapshot().calls.slow,
        1,
        "timed with now_precise's default"
    );
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(rejected.remaining(), Some(Duration::from_secs(90)));
    assert_eq!(
        rejected.retry_at(),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(150)),
        "opened at minute 1, for 90 s"
    );
    clock.0.store(2, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        cb.try_acquire().expect_err("still open").remaining(),
        Some(Duration::from_secs(30))
    );
    clock.0.store(3, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(cb.state(), State::HalfOpen);
}
