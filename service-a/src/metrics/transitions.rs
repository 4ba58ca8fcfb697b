//! `circuit_breaker_transitions_total{name, from, to}`: every state change, counted by a
//! listener on the breaker's `StateChanged` events.
//!
//! The snapshot has only the total; the pair tells an operator what happened (three
//! `half_open -> open` in a row: B is still down) and feeds the flapping alert. The reason
//! stays out of the labels: it carries numbers (`failure rate 62.5% >= 50%`), which would make
//! a new series for every trip; it is in the breaker's log line of the same transition, as a
//! field of its own.
//!
//! Every `from`/`to` pair of states starts at 0 (twenty series, a bounded set), so
//! `increase()` sees the first transition of each kind.

use std::sync::Arc;

use breaker::{Event, EventKind};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::snapshot::STATES;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    name: Arc<str>,
    from: &'static str,
    to: &'static str,
}

/// The transitions counter. Cloning shares the series (they live in an `Arc`), so the clone
/// the listener holds and the one the registry encodes are the same counter.
#[derive(Debug, Clone, Default)]
pub struct Transitions {
    counts: Family<TransitionLabels, Counter>,
}

impl Transitions {
    /// The listener to give the breaker's builder
    /// ([`on_transition`](breaker::Builder::on_transition)): it counts each `StateChanged` event and
    /// ignores the rest. A transition is rare, so the label set built for it costs nothing
    /// that matters.
    pub fn listener(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static {
        let counts = self.counts.clone();
        move |event| {
            if let EventKind::StateChanged(transition) = event.kind {
                counts
                    .get_or_create(&TransitionLabels {
                        name: event.breaker.into(),
                        from: transition.from.as_str(),
                        to: transition.to.as_str(),
                    })
                    .inc();
            }
        }
    }

    /// Creates, at 0, the series of every change of state of the breaker called `name`.
    pub fn start_at_zero(&self, name: &str) {
        let name: Arc<str> = name.into();
        for from in STATES {
            for to in STATES.into_iter().filter(|to| *to != from) {
                // Created at 0; the read guard it returns is released at once.
                drop(self.counts.get_or_create(&TransitionLabels {
                    name: name.clone(),
                    from: from.as_str(),
                    to: to.as_str(),
                }));
            }
        }
    }

    /// Adds the counter to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "circuit_breaker_transitions",
            "State changes since start, by the state left and the state entered",
            self.counts.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breaker::{CircuitBreaker, ManualClock};
    use std::time::Duration;

    fn render(registry: &Registry) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, registry).expect("renders");
        text
    }

    #[test]
    fn each_change_of_state_counts_under_its_from_and_to() {
        let transitions = Transitions::default();
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .on_transition(transitions.listener())
            .build()
            .expect("valid");
        transitions.start_at_zero(cb.name());
        let mut registry = Registry::default();
        transitions.register(&mut registry);

        let before = render(&registry);
        assert_eq!(
            before.matches("circuit_breaker_transitions_total{").count(),
            20
        );
        assert!(before.contains(
            "circuit_breaker_transitions_total{name=\"call_service_b\",from=\"closed\",to=\"open\"} 0\n"
        ));

        cb.try_acquire().expect("closed").failure("HTTP 500");
        clock.advance(Duration::from_secs(10));
        cb.try_acquire().expect("half-open").failure("HTTP 500");
        clock.advance(Duration::from_secs(10));
        cb.try_acquire().expect("half-open").success();

        let text = render(&registry);
        for (from, to, count) in [
            ("closed", "open", 1),
            ("open", "half_open", 2),
            ("half_open", "open", 1),
            ("half_open", "closed", 1),
            ("open", "closed", 0),
        ] {
            let line = format!(
                "circuit_breaker_transitions_total{{name=\"call_service_b\",from=\"{from}\",to=\"{to}\"}} {count}\n"
            );
            assert!(text.contains(&line), "missing {line:?} in\n{text}");
        }
        assert_eq!(
            text.matches("circuit_breaker_transitions_total{").count(),
            20
        );
    }
}
