//! Durations on the command line: human strings (`250ms`, `10s`, `1m 30s`), bounded.
//!
//! Every duration flag of both services goes through [`parse`] or [`parse_positive`], so none
//! accepts a value that would overflow a deadline or read as nonsense (`999999999999s`): the
//! longest is [`MAX`], one day, the same bound service B's `/mode` puts on an outage.
//!
//! ```
//! use service_kit::duration::{parse, parse_positive};
//! use std::time::Duration;
//!
//! assert_eq!(parse("1m 30s"), Ok(Duration::from_secs(90)));
//! assert_eq!(parse("0ms"), Ok(Duration::ZERO));
//! assert_eq!(
//!     parse_positive("0ms"),
//!     Err("must be longer than zero and at most 1day (got 0s)".to_owned())
//! );
//! assert!(parse("2 days").unwrap_err().contains("at most 1day"));
//! assert_eq!(
//!     parse("-1s"),
//!     Err(r#"must be a duration from 0s to 1day, such as 250ms or 1m 30s (got "-1s")"#.to_owned())
//! );
//! ```

use std::time::Duration;

/// The longest duration any flag accepts: one day.
pub const MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// A human duration from zero to [`MAX`].
///
/// # Errors
///
/// A message for clap to show beside the flag's name, with the range: unparsable (a negative
/// number included), or longer than [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    read(
        text,
        &format!("from 0s to {}", humantime::format_duration(MAX)),
    )
}

/// [`parse`], refusing zero too: for timeouts, where zero would fail every call before it
/// started.
///
/// # Errors
///
/// As [`parse`], or zero.
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    let range = format!(
        "longer than zero and at most {}",
        humantime::format_duration(MAX)
    );
    let duration = read(text, &range)?;
    if duration.is_zero() {
        return Err(format!("must be {range} (got 0s)"));
    }
    Ok(duration)
}

/// `text` as a duration at most [`MAX`]; `range` is what the refusal of an unparsable one says
/// the flag accepts.
fn read(text: &str, range: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|_| {
        format!("must be a duration {range}, such as 250ms or 1m 30s (got {text:?})")
    })?;
    if duration > MAX {
        return Err(format!(
            "must be at most {} (got {})",
            humantime::format_duration(MAX),
            humantime::format_duration(duration)
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_day_is_accepted_and_a_millisecond_more_is_not() {
        assert_eq!(parse("1day"), Ok(MAX));
        assert_eq!(parse("24h"), Ok(MAX));
        assert_eq!(
            parse("24h 1ms"),
            Err("must be at most 1day (got 1day 1ms)".to_owned())
        );
    }

    #[test]
    fn absurd_and_unparsable_values_are_refused_without_panicking() {
        assert!(parse("999999999999s").is_err());
        assert!(parse("18446744073709551615s").is_err());
        assert!(parse("soon").is_err());
        assert!(parse("").is_err());
        assert!(parse("-1s").is_err());
        assert_eq!(
            parse_positive("-5"),
            Err(
                r#"must be a duration longer than zero and at most 1day, such as 250ms or 1m 30s (got "-5")"#
                    .to_owned()
            )
        );
    }

    #[test]
    fn zero_is_a_duration_but_not_a_timeout() {
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert!(parse_positive("0s").is_err());
        assert_eq!(parse_positive("1ms"), Ok(Duration::from_millis(1)));
    }
}
