//! The adaptive concurrency limit, through its public API, on a manual clock: a simulated
//! backend that serves `concurrency` calls at once, each taking `service`, and queues the rest
//! in order, in front of a caller that always has more calls to make than the limit allows.

use crate::support::limiter_on_manual_clock;
use std::collections::VecDeque;
use std::sync::Barrier;
use std::time::Duration;
use trip_breaker::{AdaptiveLimit, ConcurrencyLimiter, LimitPermit, ManualClock};

const TICK: Duration = Duration::from_millis(1);
const SERVICE: Duration = Duration::from_millis(20);

/// A backend with a fixed number of servers and an unbounded queue in front of them.
struct Backend {
    concurrency: usize,
    queue: VecDeque<LimitPermit>,
    /// Calls being served, with the time they end at.
    serving: Vec<(Duration, LimitPermit)>,
}

impl Backend {
    fn new(concurrency: usize) -> Self {
        Self {
            concurrency,
            queue: VecDeque::new(),
            serving: Vec::new(),
        }
    }
}

struct Run {
    limiter: ConcurrencyLimiter,
    clock: ManualClock,
    now: Duration,
    backend: Backend,
}

impl Run {
    fn new(limit: AdaptiveLimit, concurrency: usize) -> Self {
        let (limiter, clock) = limiter_on_manual_clock(limit);
        Self {
            limiter,
            clock,
            now: Duration::ZERO,
            backend: Backend::new(concurrency),
        }
    }

    /// Runs for `ticks` milliseconds, offering more calls than the limit every tick; returns
    /// the lowest and highest limit seen.
    fn run(&mut self, ticks: u32) -> (u32, u32) {
        let (mut lowest, mut highest) = (u32::MAX, 0);
        for _ in 0..ticks {
            self.backend.queue.extend(take_free_places(&self.limiter));
            while self.backend.serving.len() < self.backend.concurrency {
                let Some(permit) = self.backend.queue.pop_front() else {
                    break;
                };
                self.backend.serving.push((self.now + SERVICE, permit));
            }
            self.clock.advance(TICK);
            self.now += TICK;
            let now = self.now;
            let (done, serving) = std::mem::take(&mut self.backend.serving)
                .into_iter()
                .partition::<Vec<_>, _>(|(end, _)| *end <= now);
            self.backend.serving = serving;
            for (_, permit) in done {
                permit.success();
            }
            let limit = self.limiter.limit();
            lowest = lowest.min(limit);
            highest = highest.max(limit);
        }
        (lowest, highest)
    }
}

/// Every place the limit leaves free, taken: permits until the limiter refuses one. A limiter
/// grants at most `max_limit` places, so the tries stop at one more than that whatever it does.
fn take_free_places(limiter: &ConcurrencyLimiter) -> Vec<LimitPermit> {
    let most = limiter.max_limit();
    let permits: Vec<_> = (0..=most).map_while(|_| limiter.try_acquire()).collect();
    assert!(
        permits.len() <= most as usize,
        "granted more places than max_limit {most}"
    );
    permits
}

fn limit() -> AdaptiveLimit {
    AdaptiveLimit::vegas()
        .min_limit(1)
        .max_limit(200)
        .initial_limit(20)
}

#[test]
fn the_limit_grows_to_its_maximum_while_round_trips_stay_at_the_floor() {
    // A backend that never queues: every call takes the floor.
    let mut run = Run::new(limit(), 10_000);
    let (lowest, _) = run.run(2_000);
    assert_eq!(lowest, 20, "never below where it started");
    assert_eq!(run.limiter.limit(), 200);
    assert_eq!(run.limiter.floor(), Some(SERVICE));
}

#[test]
fn the_limit_shrinks_to_the_backends_concurrency_and_a_short_queue() {
    let mut run = Run::new(limit().initial_limit(40), 8);
    run.run(5_000);
    let settled = run.limiter.limit();
    // Vegas holds 3 to 6 calls queued at the backend (see the module's table).
    assert!((8..=16).contains(&settled), "settled at {settled}");
    let (lowest, highest) = run.run(5_000);
    assert!(lowest >= 8 && highest <= 16, "stays: {lowest}..{highest}");
}

#[test]
fn the_limit_follows_the_backends_capacity_down_and_back_up() {
    let mut run = Run::new(limit(), 8);
    run.run(5_000);
    let healthy = run.limiter.limit();

    run.backend.concurrency = 2;
    run.run(5_000);
    let degraded = run.limiter.limit();
    assert!(degraded < healthy, "{degraded} < {healthy}");
    assert!((2..=10).contains(&degraded), "degraded to {degraded}");

    run.backend.concurrency = 8;
    run.run(5_000);
    let recovered = run.limiter.limit();
    assert!((8..=16).contains(&recovered), "recovered to {recovered}");
}

#[test]
fn under_sustained_queueing_the_remeasured_floor_keeps_the_limit_from_creeping_up() {
    let mut run = Run::new(limit().floor_interval(Duration::from_secs(2)), 8);
    run.run(2_000);
    // Twenty floor measurements: each pins the limit to min_limit, the queue drains, and the
    // floor found is the backend's own service time again.
    for _ in 0..20 {
        run.run(2_000);
        let limit = run.limiter.limit();
        assert!(limit <= 16, "crept up to {limit}");
    }
    assert_eq!(run.limiter.floor(), Some(SERVICE));
}

