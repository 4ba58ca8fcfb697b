//! The adaptive throttle's and the adaptive limit's flags through the whole command line: their
//! defaults, what the flags given set, and each refusal a usage error (exit 2) naming the flag.

use std::time::Duration;

use crate::Config;
use crate::flag_value::Decimal;
use crate::upstream::{AdaptiveLimitSettings, BulkheadSettings, ClientSettings, ThrottleSettings};

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
