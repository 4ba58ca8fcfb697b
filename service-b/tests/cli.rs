//! The `service-b` binary: flag errors, and SIGTERM ending it cleanly.

use std::process::Command;

use service_kit::test_support::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_service-b");

#[test]
fn an_invalid_flag_exits_2_with_clap_message() {
    let output = Command::new(BINARY)
        .args(["--fail-delay", "soon"])
        .env_remove("SERVICE_B_LISTEN")
        .env_remove("SERVICE_B_FAIL_DELAY")
        .output()
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--fail-delay"), "{stderr}");
}

#[test]
fn sigterm_stops_the_binary_cleanly() {
    let b = Running::start(
        BINARY,
        &["--listen", "127.0.0.1:0", "--fail-delay", "100ms"],
        &["SERVICE_B_LISTEN", "SERVICE_B_FAIL_DELAY"],
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
