//! The ratios the bench prints: criterion's medians against the fastest peer's, and a plain
//! loop that interleaves the crates in rounds, so that a machine that slows down midway slows
//! every crate alike.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// Runs `n` calls and returns how long they took.
pub(crate) type Loop = Box<dyn FnMut(u64) -> Duration>;

/// `call` made `n` times in a tight loop, its answer kept from being optimised away.
pub(crate) fn timed(mut call: impl FnMut() -> bool + 'static) -> Loop {
    Box::new(move |n| {
        let start = Instant::now();
        for _ in 0..n {
            black_box(call());
        }
        start.elapsed()
    })
}

/// Rounds of the interleaved loop; the median over rounds is reported.
const ROUNDS: usize = 31;
/// About how long one crate runs in one round.
const BATCH: Duration = Duration::from_millis(20);

/// Runs every crate's loop in `ROUNDS` rounds, rotating who goes first, and prints each crate's
/// median and spread in nanoseconds per call and `breaker`'s ratio to the fastest peer.
pub(crate) fn interleaved(scenario: &str, mut loops: Vec<(&'static str, Loop)>) {
    let batches: Vec<u64> = loops
        .iter_mut()
        .map(|(_, run)| {
            let probe = 20_000;
            let per_call = run(probe).as_nanos().max(1) / u128::from(probe);
            u64::try_from(BATCH.as_nanos() / per_call.max(1)).unwrap_or(u64::MAX)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(ROUNDS); loops.len()];
    for round in 0..ROUNDS {
        for turn in 0..loops.len() {
            let crate_ = (round + turn) % loops.len();
            let took = (loops[crate_].1)(batches[crate_]);
            samples[crate_].push(took.as_secs_f64() * 1e9 / batches[crate_] as f64);
        }
    }
    println!("\nplain loop, {scenario}: ns per call over {ROUNDS} interleaved rounds");
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    for ((name, _), (median, samples)) in loops.iter().zip(medians.iter().zip(&samples)) {
        let (low, high) = (samples[0], samples[samples.len() - 1]);
        println!("  {name:<18} median {median:>9.2}   range {low:>9.2} .. {high:<9.2}");
    }
    print_ratio(scenario, loops.iter().map(|(name, _)| *name).zip(medians));
}

/// Prints, for each criterion group, `breaker`'s median against the fastest peer's, from the
/// estimates criterion wrote since `since` (a filtered run leaves older ones behind).
pub(crate) fn criterion_ratios(groups: &[&str], since: SystemTime) {
    let Some(root) = criterion_dir() else {
        println!("\n(criterion's estimates not found: no ratios)");
        return;
    };
    println!("\ncriterion medians, ns per call");
    for group in groups {
        let medians: Vec<(&str, f64)> = ["breaker", "failsafe", "recloser", "tower-resilience"]
            .into_iter()
            .filter_map(|name| Some((name, read_median(&root.join(group).join(name), since)?)))
            .collect();
        if medians.is_empty() {
            continue;
        }
        for (name, median) in &medians {
            println!("  {group:<22} {name:<18} {median:>11.2}");
        }
        print_ratio(group, medians.into_iter());
    }
}

fn print_ratio<'a>(scenario: &str, medians: impl Iterator<Item = (&'a str, f64)>) {
    let medians: Vec<_> = medians.collect();
    let ours = medians.iter().find(|(name, _)| *name == "breaker");
    let fastest_peer = medians
        .iter()
        .filter(|(name, _)| *name != "breaker")
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some((_, ours)), Some((peer, theirs))) = (ours, fastest_peer) {
        println!(
            "  {scenario}: breaker / fastest peer ({peer}) = {:.2}",
            ours / theirs
        );
    }
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Where criterion keeps its estimates: `$CARGO_TARGET_DIR/criterion`, else the workspace's
/// `target/criterion` (benches run in the package's directory).
fn criterion_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| PathBuf::from(dir).join("criterion"))
        .into_iter()
        .chain(["target/criterion", "../target/criterion"].map(PathBuf::from));
    candidates.into_iter().find(|dir| dir.is_dir())
}

/// The median point estimate of one benchmark's run, in nanoseconds, if it ran since `since`.
fn read_median(dir: &std::path::Path, since: SystemTime) -> Option<f64> {
    let file = dir.join("new/estimates.json");
    if std::fs::metadata(&file).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}
