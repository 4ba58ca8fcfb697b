//! The flags of the client stack around the call to B, and their resolution into
//! [`ClientSettings`]: the profile's settings ([`ClientSettings::of`]), overlaid by the flags given.

use std::time::Duration;

use breaker::ConfigError;
use clap::Args;

use crate::flag_value::{
    Decimal, MaxConcurrent, OrNone, Percent, count_in, fixed_or_adaptive, given_or, or_none,
    percent, positive_decimal, probability_below_one,
};
use crate::profile::Profile;
use crate::upstream::{
    ADAPTIVE_LIMIT, ADAPTIVE_MAX_LIMIT, AdaptiveLimitSettings, BULKHEAD_WAIT, BreakerSettings,
    BulkheadSettings, ClientSettings, RetrySettings, THROTTLE_MAX_REJECTION,
    THROTTLE_MINIMUM_REQUESTS, THROTTLE_WINDOW, ThrottleSettings,
};
use service_kit::duration::{parse as duration, parse_positive as positive_duration};

/// Attempts in all at most: each retry is one more call to B.
pub const MAX_RETRY_ATTEMPTS: u32 = 10;
/// Calls in flight at most, with a bulkhead.
pub const MAX_CONCURRENT: usize = 10_000;
/// The adaptive limit's bounds at most: as many as a fixed bulkhead's.
const MAX_ADAPTIVE_LIMIT: u32 = 10_000;
/// Probes at once at most while half-open: as many as the calls a bulkhead may hold.
pub const MAX_HALF_OPEN_CALLS: u32 = 10_000;
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
    #[arg(long, value_parser = positive_duration)]
    pub request_timeout: Option<Duration>,

    /// Longest a whole call may take, retries and backoffs included, or none; at least one
    /// attempt (article: none, production: 5s).
    #[arg(long, value_parser = or_none(positive_duration))]
    pub call_deadline: Option<OrNone<Duration>>,

    /// Attempts in all, the first included; 1 turns retries off. Only connection errors,
    /// timeouts and 502/503/504 are retried (article: 1, production: 3).
    #[arg(long, value_parser = count_in(1, MAX_RETRY_ATTEMPTS))]
    pub retry_attempts: Option<u32>,

    /// Ceiling of the first backoff; the n-th wait is drawn from 0 up to base x 2^(n-1)
    /// (default: 50ms).
    #[arg(long, value_parser = positive_duration)]
    pub retry_backoff: Option<Duration>,

    /// Largest backoff ceiling (default: 1s).
    #[arg(long, value_parser = positive_duration)]
    pub retry_backoff_max: Option<Duration>,

    /// Retries allowed as a share of recent calls (over 10 s, plus one a second), or none
    /// (default: 20%).
    #[arg(long, value_parser = or_none(percent))]
    pub retry_budget: Option<OrNone<Percent>>,

    /// Consecutive failures that open the circuit, or none (article: 3, production: none).
    #[arg(long, value_parser = or_none(count_in(1_u32, 1_000_000)))]
    pub failure_threshold: Option<OrNone<u32>>,

    /// Failure rate over the sliding window that opens the circuit, or none (article: none,
    /// production: 50%).
    #[arg(long, value_parser = or_none(percent))]
    pub failure_rate_threshold: Option<OrNone<Percent>>,

    /// Calls at least this long count as slow, or none (article: none, production: 1s).
    #[arg(long, value_parser = or_none(positive_duration))]
    pub slow_call_threshold: Option<OrNone<Duration>>,

    /// Slow-call rate over the sliding window that opens the circuit, or none (default: 50%).
    #[arg(long, value_parser = or_none(percent))]
    pub slow_call_rate_threshold: Option<OrNone<Percent>>,

    /// How far back the failure and slow-call rates look (default: 30s).
    #[arg(long, value_parser = positive_duration)]
    pub sliding_window: Option<Duration>,

    /// Calls the sliding window must hold before a rate may open the circuit (default: 20).
    #[arg(long, value_parser = count_in(1_u32, 1_000_000))]
    pub minimum_calls: Option<u32>,

    /// How long the circuit stays open before a probe may pass (default: 10s).
    #[arg(long, value_parser = duration)]
    pub recovery_timeout: Option<Duration>,

    /// Probes that may test service B at the same time while half-open (default: 1).
    #[arg(long, value_parser = count_in(1, MAX_HALF_OPEN_CALLS))]
    pub half_open_max_calls: Option<u32>,

    /// Client-side adaptive throttling while the circuit is closed, with this K, or none: a
    /// call is rejected at random so that A sends B about K times what B accepts (article,
    /// production: none; adaptive: 1.5).
    #[arg(long, value_parser = or_none(positive_decimal))]
    pub adaptive_throttle: Option<OrNone<Decimal>>,

    /// How far back the throttle counts requests and accepts (default: 10s).
    #[arg(long, value_parser = positive_duration)]
    pub throttle_window: Option<Duration>,

    /// The throttle's highest rejection probability, from 0 up to, not including, 1
    /// (default: 0.9).
    #[arg(long, value_parser = probability_below_one)]
    pub throttle_max_rejection: Option<Decimal>,

    /// Requests the throttle's window must hold before it rejects any (default: 20).
    #[arg(long, value_parser = count_in(0_u32, 1_000_000))]
    pub throttle_minimum_requests: Option<u32>,

    /// Calls to B in flight at most (the bulkhead): a number, `adaptive` (a limit learned from
    /// B's latency, within the --adaptive-* bounds), or none (article: none, production: 32,
    /// adaptive: adaptive).
    #[arg(long, value_parser = or_none(fixed_or_adaptive(count_in(1, MAX_CONCURRENT))))]
    pub max_concurrent: Option<OrNone<MaxConcurrent>>,

    /// With --max-concurrent adaptive: the lowest the limit goes (default: 2).
    #[arg(long, value_parser = count_in(1, MAX_ADAPTIVE_LIMIT))]
    pub adaptive_min_limit: Option<u32>,

    /// With --max-concurrent adaptive: the limit before any call has ended (default: 20).
    #[arg(long, value_parser = count_in(1, MAX_ADAPTIVE_LIMIT))]
    pub adaptive_initial_limit: Option<u32>,

    /// With --max-concurrent adaptive: the highest the limit goes (default: 200).
    #[arg(long, value_parser = count_in(1, MAX_CONCURRENT))]
    pub adaptive_max_limit: Option<usize>,

    /// How long a call waits for a place in the full bulkhead before it is refused (default: 0ms).
    #[arg(long, value_parser = duration)]
    pub bulkhead_wait: Option<Duration>,

    /// Largest body accepted from B; a bigger one fails the call (default: 1048576).
    #[arg(long, value_parser = count_in(1, MAX_RESPONSE_BYTES))]
    pub max_response_bytes: Option<u64>,

    /// Call service B with no circuit breaker (the article's "cost of no circuit breaker").
    #[arg(long)]
    pub no_breaker: bool,
}

