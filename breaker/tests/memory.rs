//! Names are not leaked: a breaker's name lives as long as the breakers and rejections that carry
//! it, and no longer, and so does each trip's record, which its rejections share. A service may
//! make a breaker per tenant, per host or per route from data; building and dropping a million
//! breakers with distinct names (each tripped and rejecting), or adding and removing 100,000 in
//! a registry, leaves the process's resident memory where it was.
//!
//! What is measured is resident memory (`VmRSS` in `/proc/self/status`), what the operating
//! system charges the process. The allocator keeps the blocks a program frees to reuse them, so
//! a program that frees all it builds levels off after its first round and stays there, while
//! one that leaks grows with every name: a leaked name costs at least its bytes and a pointer, so
//! a million of them would add tens of MiB (the interned names this test was written against
//! added 157 MiB). Each test makes a warm-up round first, so that the allocator's pool, the
//! thread's slots and the registry's map exist before the reading it starts from.
//!
//! How it could fail without a leak: another thread allocating in this process between the two
//! readings (so this binary has one test, and the two rounds run in turn inside it), or the
//! allocator fragmenting its pool so that the same live set needs more pages; `SLACK` allows for
//! that. It cannot pass with a leak of more than `SLACK` over all the names it makes.

// Under `--cfg loom` only tests/loom.rs runs.
#![cfg(all(not(loom), target_os = "linux"))]

use std::fs;
use trip_breaker::{CircuitBreaker, Registry};

/// How far resident memory may move between the two readings: a few MiB.
const SLACK_KIB: i64 = 8 * 1024;
/// Breakers built and dropped, each with a name of its own.
const BREAKERS: u32 = 1_000_000;
/// Breakers added to the registry and removed, in rounds of `REGISTRY_ROUND`.
const REGISTERED: u32 = 100_000;
const REGISTRY_ROUND: u32 = 1_000;

/// The process's resident memory, in KiB.
fn resident_kib() -> i64 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A name as a service might derive one from its data: distinct, and too long to be stored
/// inline anywhere.
fn tenant(i: u32) -> String {
    format!("tenant-{i:08}-eu-west-1-checkout-service")
}

/// Builds a breaker named after tenant `i`, makes a call through it that succeeds and one that
/// fails and opens it, is rejected twice (the second time from this thread's record of the
/// trip, without the lock), drops the breaker, then the last rejection, which outlives it.
fn one_breaker(i: u32) {
    let cb = CircuitBreaker::builder(tenant(i))
        .failure_threshold(1)
        .build()
        .expect("valid config");
    cb.try_acquire().expect("Closed admits").success();
    cb.try_acquire().expect("Closed admits").failure("refused");
    drop(cb.try_acquire().expect_err("Open rejects"));
    let last = cb.try_acquire().expect_err("Open rejects");
    drop(cb);
    assert_eq!(last.name(), tenant(i));
    assert_eq!(last.last_failure(), Some("refused"));
}

/// Adds `REGISTRY_ROUND` breakers named from `first` on, then removes every one of them.
fn registry_round(registry: &Registry, first: u32) {
    for i in first..first + REGISTRY_ROUND {
        registry.get_or_create(&tenant(i));
    }
    for i in first..first + REGISTRY_ROUND {
        let removed = registry.remove(&tenant(i)).expect("it was added");
        assert_eq!(removed.name(), tenant(i));
    }
    assert!(registry.breakers().is_empty());
}

#[test]
fn distinct_names_leave_resident_memory_flat() {
    // A million breakers, each with a name of its own, built and dropped.
    for i in 0..1_000 {
        one_breaker(i);
    }
    let start = resident_kib();
    for i in 0..BREAKERS {
        one_breaker(i);
    }
    let grown = resident_kib() - start;
    eprintln!("{BREAKERS} breakers built and dropped: resident memory {grown:+} KiB");
    assert!(
        grown < SLACK_KIB,
        "{BREAKERS} breakers with distinct names, built and dropped, left resident memory \
         {grown} KiB larger"
    );

    // A registry that adds and removes 100,000 breakers.
    let registry = Registry::new(CircuitBreaker::builder("template")).expect("valid template");
    registry_round(&registry, 0);
    let start = resident_kib();
    for round in 0..REGISTERED / REGISTRY_ROUND {
        registry_round(&registry, BREAKERS + round * REGISTRY_ROUND);
    }
    let grown = resident_kib() - start;
    eprintln!(
        "{REGISTERED} breakers added to a registry and removed: resident memory {grown:+} KiB"
    );
    assert!(
        grown < SLACK_KIB,
        "a registry that added and removed {REGISTERED} breakers left resident memory {grown} \
         KiB larger"
    );
}
