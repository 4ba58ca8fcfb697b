//! The breaker's behaviour through its public API, with a manual clock: one test binary, so a
//! build links once (mutation testing rebuilds it for every mutant).
//!
//! `allocations.rs` (a counting global allocator) and `log.rs` (a global `tracing` subscriber)
//! need a process of their own and stay separate binaries.

// Under `--cfg loom` only tests/loom.rs runs; the rest needs dev-dependencies it leaves out.
#![cfg(not(loom))]

mod adaptive_limit;
mod call;
mod concurrency;
mod configuration;
mod contract;
mod events;
mod half_open_and_commands;
mod many_breakers;
mod middleware;
mod model;
mod peer_scenarios;
mod real_clock;
mod registry_and_snapshot;
mod rejection;
mod state_machine;
mod support;
mod throttle;
mod trip_policies;
