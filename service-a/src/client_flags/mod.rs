//! The flags of the client stack around the call to B, [`ClientFlags`]: their names, help texts
//! and bounds, the command line's contract.
//!
//! [`ClientFlags::resolve`] turns them into [`ClientSettings`]: the profile's settings
//! ([`ClientSettings::of`]), overlaid by the flags given, checked. The parts:
//!
//! - `resolve`: the flags and the profile into settings, and the order of the checks;
//! - `adaptive`: the adaptive throttle's and the adaptive limit's flags, resolved, and refused
//!   where the layer they tune is off or would not take them;
//! - `check`: the rules between flags and the breaker's own validation, as a [`FlagError`].
//!
//! [`ClientSettings`]: crate::upstream::ClientSettings
//! [`ClientSettings::of`]: crate::upstream::ClientSettings::of

mod adaptive;
mod check;
mod resolve;

pub use check::FlagError;

use std::time::Duration;

use clap::Args;

use crate::flag_value::{
    Decimal, MaxConcurrent, OrNone, Percent, count_in, decimal_in, fixed_or_adaptive, or_none,
    percent, probability_below_one,
};
use crate::profile::Profile;
use service_kit::duration::{parse as duration, parse_positive as positive_duration};

/// Attempts in all at most: each retry is one more call to B.
pub const MAX_RETRY_ATTEMPTS: u32 = 10;
/// Calls in flight at most, with a bulkhead.
pub const MAX_CONCURRENT: usize = 10_000;
/// The adaptive limit's bounds at most: as many as a fixed bulkhead's.
const MAX_ADAPTIVE_LIMIT: u32 = 10_000;
/// Probes at once at most while half-open: as many as the calls a bulkhead may hold.
pub const MAX_HALF_OPEN_CALLS: u32 = 10_000;
/// The adaptive throttle's K at least: below 1, A would send B fewer calls than B accepts, and
/// the throttle would reject calls to a healthy B (the SRE book's own bound).
pub const MIN_THROTTLE_K: Decimal = match Decimal::new(1.0) {
    Some(k) => k,
    None => panic!("1 is finite"),
};
/// The adaptive throttle's K at most: at 10 the throttle lets A send B ten calls for each one
/// B accepts, so it acts only once B refuses 90 % of them; a larger K turns it off in all but
/// name, which `none` says plainly. (The SRE book suggests 2; the adaptive profile takes 1.5.)
pub const MAX_THROTTLE_K: Decimal = match Decimal::new(10.0) {
    Some(k) => k,
    None => panic!("10 is finite"),
};
/// The largest body cap: bodies are held in memory whole.
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024 * 1024;

