//! Nearest-rank percentiles in milliseconds, the floor that the summary and the series by
//! second both stand on.

use std::time::Duration;

/// The smallest of `sorted` (not empty) at or above `percent` % of the others, in milliseconds
/// to a tenth.
pub(crate) fn nearest_rank_ms(sorted: &[Duration], percent: usize) -> f64 {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    round(sorted[rank - 1].as_secs_f64() * 1000.0, 10.0)
}

/// `value` rounded to the nearest `1 / per_unit`.
pub(crate) fn round(value: f64, per_unit: f64) -> f64 {
    (value * per_unit).round() / per_unit
}
