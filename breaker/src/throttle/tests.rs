//! The throttle's rules, on its pure window and on a seeded throttle, with time handed in.

use super::*;
use crate::vocabulary::Outcome;

const SECOND: u64 = 1_000_000_000;

fn settings() -> AdaptiveThrottle {
    AdaptiveThrottle::new()
        .k(1.5)
        .window(Duration::from_secs(10))
        .minimum_requests(20)
        .max_rejection(0.9)
        .seed(7)
}

/// A backend that serves at most `capacity` calls a second (a token bucket holding a quarter
/// second's worth, so that calls arriving at random do not waste its capacity): an admitted
/// call it has no room for fails.
struct Backend {
    capacity: f64,
    depth: f64,
    tokens: f64,
    last: u64,
}

impl Backend {
    fn serving(capacity: f64) -> Self {
        let depth = (capacity / 4.0).max(1.0);
        Self {
            capacity,
            depth,
            tokens: depth,
            last: 0,
        }
    }

    fn answer(&mut self, now: u64) -> Outcome {
        let elapsed = (now - self.last) as f64 / SECOND as f64;
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.capacity).min(self.depth);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Outcome::success()
        } else {
            Outcome::failure("HTTP 503")
        }
    }
}

/// Offers `offered` calls a second, evenly spread, for `seconds` seconds to `backend` through
/// `throttle`. Returns the calls admitted in each second.
fn run(throttle: &Throttle, backend: &mut Backend, seconds: u64, offered: u64) -> Vec<u64> {
    let mut admitted_per_second = Vec::new();
    for second in 0..seconds {
        let mut admitted = 0;
        for call in 0..offered {
            let now = second * SECOND + call * SECOND / offered;
            if throttle.admit(now).is_ok() {
                throttle.record(&backend.answer(now), now);
                admitted += 1;
            }
        }
        admitted_per_second.push(admitted);
    }
    admitted_per_second
}

#[test]
fn a_backend_that_accepts_a_calls_a_second_is_sent_about_k_times_a() {
    // 200 offered a second, the backend accepts 20: the throttle settles at K × 20 = 30.
    let throttle = Throttle::new(settings());
    let admitted = run(&throttle, &mut Backend::serving(20.0), 60, 200);
    let settled = &admitted[20..];
    let mean = settled.iter().sum::<u64>() as f64 / settled.len() as f64;
    println!("200 offered a second, the backend accepting 20: {mean} admitted a second");
    assert!(
        (25.5..=34.5).contains(&mean),
        "{mean} a second, {admitted:?}"
    );
}

#[test]
fn a_seeded_throttle_rejects_the_same_calls_on_every_run() {
    // Every admitted call fails, so the probability climbs to 0.9 and the draws decide.
    let decisions = || {
        let throttle = Throttle::new(settings().minimum_requests(0));
        (0..200)
            .map(|call| {
                let admitted = throttle.admit(call).is_ok();
                if admitted {
                    throttle.record(&Outcome::failure("HTTP 503"), call);
                }
                admitted
            })
            .collect::<Vec<bool>>()
    };
    let first = decisions();
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
    assert_eq!(first, decisions());
}

#[test]
fn a_backend_that_accepts_every_call_is_never_throttled() {
    let throttle = Throttle::new(settings());
    let admitted = run(&throttle, &mut Backend::serving(f64::INFINITY), 30, 200);
    assert!(admitted.iter().all(|&calls| calls == 200), "{admitted:?}");
}

#[test]
fn a_backend_that_fails_every_call_sees_calls_rejected_at_max_rejection() {
    let throttle = Throttle::new(settings());
    let admitted = run(&throttle, &mut Backend::serving(0.0), 30, 1_000);
    let settled = &admitted[10..];
    let share = settled.iter().sum::<u64>() as f64 / (settled.len() as f64 * 1_000.0);
    assert!(
        (0.08..=0.12).contains(&share),
        "{share} admitted, {admitted:?}"
    );
    assert!((throttle.probability(30 * SECOND) - 0.9).abs() < 1e-9);
}

#[test]
fn below_minimum_requests_nothing_is_throttled() {
    // 19 failed requests in the window: one short of the minimum.
    let throttle = Throttle::new(settings());
    for call in 0..19 {
        assert!(throttle.admit(call).is_ok(), "call {call}");
        throttle.record(&Outcome::failure("HTTP 503"), call);
    }
    assert_eq!(throttle.probability(19), 0.0);
    assert!(
        throttle.admit(19).is_ok(),
        "the 20th request is still asked with 19 in the window"
    );
    throttle.record(&Outcome::failure("HTTP 503"), 19);
    assert!(
        throttle.probability(20) > 0.8,
        "20 failed requests are enough"
    );
}

#[test]
fn ignored_outcomes_count_as_neither_request_nor_accept() {
    let throttle = Throttle::new(settings());
    for call in 0..100 {
        assert!(throttle.admit(call).is_ok(), "call {call}");
        throttle.record(&Outcome::ignored(), call);
    }
    let window = throttle.lock().window.clone();
    assert_eq!((window.requests, window.accepts), (0, 0));
    assert_eq!(throttle.probability(100), 0.0);
}

