//! `GET /api`: the article's unreliable endpoint, bent by the outage mode.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tokio::time::Instant;

use crate::mode::{Mode, ModeSetting};
use crate::state::AppState;
use service_kit::strict_query::StrictQuery;

/// The article's success body.
pub const SUCCESS_BODY: &str = "Service B: Success";
/// The article's failure body, sent with status 500.
pub const FAILURE_BODY: &str = "Service B: Internal Error";
/// The body of a `flaky` call's transient failure, sent with status 503.
pub const UNAVAILABLE_BODY: &str = "Service B: Unavailable";
/// The body of a `capacity` call refused because every slot and the queue were full, sent
/// with status 503.
pub const OVERLOADED_BODY: &str = "Service B: Overloaded";

/// The query of `/api`. Other parameters are ignored, as in the article.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiQuery {
    fail: Option<String>,
}

/// What one `/api` call answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 200 [`SUCCESS_BODY`].
    Success,
    /// 500 [`FAILURE_BODY`].
    InternalError,
    /// 503 [`UNAVAILABLE_BODY`].
    Unavailable,
    /// 503 [`OVERLOADED_BODY`].
    Overloaded,
}

impl Answer {
    fn response(self) -> (StatusCode, &'static str) {
        match self {
            Answer::Success => (StatusCode::OK, SUCCESS_BODY),
            Answer::InternalError => (StatusCode::INTERNAL_SERVER_ERROR, FAILURE_BODY),
            Answer::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_BODY),
            Answer::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, OVERLOADED_BODY),
        }
    }
}

/// How one `/api` call will be answered: after how long, and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) wait: Duration,
    pub(crate) answer: Answer,
}

/// Decides a call from the mode in force when it arrived; a pure function of its arguments
/// (the randomness comes in through `draw`, a number in [0, 1) read only in `flaky`), so every
/// combination is tested without a runtime.
///
/// `slow` adds its delay in front of the normal behaviour, so `fail=true` in `slow` waits the
/// mode's delay plus `fail_delay`; `capacity` adds its service time the same way (the call
/// holds its slot for the whole wait; admission is the gate's, in [`api`]).
pub(crate) fn plan(
    setting: ModeSetting,
    fail_requested: bool,
    fail_delay: Duration,
    draw: impl FnOnce() -> f64,
) -> Plan {
    let normal = if fail_requested {
        Plan {
            wait: fail_delay,
            answer: Answer::InternalError,
        }
    } else {
        Plan {
            wait: Duration::ZERO,
            answer: Answer::Success,
        }
    };
    match setting.mode() {
        Mode::Healthy => normal,
        Mode::Fail => Plan {
            wait: setting.delay(),
            answer: Answer::InternalError,
        },
        Mode::Slow => Plan {
            wait: setting.delay().saturating_add(normal.wait),
            ..normal
        },
        // `draw() < rate` is never true at 0 and always at 1, since draws are below 1.
        Mode::Flaky if draw() < setting.failure_rate() => Plan {
            wait: Duration::ZERO,
            answer: Answer::Unavailable,
        },
        Mode::Flaky => normal,
        Mode::Capacity => Plan {
            wait: setting
                .limits()
                .map_or(Duration::ZERO, |limits| limits.service_time())
                .saturating_add(normal.wait),
            ..normal
        },
    }
}

