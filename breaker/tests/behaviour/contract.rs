//! The public contract, compiled as written, and the auto traits it promises.

use std::time::Duration;
use trip_breaker::{
    CircuitBreaker, ConfigError, Error, ManualClock, OwnedPermit, Permit, Rejected, State,
};

fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}
fn assert_send<T: Send>() {}
fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
fn assert_unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}

#[test]
fn the_handle_permits_and_errors_have_the_promised_traits() {
    assert_clone_send_sync::<CircuitBreaker>();
    assert_send::<Permit<'static>>();
    assert_send::<OwnedPermit>();
    assert_error::<Rejected>();
    assert_error::<ConfigError>();
    assert_error::<Error<std::io::Error>>();
    // A rejection may be held across `catch_unwind`, as its `Arc` fields allow.
    assert_unwind_safe::<Rejected>();
    assert_unwind_safe::<ConfigError>();
}

#[tokio::test]
async fn the_contract_compiles_as_written() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(); // Clone; clones share one time
    let cb = CircuitBreaker::builder("call_service_b") // the name is a String-like
        .failure_threshold(3) // consecutive failures that open the circuit
        .recovery_timeout(Duration::from_secs(10)) // Open -> HalfOpen after this
        .clock(clock.clone()) // optional; the default is the real clock
        .build()?; // Result<CircuitBreaker, ConfigError>
    let permit = cb.try_acquire()?; // Result<Permit, Rejected>
    permit.success(); // or permit.failure(cause: impl Display)
    let r: Result<u32, Error<std::io::Error>> = cb.call(|| async { Ok(7) }).await;
    assert_eq!(r?, 7);
    assert_eq!(cb.state(), State::Closed);
    clock.advance(Duration::from_millis(200));
    Ok(())
}

#[test]
fn a_string_name_works_as_well_as_a_str() {
    let name = String::from("payments");
    let cb = CircuitBreaker::builder(&name)
        .build()
        .expect("defaults are valid");
    assert_eq!(cb.name(), "payments");
    let cb = CircuitBreaker::builder(name)
        .build()
        .expect("defaults are valid");
    assert_eq!(cb.clone().name(), "payments");
}

#[test]
fn an_invalid_setting_is_an_error_naming_the_field_not_a_panic() {
    let error = CircuitBreaker::builder("x")
        .half_open_max_calls(0)
        .build()
        .expect_err("0 probes cannot work");
    assert_eq!(error.field(), "half_open_max_calls");
    let error = CircuitBreaker::builder("x")
        .failure_rate_threshold(150.0)
        .build()
        .expect_err("a rate over 100% cannot work");
    assert_eq!(error.field(), "failure_rate_threshold");
    assert!(error.to_string().contains("(got 150)"), "{error}");
}

#[test]
fn debug_output_names_the_breaker_and_says_what_matters() {
    let (cb, _clock) = crate::support::on_manual_clock(
        CircuitBreaker::builder("payments").on_event(|_: &trip_breaker::Event<'_>| {}),
    );
    assert_eq!(
        format!("{cb:?}"),
        r#"CircuitBreaker { name: "payments", state: Closed }"#
    );
    let permit = cb.try_acquire().expect("closed");
    assert_eq!(
        format!("{permit:?}"),
        r#"Permit { breaker: "payments", probe: false }"#
    );
    permit.success();
    let owned = cb.try_acquire_owned().expect("closed");
    assert_eq!(
        format!("{owned:?}"),
        r#"OwnedPermit { breaker: "payments", probe: false }"#
    );
    owned.success();
    let builder = CircuitBreaker::builder("inventory").on_event(|_: &trip_breaker::Event<'_>| {});
    let shown = format!("{builder:?}");
    assert!(
        shown.starts_with(r#"Builder { name: "inventory", config: Config {"#),
        "{shown}"
    );
    assert!(
        shown.ends_with("listeners: 1, transition_listeners: 0 }"),
        "{shown}"
    );
}

#[test]
fn states_have_python_names_for_people_and_snake_case_names_for_machines() {
    let names: Vec<_> = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::Disabled,
    ]
    .into_iter()
    .map(|state| (state.to_string(), state.as_str()))
    .collect();
    assert_eq!(
        names,
        [
            ("CLOSED".to_owned(), "closed"),
            ("OPEN".to_owned(), "open"),
            ("HALF_OPEN".to_owned(), "half_open"),
            ("FORCED_OPEN".to_owned(), "forced_open"),
            ("DISABLED".to_owned(), "disabled"),
        ]
    );
}

#[tokio::test]
async fn the_call_error_tells_a_rejection_from_the_calls_own_error() {
    use std::error::Error as _;
    let cb = CircuitBreaker::builder("call_service_b")
        .failure_threshold(1)
        .build()
        .expect("valid");
    let failed: Result<(), Error<std::io::Error>> = cb
        .call(|| async { Err(std::io::Error::other("connection reset")) })
        .await;
    let failed = failed.expect_err("the call failed");
    assert!(!failed.is_rejected());
    assert!(failed.rejected().is_none());
    assert_eq!(failed.to_string(), "connection reset");
    assert_eq!(
        failed.source().map(ToString::to_string).as_deref(),
        Some("connection reset")
    );
    assert_eq!(
        failed
            .into_inner()
            .map(|inner| inner.to_string())
            .as_deref(),
        Some("connection reset")
    );

    let rejected: Result<(), Error<std::io::Error>> = cb.call(|| async { Ok(()) }).await;
    let rejected = rejected.expect_err("the circuit is open");
    assert!(rejected.is_rejected());
    let text = rejected.to_string();
    assert!(
        text.starts_with("Circuit \"call_service_b\" OPEN until "),
        "{text}"
    );
    assert_eq!(
        rejected.rejected().map(ToString::to_string),
        Some(text.clone())
    );
    assert_eq!(rejected.source().map(ToString::to_string), Some(text));
    assert!(rejected.into_inner().is_none());
}
