//! `service-b --log-format json`: every line its binary writes, from start to shutdown, is one
//! JSON object with the event's fields at the top level.

use serde_json::Value;
use service_kit::test_support::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_service-b");

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
}

#[test]
fn every_line_is_one_json_object_with_its_fields() {
    let b = Running::start(
        BINARY,
        &["--listen", "127.0.0.1:0", "--log-format", "json"],
        &["SERVICE_B_LISTEN"],
    );
    let listening = parse(&b.next_line().expect("B logs that it listens"));
    assert_eq!(listening["message"], "service B listening", "{listening}");
    assert_eq!(listening["level"], "INFO", "{listening}");
    assert_eq!(listening["fail_delay"], "2s", "{listening}");
    assert!(
        listening["address"]
            .as_str()
            .is_some_and(|address| address.starts_with("127.0.0.1:")),
        "{listening}"
    );

    let (exit, rest) = b.terminate();
    assert!(exit.success(), "{exit:?}");
    let rest: Vec<Value> = rest.iter().map(|line| parse(line)).collect();
    assert!(rest.iter().all(Value::is_object), "{rest:?}");
    assert!(
        rest.iter()
            .any(|line| line["message"] == "service B stopped"),
        "B did not log that it stopped; saw {rest:?}"
    );
}
