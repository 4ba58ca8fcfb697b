//! The `service-a` binary: flag errors exit 2 naming the flag (both flags when two disagree);
//! SIGTERM ends it cleanly.

use std::process::Command;

use service_kit::test_support::{Running, assert_refused};

const BINARY: &str = env!("CARGO_BIN_EXE_service-a");

/// What a developer's shell may set for service A, which the flag tests must not inherit.
const ENV: &[&str] = &["SERVICE_A_LISTEN", "SERVICE_B_URL"];

#[test]
fn invalid_flags_exit_2_naming_the_flag() {
    for (args, flags) in [
        (
            &["--recovery-timeout", "soon"][..],
            &["--recovery-timeout"][..],
        ),
        (&["--recovery-timeout", "0s"][..], &["--recovery-timeout"]),
        (
            &["--recovery-timeout", "999999999999s"][..],
            &["--recovery-timeout"],
        ),
        (&["--failure-threshold", "0"][..], &["--failure-threshold"]),
        (
            &["--half-open-max-calls", "0"][..],
            &["--half-open-max-calls"],
        ),
        (&["--request-timeout", "0s"][..], &["--request-timeout"]),
        (&["--service-b-url", "not a url"][..], &["--service-b-url"]),
        (&["--profile", "fast"][..], &["--profile"]),
        (&["--retry-budget", "lots"][..], &["--retry-budget"]),
        (&["--log-format", "xml"][..], &["--log-format"]),
        (&["--max-event-streams", "0"][..], &["--max-event-streams"]),
        (
            &["--request-timeout", "20s", "--recovery-timeout", "10s"][..],
            &["--request-timeout", "--recovery-timeout"],
        ),
        (
            &["--profile", "production", "--call-deadline", "1s"][..],
            &["--call-deadline", "--request-timeout"],
        ),
    ] {
        assert_refused(BINARY, ENV, args, flags);
    }
}