#[test]
fn a_rejected_call_says_the_probability_and_the_windows_counts() {
    let throttle = Throttle::new(settings().minimum_requests(0).max_rejection(0.99));
    for call in 0..50 {
        if throttle.admit(call).is_ok() {
            throttle.record(&Outcome::failure("HTTP 503"), call);
        }
    }
    let reason = (50..150)
        .find_map(|call| throttle.admit(call).err())
        .expect("some call is throttled");
    let Reason::Throttled {
        probability,
        requests,
        accepts,
        window,
    } = reason
    else {
        panic!("{reason:?}")
    };
    assert!(
        requests >= 50 && accepts == 0,
        "{requests} requests, {accepts} accepts"
    );
    let expected = requests as f64 / (requests as f64 + 1.0);
    assert!((probability - expected).abs() < 1e-9, "{probability}");
    assert_eq!(window, Duration::from_secs(10));
}

#[test]
fn old_buckets_drop_out_of_the_window() {
    let mut window = Window::new(Duration::from_secs(10));
    window.advance(0);
    window.request();
    window.fail();
    window.advance(5 * SECOND);
    window.request();
    window.accept();
    assert_eq!((window.requests, window.accepts), (2, 1));
    window.advance(10 * SECOND);
    assert_eq!(
        (window.requests, window.accepts),
        (1, 1),
        "the first bucket is gone"
    );
    window.advance(1_000 * SECOND);
    assert_eq!((window.requests, window.accepts), (0, 0));
}

#[test]
fn the_working_run_counts_buckets_of_successes_since_the_last_failure() {
    let mut window = Window::new(Duration::from_secs(10));
    let bucket = 250_000_000;
    for number in 0..5 {
        window.advance(number * bucket);
        window.request();
        window.accept();
    }
    assert_eq!(window.working, 5);
    window.fail();
    assert_eq!(window.working, 0, "a failure ends the run");
    window.advance(5 * bucket);
    window.accept();
    window.advance(6 * bucket); // an empty bucket neither counts nor ends the run
    window.advance(7 * bucket);
    window.accept();
    assert_eq!(window.working, 2);
    window.advance(100 * bucket);
    assert_eq!(window.working, 0, "the working buckets aged out");
}

#[test]
fn a_bucket_works_once_however_many_successes_and_not_at_all_after_a_failure() {
    let mut window = Window::new(Duration::from_secs(10));
    window.advance(0);
    window.accept();
    window.accept();
    assert_eq!(window.working, 1, "two successes in one bucket");
    window.advance(SECOND);
    window.fail();
    window.accept();
    assert_eq!(window.working, 0, "a success after a failure in its bucket");
}

/// Drives a window the way a throttle does, admitting with `probability`: the backend fails
/// every call for a window and a half (200 offered a second), so calls are rejected at
/// `max_rejection`, then answers every call. Returns the seconds from then until the
/// probability is 0, read every 250 ms.
fn seconds_to_recover(probability: impl Fn(&Window, &AdaptiveThrottle) -> f64) -> f64 {
    let settings = settings();
    let mut window = Window::new(settings.window);
    let mut random = fastrand::Rng::with_seed(7);
    let recovered = 15 * SECOND;
    for call in 0..200 * 60 {
        let now = call * SECOND / 200;
        window.advance(now);
        if now >= recovered
            && now.is_multiple_of(SECOND / 4)
            && probability(&window, &settings) == 0.0
        {
            return (now - recovered) as f64 / SECOND as f64;
        }
        if now == recovered {
            assert!((probability(&window, &settings) - 0.9).abs() < 1e-9);
        }
        let rejected = random.f64() < probability(&window, &settings);
        window.request();
        match (rejected, now < recovered) {
            (true, _) => {}
            (false, true) => window.fail(),
            (false, false) => window.accept(),
        }
    }
    panic!("no recovery within 45 s");
}

#[test]
fn the_plain_formula_takes_about_three_windows_to_recover() {
    let seconds = seconds_to_recover(|window, settings| {
        settings.plain_probability(window.requests, window.accepts)
    });
    println!("the plain formula: 0.9 to 0 in {seconds} s (window 10 s, K 1.5)");
    assert!((20.0..=40.0).contains(&seconds), "{seconds} s");
}

#[test]
fn a_run_of_working_buckets_recovers_within_one_window() {
    let seconds = seconds_to_recover(|window, settings| probability(settings, window));
    println!("with the working run: 0.9 to 0 in {seconds} s (window 10 s, K 1.5)");
    assert!(seconds <= 10.0, "{seconds} s");
}

#[test]
fn invalid_settings_name_their_field() {
    let field = |throttle: AdaptiveThrottle| throttle.validate().map_err(|e| e.field());
    assert_eq!(field(AdaptiveThrottle::new()), Ok(()));
    for k in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            field(AdaptiveThrottle::new().k(k)),
            Err("adaptive_throttle.k")
        );
    }
    for max in [1.0, -0.1, f64::NAN] {
        assert_eq!(
            field(AdaptiveThrottle::new().max_rejection(max)),
            Err("adaptive_throttle.max_rejection")
        );
    }
    for window in [Duration::ZERO, Duration::from_millis(399)] {
        assert_eq!(
            field(AdaptiveThrottle::new().window(window)),
            Err("adaptive_throttle.window")
        );
    }
    assert_eq!(field(AdaptiveThrottle::new().window(MIN_WINDOW)), Ok(()));
    assert_eq!(field(AdaptiveThrottle::new().max_rejection(0.0)), Ok(()));
    assert_eq!(field(AdaptiveThrottle::new().minimum_requests(0)), Ok(()));
}
