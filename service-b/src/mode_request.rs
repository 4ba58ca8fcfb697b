//! The JSON body of `POST /mode`, and its translation into a checked [`ModeSetting`].

use std::time::Duration;

use serde::Deserialize;

use crate::mode::{ModeError, ModeSetting};

/// `{"mode": "healthy" | "fail" | "slow", "for": "30s", "delay": "2s"}`; `for` and `delay` are
/// optional human durations.
///
/// Fields arrive as strings so that a bad value yields a message naming the field, rather than
/// serde's generic one. Unknown fields are refused, since a typo such as `"duration"` would
/// otherwise be silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeRequest {
    /// `healthy`, `fail` or `slow`.
    pub mode: String,
    /// How long the mode lasts before reverting to `healthy`.
    #[serde(rename = "for")]
    pub lasts: Option<String>,
    /// How long each `/api` call waits; defaults to `--fail-delay`.
    pub delay: Option<String>,
}

impl ModeRequest {
    /// Parses and checks every field; `default_delay` is `--fail-delay`.
    pub fn validate(&self, default_delay: Duration) -> Result<ModeSetting, ModeError> {
        let mode = self.mode.parse()?;
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
        ModeSetting::new(mode, delay, default_delay, lasts)
    }
}

fn parse(field: &'static str, text: &str) -> Result<Duration, ModeError> {
    humantime::parse_duration(text).map_err(|err| ModeError::Unparsable {
        field,
        value: text.to_owned(),
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
            r#"`mode` must be one of healthy, fail, slow (got "broken")"#
        );
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
