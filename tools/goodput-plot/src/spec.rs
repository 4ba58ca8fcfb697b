//! What to draw: the JSON `scripts/overload.sh` writes, checked once before any drawing.
//!
//! ```json
//! {"title": "...", "rate": 194, "degraded": {"from": 8, "to": 28, "capacity": 97.2},
//!  "rows": [{"label": "no protection", "goodput": [194, 194, 120, ...]}, ...]}
//! ```
//! `goodput` is one number a second from the start of the load (answers 2xx of the requests
//! due in that second); `rate` the requests sent a second; `degraded` the seconds during which
//! B served only `capacity` calls a second.

use serde::Deserialize;

/// The most rows one figure holds.
pub(crate) const MAX_ROWS: usize = 12;
/// The most seconds one row may cover: an hour.
pub(crate) const MAX_SECONDS: usize = 3_600;
/// The longest label or title, in characters.
pub(crate) const MAX_TEXT: usize = 200;

/// A checked figure.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Spec {
    pub(crate) title: String,
    pub(crate) rate: f64,
    pub(crate) degraded: Degraded,
    pub(crate) rows: Vec<Row>,
}

/// When B was degraded, and what it could serve then.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Degraded {
    pub(crate) from: f64,
    pub(crate) to: f64,
    pub(crate) capacity: f64,
}

/// One row of the experiment: its name and its goodput second by second.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Row {
    pub(crate) label: String,
    pub(crate) goodput: Vec<f64>,
}

/// Why a spec was refused; each message names the field.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpecError {
    #[error("not the JSON of a plot: {0}")]
    Json(#[from] serde_json::Error),
    #[error("`rows` must hold 1 to {MAX_ROWS} rows (got {0})")]
    Rows(usize),
    #[error("`rows[{0}].goodput` must hold 1 to {MAX_SECONDS} seconds (got {1})")]
    Seconds(usize, usize),
    #[error("`{0}` must be a finite number, 0 or more (got {1})")]
    Number(String, f64),
    #[error("`{0}` must be at most {MAX_TEXT} characters")]
    Text(String),
    #[error("`degraded.from` ({0}) must come before `degraded.to` ({1})")]
    Period(f64, f64),
    #[error("`rate` must be above 0")]
    Rate,
}

impl Spec {
    /// Reads and checks a spec.
    pub(crate) fn parse(json: &str) -> Result<Self, SpecError> {
        let spec: Spec = serde_json::from_str(json)?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), SpecError> {
        if self.rows.is_empty() || self.rows.len() > MAX_ROWS {
            return Err(SpecError::Rows(self.rows.len()));
        }
        text("title", &self.title)?;
        number("rate", self.rate)?;
        if self.rate == 0.0 {
            return Err(SpecError::Rate);
        }
        number("degraded.from", self.degraded.from)?;
        number("degraded.to", self.degraded.to)?;
        number("degraded.capacity", self.degraded.capacity)?;
        if self.degraded.from >= self.degraded.to {
            return Err(SpecError::Period(self.degraded.from, self.degraded.to));
        }
        for (i, row) in self.rows.iter().enumerate() {
            text(&format!("rows[{i}].label"), &row.label)?;
            if row.goodput.is_empty() || row.goodput.len() > MAX_SECONDS {
                return Err(SpecError::Seconds(i, row.goodput.len()));
            }
            for (second, value) in row.goodput.iter().enumerate() {
                number(&format!("rows[{i}].goodput[{second}]"), *value)?;
            }
        }
        Ok(())
    }

    /// The seconds the x axis covers: the longest row, and the whole degraded period.
    pub(crate) fn seconds(&self) -> f64 {
        let longest = self.rows.iter().map(|row| row.goodput.len()).max();
        (longest.unwrap_or(0) as f64).max(self.degraded.to)
    }

    /// The top of the y axis: a little above the rate or the highest goodput, whichever is
    /// higher, so that neither line runs along the frame.
    pub(crate) fn ceiling(&self) -> f64 {
        let highest = self
            .rows
            .iter()
            .flat_map(|row| row.goodput.iter().copied())
            .fold(self.rate, f64::max);
        highest * 1.15
    }
}

fn number(field: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(SpecError::Number(field.to_owned(), value))
    }
}

fn text(field: &str, value: &str) -> Result<(), SpecError> {
    if value.chars().count() <= MAX_TEXT {
        Ok(())
    } else {
        Err(SpecError::Text(field.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rows: &str) -> String {
        format!(
            r#"{{"title":"t","rate":200,"degraded":{{"from":2,"to":4,"capacity":100}},"rows":{rows}}}"#
        )
    }

    #[test]
    fn a_valid_spec_gives_the_axes_from_its_rows_and_rate() {
        let spec = Spec::parse(&spec(r#"[{"label":"a","goodput":[200,250,90]}]"#)).expect("valid");
        assert_eq!(spec.rows[0].goodput, [200.0, 250.0, 90.0]);
        assert_eq!(spec.seconds(), 4.0, "the degraded period outlasts the row");
        assert!((spec.ceiling() - 250.0 * 1.15).abs() < 1e-9);
    }

    #[test]
    fn a_spec_without_rows_or_with_too_many_is_refused() {
        let err = Spec::parse(&spec("[]")).expect_err("no row");
        assert_eq!(err.to_string(), "`rows` must hold 1 to 12 rows (got 0)");
        let many = format!("[{}]", vec![r#"{"label":"a","goodput":[1]}"#; 13].join(","));
        assert!(matches!(
            Spec::parse(&spec(&many)),
            Err(SpecError::Rows(13))
        ));
    }

    #[test]
    fn each_bad_number_is_named_by_its_field() {
        let err = Spec::parse(&spec(r#"[{"label":"a","goodput":[1,-2]}]"#)).expect_err("negative");
        assert_eq!(
            err.to_string(),
            "`rows[0].goodput[1]` must be a finite number, 0 or more (got -2)"
        );
        let err = Spec::parse(&spec(r#"[{"label":"a","goodput":[]}]"#)).expect_err("empty");
        assert!(
            err.to_string().starts_with("`rows[0].goodput` must hold"),
            "{err}"
        );
        let json = r#"{"title":"t","rate":0,"degraded":{"from":2,"to":4,"capacity":1},"rows":[{"label":"a","goodput":[1]}]}"#;
        assert_eq!(
            Spec::parse(json).expect_err("rate 0").to_string(),
            "`rate` must be above 0"
        );
    }

    #[test]
    fn a_period_that_ends_before_it_starts_is_refused() {
        let json = r#"{"title":"t","rate":1,"degraded":{"from":4,"to":4,"capacity":1},"rows":[{"label":"a","goodput":[1]}]}"#;
        assert!(matches!(Spec::parse(json), Err(SpecError::Period(..))));
    }

    #[test]
    fn unknown_fields_and_long_labels_are_refused() {
        let json = r#"{"title":"t","rate":1,"degraded":{"from":1,"to":2,"capacity":1},"rows":[],"extra":1}"#;
        assert!(matches!(Spec::parse(json), Err(SpecError::Json(_))));
        let long = format!(r#"[{{"label":"{}","goodput":[1]}}]"#, "x".repeat(201));
        let err = Spec::parse(&spec(&long)).expect_err("long label");
        assert_eq!(
            err.to_string(),
            "`rows[0].label` must be at most 200 characters"
        );
    }
}
