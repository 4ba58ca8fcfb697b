// browser-check: drives headless Chromium through service A's dashboard as a learner would,
// with WebDriver, and checks what the page shows at each step; saves a screenshot.
//
// Run it:   scripts/browser-check.sh     # installs Chromium if missing, starts B, A and
//                                        # chromedriver on free loopback ports, then runs this
// By hand:  chromedriver --port=9515 &
//           cargo run -p browser-check -- --dashboard http://127.0.0.1:5000/ \
//               --webdriver http://127.0.0.1:9515 --screenshot dashboard.png \
//               --profile-dir "$(mktemp -d)"
//
// The scenario (scenario.rs) expects service A in the article profile (three consecutive
// failures open the circuit) with a short recovery timeout, and a circuit that is Closed.
// Exits 1 naming the step whose expectation the page did not meet.

mod page;
mod scenario;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::page::Page;

/// Chromium's flags: headless, and nothing that reaches beyond loopback (no sync, no component
/// updates, no background fetches, no QUIC probes).
const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
];

/// The window, wide enough for the dashboard's two columns and tall enough for all of it.
const WINDOW: (u32, u32) = (1280, 1440);

/// Drives service A's dashboard in headless Chromium through chromedriver.
#[derive(Debug, Parser)]
#[command(name = "browser-check", version, about, long_about = None)]
struct Args {
    /// Service A's dashboard; its host must be a loopback address.
    #[arg(long)]
    dashboard: url::Url,
    /// chromedriver's base URL; its host must be a loopback address.
    #[arg(long)]
    webdriver: url::Url,
    /// Where to save the screenshot (PNG).
    #[arg(long)]
    screenshot: PathBuf,
    /// A fresh, empty directory for Chromium's profile.
    #[arg(long)]
    profile_dir: PathBuf,
    /// The Chromium binary.
    #[arg(long, default_value = "/usr/bin/chromium")]
    browser: PathBuf,
    /// Longest wait for each thing the page should show.
    #[arg(long, default_value = "30s", value_parser = service_kit::duration::parse_positive)]
    patience: Duration,
    /// Service A's admin token, to check the admin buttons too; from the environment, so that
    /// it is not on a command line.
    #[arg(long, env = "SERVICE_A_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for (flag, url) in [
        ("--dashboard", &args.dashboard),
        ("--webdriver", &args.webdriver),
    ] {
        if !is_loopback(url) {
            bail!("{flag} must be on a loopback address, got {url}");
        }
    }
    let mut arguments: Vec<String> = CHROMIUM_FLAGS.iter().map(|&flag| flag.to_owned()).collect();
    arguments.push(format!("--user-data-dir={}", args.profile_dir.display()));
    arguments.push(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": args.browser, "args": arguments }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(args.webdriver.as_str())
        .await
        .with_context(|| {
            format!(
                "starting Chromium through chromedriver at {}",
                args.webdriver
            )
        })?;

    let page = Page::new(&client, args.patience);
    let outcome = scenario::run(
        &page,
        &args.dashboard,
        args.admin_token.as_deref(),
        &args.screenshot,
    )
    .await;
    if outcome.is_err() {
        eprintln!("{}", save_failure(&page, &args.screenshot).await);
    }
    // Quits Chromium whatever happened.
    let closed = client.close().await.context("closing the browser");
    outcome?;
    closed?;
    println!(
        "the dashboard told the whole story; screenshot in {}",
        args.screenshot.display()
    );
    Ok(())
}

/// Saves what the page showed when a step failed, beside the screenshot, and says where.
async fn save_failure(page: &Page<'_>, screenshot: &Path) -> String {
    let path = screenshot.with_extension("failed.png");
    match page
        .screenshot()
        .await
        .map(|png| std::fs::write(&path, png))
    {
        Ok(Ok(())) => format!("the page as it was: {}", path.display()),
        Ok(Err(err)) => format!("could not save the page as it was: {err}"),
        Err(err) => format!("could not take the page as it was: {err:#}"),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}
