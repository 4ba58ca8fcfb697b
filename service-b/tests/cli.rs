//! The `service-b` binary: flag errors, and SIGTERM ending it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--fail-delay", "100ms"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("service B listening"))
        .expect("logs that it listens");
    assert!(listening.contains("127.0.0.1:"), "{listening}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());

    let deadline = Instant::now() + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 5 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(exit.success(), "{exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|line| line.contains("service B stopped")),
        "{rest:?}"
    );
}
