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

/// The query of `/api`. Other parameters are ignored, as in the article.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiQuery {
    fail: Option<String>,
}

/// How one `/api` call will be answered: after how long, and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) wait: Duration,
    pub(crate) fails: bool,
}

/// Decides a call from the mode in force when it arrived; a pure function so every
/// combination is tested without a runtime.
///
/// `slow` adds its delay in front of the normal behaviour, so `fail=true` in `slow` waits the
/// mode's delay plus `fail_delay`.
pub(crate) fn plan(setting: ModeSetting, fail_requested: bool, fail_delay: Duration) -> Plan {
    let normal = if fail_requested {
        Plan {
            wait: fail_delay,
            fails: true,
        }
    } else {
        Plan {
            wait: Duration::ZERO,
            fails: false,
        }
    };
    match setting.mode() {
        Mode::Healthy => normal,
        Mode::Fail => Plan {
            wait: setting.delay(),
            fails: true,
        },
        Mode::Slow => Plan {
            wait: setting.delay().saturating_add(normal.wait),
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
    let plan = plan(setting, fail_requested, state.fail_delay());
    if !plan.wait.is_zero() {
        tokio::time::sleep(plan.wait).await;
    }
    if plan.fails {
        (StatusCode::INTERNAL_SERVER_ERROR, FAILURE_BODY)
    } else {
        (StatusCode::OK, SUCCESS_BODY)
    }
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

    #[test]
    fn healthy_fails_only_on_request_after_the_fail_delay() {
        let healthy = setting(Mode::Healthy);
        assert_eq!(
            plan(healthy, false, FAIL_DELAY),
            Plan {
                wait: Duration::ZERO,
                fails: false
            }
        );
        assert_eq!(
            plan(healthy, true, FAIL_DELAY),
            Plan {
                wait: FAIL_DELAY,
                fails: true
            }
        );
    }

    #[test]
    fn fail_mode_fails_every_call_after_its_own_delay() {
        for fail_requested in [false, true] {
            assert_eq!(
                plan(setting(Mode::Fail), fail_requested, FAIL_DELAY),
                Plan {
                    wait: MODE_DELAY,
                    fails: true
                }
            );
        }
    }

    #[test]
    fn slow_mode_delays_then_behaves_normally() {
        let slow = setting(Mode::Slow);
        assert_eq!(
            plan(slow, false, FAIL_DELAY),
            Plan {
                wait: MODE_DELAY,
                fails: false
            }
        );
        assert_eq!(
            plan(slow, true, FAIL_DELAY),
            Plan {
                wait: MODE_DELAY + FAIL_DELAY,
                fails: true
            }
        );
    }
}