/// A backend that shares `concurrency` servers among every call in flight (processor
/// sharing): under load no call takes the floor, every call is slowed alike.
fn shared_backend(limiter: &ConcurrencyLimiter, clock: &ManualClock, ticks: u32) {
    const CONCURRENCY: f64 = 8.0;
    let service = SERVICE.as_secs_f64() * 1000.0;
    // Each call with the work it has left, in milliseconds of one server.
    let mut calls: Vec<(f64, LimitPermit)> = Vec::new();
    for _ in 0..ticks {
        calls.extend(
            take_free_places(limiter)
                .into_iter()
                .map(|permit| (service, permit)),
        );
        clock.advance(TICK);
        let share = (CONCURRENCY / calls.len().max(1) as f64).min(1.0);
        let (done, busy) = std::mem::take(&mut calls)
            .into_iter()
            .map(|(left, permit)| (left - share, permit))
            .partition::<Vec<_>, _>(|(left, _)| *left <= 1e-9);
        calls = busy;
        for (_, permit) in done {
            permit.success();
        }
    }
}

#[test]
fn a_floor_first_seen_under_load_is_measured_again_at_the_minimum_limit() {
    let (limiter, clock) = limiter_on_manual_clock(limit().floor_interval(Duration::from_secs(5)));
    // The first 20 calls share 8 servers: each takes 50 ms, and that is the floor at first.
    shared_backend(&limiter, &clock, 4_000);
    assert_eq!(limiter.floor(), Some(Duration::from_millis(50)));
    // Five seconds on, the limit is pinned to 1 until 20 calls have run alone.
    shared_backend(&limiter, &clock, 6_000);
    assert_eq!(limiter.floor(), Some(SERVICE));
    let settled = limiter.limit();
    assert!((8..=16).contains(&settled), "settled at {settled}");
}

#[test]
fn the_limit_never_leaves_its_bounds() {
    let mut run = Run::new(limit().min_limit(10).max_limit(12).initial_limit(11), 2);
    let (lowest, highest) = run.run(3_000);
    assert_eq!(
        (lowest, highest),
        (10, 11),
        "a queue pushes it to the minimum"
    );
    assert_eq!(run.limiter.limit(), 10);
    run.backend.concurrency = 10_000;
    let (lowest, highest) = run.run(3_000);
    assert_eq!(
        (lowest, highest),
        (10, 12),
        "no queue takes it to the maximum"
    );
}

#[test]
fn a_window_of_calls_with_a_drop_cuts_the_limit_down_to_the_minimum_and_no_further() {
    let limiter = limit().initial_limit(5).build().expect("valid");
    // The limit steps once per window of as many calls as the limit.
    for _ in 0..5 {
        limiter.try_acquire().expect("room").dropped();
    }
    assert_eq!(limiter.limit(), 4);
    for _ in 0..100 {
        limiter.try_acquire().expect("room").dropped();
    }
    assert_eq!(limiter.limit(), 1);
    assert_eq!(limiter.floor(), None, "a drop is no round trip");
}

#[test]
fn a_full_limit_refuses_the_next_call_and_counts_every_place_taken() {
    let limiter = limit().initial_limit(4).build().expect("valid");
    let permits = take_free_places(&limiter);
    assert_eq!((permits.len(), limiter.in_flight()), (4, 4));
    assert!(limiter.try_acquire().is_none());
    drop(permits);
    assert_eq!(limiter.in_flight(), 0);
}

#[test]
fn a_call_counts_itself_among_the_calls_in_flight_it_started_with() {
    // Calls one at a time: each started with 1 in flight, half a limit of 2, close enough to
    // the limit for their window to be judged.
    let (limiter, clock) = limiter_on_manual_clock(limit().initial_limit(2));
    for _ in 0..2 {
        let permit = limiter.try_acquire().expect("room");
        clock.advance(SERVICE);
        permit.success();
    }
    assert_eq!(limiter.limit(), 8, "no queue: + 6");
}

#[test]
fn an_ignored_or_unsettled_call_frees_its_place_and_teaches_nothing() {
    let (limiter, clock) = limiter_on_manual_clock(limit().initial_limit(2));
    let (first, second) = (limiter.try_acquire(), limiter.try_acquire());
    assert!(limiter.try_acquire().is_none(), "the limit is 2");
    clock.advance(SERVICE);
    first.expect("room").ignore();
    drop(second);
    assert_eq!((limiter.in_flight(), limiter.limit()), (0, 2));
    assert_eq!(limiter.floor(), None);
}