impl ClientFlags {
    /// The throttle's settings: the profile's (`base`) overlaid by the flags given; the
    /// defaults fill what neither gives.
    fn throttle(&self, base: Option<ThrottleSettings>) -> Option<ThrottleSettings> {
        let k = given_or(self.adaptive_throttle, base.map(|t| t.k))?;
        Some(ThrottleSettings {
            k,
            window: self
                .throttle_window
                .or(base.map(|t| t.window))
                .unwrap_or(THROTTLE_WINDOW),
            max_rejection: self
                .throttle_max_rejection
                .or(base.map(|t| t.max_rejection))
                .unwrap_or(THROTTLE_MAX_REJECTION),
            minimum_requests: self
                .throttle_minimum_requests
                .or(base.map(|t| t.minimum_requests))
                .unwrap_or(THROTTLE_MINIMUM_REQUESTS),
        })
    }
}

/// A refused combination, to be reported as a usage error (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value for {flag}: {reason}")]
pub struct FlagError {
    /// The flag named first.
    pub flag: String,
    /// Why, naming the other flag where two disagree.
    pub reason: String,
}

impl ClientFlags {
    /// Every layer's settings: the flags given, the profile's defaults for the rest, checked.
    ///
    /// # Errors
    ///
    /// A [`FlagError`] naming the flag (or both flags) at fault: a per-attempt timeout not
    /// shorter than the recovery timeout, a deadline not longer than one attempt, a backoff
    /// ceiling below the first backoff, or breaker settings the breaker refuses.
    pub fn resolve(&self) -> Result<ClientSettings, FlagError> {
        let settings = self.fill_in();
        check(&settings)?;
        self.check_adaptive(&settings)?;
        self.check_throttle(&settings)?;
        Ok(settings)
    }

