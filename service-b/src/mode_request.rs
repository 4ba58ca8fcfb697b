//! The JSON body of `POST /mode`, and its translation into a checked [`ModeSetting`].

use service_kit::fallback::echo;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::capacity::{self, Capacity, CapacityError, MAX_CONCURRENCY, MAX_QUEUE};
use crate::mode::{Mode, ModeError, ModeSetting};

/// `{"mode": "healthy" | "fail" | "slow" | "flaky" | "capacity", "for": "30s", "delay": "2s",
/// "failure_rate": 0.1, "concurrency": 8, "service_time": "20ms", "queue": 64}`; `for` and
/// `delay` are optional human durations, `failure_rate` (a number from 0 to 1) is required by
/// `flaky` and refused by the others; `concurrency` (1 to 10,000) and `service_time` (a human
/// duration) are required by `capacity`, `queue` (0 to 100,000) is optional there with 0 as
/// default, and all three are refused by the others.
///
/// Fields arrive as strings (or any JSON value, for the numbers) so that a bad value yields a
/// message naming the field, rather than serde's generic one. Unknown fields are refused, since
/// a typo such as `"duration"` would otherwise be silently ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeRequest {
    /// `healthy`, `fail`, `slow` or `flaky`.
    pub mode: String,
    /// How long the mode lasts before reverting to `healthy`.
    #[serde(rename = "for")]
    pub lasts: Option<String>,
    /// How long each `/api` call waits; defaults to `--fail-delay`.
    pub delay: Option<String>,
    /// In `flaky`: the probability that a call answers 503.
    pub failure_rate: Option<Value>,
    /// In `capacity`: how many calls are served at once.
    pub concurrency: Option<Value>,
    /// In `capacity`: how long each call holds its slot.
    pub service_time: Option<String>,
    /// In `capacity`: how many calls may wait for a slot.
    pub queue: Option<Value>,
}

impl ModeRequest {
    /// Parses and checks every field; `default_delay` is `--fail-delay`.
    pub fn validate(&self, default_delay: Duration) -> Result<ModeSetting, ModeError> {
        let mode: Mode = self.mode.parse()?;
        let delay = self
            .delay
            .as_deref()
            .map(|text| parse("delay", text))
            .transpose()?;
        let lasts = self
            .lasts
            .as_deref()
            .map(|text| parse("for", text))
            .transpose()?;
        if mode == Mode::Capacity {
            return self.capacity(delay, lasts);
        }
        refuse_in(mode, "concurrency", self.concurrency.is_some())?;
        refuse_in(mode, "service_time", self.service_time.is_some())?;
        refuse_in(mode, "queue", self.queue.is_some())?;
        if mode != Mode::Flaky {
            refuse_in(mode, "failure_rate", self.failure_rate.is_some())?;
            return ModeSetting::new(mode, delay, default_delay, lasts);
        }
        refuse_in(mode, "delay", delay.is_some())?;
        let rate = self
            .failure_rate
            .as_ref()
            .ok_or(ModeError::MissingFailureRate)?;
        let rate = rate
            .as_f64()
            .ok_or_else(|| ModeError::BadFailureRate(echo(&rate.to_string()).into_owned()))?;
        ModeSetting::flaky(rate, lasts)
    }

    fn capacity(
        &self,
        delay: Option<Duration>,
        lasts: Option<Duration>,
    ) -> Result<ModeSetting, ModeError> {
        refuse_in(Mode::Capacity, "delay", delay.is_some())?;
        refuse_in(Mode::Capacity, "failure_rate", self.failure_rate.is_some())?;
        let concurrency = self
            .concurrency
            .as_ref()
            .ok_or(CapacityError::Missing("concurrency"))?;
        let concurrency = capacity::whole_number("concurrency", concurrency, 1, MAX_CONCURRENCY)?;
        let service_time = self
            .service_time
            .as_deref()
            .ok_or(CapacityError::Missing("service_time"))?;
        let service_time = parse("service_time", service_time)?;
        let queue = self
            .queue
            .as_ref()
            .map(|queue| capacity::whole_number("queue", queue, 0, MAX_QUEUE))
            .transpose()?
            .unwrap_or(0);
        ModeSetting::capacity(Capacity::new(concurrency, service_time, queue)?, lasts)
    }
}

/// Refuses `field` when `given`, since `mode` would silently ignore it.
fn refuse_in(mode: Mode, field: &'static str, given: bool) -> Result<(), ModeError> {
    if given {
        return Err(ModeError::DoesNotApply { field, mode });
    }
    Ok(())
}

