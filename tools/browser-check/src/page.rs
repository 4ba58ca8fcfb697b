//! The dashboard as the scenario sees it: read a value, click, type, and wait (bounded) until
//! the page shows something.

use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::{Client, Locator};
use serde_json::Value;
use tokio::time::{Instant, sleep};

/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(100);

/// One browser tab on the dashboard.
pub(crate) struct Page<'a> {
    client: &'a Client,
    patience: Duration,
}

impl<'a> Page<'a> {
    pub(crate) fn new(client: &'a Client, patience: Duration) -> Self {
        Self { client, patience }
    }

    pub(crate) async fn open(&self, url: &url::Url) -> anyhow::Result<()> {
        self.client
            .goto(url.as_str())
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The value of a JavaScript expression, e.g. `document.title`.
    pub(crate) async fn eval(&self, expression: &str) -> anyhow::Result<Value> {
        self.client
            .execute(&format!("return {expression};"), Vec::new())
            .await
            .with_context(|| format!("evaluating {expression}"))
    }

    /// The text of the element `selector` finds, trimmed.
    pub(crate) async fn text(&self, selector: &str) -> anyhow::Result<String> {
        let text = self
            .client
            .find(Locator::Css(selector))
            .await
            .with_context(|| format!("finding {selector}"))?
            .text()
            .await?;
        Ok(text.trim().to_owned())
    }

    pub(crate) async fn click(&self, selector: &str) -> anyhow::Result<()> {
        self.client
            .find(Locator::Css(selector))
            .await
            .with_context(|| format!("finding {selector}"))?
            .click()
            .await
            .with_context(|| format!("clicking {selector}"))
    }

    pub(crate) async fn type_into(&self, selector: &str, text: &str) -> anyhow::Result<()> {
        let field = self
            .client
            .find(Locator::Css(selector))
            .await
            .with_context(|| format!("finding {selector}"))?;
        field.clear().await?;
        field
            .send_keys(text)
            .await
            .with_context(|| format!("typing into {selector}"))
    }

    /// Waits until the JavaScript `condition` is true, for at most the patience; the error
    /// says what was awaited and what the state line said last.
    pub(crate) async fn wait_until(&self, what: &str, condition: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + self.patience;
        loop {
            if self.eval(condition).await? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let state = self.text("#state-name").await.unwrap_or_default();
                bail!(
                    "the page did not show {what} within {:?} (the state reads {state:?})",
                    self.patience
                );
            }
            sleep(POLL).await;
        }
    }

    /// Waits until the state line names `state` (`OPEN`, `HALF_OPEN`...).
    pub(crate) async fn wait_for_state(&self, state: &str) -> anyhow::Result<()> {
        self.wait_until(
            &format!("the state {state}"),
            &format!("document.getElementById('state-name').textContent === {state:?}"),
        )
        .await
    }

    /// Waits until the newest transition of the timeline reads `change` (`CLOSED → OPEN`)
    /// with `reason`.
    pub(crate) async fn wait_for_transition(
        &self,
        change: &str,
        reason: &str,
    ) -> anyhow::Result<()> {
        self.wait_until(
            &format!("the transition {change} ({reason}) first in the timeline"),
            &format!(
                "(() => {{ const item = document.querySelector('#timeline li'); \
                 return item !== null \
                   && item.querySelector('.change').textContent === {change:?} \
                   && item.querySelector('.reason').textContent === {reason:?}; }})()"
            ),
        )
        .await
    }

    /// A PNG of the whole page: WebDriver captures the viewport only, so the window is first
    /// made tall enough for the page.
    pub(crate) async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let viewport = self.number("window.innerHeight").await?;
        let content = self.number("document.documentElement.scrollHeight").await?;
        if content > viewport {
            let (width, height) = self.client.get_window_size().await?;
            let taller = u32::try_from(height + (content - viewport)).context("page height")?;
            let width = u32::try_from(width).context("page width")?;
            self.client.set_window_size(width, taller).await?;
        }
        self.client
            .screenshot()
            .await
            .context("taking a screenshot")
    }

    async fn number(&self, expression: &str) -> anyhow::Result<u64> {
        let value = self.eval(expression).await?;
        value
            .as_u64()
            .with_context(|| format!("{expression} is {value}, not a whole number"))
    }
}