    /// The profile's settings overlaid by the flags given, unchecked.
    fn fill_in(&self) -> ClientSettings {
        let base = ClientSettings::of(self.profile);
        let breaker = base
            .breaker
            .filter(|_| !self.no_breaker)
            .map(|b| BreakerSettings {
                failure_threshold: given_or(self.failure_threshold, b.failure_threshold),
                failure_rate_threshold: given_or(
                    self.failure_rate_threshold,
                    b.failure_rate_threshold,
                ),
                slow_call_threshold: given_or(self.slow_call_threshold, b.slow_call_threshold),
                slow_call_rate_threshold: given_or(
                    self.slow_call_rate_threshold,
                    b.slow_call_rate_threshold,
                ),
                sliding_window: self.sliding_window.unwrap_or(b.sliding_window),
                minimum_calls: self.minimum_calls.unwrap_or(b.minimum_calls),
                recovery_timeout: self.recovery_timeout.unwrap_or(b.recovery_timeout),
                half_open_max_calls: self.half_open_max_calls.unwrap_or(b.half_open_max_calls),
                throttle: self.throttle(b.throttle),
            });
        let wait = self
            .bulkhead_wait
            .or(base.bulkhead.map(|b| b.wait))
            .unwrap_or(BULKHEAD_WAIT);
        let limit = given_or(
            self.max_concurrent,
            base.bulkhead.map(|b| match b.adaptive {
                Some(_) => MaxConcurrent::Adaptive,
                None => MaxConcurrent::Fixed(b.max_concurrent),
            }),
        );
        let bulkhead = limit.map(|limit| self.bulkhead(limit, base.bulkhead, wait));
        let retry = base.retry;
        ClientSettings {
            profile: self.profile,
            call_deadline: given_or(self.call_deadline, base.call_deadline),
            retry: RetrySettings {
                attempts: self.retry_attempts.unwrap_or(retry.attempts),
                backoff: self.retry_backoff.unwrap_or(retry.backoff),
                backoff_max: self.retry_backoff_max.unwrap_or(retry.backoff_max),
                budget: given_or(self.retry_budget, retry.budget),
            },
            breaker,
            bulkhead,
            request_timeout: self.request_timeout.unwrap_or(base.request_timeout),
            max_response_bytes: self.max_response_bytes.unwrap_or(base.max_response_bytes),
        }
    }
}

impl ClientFlags {
    /// The bulkhead with `limit`: the profile's adaptive bounds (or the defaults), overlaid by
    /// the --adaptive-* flags given.
    fn bulkhead(
        &self,
        limit: MaxConcurrent,
        base: Option<BulkheadSettings>,
        wait: Duration,
    ) -> BulkheadSettings {
        let MaxConcurrent::Fixed(max_concurrent) = limit else {
            let (adaptive, max_limit) = base
                .and_then(|b| b.adaptive.map(|adaptive| (adaptive, b.max_concurrent)))
                .unwrap_or((ADAPTIVE_LIMIT, ADAPTIVE_MAX_LIMIT));
            return BulkheadSettings {
                max_concurrent: self.adaptive_max_limit.unwrap_or(max_limit),
                wait,
                adaptive: Some(AdaptiveLimitSettings {
                    min_limit: self.adaptive_min_limit.unwrap_or(adaptive.min_limit),
                    initial_limit: self
                        .adaptive_initial_limit
                        .unwrap_or(adaptive.initial_limit),
                }),
            };
        };
        BulkheadSettings {
            max_concurrent,
            wait,
            adaptive: None,
        }
    }

