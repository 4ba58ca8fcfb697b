//! The value types of service A's client flags, and their parsers for clap: whole percentages,
//! bounded counts, and values that may be `none` to turn a feature off.
//!
//! Durations go through [`service_kit::duration`], which bounds them at one day.

use std::fmt;
use std::str::FromStr;

pub use service_kit::flag::count_in;

/// A flag value that may also be `none`: `--call-deadline none`, `--max-concurrent none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrNone<T> {
    /// `none`: the feature is off.
    None,
    /// A value: the feature is on.
    Some(T),
}

impl<T> OrNone<T> {
    /// The value, if the feature is on.
    pub fn into_option(self) -> Option<T> {
        match self {
            OrNone::None => None,
            OrNone::Some(value) => Some(value),
        }
    }
}

/// A flag's value if it was given (`none` included), else `default`.
pub fn given_or<T>(flag: Option<OrNone<T>>, default: Option<T>) -> Option<T> {
    flag.map_or(default, OrNone::into_option)
}

impl<T> From<Option<T>> for OrNone<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(OrNone::None, OrNone::Some)
    }
}

/// A parser for clap that accepts `none` or whatever `parse` accepts.
pub fn or_none<T, P>(
    parse: P,
) -> impl Fn(&str) -> Result<OrNone<T>, String> + Clone + Send + Sync + 'static
where
    P: Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static,
{
    move |text| match text {
        "none" => Ok(OrNone::None),
        _ => parse(text)
            .map(OrNone::Some)
            .map_err(|reason| format!("{reason}, or none")),
    }
}

/// `--max-concurrent`'s value other than `none`: a fixed number of calls, or `adaptive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxConcurrent {
    /// At most this many calls in flight.
    Fixed(usize),
    /// A limit learned from B's latency.
    Adaptive,
}

/// A parser for clap that accepts `adaptive` or a number `fixed` accepts.
pub fn fixed_or_adaptive<P>(
    fixed: P,
) -> impl Fn(&str) -> Result<MaxConcurrent, String> + Clone + Send + Sync + 'static
where
    P: Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static,
{
    move |text| match text {
        "adaptive" => Ok(MaxConcurrent::Adaptive),
        _ => fixed(text)
            .map(MaxConcurrent::Fixed)
            .map_err(|reason| format!("{reason}, adaptive")),
    }
}

/// A whole percentage from 0 to 100, written `20%` (the sign may be left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Percent(u8);

impl Percent {
    /// `percent`, if it is at most 100.
    pub const fn new(percent: u8) -> Option<Self> {
        if percent <= 100 {
            Some(Self(percent))
        } else {
            None
        }
    }

    /// The percentage, 0 to 100.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The percentage as the breaker takes it, 0.0 to 100.0.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0)
    }

    /// The fraction, 0.0 to 1.0.
    pub fn fraction(self) -> f32 {
        f32::from(self.0) / 100.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl FromStr for Percent {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_suffix('%').unwrap_or(text);
        digits
            .parse::<u8>()
            .ok()
            .and_then(Percent::new)
            .ok_or_else(|| format!("must be a whole percentage from 0% to 100% (got {text:?})"))
    }
}

/// [`Percent`]'s parser, as a function for [`or_none`].
pub fn percent(text: &str) -> Result<Percent, String> {
    text.parse()
}

/// A decimal number from the command line (`1.5`, `0.9`), always finite, so that it compares as
/// a whole (`Eq`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
#[serde(transparent)]
pub struct Decimal(f64);

// Never NaN: every constructor refuses a number that is not finite.
impl Eq for Decimal {}

