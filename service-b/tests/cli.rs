//! The `service-b` binary: flag errors, and SIGTERM ending it cleanly.

use service_kit::test_support::{Running, assert_refused};

const BINARY: &str = env!("CARGO_BIN_EXE_service-b");

/// What a developer's shell may set for service B, which the tests must not inherit.
const ENV: &[&str] = &["SERVICE_B_LISTEN", "SERVICE_B_FAIL_DELAY"];

#[test]
fn an_invalid_flag_exits_2_with_clap_message() {
    assert_refused(BINARY, ENV, &["--fail-delay", "soon"], &["--fail-delay"]);
}

/// Every numeric flag of service B: the range its refusals name, whether zero is refused (and
/// with what), a value just over its range.
const NUMERIC_FLAGS: &[(&str, &str, Option<&str>, &str)] = &[
    ("--fail-delay", "from 0s to 1day", None, "25h"),
    ("--header-timeout", POSITIVE, Some(POSITIVE), "25h"),
    ("--body-timeout", POSITIVE, Some(POSITIVE), "25h"),
    (
        "--max-connections",
        "from 1 to 1000000 ",
        Some("from 1 to 1000000 "),
        "1000001",
    ),
    (
        "--max-connections-per-client",
        "from 0 to 1000000 ",
        None,
        "1000001",
    ),
    (
        "--max-connections-per-prefix",
        "from 0 to 1000000 ",
        None,
        "1000001",
    ),
    ("--shutdown-grace", "from 0s to 1day", None, "25h"),
];

const POSITIVE: &str = "longer than zero and at most 1day";

/// Every numeric flag refuses a negative number and a value over its range naming itself and
/// the range, and zero too unless zero means something (no delay, no limit, no grace); the
/// zeros that do are all accepted together by a binary that then starts. A share over the cap
/// is refused naming both flags.
#[test]
fn every_numeric_flag_refuses_negatives_zeros_and_values_over_its_range() {
    let mut accepted_zeros = vec!["--listen", "127.0.0.1:0"];
    for (flag, range, zero, over) in NUMERIC_FLAGS {
        assert_refused(BINARY, ENV, &[flag, "-1"], &[flag, range, r#"(got "-1")"#]);
        assert_refused(BINARY, ENV, &[flag, over], &[flag]);
        let zero_text = if range.contains("1day") { "0s" } else { "0" };
        match zero {
            Some(message) => assert_refused(BINARY, ENV, &[flag, zero_text], &[flag, message]),
            None => accepted_zeros.extend([*flag, zero_text]),
        }
    }
    for share in [
        "--max-connections-per-client",
        "--max-connections-per-prefix",
    ] {
        assert_refused(
            BINARY,
            ENV,
            &["--max-connections", "10", share, "20"],
            &[
                share,
                "20 is more than the connections served at once (--max-connections 10)",
            ],
        );
    }
    let b = Running::start(BINARY, &accepted_zeros, ENV);
    b.until("service B listening", |line| {
        line.contains("service B listening")
    });
    let (exit, _) = b.terminate();
    assert!(exit.success(), "{accepted_zeros:?}: {exit:?}");
}

#[test]
fn sigterm_stops_the_binary_cleanly() {
    let b = Running::start(
        BINARY,
        &["--listen", "127.0.0.1:0", "--fail-delay", "100ms"],
        ENV,
    );
    let listening = b
        .until("service B listening", |line| {
            line.contains("service B listening")
        })
        .pop()
        .expect("the line just read");
    assert!(listening.contains("127.0.0.1:"), "{listening}");

    let (exit, rest) = b.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(
        rest.iter().any(|line| line.contains("service B stopped")),
        "{rest:?}"
    );
}