#[test]
fn a_call_that_frees_its_place_lets_another_in_and_still_teaches_when_settled() {
    let (limiter, clock) = limiter_on_manual_clock(limit().initial_limit(2));
    let mut waiting = limiter.try_acquire().expect("room");
    let _other = limiter.try_acquire().expect("room");
    assert!(limiter.try_acquire().is_none(), "the limit is 2");
    waiting.free_place();
    waiting.free_place();
    assert_eq!(limiter.in_flight(), 1, "freed once");
    let third = limiter.try_acquire().expect("the freed place");
    assert!(limiter.try_acquire().is_none());
    clock.advance(SERVICE);
    waiting.success();
    assert_eq!(limiter.in_flight(), 2, "settling frees no place twice");
    assert_eq!(
        limiter.floor(),
        Some(SERVICE),
        "its round trip still teaches"
    );
    drop(third);
    assert_eq!(limiter.in_flight(), 1);
}

#[test]
fn every_invalid_setting_names_its_field() {
    let field = |limit: AdaptiveLimit| limit.build().expect_err("invalid").field();
    assert_eq!(field(AdaptiveLimit::vegas().min_limit(0)), "min_limit");
    assert_eq!(field(AdaptiveLimit::vegas().max_limit(0)), "max_limit");
    assert_eq!(
        field(AdaptiveLimit::vegas().max_limit(2_000_000)),
        "max_limit"
    );
    assert_eq!(
        field(AdaptiveLimit::vegas().initial_limit(0)),
        "initial_limit"
    );
    assert_eq!(
        field(
            AdaptiveLimit::vegas()
                .min_limit(10)
                .max_limit(5)
                .initial_limit(5)
        ),
        "max_limit"
    );
    assert_eq!(field(limit().initial_limit(201)), "initial_limit");
    assert_eq!(field(limit().min_limit(30)), "initial_limit");
    assert_eq!(
        field(limit().floor_interval(Duration::ZERO)),
        "floor_interval"
    );
    assert_eq!(field(limit().floor_samples(0)), "floor_samples");
    let err = limit().initial_limit(201).build().expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "invalid circuit breaker setting `initial_limit`: must be between min_limit 1 and \
         max_limit 200 (got 201)"
    );
}

#[test]
fn the_defaults_are_netflixs_and_valid() {
    let limiter = AdaptiveLimit::default().build().expect("valid");
    assert_eq!(
        (limiter.min_limit(), limiter.limit(), limiter.max_limit()),
        (1, 20, 1000)
    );
}

#[test]
fn the_limiter_reports_the_bounds_it_was_built_with() {
    let limiter = limit()
        .min_limit(3)
        .max_limit(9)
        .initial_limit(5)
        .build()
        .expect("valid");
    assert_eq!(
        (limiter.min_limit(), limiter.limit(), limiter.max_limit()),
        (3, 5, 9)
    );
}

#[test]
fn debug_output_shows_the_limit_the_places_taken_and_the_bounds() {
    let limiter = limit()
        .min_limit(2)
        .max_limit(9)
        .initial_limit(5)
        .build()
        .expect("valid");
    let first = limiter.try_acquire().expect("room");
    let second = limiter.try_acquire().expect("room");
    assert_eq!(
        format!("{limiter:?}"),
        "ConcurrencyLimiter { limit: 5, in_flight: 2, min_limit: 2, max_limit: 9 }"
    );
    assert_eq!(
        format!("{second:?}"),
        "LimitPermit { in_flight_at_start: 2 }"
    );
    first.ignore();
    second.ignore();
}

#[test]
fn threads_never_hold_more_places_than_the_limit() {
    const THREADS: usize = 8;
    const LIMIT: u32 = 3;
    // A limit pinned by its bounds, so the count the threads see is exact.
    let limiter = AdaptiveLimit::vegas()
        .min_limit(LIMIT)
        .max_limit(LIMIT)
        .initial_limit(LIMIT)
        .build()
        .expect("valid");
    let barrier = Barrier::new(THREADS);
    for _ in 0..200 {
        // Each thread hands its permit back unsettled, so everyone has tried before anyone lets
        // go; a thread whose try panics just ends, and leaves no other waiting for it.
        let tries: Vec<Option<LimitPermit>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        limiter.try_acquire()
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|thread| thread.join().expect("a try does not panic"))
                .collect()
        });
        let granted: Vec<LimitPermit> = tries.into_iter().flatten().collect();
        assert_eq!(granted.len(), LIMIT as usize);
        for permit in granted {
            permit.success();
        }
        assert_eq!(limiter.in_flight(), 0);
    }
}

#[test]
fn threads_calling_at_once_leave_the_limit_in_bounds_and_no_place_held() {
    const THREADS: usize = 4;
    let (limiter, clock) = limiter_on_manual_clock(limit());
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (limiter, clock) = (limiter.clone(), clock.clone());
            scope.spawn(move || {
                for call in 0..20_000_usize {
                    let Some(permit) = limiter.try_acquire() else {
                        continue;
                    };
                    assert!(limiter.in_flight() <= 200);
                    clock.advance(Duration::from_micros(((call + thread) % 7) as u64 * 100));
                    match (call + thread) % 5 {
                        0 => permit.dropped(),
                        1 => permit.ignore(),
                        _ => permit.success(),
                    }
                }
            });
        }
    });
    assert_eq!(limiter.in_flight(), 0);
    assert!((1..=200).contains(&limiter.limit()));
}
