//! The ratios the bench prints: criterion's medians against the fastest peer's of the same
//! entry point, and a plain loop that interleaves the rows in rounds, so that a machine that
//! slows down midway slows every row alike.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Runs `n` calls and returns how long they took.
pub(crate) type Loop = Box<dyn FnMut(u64) -> Duration>;

/// How an entry point is called: each of `breaker`'s rows is compared with the peers' rows of
/// the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `try_acquire` and a permit; a peer's `call(closure)`.
    Sync,
    /// An async `call` (or `call_with`), polled once; a peer's `call(future)`.
    Async,
    /// A tower `Service`: `ready()` then `call()`, each polled once.
    Tower,
}

/// One row of a report: a crate through one entry point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    /// `crate.entry_point`, criterion's function id.
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    ours: bool,
}

impl Row {
    pub(crate) fn ours(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            ours: true,
        }
    }

    pub(crate) fn peer(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            ours: false,
        }
    }
}

/// Collects the rows of the entry points, for the criterion report.
pub(crate) struct Rows<'a>(pub(crate) &'a mut Vec<Row>);

/// Rounds of the interleaved loop; the median over rounds is reported.
const ROUNDS: usize = 31;
/// About how long one crate runs in one round.
const BATCH: Duration = Duration::from_millis(20);

/// Runs every row's loop in `ROUNDS` rounds, rotating who goes first, and prints each row's
/// median and spread in nanoseconds per call and `breaker`'s ratios to the fastest peers.
pub(crate) fn interleaved(scenario: &str, mut loops: Vec<(Row, Loop)>) {
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
    for ((row, _), (median, samples)) in loops.iter().zip(medians.iter().zip(&samples)) {
        let (low, high) = (samples[0], samples[samples.len() - 1]);
        let name = row.name;
        println!("  {name:<24} median {median:>9.2}   range {low:>9.2} .. {high:<9.2}");
    }
    let rows: Vec<_> = loops.iter().map(|(row, _)| *row).zip(medians).collect();
    print_ratios(scenario, &rows);
}

/// Prints, for each criterion group, the medians of `rows` and `breaker`'s against the fastest
/// peer's of the same kind, from the estimates criterion wrote since `since` (a filtered run
/// leaves older ones behind).
pub(crate) fn criterion_ratios(groups: &[&str], rows: &[Row], since: SystemTime) {
    let Some(root) = criterion_dir() else {
        println!("\n(criterion's estimates not found: no ratios)");
        return;
    };
    println!("\ncriterion medians, ns per call");
    for group in groups {
        let medians: Vec<(Row, f64)> = rows
            .iter()
            .filter_map(|row| Some((*row, read_median(&root.join(group).join(row.name), since)?)))
            .collect();
        if medians.is_empty() {
            continue;
        }
        for (row, median) in &medians {
            println!("  {group:<22} {:<24} {median:>11.2}", row.name);
        }
        print_ratios(group, &medians);
    }
}

/// Each of `breaker`'s rows over the fastest peer's row of the same kind.
fn print_ratios(scenario: &str, medians: &[(Row, f64)]) {
    for (ours, time) in medians.iter().filter(|(row, _)| row.ours) {
        let fastest_peer = medians
            .iter()
            .filter(|(row, _)| !row.ours && row.kind == ours.kind)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((peer, theirs)) = fastest_peer {
            println!(
                "  {scenario}: {} / fastest peer ({}) = {:.2}",
                ours.name,
                peer.name,
                time / theirs
            );
        }
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
