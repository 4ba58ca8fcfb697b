//! The `service-a` binary: flag errors exit 2 naming the flag (both flags when two disagree);
//! SIGTERM ends it cleanly.

use std::process::Command;

use service_kit::test_support::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_service-a");

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
        let output = Command::new(BINARY)
            .args(args)
            .env_remove("SERVICE_A_LISTEN")
            .env_remove("SERVICE_B_URL")
            .output()
            .expect("binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        for flag in flags {
            assert!(stderr.contains(flag), "{args:?}: {stderr}");
        }
    }
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
