//! `service-a --log-format json`: every line its binary writes is one JSON object, and every
//! state change carries the breaker's name, `from`, `to` and `reason` as fields of its own.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use service_kit::test_support::Running;
use support::{PATIENCE, ServiceB, get_text};

const BINARY: &str = env!("CARGO_BIN_EXE_service-a");

/// The binary with `--log-format json`: every line it writes must be one JSON object.
struct JsonLog(Running);

/// `line` as a JSON object; panics when it is not one.
fn object(line: &str) -> Value {
    let object: Value =
        serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line:?}"));
    assert!(object.is_object(), "not an object: {line:?}");
    object
}

impl JsonLog {
    fn start(args: &[&str]) -> Self {
        Self(Running::start(
            BINARY,
            args,
            &["SERVICE_A_LISTEN", "SERVICE_B_URL"],
        ))
    }

    /// Reads lines, each a JSON object, until one satisfies `wanted`; returns it.
    fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let last = self
            .0
            .until(what, |line| wanted(&object(line)))
            .pop()
            .expect("the line just read");
        object(&last)
    }

    /// SIGTERM, then every line left, each of which must be a JSON object too, the last saying
    /// that service A stopped.
    fn stop(self) {
        let (exit, rest) = self.0.terminate();
        assert!(exit.success(), "{exit:?}");
        let rest: Vec<Value> = rest.iter().map(|line| object(line)).collect();
        assert!(
            rest.iter()
                .any(|line| line["message"] == "service A stopped"),
            "{rest:#?}"
        );
    }
}

fn field<'v>(object: &'v Value, name: &str) -> &'v str {
    object[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string field {name:?} in {object}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transition_is_a_json_line_with_breaker_from_to_and_reason() {
    let b = ServiceB::start().await;
    let base = b.base();
    let mut a = JsonLog::start(&[
        "--listen",
        "127.0.0.1:0",
        "--service-b-url",
        &base,
        "--log-format",
        "json",
        "--failure-threshold",
        "1",
        "--request-timeout",
        "1s",
        "--recovery-timeout",
        "1500ms",
    ]);
    let listening = tokio::task::block_in_place(|| {
        a.until("the address", |line| {
            line["message"] == "service A listening"
        })
    });
    let url = format!("http://{}", field(&listening, "address"));
    let client = reqwest::Client::new();

    let (status, _) = get_text(&client, &format!("{url}/call?fail=true")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // Reading /breaker once the recovery timeout has passed moves the circuit to HalfOpen.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, body) = get_text(&client, &format!("{url}/breaker")).await;
        if body.contains(r#""state":"half_open""#) {
            break;
        }
        assert!(Instant::now() < deadline, "never half-open: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = get_text(&client, &format!("{url}/call")).await;
    assert_eq!(status, StatusCode::OK);

    let mut transitions = Vec::new();
    for to in ["open", "half_open", "closed"] {
        let line =
            tokio::task::block_in_place(|| a.until(&format!("to = {to}"), |line| line["to"] == to));
        transitions.push(line);
    }
    let fields: Vec<_> = transitions
        .iter()
        .map(|line| {
            (
                field(line, "level"),
                field(line, "breaker"),
                field(line, "from"),
                field(line, "to"),
                field(line, "reason"),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            (
                "WARN",
                "call_service_b",
                "closed",
                "open",
                "1 consecutive failures"
            ),
            (
                "INFO",
                "call_service_b",
                "open",
                "half_open",
                "recovery timeout elapsed"
            ),
            (
                "INFO",
                "call_service_b",
                "half_open",
                "closed",
                "half-open probe succeeded"
            ),
        ]
    );
    assert_eq!(
        field(&transitions[0], "message"),
        "circuit call_service_b: CLOSED -> OPEN (1 consecutive failures)"
    );
    tokio::task::block_in_place(|| a.stop());
    b.stop().await;
}
