// loadgen: bounded HTTP load for the experiment scripts, on loopback only.
//
// Run it:   cargo run --release -p loadgen -- --url 'http://127.0.0.1:5000/call' \
//               --requests 1000 --concurrency 20
//           cargo run --release -p loadgen -- --url 'http://127.0.0.1:5000/call' \
//               --rate 200 --duration 30s --concurrency 500
// Prints:   one JSON object: requests, seconds, counts by status ("error" for no answer at all),
//           and latency percentiles in milliseconds, overall and by status; with --rate also
//           the requests dropped and a series by second (`--help` says what each field is).
//
// Why our own and not oha or ab: the experiments run in CI on a fresh machine with only what the
// repository builds; this is a few hundred lines on the reqwest and tokio the services already
// use.
//
// The modules, each importing only from those below it (scripts/check-layers.sh checks it):
//   summary     the JSON printed, with the open loop's report flattened into it
//   series      the open loop's report: the rate, drops, lag and a series by second
//   rate        the open loop: a fixed schedule and its outcomes
//   load        the closed loop, and draining an answer's body (rate uses it)
//   percentile  nearest-rank percentiles in milliseconds, for summary and series

mod load;
mod percentile;
mod rate;
mod series;
mod summary;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::error::ErrorKind;
use clap::{ArgGroup, CommandFactory, Parser};
use reqwest::Url;

use crate::load::Outcome;
use crate::rate::Schedule;
use crate::series::RateReport;
use crate::summary::Summary;

/// Sends GET requests to one loopback URL and prints a JSON summary: `--concurrency` at a time
/// (closed loop), or with `--rate`, on a fixed schedule whatever the answers (open loop).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about, long_about = None)]
#[command(group(
    ArgGroup::new("bound")
        .required(true)
        .multiple(true)
        .args(["requests", "duration"])
))]
struct Args {
    /// The URL to GET; its host must be a loopback address (127.0.0.1, ::1 or localhost).
    #[arg(long)]
    url: Url,
    /// Requests in all (1 to 1,000,000); with --rate, the most that are scheduled.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    requests: Option<u32>,
    /// Requests in flight at once (1 to 1,000); with --rate, the cap: a request due while this
    /// many are in flight is not sent but counted as dropped.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    concurrency: u32,
    /// Open loop: send this many requests a second (1 to 100,000) on a fixed schedule, however
    /// slowly the answers come, until --requests are scheduled or --duration has passed. The
    /// summary then adds `rate`, `dropped`, `max_lag_ms` (how far behind its schedule the
    /// generator fell) and `series`: one object a second, by when requests were due, with
    /// `sent`, `2xx`, `5xx`, `errors` (no answer or another status), `dropped`, and `p50_ms`,
    /// `p99_ms` of the 2xx answers (null with none).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: Option<u32>,
    /// With --rate: how long to schedule requests for (e.g. 30s); at most 1,000,000 requests.
    #[arg(long, requires = "rate", value_parser = service_kit::duration::parse_positive)]
    duration: Option<Duration>,
    /// Longest wait for one answer; one that takes longer counts as an error.
    #[arg(long, default_value = "30s", value_parser = service_kit::duration::parse_positive)]
    timeout: Duration,
}

/// The load the flags ask for.
#[derive(Debug, PartialEq)]
enum Load {
    /// `concurrency` workers share `requests`.
    Closed { requests: u32, concurrency: u32 },
    /// `schedule`, with at most `max_in_flight` out at once.
    Open {
        schedule: Schedule,
        max_in_flight: u32,
    },
}

impl Args {
    fn load(&self) -> Result<Load, String> {
        match self.rate {
            None => {
                let requests = self
                    .requests
                    .ok_or("--requests is required without --rate")?;
                Ok(Load::Closed {
                    requests,
                    concurrency: self.concurrency,
                })
            }
            Some(rate) => Ok(Load::Open {
                schedule: Schedule::new(rate, self.requests, self.duration)?,
                max_in_flight: self.concurrency,
            }),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let load = args.load().unwrap_or_else(|message| {
        Args::command()
            .error(ErrorKind::ValueValidation, message)
            .exit()
    });
    if !is_loopback(&args.url) {
        bail!(
            "{} is not on loopback: loadgen only loads this machine",
            args.url
        );
    }
    let summary = match load {
        Load::Closed {
            requests,
            concurrency,
        } => {
            let outcomes = load::run(&args.url, requests, concurrency, args.timeout)
                .await
                .context("sending the load")?;
            Summary::new(&outcomes.results, outcomes.elapsed)
        }
        Load::Open {
            schedule,
            max_in_flight,
        } => {
            let outcomes = rate::run_http(&args.url, schedule, max_in_flight, args.timeout)
                .await
                .context("sending the load")?;
            let results: Vec<Outcome> = outcomes
                .sent
                .iter()
                .map(|sent| (sent.status, sent.took))
                .collect();
            Summary::new(&results, outcomes.elapsed)
                .with_rate(RateReport::new(schedule.rate(), &outcomes))
        }
    };
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

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(
            [
                "loadgen",
                "--url",
                "http://127.0.0.1:5000/",
                "--concurrency",
                "10",
            ]
            .iter()
            .chain(args),
        )
    }

    #[test]
    fn without_rate_the_load_is_closed_and_needs_requests() {
        let args = parse(&["--requests", "100"]).expect("valid");
        assert_eq!(
            args.load(),
            Ok(Load::Closed {
                requests: 100,
                concurrency: 10
            })
        );
        for bad in [&[][..], &["--duration", "10s"][..]] {
            let err = parse(bad).expect_err("no bound, or a duration without a rate");
            assert_eq!(err.exit_code(), 2, "{bad:?}: {err}");
        }
    }

    #[test]
    fn rate_takes_requests_or_duration_and_concurrency_as_the_in_flight_cap() {
        let args = parse(&["--rate", "100", "--duration", "1s"]).expect("valid");
        assert_eq!(
            args.load(),
            Ok(Load::Open {
                schedule: Schedule::new(100, None, Some(Duration::from_secs(1))).expect("valid"),
                max_in_flight: 10
            })
        );
        let args = parse(&["--rate", "100", "--requests", "5"]).expect("valid");
        assert!(matches!(args.load(), Ok(Load::Open { schedule, .. }) if schedule.count() == 5));
        let err = parse(&["--rate", "100"]).expect_err("unbounded");
        assert_eq!(err.exit_code(), 2);
        for bad in [
            &["--rate", "0", "--requests", "5"][..],
            &["--rate", "100001", "--requests", "5"][..],
            &["--rate", "10", "--duration", "0s"][..],
            &["--rate", "10", "--duration", "2days"][..],
        ] {
            let err = parse(bad).expect_err("out of range");
            assert_eq!(err.exit_code(), 2, "{bad:?}: {err}");
        }
        let args = parse(&["--rate", "100000", "--duration", "1m"]).expect("each flag is valid");
        let err = args.load().expect_err("six million requests");
        assert!(err.contains("at most 1000000"), "{err}");
    }

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

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