    /// The --adaptive-* flags need an adaptive limit, which refuses at once and has bounds the
    /// limiter accepts.
    fn check_adaptive(&self, settings: &ClientSettings) -> Result<(), FlagError> {
        let Some(bulkhead) = settings.bulkhead.filter(|b| b.adaptive.is_some()) else {
            let given = [
                ("--adaptive-min-limit", self.adaptive_min_limit.is_some()),
                (
                    "--adaptive-initial-limit",
                    self.adaptive_initial_limit.is_some(),
                ),
                ("--adaptive-max-limit", self.adaptive_max_limit.is_some()),
            ];
            return match given.iter().find(|(_, given)| *given) {
                Some((flag, _)) => Err(FlagError {
                    flag: (*flag).to_owned(),
                    reason: "applies only with --max-concurrent adaptive".to_owned(),
                }),
                None => Ok(()),
            };
        };
        if !bulkhead.wait.is_zero() {
            return Err(FlagError {
                flag: "--bulkhead-wait".to_owned(),
                reason: format!(
                    "{} with --max-concurrent adaptive: the adaptive limit refuses at once, \
                     leave it at 0ms",
                    human(bulkhead.wait)
                ),
            });
        }
        match bulkhead.adaptive_limiter() {
            Some(Err(err)) => Err(FlagError {
                flag: format!("--adaptive-{}", err.field().replace('_', "-")),
                reason: err.reason().to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

impl ClientFlags {
    /// The --throttle-* flags need a throttle, and a throttle needs the breaker it is part of.
    fn check_throttle(&self, settings: &ClientSettings) -> Result<(), FlagError> {
        if settings.breaker.and_then(|b| b.throttle).is_some() {
            return Ok(());
        }
        if self.no_breaker && matches!(self.adaptive_throttle, Some(OrNone::Some(_))) {
            return Err(FlagError {
                flag: "--adaptive-throttle".to_owned(),
                reason: "the throttle is part of the breaker, which --no-breaker turns off"
                    .to_owned(),
            });
        }
        let given = [
            ("--throttle-window", self.throttle_window.is_some()),
            (
                "--throttle-max-rejection",
                self.throttle_max_rejection.is_some(),
            ),
            (
                "--throttle-minimum-requests",
                self.throttle_minimum_requests.is_some(),
            ),
        ];
        match given.iter().find(|(_, given)| *given) {
            Some((flag, _)) if !self.no_breaker => Err(FlagError {
                flag: (*flag).to_owned(),
                reason: "applies only with --adaptive-throttle".to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// The rules between flags, and the breaker's own validation.
fn check(settings: &ClientSettings) -> Result<(), FlagError> {
    let attempt = settings.request_timeout;
    // Equal is refused too: the deadline's timer starts first, so it could cut the attempt a
    // tick before the attempt's own timeout fires, and a call cut by the deadline counts as
    // nothing for the breaker: a hung B might then never open the circuit.
    if let Some(deadline) = settings.call_deadline
        && deadline <= attempt
    {
        return Err(FlagError {
            flag: "--call-deadline".to_owned(),
            reason: format!(
                "{} must be longer than one attempt (--request-timeout {})",
                human(deadline),
                human(attempt)
            ),
        });
    }
    let retry = settings.retry;
    if retry.backoff_max < retry.backoff {
        return Err(FlagError {
            flag: "--retry-backoff-max".to_owned(),
            reason: format!(
                "{} is shorter than the first backoff (--retry-backoff {})",
                human(retry.backoff_max),
                human(retry.backoff)
            ),
        });
    }
    let Some(breaker) = &settings.breaker else {
        return Ok(());
    };
    // The article's advice: a call must give up before the circuit would let a probe through,
    // or one hung call outlives a whole open period.
    if attempt >= breaker.recovery_timeout {
        return Err(FlagError {
            flag: "--request-timeout".to_owned(),
            reason: format!(
                "{} must be shorter than the recovery timeout (--recovery-timeout {})",
                human(attempt),
                human(breaker.recovery_timeout)
            ),
        });
    }
    // Building is the breaker's only public validation; the breaker is thrown away.
    breaker
        .builder()
        .build()
        .map(drop)
        .map_err(|err| breaker_flag_error(&err))
}

/// A breaker setting error in the flags' words. Each flag is named as the breaker's field
/// (`failure_rate_threshold` is `--failure-rate-threshold`) but the breaker's
/// `slow_call_duration`, `--slow-call-threshold`, and the throttle's, `--adaptive-throttle`
/// (its K) and `--throttle-*`.
fn breaker_flag_error(err: &ConfigError) -> FlagError {
    let flag = match err.field() {
        "slow_call_duration" => "--slow-call-threshold".to_owned(),
        "adaptive_throttle.k" => "--adaptive-throttle".to_owned(),
        field if field.starts_with("adaptive_throttle.") => {
            format!(
                "--throttle-{}",
                field["adaptive_throttle.".len()..].replace('_', "-")
            )
        }
        field => format!("--{}", field.replace('_', "-")),
    };
    FlagError {
        flag,
        reason: err.reason().to_owned(),
    }
}

fn human(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn parse(args: &[&str]) -> Result<ClientSettings, clap::Error> {
        Config::try_parse_checked_from(std::iter::once("service-a").chain(args.iter().copied()))
            .map(|settings| settings.client().clone())
    }

    /// `args` are a usage error (exit 2) naming `flag` and saying `reason`.
    fn assert_refused(args: &[&str], flag: &str, reason: &str) {
        let err = parse(args).expect_err("must be refused");
        assert_eq!(err.exit_code(), 2, "{args:?}");
        let text = err.to_string();
        assert!(
            text.contains(flag) && text.contains(reason),
            "{args:?}: {text}"
        );
    }

    fn throttle(args: &[&str]) -> Option<ThrottleSettings> {
        parse(args)
            .unwrap_or_else(|err| panic!("{args:?}: {err}"))
            .breaker
            .and_then(|breaker| breaker.throttle)
    }

    #[test]
    fn neither_profile_throttles_unless_asked() {
        assert_eq!(throttle(&[]), None);
        assert_eq!(throttle(&["--profile", "production"]), None);
        assert_eq!(throttle(&["--adaptive-throttle", "none"]), None);
        assert_eq!(throttle(&["--profile", "adaptive", "--no-breaker"]), None);
    }

    #[test]
    fn throttle_settings_without_a_throttle_are_refused_naming_the_flag() {
        for (args, flag, reason) in [
            (
                &["--throttle-window", "30s"][..],
                "--throttle-window",
                "only with --adaptive-throttle",
            ),
            (
                &[
                    "--profile",
                    "adaptive",
                    "--adaptive-throttle",
                    "none",
                    "--throttle-max-rejection",
                    "0.5",
                ][..],
                "--throttle-max-rejection",
                "only with --adaptive-throttle",
            ),
            (
                &["--no-breaker", "--adaptive-throttle", "2"][..],
                "--adaptive-throttle",
                "--no-breaker turns off",
            ),
        ] {
            assert_refused(args, flag, reason);
        }
    }

    #[test]
    fn a_throttle_takes_the_documented_defaults_for_what_is_not_given() {
        let k = Decimal::new(1.5);
        assert_eq!(
            throttle(&["--adaptive-throttle", "1.5"]),
            Some(ThrottleSettings {
                k: k.expect("finite"),
                window: Duration::from_secs(10),
                max_rejection: Decimal::new(0.9).expect("finite"),
                minimum_requests: 20,
            })
        );
        let given = throttle(&[
            "--profile",
            "production",
            "--adaptive-throttle",
            "2",
            "--throttle-window",
            "30s",
            "--throttle-max-rejection",
            "0.8",
            "--throttle-minimum-requests",
            "100",
        ])
        .expect("on");
        assert_eq!(given.k.get(), 2.0);
        assert_eq!(given.window, Duration::from_secs(30));
        assert_eq!(given.max_rejection.get(), 0.8);
        assert_eq!(given.minimum_requests, 100);
    }

    #[test]
    fn a_throttle_alone_is_a_valid_breaker() {
        let settings = throttle(&["--failure-threshold", "none", "--adaptive-throttle", "2"]);
        assert!(settings.is_some());
        let err = parse(&["--failure-threshold", "none"]).expect_err("no policy at all");
        assert!(err.to_string().contains("--failure-threshold"), "{err}");
    }

    #[test]
    fn bad_throttle_values_are_refused_naming_the_flag() {
        for (args, flag) in [
            (&["--adaptive-throttle", "0"][..], "--adaptive-throttle"),
            (&["--adaptive-throttle=-1"][..], "--adaptive-throttle"),
            (&["--adaptive-throttle", "inf"][..], "--adaptive-throttle"),
            (&["--adaptive-throttle", "lots"][..], "--adaptive-throttle"),
            (
                &["--throttle-max-rejection", "1"][..],
                "--throttle-max-rejection",
            ),
            (
                &["--throttle-max-rejection", "90%"][..],
                "--throttle-max-rejection",
            ),
            (&["--throttle-window", "0s"][..], "--throttle-window"),
            (
                &["--throttle-minimum-requests=-1"][..],
                "--throttle-minimum-requests",
            ),
            // Accepted by the parser, refused by the breaker: under 40 buckets of 10 ms.
            (
                &["--adaptive-throttle", "2", "--throttle-window", "300ms"][..],
                "--throttle-window",
            ),
        ] {
            let err = parse(args).expect_err("must be refused");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(flag), "{args:?}: {err}");
        }
    }

    fn bulkhead(args: &[&str]) -> BulkheadSettings {
        parse(args)
            .unwrap_or_else(|err| panic!("{args:?}: {err}"))
            .bulkhead
            .expect("a bulkhead")
    }

    #[test]
    fn max_concurrent_adaptive_learns_the_limit_between_2_and_200_from_20() {
        for profile in ["article", "production"] {
            let settings = bulkhead(&["--profile", profile, "--max-concurrent", "adaptive"]);
            assert_eq!(
                settings,
                BulkheadSettings {
                    max_concurrent: 200,
                    wait: Duration::ZERO,
                    adaptive: Some(AdaptiveLimitSettings {
                        min_limit: 2,
                        initial_limit: 20,
                    }),
                },
                "{profile}"
            );
        }
    }

    #[test]
    fn the_adaptive_flags_set_the_bounds() {
        let settings = bulkhead(&[
            "--max-concurrent",
            "adaptive",
            "--adaptive-min-limit",
            "4",
            "--adaptive-initial-limit",
            "8",
            "--adaptive-max-limit",
            "64",
        ]);
        assert_eq!(settings.max_concurrent, 64);
        assert_eq!(
            settings.adaptive,
            Some(AdaptiveLimitSettings {
                min_limit: 4,
                initial_limit: 8,
            })
        );
        let limiter = settings
            .adaptive_limiter()
            .expect("adaptive")
            .expect("valid");
        assert_eq!(
            (limiter.min_limit(), limiter.limit(), limiter.max_limit()),
            (4, 8, 64)
        );
    }

    #[test]
    fn a_number_still_fixes_the_limit_and_the_profiles_keep_theirs() {
        assert_eq!(bulkhead(&["--max-concurrent", "8"]).adaptive, None);
        assert_eq!(bulkhead(&["--profile", "production"]).max_concurrent, 32);
        assert_eq!(bulkhead(&["--profile", "production"]).adaptive, None);
        assert_eq!(parse(&[]).expect("valid").bulkhead, None);
    }

    #[test]
    fn bad_adaptive_values_are_usage_errors_naming_the_flag() {
        for (args, flag, reason) in [
            (
                &["--max-concurrent", "adaptve"][..],
                "--max-concurrent",
                "adaptive, or none",
            ),
            (
                &["--adaptive-min-limit", "4"][..],
                "--adaptive-min-limit",
                "only with --max-concurrent adaptive",
            ),
            (
                &["--max-concurrent", "8", "--adaptive-max-limit", "64"][..],
                "--adaptive-max-limit",
                "only with --max-concurrent adaptive",
            ),
            (
                &["--max-concurrent", "adaptive", "--adaptive-min-limit", "0"][..],
                "--adaptive-min-limit",
                "from 1 to 10000",
            ),
            (
                &["--max-concurrent", "adaptive", "--adaptive-max-limit", "10"][..],
                "--adaptive-initial-limit",
                "must be between min_limit 2 and max_limit 10 (got 20)",
            ),
            (
                &[
                    "--max-concurrent",
                    "adaptive",
                    "--adaptive-min-limit",
                    "50",
                    "--adaptive-initial-limit",
                    "50",
                    "--adaptive-max-limit",
                    "40",
                ][..],
                "--adaptive-max-limit",
                "must be at least min_limit 50 (got 40)",
            ),
            (
                &["--max-concurrent", "adaptive", "--bulkhead-wait", "100ms"][..],
                "--bulkhead-wait",
                "refuses at once",
            ),
        ] {
            assert_refused(args, flag, reason);
        }
    }
}
