//! The JSON body of `POST /mode`, and its translation into a checked [`ModeSetting`].

use service_kit::fallback::echo;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::mode::{Mode, ModeError, ModeSetting};

/// `{"mode": "healthy" | "fail" | "slow" | "flaky", "for": "30s", "delay": "2s",
/// "failure_rate": 0.1}`; `for` and `delay` are optional human durations, `failure_rate` (a
/// number from 0 to 1) is required by `flaky` and refused by the others.
///
/// Fields arrive as strings (or any JSON value, for `failure_rate`) so that a bad value yields a
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
        if mode != Mode::Flaky {
            if self.failure_rate.is_some() {
                return Err(ModeError::DoesNotApply {
                    field: "failure_rate",
                    mode,
                });
            }
            return ModeSetting::new(mode, delay, default_delay, lasts);
        }
        if delay.is_some() {
            return Err(ModeError::DoesNotApply {
                field: "delay",
                mode,
            });
        }
        let rate = self
            .failure_rate
            .as_ref()
            .ok_or(ModeError::MissingFailureRate)?;
        let rate = rate
            .as_f64()
            .ok_or_else(|| ModeError::BadFailureRate(echo(&rate.to_string()).into_owned()))?;
        ModeSetting::flaky(rate, lasts)
    }
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
            r#"`mode` must be one of healthy, fail, slow, flaky (got "broken")"#
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
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<ModeRequest>(r#"{"mode":"fail","duration":"30s"}"#)
            .expect_err("typo");
        assert!(
            err.to_string().contains("unknown field `duration`"),
            "{err}"
        );
    }
}
