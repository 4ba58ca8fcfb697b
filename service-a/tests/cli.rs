//! The `service-a` binary: flag errors exit 2 naming the flag (both flags when two disagree);
//! SIGTERM ends it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    let mut running = KilledOnDrop(
        Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0", "--profile", "production"])
            .env("RUST_LOG", "info")
            .env_remove("SERVICE_B_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let child = &mut running.0;
    let stdout = child.stdout.take().expect("piped stdout");
    // Lines arrive through a channel so every wait below is bounded, even if a line never
    // comes.
    let (sender, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let listening = read_until(&lines, "service A listening").pop();
    let listening = listening.expect("the line just read");
    assert!(
        listening.contains("production"),
        "names its profile: {listening}"
    );

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
            panic!("still running 5 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(exit.success(), "{exit:?}");
    // The process has exited, so its stdout is closed and the reader ends.
    reader.join().expect("reader thread");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(
        rest.iter().any(|line| line.contains("service A stopped")),
        "{rest:?}"
    );
}

/// A child process that a failing assertion does not leave running.
struct KilledOnDrop(Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        // Both fail harmlessly once the child has exited and been waited for.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines up to and including the first containing `wanted`; panics after 5 s without it.
fn read_until(lines: &mpsc::Receiver<String>, wanted: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(wanted);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => panic!("no line containing {wanted:?} within 5 s; saw {seen:?}"),
        }
    }
}
