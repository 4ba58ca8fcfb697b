//! Property test: random sequences of acquire / success / failure / ignore / drop / advance /
//! manual commands, run against the breaker and a small reference model of the rules, which
//! must agree after every step.

use proptest::prelude::*;
use std::time::Duration;
use trip_breaker::{CircuitBreaker, ManualClock, Permit, State};

#[derive(Debug, Clone, Copy)]
struct Settings {
    failure_threshold: u32,
    recovery_ms: u64,
    half_open_max_calls: u32,
    success_threshold: u32,
}

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Success(usize),
    Failure(usize),
    Ignore(usize),
    Drop(usize),
    Advance(u64),
    ForceOpen,
    Disable,
    Reset,
}

/// The rules, written as plainly as possible.
#[derive(Debug)]
struct Model {
    settings: Settings,
    now_ms: u64,
    state: State,
    generation: u64,
    open_until_ms: u64,
    failures: u32,
    probes: u32,
    probe_successes: u32,
}

#[derive(Debug, Clone, Copy)]
struct ModelPermit {
    generation: u64,
    probe: bool,
}

impl Model {
    fn new(settings: Settings) -> Self {
        Self {
            settings,
            now_ms: 0,
            state: State::Closed,
            generation: 0,
            open_until_ms: 0,
            failures: 0,
            probes: 0,
            probe_successes: 0,
        }
    }

    fn enter(&mut self, state: State) {
        self.state = state;
        self.generation += 1;
        self.probes = 0;
        self.probe_successes = 0;
    }

    fn observe(&mut self) {
        if self.state == State::Open && self.now_ms >= self.open_until_ms {
            self.enter(State::HalfOpen);
        }
    }

    fn open(&mut self) {
        self.open_until_ms = self.now_ms + self.settings.recovery_ms;
        self.enter(State::Open);
    }

    fn acquire(&mut self) -> Option<ModelPermit> {
        self.observe();
        let probe = match self.state {
            State::Closed | State::Disabled => false,
            State::HalfOpen if self.probes < self.settings.half_open_max_calls => {
                self.probes += 1;
                true
            }
            _ => return None,
        };
        Some(ModelPermit {
            generation: self.generation,
            probe,
        })
    }

    fn settle(&mut self, permit: ModelPermit, verdict: &Op) {
        if permit.generation != self.generation {
            return;
        }
        match (self.state, verdict) {
            (State::Closed, Op::Success(_)) => self.failures = 0,
            (State::Closed, Op::Failure(_)) => {
                self.failures += 1;
                if self.failures >= self.settings.failure_threshold {
                    self.open();
                }
            }
            (State::HalfOpen, _) if permit.probe => {
                self.probes -= 1;
                match verdict {
                    Op::Success(_) => {
                        self.failures = 0;
                        self.probe_successes += 1;
                        if self.probe_successes >= self.settings.success_threshold {
                            self.enter(State::Closed);
                        }
                    }
                    Op::Failure(_) => {
                        self.failures += 1;
                        self.open();
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn settings() -> impl Strategy<Value = Settings> {
    (1u32..4, 1u64..2_000, 1u32..4, 1u32..4).prop_map(
        |(failure_threshold, recovery_ms, half_open_max_calls, success_threshold)| Settings {
            failure_threshold,
            recovery_ms,
            half_open_max_calls,
            success_threshold,
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Acquire),
        4 => any::<usize>().prop_map(Op::Success),
        4 => any::<usize>().prop_map(Op::Failure),
        1 => any::<usize>().prop_map(Op::Ignore),
        1 => any::<usize>().prop_map(Op::Drop),
        3 => (0u64..1_500).prop_map(Op::Advance),
        1 => prop_oneof![Just(Op::ForceOpen), Just(Op::Disable), Just(Op::Reset)],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn the_breaker_agrees_with_the_reference_model(
        settings in settings(),
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder("model")
            .failure_threshold(settings.failure_threshold)
            .recovery_timeout(Duration::from_millis(settings.recovery_ms))
            .half_open_max_calls(settings.half_open_max_calls)
            .success_threshold(settings.success_threshold)
            .clock(clock.clone())
            .build()
            .expect("valid settings");
        let mut model = Model::new(settings);
        let mut outstanding: Vec<(Permit<'_>, ModelPermit)> = Vec::new();

        for op in ops {
            match op {
                Op::Acquire => {
                    let real = cb.try_acquire();
                    let expected = model.acquire();
                    match (real, expected) {
                        (Ok(permit), Some(expected)) => {
                            prop_assert_eq!(permit.is_probe(), expected.probe);
                            outstanding.push((permit, expected));
                        }
                        (Err(rejected), None) => {
                            prop_assert_eq!(rejected.state(), model.state);
                            prop_assert_eq!(rejected.failure_count(), model.failures);
                            if model.state == State::Open {
                                let left = model.open_until_ms - model.now_ms;
                                prop_assert_eq!(rejected.remaining(), Some(Duration::from_millis(left)));
                            }
                        }
                        (real, expected) => prop_assert!(
                            false,
                            "breaker admitted: {}, model admitted: {}",
                            real.is_ok(),
                            expected.is_some()
                        ),
                    }
                }
                Op::Success(i) | Op::Failure(i) | Op::Ignore(i) | Op::Drop(i) => {
                    if outstanding.is_empty() {
                        continue;
                    }
                    let (permit, expected) = outstanding.remove(i % outstanding.len());
                    match op {
                        Op::Success(_) => permit.success(),
                        Op::Failure(_) => permit.failure("boom"),
                        Op::Ignore(_) => permit.ignore(),
                        _ => drop(permit),
                    }
                    match op {
                        Op::Ignore(_) | Op::Drop(_) => {
                            if expected.probe && expected.generation == model.generation {
                                model.probes -= 1;
                            }
                        }
                        _ => model.settle(expected, &op),
                    }
                }
                Op::Advance(ms) => {
                    clock.advance(Duration::from_millis(ms));
                    model.now_ms += ms;
                }
                Op::ForceOpen => {
                    cb.force_open();
                    model.observe();
                    if model.state != State::ForcedOpen {
                        model.enter(State::ForcedOpen);
                    }
                }
                Op::Disable => {
                    cb.disable();
                    model.observe();
                    if model.state != State::Disabled {
                        model.enter(State::Disabled);
                    }
                }
                Op::Reset => {
                    cb.reset();
                    model.observe();
                    model.failures = 0;
                    if model.state == State::Closed {
                        // A reset forgets the calls in flight too.
                        model.generation += 1;
                    } else {
                        model.enter(State::Closed);
                    }
                }
            }
            model.observe();
            prop_assert_eq!(cb.state(), model.state);
            let snapshot = cb.snapshot();
            prop_assert_eq!(snapshot.consecutive_failures, model.failures);
            prop_assert_eq!(snapshot.probes_in_flight, model.probes);
        }
    }
}