/// How a numeric flag takes zero.
enum Zero {
    /// Refused, the message holding this (the range, or the rule zero breaks).
    Refused(&'static str),
    /// Accepted: it means something (no wait, no limit, no budget).
    Accepted,
}

/// Every numeric flag of service A: the flags it needs beside it, the range its refusals
/// name, how it takes zero, and a value just over its range.
const NUMERIC_FLAGS: &[(&str, &[&str], &str, Zero, &str)] = &[
    (
        "--request-timeout",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--call-deadline",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--retry-attempts",
        &[],
        "from 1 to 10 ",
        Zero::Refused("from 1 to 10 "),
        "11",
    ),
    (
        "--retry-backoff",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--retry-backoff-max",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    ("--retry-budget", &[], PERCENT, Zero::Accepted, "101%"),
    (
        "--failure-threshold",
        &[],
        "from 1 to 1000000 ",
        Zero::Refused("from 1 to 1000000 "),
        "1000001",
    ),
    (
        "--failure-rate-threshold",
        &[],
        PERCENT,
        Zero::Refused("in (0, 100]"),
        "101%",
    ),
    (
        "--slow-call-threshold",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--slow-call-rate-threshold",
        &["--slow-call-threshold", "1s"],
        PERCENT,
        Zero::Refused("in (0, 100]"),
        "101%",
    ),
    (
        "--sliding-window",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--minimum-calls",
        &[],
        "from 1 to 1000000 ",
        Zero::Refused("from 1 to 1000000 "),
        "1000001",
    ),
    (
        "--recovery-timeout",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--half-open-max-calls",
        &[],
        "from 1 to 10000 ",
        Zero::Refused("from 1 to 10000 "),
        "10001",
    ),
    (
        "--adaptive-throttle",
        &[],
        "from 1 to 10,",
        Zero::Refused("from 1 to 10,"),
        "1e308",
    ),
    (
        "--throttle-window",
        THROTTLE,
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--throttle-max-rejection",
        THROTTLE,
        "from 0 up to, not including, 1 ",
        Zero::Accepted,
        "1",
    ),
    (
        "--throttle-minimum-requests",
        THROTTLE,
        "from 0 to 1000000 ",
        Zero::Accepted,
        "1000001",
    ),
    (
        "--max-concurrent",
        &[],
        "from 1 to 10000 ",
        Zero::Refused("from 1 to 10000 "),
        "10001",
    ),
    (
        "--adaptive-min-limit",
        ADAPTIVE,
        "from 1 to 10000 ",
        Zero::Refused("from 1 to 10000 "),
        "10001",
    ),
    (
        "--adaptive-initial-limit",
        ADAPTIVE,
        "from 1 to 10000 ",
        Zero::Refused("from 1 to 10000 "),
        "10001",
    ),
    (
        "--adaptive-max-limit",
        ADAPTIVE,
        "from 1 to 10000 ",
        Zero::Refused("from 1 to 10000 "),
        "10001",
    ),
    ("--bulkhead-wait", &[], ANY_DURATION, Zero::Accepted, "25h"),
    (
        "--max-response-bytes",
        &[],
        "from 1 to 1073741824 ",
        Zero::Refused("from 1 to 1073741824 "),
        "1073741825",
    ),
    (
        "--header-timeout",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--body-timeout",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
    (
        "--max-connections",
        &[],
        "from 1 to 1000000 ",
        Zero::Refused("from 1 to 1000000 "),
        "1000001",
    ),
    (
        "--max-connections-per-client",
        &[],
        "from 0 to 1000000 ",
        Zero::Accepted,
        "1000001",
    ),
    (
        "--max-connections-per-prefix",
        &[],
        "from 0 to 1000000 ",
        Zero::Accepted,
        "1000001",
    ),
    ("--shutdown-grace", &[], ANY_DURATION, Zero::Accepted, "25h"),
    (
        "--max-event-streams",
        &[],
        "from 1 to 10000 ",
        Zero::Refused("from 1 to 10000 "),
        "10001",
    ),
    (
        "--fleet-quorum",
        &[],
        "from 1 to 1000 ",
        Zero::Refused("from 1 to 1000 "),
        "1001",
    ),
    (
        "--fleet-heartbeat",
        &[],
        POSITIVE,
        Zero::Refused(POSITIVE),
        "25h",
    ),
];

const POSITIVE: &str = "longer than zero and at most 1day";
const ANY_DURATION: &str = "from 0s to 1day";
const PERCENT: &str = "from 0% to 100%";
const THROTTLE: &[&str] = &["--adaptive-throttle", "2"];
const ADAPTIVE: &[&str] = &["--max-concurrent", "adaptive"];

/// Every numeric flag refuses a negative number and a value over its range naming itself and
/// the range, and zero too unless zero means something; the zeros that do are all accepted
/// together by a binary that then starts.
#[test]
fn every_numeric_flag_refuses_negatives_zeros_and_values_over_its_range() {
    let mut accepted_zeros = vec!["--listen", "127.0.0.1:0", "--profile", "adaptive"];
    for (flag, beside, range, zero, over) in NUMERIC_FLAGS {
        let with = |value: &'static str| [beside, &[*flag, value][..]].concat();
        assert_refused(BINARY, ENV, &with("-1"), &[flag, range, r#"(got "-1")"#]);
        assert_refused(BINARY, ENV, &with(over), &[flag]);
        let zero_text = match *range {
            POSITIVE | ANY_DURATION => "0s",
            PERCENT => "0%",
            _ => "0",
        };
        match zero {
            Zero::Refused(message) => {
                assert_refused(BINARY, ENV, &with(zero_text), &[flag, message]);
            }
            Zero::Accepted => accepted_zeros.extend([*flag, zero_text]),
        }
    }
    let a = Running::start(BINARY, &accepted_zeros, &["SERVICE_B_URL"]);
    a.until("service A listening", |line| {
        line.contains("service A listening")
    });
    let (exit, _) = a.terminate();
    assert!(exit.success(), "{accepted_zeros:?}: {exit:?}");
}

/// A bad admin token, from the flag or the environment, is refused naming the flag, and never
/// repeated: not in the error, not in `--help`.
#[test]
fn the_admin_token_is_checked_and_never_repeated() {
    const SECRET: &str = "my secret token";
    for (args, env) in [
        (&["--admin-token", SECRET][..], None),
        (&["--admin-token", "hunter2"][..], None),
        (&[][..], Some(SECRET)),
    ] {
        let mut command = Command::new(BINARY);
        command.args(args).env_remove("SERVICE_A_ADMIN_TOKEN");
        if let Some(value) = env {
            command.env("SERVICE_A_ADMIN_TOKEN", value);
        }
        let output = command.output().expect("binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--admin-token"), "{stderr}");
        assert!(
            !stderr.contains("secret") && !stderr.contains("hunter2"),
            "{stderr}"
        );
    }
    let help = Command::new(BINARY)
        .arg("--help")
        .env("SERVICE_A_ADMIN_TOKEN", "0123456789abcdef-a-valid-token")
        .output()
        .expect("binary runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("[env: SERVICE_A_ADMIN_TOKEN]"), "{help}");
    assert!(!help.contains("a-valid-token"), "{help}");
}

#[test]
fn logs_its_address_and_stops_cleanly_on_sigterm() {
    let a = Running::start(
        BINARY,
        &["--listen", "127.0.0.1:0", "--profile", "production"],
        &["SERVICE_B_URL"],
    );
    let listening = a
        .until("service A listening", |line| {
            line.contains("service A listening")
        })
        .pop()
        .expect("the line just read");
    assert!(
        listening.contains("production"),
        "names its profile: {listening}"
    );

    let (exit, rest) = a.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(
        rest.iter().any(|line| line.contains("service A stopped")),
        "{rest:?}"
    );
}
