//! Parsers for numeric command-line flags that both services share, so that every refusal says
//! the same words: `must be a whole number from 1 to 1000000 (got "0")`.
//!
//! A flag given one of these parsers should also be `allow_hyphen_values = true`, so that
//! `--max-connections -1` reaches the parser and is refused naming the flag and its range,
//! rather than being taken by clap for an unknown flag `-1`.
//!
//! ```
//! use service_kit::flag::count_in;
//! use std::num::NonZeroU32;
//!
//! let parse = count_in(NonZeroU32::MIN, NonZeroU32::new(10).unwrap());
//! assert_eq!(parse("3").map(NonZeroU32::get), Ok(3));
//! assert_eq!(
//!     parse("-1"),
//!     Err(r#"must be a whole number from 1 to 10 (got "-1")"#.to_owned())
//! );
//! ```

use std::fmt;
use std::str::FromStr;

/// A parser for clap that accepts a whole number from `min` to `max`.
pub fn count_in<T>(
    min: T,
    max: T,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + fmt::Display + Copy + Send + Sync + 'static,
{
    move |text| {
        text.parse::<T>()
            .ok()
            .filter(|value| (min..=max).contains(value))
            .ok_or_else(|| format!("must be a whole number from {min} to {max} (got {text:?})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_both_ways() {
        let parse = count_in(1_u32, 10);
        assert_eq!(parse("1"), Ok(1));
        assert_eq!(parse("10"), Ok(10));
        for bad in ["0", "11", "-1", "x", "", "1e3", "99999999999"] {
            assert_eq!(
                parse(bad),
                Err(format!("must be a whole number from 1 to 10 (got {bad:?})"))
            );
        }
    }
}