fn parse(field: &'static str, text: &str) -> Result<Duration, ModeError> {
    humantime::parse_duration(text).map_err(|err| ModeError::Unparsable {
        field,
        value: echo(text).into_owned(),
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::Mode;

    const TWO_S: Duration = Duration::from_secs(2);

    fn request(json: &str) -> ModeRequest {
        serde_json::from_str(json).expect("well-formed request")
    }

    #[test]
    fn full_request_parses_every_field() {
        let setting = request(r#"{"mode":"slow","for":"30s","delay":"250ms"}"#)
            .validate(TWO_S)
            .expect("valid");
        assert_eq!(setting.mode(), Mode::Slow);
        assert_eq!(setting.delay(), Duration::from_millis(250));
        assert_eq!(setting.lasts(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn minimal_request_uses_the_fail_delay_and_never_expires() {
        let setting = request(r#"{"mode":"fail"}"#)
            .validate(TWO_S)
            .expect("valid");
        assert_eq!(setting.delay(), TWO_S);
        assert_eq!(setting.lasts(), None);
    }

    #[test]
    fn unparsable_durations_are_refused_naming_the_field() {
        let err = request(r#"{"mode":"fail","for":"soon"}"#)
            .validate(TWO_S)
            .expect_err("bad");
        assert!(
            err.to_string().starts_with("`for` must be a duration"),
            "{err}"
        );
        let err = request(r#"{"mode":"fail","delay":"2 parsecs"}"#)
            .validate(TWO_S)
            .expect_err("bad");
        assert!(
            err.to_string().starts_with("`delay` must be a duration"),
            "{err}"
        );
    }

    #[test]
    fn unknown_mode_is_refused_naming_the_field() {
        let err = request(r#"{"mode":"broken"}"#)
            .validate(TWO_S)
            .expect_err("bad");
        assert_eq!(
            err.to_string(),
            r#"`mode` must be one of healthy, fail, slow, flaky, capacity (got "broken")"#
        );
    }

    #[test]
    fn flaky_needs_a_failure_rate_from_0_to_1_and_takes_no_delay() {
        let setting = request(r#"{"mode":"flaky","failure_rate":0.1,"for":"1m"}"#)
            .validate(TWO_S)
            .expect("valid");
        assert_eq!(setting.mode(), Mode::Flaky);
        assert_eq!(setting.failure_rate(), 0.1);
        assert_eq!(setting.lasts(), Some(Duration::from_secs(60)));

        for (body, message) in [
            (
                r#"{"mode":"flaky"}"#,
                "`failure_rate` is required in mode flaky",
            ),
            (
                r#"{"mode":"flaky","failure_rate":"0.1"}"#,
                r#"`failure_rate` must be a number from 0 to 1 (got "0.1")"#,
            ),
            (
                r#"{"mode":"flaky","failure_rate":1.5}"#,
                "`failure_rate` must be a number from 0 to 1 (got 1.5)",
            ),
            (
                r#"{"mode":"flaky","failure_rate":0.1,"delay":"1s"}"#,
                "`delay` does not apply to mode flaky",
            ),
            (
                r#"{"mode":"fail","failure_rate":0.1}"#,
                "`failure_rate` does not apply to mode fail",
            ),
        ] {
            let err = request(body).validate(TWO_S).expect_err(body);
            assert!(err.to_string().starts_with(message), "{body}: {err}");
        }
    }

    #[test]
    fn capacity_takes_concurrency_service_time_and_an_optional_queue() {
        let setting = request(
            r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","queue":64,"for":"20s"}"#,
        )
        .validate(TWO_S)
        .expect("valid");
        assert_eq!(setting.mode(), Mode::Capacity);
        let limits = setting.limits().expect("capacity");
        assert_eq!(limits.concurrency(), 8);
        assert_eq!(limits.service_time(), Duration::from_millis(20));
        assert_eq!(limits.queue(), 64);
        assert_eq!(setting.lasts(), Some(Duration::from_secs(20)));

        let no_queue = request(r#"{"mode":"capacity","concurrency":1,"service_time":"0ms"}"#)
            .validate(TWO_S)
            .expect("valid");
        assert_eq!(no_queue.limits().map(|limits| limits.queue()), Some(0));
    }

    #[test]
    fn bad_capacity_bodies_are_refused_naming_the_field() {
        for (body, message) in [
            (
                r#"{"mode":"capacity","service_time":"20ms"}"#,
                "`concurrency` is required in mode capacity",
            ),
            (
                r#"{"mode":"capacity","concurrency":8}"#,
                "`service_time` is required in mode capacity",
            ),
            (
                r#"{"mode":"capacity","concurrency":0,"service_time":"20ms"}"#,
                "`concurrency` must be a whole number from 1 to 10000 (got 0)",
            ),
            (
                r#"{"mode":"capacity","concurrency":"8","service_time":"20ms"}"#,
                r#"`concurrency` must be a whole number from 1 to 10000 (got "8")"#,
            ),
            (
                r#"{"mode":"capacity","concurrency":10001,"service_time":"20ms"}"#,
                "`concurrency` must be a whole number from 1 to 10000 (got 10001)",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","queue":-1}"#,
                "`queue` must be a whole number from 0 to 100000 (got -1)",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","queue":100001}"#,
                "`queue` must be a whole number from 0 to 100000 (got 100001)",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"soon"}"#,
                "`service_time` must be a duration",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"2days"}"#,
                "`service_time` must be at most 1day",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","for":"0s"}"#,
                "`for` must be greater than zero",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","delay":"1s"}"#,
                "`delay` does not apply to mode capacity",
            ),
            (
                r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","failure_rate":0.1}"#,
                "`failure_rate` does not apply to mode capacity",
            ),
            (
                r#"{"mode":"slow","queue":8}"#,
                "`queue` does not apply to mode slow",
            ),
            (
                r#"{"mode":"healthy","concurrency":8}"#,
                "`concurrency` does not apply to mode healthy",
            ),
            (
                r#"{"mode":"flaky","failure_rate":0.1,"service_time":"1s"}"#,
                "`service_time` does not apply to mode flaky",
            ),
        ] {
            let err = request(body).validate(TWO_S).expect_err(body);
            assert!(err.to_string().starts_with(message), "{body}: {err}");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<ModeRequest>(r#"{"mode":"fail","duration":"30s"}"#)
            .expect_err("typo");
        assert!(
            err.to_string().contains("unknown field `duration`"),
            "{err}"
        );
    }
}