impl Decimal {
    /// `value`, if it is finite.
    pub const fn new(value: f64) -> Option<Self> {
        if value.is_finite() {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A parser for clap that accepts a decimal number from `min` to `max` (`1.5`).
pub fn decimal_in(
    min: Decimal,
    max: Decimal,
) -> impl Fn(&str) -> Result<Decimal, String> + Clone + Send + Sync + 'static {
    move |text| {
        text.parse::<f64>()
            .ok()
            .and_then(Decimal::new)
            .filter(|value| (min..=max).contains(value))
            .ok_or_else(|| {
                format!("must be a number from {min} to {max}, such as 2 or 1.5 (got {text:?})")
            })
    }
}

/// A parser for clap that accepts a probability from 0 up to, not including, 1 (`0.9`).
pub fn probability_below_one(text: &str) -> Result<Decimal, String> {
    text.parse::<f64>()
        .ok()
        .and_then(Decimal::new)
        .filter(|value| (0.0..1.0).contains(&value.0))
        .ok_or_else(|| format!("must be a number from 0 up to, not including, 1 (got {text:?})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_whole_from_0_to_100_with_or_without_the_sign() {
        assert_eq!(percent("20%").map(Percent::get), Ok(20));
        assert_eq!(percent("50").map(Percent::get), Ok(50));
        assert_eq!(percent("0%").map(Percent::get), Ok(0));
        assert_eq!(percent("100%").map(Percent::get), Ok(100));
        for bad in ["101%", "-1%", "2.5%", "%", "", "twenty"] {
            assert!(percent(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Percent::new(20).map(|p| p.to_string()).as_deref(),
            Some("20%")
        );
        assert_eq!(Percent::new(20).map(Percent::fraction), Some(0.2));
    }

    #[test]
    fn a_limit_is_a_number_adaptive_or_none() {
        let parse = or_none(fixed_or_adaptive(count_in(1_usize, 10)));
        assert_eq!(parse("adaptive"), Ok(OrNone::Some(MaxConcurrent::Adaptive)));
        assert_eq!(parse("4"), Ok(OrNone::Some(MaxConcurrent::Fixed(4))));
        assert_eq!(parse("none"), Ok(OrNone::None));
        assert_eq!(
            parse("Adaptive"),
            Err(
                "must be a whole number from 1 to 10 (got \"Adaptive\"), adaptive, or none"
                    .to_owned()
            )
        );
    }

    #[test]
    fn none_turns_a_value_off_and_errors_say_so() {
        let parse = or_none(percent);
        assert_eq!(parse("none"), Ok(OrNone::None));
        assert_eq!(parse("20%"), Ok(OrNone::Some(Percent(20))));
        assert!(parse("lots").unwrap_err().ends_with(", or none"));
        assert_eq!(OrNone::Some(3).into_option(), Some(3));
        assert_eq!(OrNone::<u8>::None.into_option(), None);
    }

    #[test]
    fn decimals_are_finite_and_bounded_as_their_parser_says() {
        let k = decimal_in(
            Decimal::new(1.0).expect("finite"),
            Decimal::new(10.0).expect("finite"),
        );
        assert_eq!(k("1.5").map(Decimal::get), Ok(1.5));
        assert_eq!(k("1").map(Decimal::get), Ok(1.0));
        assert_eq!(k("10").map(Decimal::get), Ok(10.0));
        for bad in [
            "0", "0.5", "1e-300", "10.01", "1e308", "-1", "inf", "NaN", "", "two",
        ] {
            assert_eq!(
                k(bad),
                Err(format!(
                    "must be a number from 1 to 10, such as 2 or 1.5 (got {bad:?})"
                )),
            );
        }
        assert_eq!(probability_below_one("0").map(Decimal::get), Ok(0.0));
        assert_eq!(probability_below_one("0.9").map(Decimal::get), Ok(0.9));
        for bad in ["1", "1.5", "-0.1", "NaN", "90%"] {
            assert!(probability_below_one(bad).is_err(), "{bad}");
        }
        assert_eq!(Decimal::new(f64::NAN), None);
    }

    #[test]
    fn counts_are_bounded_both_ways() {
        let parse = count_in(1_u32, 10);
        assert_eq!(parse("1"), Ok(1));
        assert_eq!(parse("10"), Ok(10));
        for bad in ["0", "11", "-1", "x", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("0").unwrap_err(),
            r#"must be a whole number from 1 to 10 (got "0")"#
        );
    }
}