/// Only the exact text `true` asks for a failure, like the article's `== 'true'`.
pub(crate) async fn api(
    State(state): State<AppState>,
    StrictQuery(query): StrictQuery<ApiQuery>,
) -> (StatusCode, &'static str) {
    let fail_requested = query.fail.as_deref() == Some("true");
    // The mode is read once, on arrival: a change during the wait does not alter this call.
    let setting = state.mode().current(Instant::now());
    // In `capacity`, the call waits for a slot first and holds it until answered; a full
    // queue refuses it at once.
    let _slot = match setting.limits() {
        Some(limits) => match state
            .capacity_gate(limits)
            .enter(state.stats().capacity())
            .await
        {
            Ok(slot) => Some(slot),
            Err(_) => return Answer::Overloaded.response(),
        },
        None => None,
    };
    let plan = plan(setting, fail_requested, state.fail_delay(), || {
        state.random_fraction()
    });
    if !plan.wait.is_zero() {
        tokio::time::sleep(plan.wait).await;
    }
    plan.answer.response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAIL_DELAY: Duration = Duration::from_secs(2);
    const MODE_DELAY: Duration = Duration::from_millis(500);

    fn setting(mode: Mode) -> ModeSetting {
        if mode == Mode::Healthy {
            return ModeSetting::healthy();
        }
        ModeSetting::new(mode, Some(MODE_DELAY), FAIL_DELAY, None).expect("valid")
    }

    fn no_draw() -> f64 {
        panic!("only flaky draws")
    }

    fn plan_of(setting: ModeSetting, fail_requested: bool) -> Plan {
        plan(setting, fail_requested, FAIL_DELAY, no_draw)
    }

    #[test]
    fn healthy_fails_only_on_request_after_the_fail_delay() {
        let healthy = setting(Mode::Healthy);
        assert_eq!(
            plan_of(healthy, false),
            Plan {
                wait: Duration::ZERO,
                answer: Answer::Success
            }
        );
        assert_eq!(
            plan_of(healthy, true),
            Plan {
                wait: FAIL_DELAY,
                answer: Answer::InternalError
            }
        );
    }

    #[test]
    fn fail_mode_fails_every_call_after_its_own_delay() {
        for fail_requested in [false, true] {
            assert_eq!(
                plan_of(setting(Mode::Fail), fail_requested),
                Plan {
                    wait: MODE_DELAY,
                    answer: Answer::InternalError
                }
            );
        }
    }

    #[test]
    fn slow_mode_delays_then_behaves_normally() {
        let slow = setting(Mode::Slow);
        assert_eq!(
            plan_of(slow, false),
            Plan {
                wait: MODE_DELAY,
                answer: Answer::Success
            }
        );
        assert_eq!(
            plan_of(slow, true),
            Plan {
                wait: MODE_DELAY + FAIL_DELAY,
                answer: Answer::InternalError
            }
        );
    }

    #[test]
    fn capacity_adds_its_service_time_in_front_of_the_normal_behaviour() {
        let limits = crate::capacity::Capacity::new(8, MODE_DELAY, 64).expect("valid");
        let capacity = ModeSetting::capacity(limits, None).expect("valid");
        assert_eq!(
            plan_of(capacity, false),
            Plan {
                wait: MODE_DELAY,
                answer: Answer::Success
            }
        );
        assert_eq!(
            plan_of(capacity, true),
            Plan {
                wait: MODE_DELAY + FAIL_DELAY,
                answer: Answer::InternalError
            }
        );
    }

    #[test]
    fn flaky_answers_503_at_once_when_the_draw_is_below_the_rate_else_as_healthy() {
        let flaky = ModeSetting::flaky(0.1, None).expect("valid");
        let unavailable = Plan {
            wait: Duration::ZERO,
            answer: Answer::Unavailable,
        };
        assert_eq!(plan(flaky, false, FAIL_DELAY, || 0.0), unavailable);
        assert_eq!(plan(flaky, true, FAIL_DELAY, || 0.099), unavailable);
        assert_eq!(
            plan(flaky, false, FAIL_DELAY, || 0.1),
            plan_of(ModeSetting::healthy(), false)
        );
        assert_eq!(
            plan(flaky, true, FAIL_DELAY, || 0.5),
            plan_of(ModeSetting::healthy(), true)
        );

        let always = ModeSetting::flaky(1.0, None).expect("valid");
        let never = ModeSetting::flaky(0.0, None).expect("valid");
        for draw in [0.0, 0.5, 0.999_999] {
            assert_eq!(plan(always, false, FAIL_DELAY, || draw), unavailable);
            assert_eq!(
                plan(never, false, FAIL_DELAY, || draw).answer,
                Answer::Success
            );
        }
    }
}
