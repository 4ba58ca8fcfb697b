//! The walkthrough, replayed from the page: trip the circuit with the page's own buttons, watch
//! it open, count down, half-open and close; then, given the token, the admin buttons.

use std::path::Path;

use anyhow::{Context, bail, ensure};

use crate::page::Page;

fn step(name: &str) {
    println!("== {name}");
}

/// Runs every step; the screenshot is taken once the circuit has closed again, so that it shows
/// the whole story (the chart's spike, the rejected answers, three transitions).
pub(crate) async fn run(
    page: &Page<'_>,
    dashboard: &url::Url,
    admin_token: Option<&str>,
    screenshot: &Path,
) -> anyhow::Result<()> {
    step("open the dashboard: live, and Closed");
    page.open(dashboard).await?;
    page.wait_until(
        "a live event stream",
        "document.getElementById('connection').dataset.live === 'true'",
    )
    .await?;
    page.wait_for_state("CLOSED").await?;

    step("trip the circuit with the page's burst of 20 failing calls");
    page.click("#call-burst").await?;
    page.wait_for_state("OPEN").await?;
    page.wait_for_transition("CLOSED → OPEN", "3 consecutive failures")
        .await?;
    check_countdown(page).await?;

    step("wait out the recovery timeout: HalfOpen");
    page.wait_for_state("HALF_OPEN").await?;
    page.wait_for_transition("OPEN → HALF_OPEN", "recovery timeout elapsed")
        .await?;
    page.wait_until(
        "no countdown once half-open",
        "document.getElementById('countdown').hidden",
    )
    .await?;

    step("a healthy call is the probe that closes it");
    page.click("#call-healthy").await?;
    page.wait_for_state("CLOSED").await?;
    page.wait_for_transition("HALF_OPEN → CLOSED", "half-open probe succeeded")
        .await?;
    check_counts_and_chart(page).await?;

    step("screenshot");
    page.wait_until(
        "the chart drawn with the calls of the burst",
        "document.querySelector('#chart rect.bar.failed') !== null",
    )
    .await?;
    let png = page.screenshot().await?;
    std::fs::write(screenshot, &png)
        .with_context(|| format!("writing {}", screenshot.display()))?;
    println!("{} bytes written to {}", png.len(), screenshot.display());

    if let Some(token) = admin_token {
        check_admin(page, token).await?;
    }
    Ok(())
}

/// While Open the page counts down to the half-open moment, in seconds.
async fn check_countdown(page: &Page<'_>) -> anyhow::Result<()> {
    page.wait_until(
        "the countdown",
        "!document.getElementById('countdown').hidden",
    )
    .await?;
    let text = page.text("#countdown-seconds").await?;
    let seconds: f64 = text
        .strip_suffix(" s")
        .and_then(|number| number.parse().ok())
        .with_context(|| format!("the countdown reads {text:?}, not seconds"))?;
    ensure!(
        seconds > 0.0,
        "the countdown reads {text:?} right after opening"
    );
    println!("countdown: half-open in {text}");
    Ok(())
}

/// The counters and the answers show what the burst did: failures that reached B, and
/// rejections that did not.
async fn check_counts_and_chart(page: &Page<'_>) -> anyhow::Result<()> {
    let count = |outcome: &'static str| async move {
        let text = page.text(&format!("#count-{outcome}")).await?;
        text.replace(',', "")
            .parse::<u64>()
            .with_context(|| format!("the {outcome} counter reads {text:?}"))
    };
    let (failed, rejected, successful) = (
        count("failed").await?,
        count("rejected").await?,
        count("successful").await?,
    );
    println!("counters: {successful} successful, {failed} failed, {rejected} rejected");
    ensure!(
        failed >= 3,
        "{failed} failed calls shown; the circuit opened after 3"
    );
    ensure!(rejected >= 1, "no rejected call shown after the burst");
    ensure!(successful >= 1, "the probe's success is not counted");
    let rejected_answers = page
        .eval("document.querySelectorAll('#answers li.rejected').length")
        .await?;
    if rejected_answers.as_u64().unwrap_or(0) == 0 {
        bail!("no answer from the open circuit in the answers list");
    }
    Ok(())
}

/// The admin buttons appear with a token, act on the breaker, and vanish with a wrong one.
async fn check_admin(page: &Page<'_>, token: &str) -> anyhow::Result<()> {
    step("admin actions: hidden without a token");
    page.click("#admin summary").await?;
    page.wait_until(
        "no admin buttons before a token is typed",
        "document.getElementById('admin-buttons').hidden",
    )
    .await?;

    step("admin actions: force open, then reset");
    page.type_into("#admin-token", token).await?;
    page.click("[data-action='force_open']").await?;
    page.wait_for_state("FORCED_OPEN").await?;
    page.wait_for_transition("CLOSED → FORCED_OPEN", "forced open")
        .await?;
    page.wait_until(
        "the manual states in the diagram, FORCED_OPEN lit",
        "document.getElementById('manual').classList.contains('shown') \
         && document.getElementById('node-forced_open').classList.contains('lit')",
    )
    .await?;
    page.click("[data-action='reset']").await?;
    page.wait_for_state("CLOSED").await?;
    page.wait_for_transition("FORCED_OPEN → CLOSED", "reset")
        .await?;

    step("admin actions: a wrong token is refused and forgotten");
    page.type_into("#admin-token", "wrong-token-0123456789")
        .await?;
    page.click("[data-action='force_open']").await?;
    page.wait_until(
        "the refusal, the field emptied and the buttons hidden",
        "document.getElementById('admin-result').textContent === 'wrong admin token' \
         && document.getElementById('admin-token').value === '' \
         && document.getElementById('admin-buttons').hidden",
    )
    .await?;
    page.wait_for_state("CLOSED").await
}
