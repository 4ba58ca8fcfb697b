//! The `capacity` mode's settings: a server that can do only so much at once.
//!
//! `{"mode":"capacity","concurrency":8,"service_time":"20ms","queue":64}` serves at most
//! `concurrency` `/api` calls at once, each holding its slot for `service_time` (plus whatever
//! the call itself costs, such as `fail=true`'s delay); up to `queue` more wait for a slot in
//! arrival order, so latency grows with load as in a real overloaded server; a call that finds
//! the queue full is answered 503 `Service B: Overloaded` at once. The gate that enforces this at
//! run time is in [`gate`](crate::gate); this module only checks the numbers.

use std::time::Duration;

use serde_json::Value;
use service_kit::fallback::echo;

/// The most calls a `capacity` mode serves at once.
pub const MAX_CONCURRENCY: u32 = 10_000;
/// The most calls a `capacity` mode lets wait for a slot.
pub const MAX_QUEUE: u32 = 100_000;
/// The longest `service_time`: the bound every duration of `/mode` has.
pub const MAX_SERVICE_TIME: Duration = service_kit::duration::MAX;

/// Why a `capacity` setting was refused; each message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    /// `concurrency` or `service_time` left out.
    #[error("`{0}` is required in mode capacity")]
    Missing(&'static str),
    /// `concurrency` or `queue` not a whole number in its range.
    #[error("`{field}` must be a whole number from {min} to {max} (got {got})")]
    OutOfRange {
        /// The body field.
        field: &'static str,
        /// The smallest accepted value.
        min: u32,
        /// The largest accepted value.
        max: u32,
        /// The value as sent, cut to the echo limit.
        got: String,
    },
    /// `service_time` above [`MAX_SERVICE_TIME`].
    #[error("`service_time` must be at most 1day (got {})", humantime::format_duration(*.0))]
    ServiceTimeTooLong(Duration),
}

/// A checked `capacity` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capacity {
    concurrency: u32,
    service_time: Duration,
    queue: u32,
}

impl Capacity {
    /// Checks the three numbers: `concurrency` from 1 to [`MAX_CONCURRENCY`], `queue` from 0 to
    /// [`MAX_QUEUE`], `service_time` at most [`MAX_SERVICE_TIME`] (zero makes a pure limit on
    /// calls at once).
    pub fn new(
        concurrency: u32,
        service_time: Duration,
        queue: u32,
    ) -> Result<Self, CapacityError> {
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(out_of_range("concurrency", 1, MAX_CONCURRENCY, concurrency));
        }
        if queue > MAX_QUEUE {
            return Err(out_of_range("queue", 0, MAX_QUEUE, queue));
        }
        if service_time > MAX_SERVICE_TIME {
            return Err(CapacityError::ServiceTimeTooLong(service_time));
        }
        Ok(Self {
            concurrency,
            service_time,
            queue,
        })
    }

    /// How many calls are served at once.
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// How long each call holds its slot, before the call's own behaviour.
    pub fn service_time(&self) -> Duration {
        self.service_time
    }

    /// How many calls may wait for a slot.
    pub fn queue(&self) -> u32 {
        self.queue
    }
}

/// Reads a JSON number field of the `/mode` body as a whole number in `min..=max`, so that a
/// string, a fraction or a negative number is refused with a message naming `field`.
pub fn whole_number(
    field: &'static str,
    value: &Value,
    min: u32,
    max: u32,
) -> Result<u32, CapacityError> {
    value
        .as_u64()
        .and_then(|number| u32::try_from(number).ok())
        .filter(|number| (min..=max).contains(number))
        .ok_or_else(|| CapacityError::OutOfRange {
            field,
            min,
            max,
            got: echo(&value.to_string()).into_owned(),
        })
}

fn out_of_range(field: &'static str, min: u32, max: u32, got: u32) -> CapacityError {
    CapacityError::OutOfRange {
        field,
        min,
        max,
        got: got.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MS_20: Duration = Duration::from_millis(20);

    #[test]
    fn the_issue_example_is_valid() {
        let capacity = Capacity::new(8, MS_20, 64).expect("valid");
        assert_eq!(
            (
                capacity.concurrency(),
                capacity.service_time(),
                capacity.queue()
            ),
            (8, MS_20, 64)
        );
    }

    #[test]
    fn each_bound_is_accepted_and_one_past_it_is_refused_naming_the_field() {
        assert!(Capacity::new(1, Duration::ZERO, 0).is_ok());
        assert!(Capacity::new(MAX_CONCURRENCY, MAX_SERVICE_TIME, MAX_QUEUE).is_ok());
        let err = Capacity::new(0, MS_20, 0).expect_err("no slot");
        assert_eq!(
            err.to_string(),
            "`concurrency` must be a whole number from 1 to 10000 (got 0)"
        );
        let err = Capacity::new(MAX_CONCURRENCY + 1, MS_20, 0).expect_err("too many");
        assert!(err.to_string().starts_with("`concurrency`"), "{err}");
        let err = Capacity::new(1, MS_20, MAX_QUEUE + 1).expect_err("too long a queue");
        assert_eq!(
            err.to_string(),
            "`queue` must be a whole number from 0 to 100000 (got 100001)"
        );
        let err = Capacity::new(1, MAX_SERVICE_TIME + Duration::from_millis(1), 0)
            .expect_err("over a day");
        assert!(
            err.to_string()
                .starts_with("`service_time` must be at most 1day"),
            "{err}"
        );
    }

    #[test]
    fn whole_number_refuses_what_is_not_one_in_range() {
        assert_eq!(
            whole_number("queue", &json!(64), 0, 10),
            Err(CapacityError::OutOfRange {
                field: "queue",
                min: 0,
                max: 10,
                got: "64".into()
            })
        );
        assert_eq!(whole_number("queue", &json!(10), 0, 10), Ok(10));
        for value in [
            json!("8"),
            json!(8.5),
            json!(-1),
            json!(null),
            json!(u64::MAX),
        ] {
            let err = whole_number("concurrency", &value, 1, 100).expect_err("not a count");
            assert!(
                err.to_string()
                    .starts_with("`concurrency` must be a whole number"),
                "{err}"
            );
        }
    }
}
