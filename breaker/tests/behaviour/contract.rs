//! The public contract, compiled as written, and the auto traits it promises.

use breaker::{
    CircuitBreaker, ConfigError, Error, ManualClock, OwnedPermit, Permit, Rejected, State,
};
use std::time::Duration;

fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}
fn assert_send<T: Send>() {}
fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn the_handle_permits_and_errors_have_the_promised_traits() {
    assert_clone_send_sync::<CircuitBreaker>();
    assert_send::<Permit<'static>>();
    assert_send::<OwnedPermit>();
    assert_error::<Rejected>();
    assert_error::<ConfigError>();
    assert_error::<Error<std::io::Error>>();
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
