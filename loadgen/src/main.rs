// loadgen: bounded HTTP load for the experiment scripts, on loopback only.
//
// Run it:   cargo run --release -p loadgen -- --url 'http://127.0.0.1:5000/call' \
//               --requests 1000 --concurrency 20
// Prints:   one JSON object: requests, seconds, counts by status ("error" for no answer at all),
//           and latency percentiles in milliseconds, overall and by status.
//
// Why our own and not oha or ab: the experiments run in CI on a fresh machine with only what the
// repository builds; this is 200 lines on the reqwest and tokio the services already use.

mod load;
mod summary;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use reqwest::Url;

/// Sends `--requests` GET requests to one loopback URL, `--concurrency` at a time, and prints a
/// JSON summary.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about, long_about = None)]
struct Args {
    /// The URL to GET; its host must be a loopback address (127.0.0.1, ::1 or localhost).
    #[arg(long)]
    url: Url,
    /// Requests in all (1 to 1,000,000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    requests: u32,
    /// Requests in flight at once (1 to 1,000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    concurrency: u32,
    /// Longest wait for one answer; one that takes longer counts as an error.
    #[arg(long, default_value = "30s", value_parser = service_kit::duration::parse_positive)]
    timeout: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !is_loopback(&args.url) {
        bail!(
            "{} is not on loopback: loadgen only loads this machine",
            args.url
        );
    }
    let outcomes = load::run(&args.url, args.requests, args.concurrency, args.timeout)
        .await
        .context("sending the load")?;
    let summary = summary::Summary::new(&outcomes.results, outcomes.elapsed);
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_loaded() {
        for url in [
            "http://127.0.0.1:5000/call",
            "http://[::1]:5000/",
            "http://localhost/",
        ] {
            assert!(is_loopback(&Url::parse(url).expect("URL")), "{url}");
        }
        for url in [
            "http://10.0.0.1/",
            "http://example.com/",
            "http://127.0.0.1.example/",
        ] {
            assert!(!is_loopback(&Url::parse(url).expect("URL")), "{url}");
        }
    }
}