/// The client flags as given; `None` where the profile decides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ClientFlags {
    /// Which defaults the flags below take: `article` (the breaker alone, as in the article),
    /// `production` (retries, rate-based breaker, bulkhead, deadline) or `adaptive` (production
    /// with --adaptive-throttle 1.5 and --max-concurrent adaptive).
    #[arg(long, value_enum, default_value_t = Profile::Article)]
    pub profile: Profile,

    /// Longest wait for one attempt's whole answer from B; must be shorter than the recovery
    /// timeout (default: 3s).
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub request_timeout: Option<Duration>,

    /// Longest a whole call may take, retries and backoffs included, or none; at least one
    /// attempt (article: none, production: 5s).
    #[arg(long, value_parser = or_none(positive_duration), allow_hyphen_values = true)]
    pub call_deadline: Option<OrNone<Duration>>,

    /// Attempts in all, the first included; 1 turns retries off. Only connection errors,
    /// timeouts and 502/503/504 are retried (article: 1, production: 3).
    #[arg(long, value_parser = count_in(1, MAX_RETRY_ATTEMPTS), allow_hyphen_values = true)]
    pub retry_attempts: Option<u32>,

    /// Ceiling of the first backoff; the n-th wait is drawn from 0 up to base x 2^(n-1)
    /// (default: 50ms).
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub retry_backoff: Option<Duration>,

    /// Largest backoff ceiling (default: 1s).
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub retry_backoff_max: Option<Duration>,

    /// Retries allowed as a share of recent calls (over 10 s, plus one a second), or none
    /// (default: 20%).
    #[arg(long, value_parser = or_none(percent), allow_hyphen_values = true)]
    pub retry_budget: Option<OrNone<Percent>>,

    /// Consecutive failures that open the circuit, or none (article: 3, production: none).
    #[arg(long, value_parser = or_none(count_in(1_u32, 1_000_000)), allow_hyphen_values = true)]
    pub failure_threshold: Option<OrNone<u32>>,

    /// Failure rate over the sliding window that opens the circuit, or none (article: none,
    /// production: 50%).
    #[arg(long, value_parser = or_none(percent), allow_hyphen_values = true)]
    pub failure_rate_threshold: Option<OrNone<Percent>>,

    /// Calls at least this long count as slow, or none (article: none, production: 1s).
    #[arg(long, value_parser = or_none(positive_duration), allow_hyphen_values = true)]
    pub slow_call_threshold: Option<OrNone<Duration>>,

    /// Slow-call rate over the sliding window that opens the circuit, or none (default: 50%).
    #[arg(long, value_parser = or_none(percent), allow_hyphen_values = true)]
    pub slow_call_rate_threshold: Option<OrNone<Percent>>,

    /// How far back the failure and slow-call rates look (default: 30s).
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub sliding_window: Option<Duration>,

    /// Calls the sliding window must hold before a rate may open the circuit (default: 20).
    #[arg(long, value_parser = count_in(1_u32, 1_000_000), allow_hyphen_values = true)]
    pub minimum_calls: Option<u32>,

    /// How long the circuit stays open before a probe may pass (default: 10s).
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub recovery_timeout: Option<Duration>,

    /// Probes that may test service B at the same time while half-open (default: 1).
    #[arg(long, value_parser = count_in(1, MAX_HALF_OPEN_CALLS), allow_hyphen_values = true)]
    pub half_open_max_calls: Option<u32>,

    /// Client-side adaptive throttling while the circuit is closed, with this K, from 1 to 10,
    /// or none: a call is rejected at random so that A sends B about K times what B accepts
    /// (article, production: none; adaptive: 1.5).
    #[arg(
        long,
        value_parser = or_none(decimal_in(MIN_THROTTLE_K, MAX_THROTTLE_K)),
        allow_hyphen_values = true
    )]
    pub adaptive_throttle: Option<OrNone<Decimal>>,

    /// How far back the throttle counts requests and accepts (default: 10s).
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    pub throttle_window: Option<Duration>,

    /// The throttle's highest rejection probability, from 0 up to, not including, 1
    /// (default: 0.9).
    #[arg(long, value_parser = probability_below_one, allow_hyphen_values = true)]
    pub throttle_max_rejection: Option<Decimal>,

    /// Requests the throttle's window must hold before it rejects any (default: 20).
    #[arg(long, value_parser = count_in(0_u32, 1_000_000), allow_hyphen_values = true)]
    pub throttle_minimum_requests: Option<u32>,

    /// Calls to B in flight at most (the bulkhead): a number, `adaptive` (a limit learned from
    /// B's latency, within the --adaptive-* bounds), or none (article: none, production: 32,
    /// adaptive: adaptive).
    #[arg(long, value_parser = or_none(fixed_or_adaptive(count_in(1, MAX_CONCURRENT))), allow_hyphen_values = true)]
    pub max_concurrent: Option<OrNone<MaxConcurrent>>,

    /// With --max-concurrent adaptive: the lowest the limit goes (default: 2).
    #[arg(long, value_parser = count_in(1, MAX_ADAPTIVE_LIMIT), allow_hyphen_values = true)]
    pub adaptive_min_limit: Option<u32>,

    /// With --max-concurrent adaptive: the limit before any call has ended (default: 20).
    #[arg(long, value_parser = count_in(1, MAX_ADAPTIVE_LIMIT), allow_hyphen_values = true)]
    pub adaptive_initial_limit: Option<u32>,

    /// With --max-concurrent adaptive: the highest the limit goes (default: 200).
    #[arg(long, value_parser = count_in(1, MAX_CONCURRENT), allow_hyphen_values = true)]
    pub adaptive_max_limit: Option<usize>,

    /// How long a call waits for a place in the full bulkhead before it is refused (default: 0ms).
    #[arg(long, value_parser = duration, allow_hyphen_values = true)]
    pub bulkhead_wait: Option<Duration>,

    /// Largest body accepted from B; a bigger one fails the call (default: 1048576).
    #[arg(long, value_parser = count_in(1, MAX_RESPONSE_BYTES), allow_hyphen_values = true)]
    pub max_response_bytes: Option<u64>,

    /// Call service B with no circuit breaker (the article's "cost of no circuit breaker").
    #[arg(long)]
    pub no_breaker: bool,
}
