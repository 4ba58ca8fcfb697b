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
    /// Refused, the message naming the flag's range.
    Refused,
    /// Refused, the message holding this (the rule zero breaks).
    RefusedSaying(&'static str),
    /// Accepted: it means something (no wait, no limit, no budget).
    Accepted,
}

/// A numeric flag of service A and the values that test it.
struct NumericFlag {
    name: &'static str,
    /// The flags it needs beside it.
    beside: &'static [&'static str],
    /// The range its refusals name.
    range: String,
    /// Zero, written as the flag's values are (`0`, `0s`, `0%`).
    zero: &'static str,
    /// How it takes that zero.
    takes_zero: Zero,
    /// A value just over its range.
    over: String,
}

impl NumericFlag {
    /// The arguments that give it `value`, after the flags it needs beside it.
    fn args<'a>(&'a self, value: &'a str) -> Vec<&'a str> {
        [self.beside, &[self.name, value]].concat()
    }

    fn beside(self, beside: &'static [&'static str]) -> Self {
        Self { beside, ..self }
    }
}

/// A flag whose values are numbers in `range`, zero written `0`.
fn number(name: &'static str, range: &str, takes_zero: Zero, over: &str) -> NumericFlag {
    NumericFlag {
        name,
        beside: &[],
        range: range.to_owned(),
        zero: "0",
        takes_zero,
        over: over.to_owned(),
    }
}

/// A whole number from `min` to `max`: zero is refused when under `min`.
fn count(name: &'static str, min: u32, max: u32) -> NumericFlag {
    let takes_zero = if min == 0 {
        Zero::Accepted
    } else {
        Zero::Refused
    };
    let over = (max + 1).to_string();
    number(name, &format!("from {min} to {max} "), takes_zero, &over)
}

/// A percentage from 0% to 100%.
fn percent(name: &'static str, takes_zero: Zero) -> NumericFlag {
    NumericFlag {
        zero: "0%",
        ..number(name, "from 0% to 100%", takes_zero, "101%")
    }
}

/// A duration longer than zero and at most a day.
fn positive_duration(name: &'static str) -> NumericFlag {
    NumericFlag {
        zero: "0s",
        ..number(
            name,
            "longer than zero and at most 1day",
            Zero::Refused,
            "25h",
        )
    }
}

/// A duration from zero, which means no wait, to a day.
fn any_duration(name: &'static str) -> NumericFlag {
    NumericFlag {
        zero: "0s",
        ..number(name, "from 0s to 1day", Zero::Accepted, "25h")
    }
}

/// Every numeric flag of service A.
fn numeric_flags() -> Vec<NumericFlag> {
    const THROTTLE: &[&str] = &["--adaptive-throttle", "2"];
    const ADAPTIVE: &[&str] = &["--max-concurrent", "adaptive"];
    const IN_0_100: Zero = Zero::RefusedSaying("in (0, 100]");
    vec![
        positive_duration("--request-timeout"),
        positive_duration("--call-deadline"),
        count("--retry-attempts", 1, 10),
        positive_duration("--retry-backoff"),
        positive_duration("--retry-backoff-max"),
        percent("--retry-budget", Zero::Accepted),
        count("--failure-threshold", 1, 1_000_000),
        percent("--failure-rate-threshold", IN_0_100),
        positive_duration("--slow-call-threshold"),
        percent("--slow-call-rate-threshold", IN_0_100).beside(&["--slow-call-threshold", "1s"]),
        positive_duration("--sliding-window"),
        count("--minimum-calls", 1, 1_000_000),
        positive_duration("--recovery-timeout"),
        count("--half-open-max-calls", 1, 10_000),
        number(
            "--adaptive-throttle",
            "from 1 to 10,",
            Zero::Refused,
            "1e308",
        ),
        positive_duration("--throttle-window").beside(THROTTLE),
        number(
            "--throttle-max-rejection",
            "from 0 up to, not including, 1 ",
            Zero::Accepted,
            "1",
        )
        .beside(THROTTLE),
        count("--throttle-minimum-requests", 0, 1_000_000).beside(THROTTLE),
        count("--max-concurrent", 1, 10_000),
        count("--adaptive-min-limit", 1, 10_000).beside(ADAPTIVE),
        count("--adaptive-initial-limit", 1, 10_000).beside(ADAPTIVE),
        count("--adaptive-max-limit", 1, 10_000).beside(ADAPTIVE),
        any_duration("--bulkhead-wait"),
        count("--max-response-bytes", 1, 1_073_741_824),
        positive_duration("--header-timeout"),
        positive_duration("--body-timeout"),
        count("--max-connections", 1, 1_000_000),
        count("--max-connections-per-client", 0, 1_000_000),
        count("--max-connections-per-prefix", 0, 1_000_000),
        any_duration("--shutdown-grace"),
        count("--max-event-streams", 1, 10_000),
        count("--fleet-quorum", 1, 1_000),
        positive_duration("--fleet-heartbeat"),
    ]
}

/// Every numeric flag refuses a negative number and a value over its range naming itself and
/// the range, and zero too unless zero means something; the zeros that do are all accepted
/// together by a binary that then starts.
#[test]
fn every_numeric_flag_refuses_negatives_zeros_and_values_over_its_range() {
    let mut accepted_zeros = vec!["--listen", "127.0.0.1:0", "--profile", "adaptive"];
    let flags = numeric_flags();
    for flag in &flags {
        let (name, range) = (flag.name, flag.range.as_str());
        assert_refused(
            BINARY,
            ENV,
            &flag.args("-1"),
            &[name, range, r#"(got "-1")"#],
        );
        assert_refused(BINARY, ENV, &flag.args(&flag.over), &[name]);
        let refused_saying = match flag.takes_zero {
            Zero::Refused => range,
            Zero::RefusedSaying(message) => message,
            Zero::Accepted => {
                accepted_zeros.extend([name, flag.zero]);
                continue;
            }
        };
        assert_refused(BINARY, ENV, &flag.args(flag.zero), &[name, refused_saying]);
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
