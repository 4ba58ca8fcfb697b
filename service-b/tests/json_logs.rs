//! `service-b --log-format json`: every line its binary writes, from start to shutdown, is one
//! JSON object with the event's fields at the top level.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_service-b");

#[test]
fn every_line_is_one_json_object_with_its_fields() {
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .env_remove("SERVICE_B_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    // Lines arrive through a channel so every wait is bounded, even if a line never comes.
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let parse = |line: String| -> Value {
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
    };
    let first = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("B logs that it listens");
    let listening = parse(first);
    assert_eq!(listening["message"], "service B listening", "{listening}");
    assert_eq!(listening["level"], "INFO", "{listening}");
    assert_eq!(listening["fail_delay"], "2s", "{listening}");
    assert!(
        listening["address"]
            .as_str()
            .is_some_and(|address| address.starts_with("127.0.0.1:")),
        "{listening}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    // Bounded: B logs its last line on its way out, then exits.
    let mut rest = Vec::new();
    while rest
        .last()
        .is_none_or(|line: &Value| line["message"] != "service B stopped")
    {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("B did not log that it stopped; saw {rest:?}"));
        rest.push(parse(line));
    }
    let exit = child.wait().expect("B exits");
    assert!(exit.success(), "{exit:?}");
    // B has exited, so its stdout is closed and the channel ends.
    rest.extend(lines.iter().map(parse));
    assert!(rest.iter().all(Value::is_object), "{rest:?}");
}
