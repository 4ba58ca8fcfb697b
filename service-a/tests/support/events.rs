//! A client of A's `GET /events`: the stream read with reqwest, cut into server-sent events.

use reqwest::{Client, StatusCode};
use serde_json::Value;

use super::PATIENCE;

/// One open event stream.
pub struct Events {
    response: reqwest::Response,
    /// Text received but not yet cut into events.
    pending: String,
}

/// One event: its `event:` name and its `data:` parsed as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub name: String,
    pub data: Value,
}

impl Events {
    /// Opens `url` (A's `/events`); panics unless it answers 200 with an event stream.
    pub async fn open(url: &str) -> Self {
        let response = tokio::time::timeout(PATIENCE, Client::new().get(url).send())
            .await
            .expect("answered in time")
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{response:?}"
        );
        Self {
            response,
            pending: String::new(),
        }
    }

    /// The next event, within [`PATIENCE`]; `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Received> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("an event within the patience")
                .expect("the stream reads")?;
            self.pending
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// The next event named `name`, skipping others (snapshots, say), within [`PATIENCE`]:
    /// a stream that keeps sending others fails the test rather than hanging it.
    pub async fn next_named(&mut self, name: &str) -> Value {
        let skipping = async {
            loop {
                let event = self.next().await.expect("the stream goes on");
                if event.name == name {
                    return event.data;
                }
            }
        };
        tokio::time::timeout(PATIENCE, skipping)
            .await
            .unwrap_or_else(|_| panic!("no {name} event within {PATIENCE:?}"))
    }

    /// The next snapshot whose state is `state`, within [`PATIENCE`].
    pub async fn snapshot_in(&mut self, state: &str) -> Value {
        let skipping = async {
            loop {
                let snapshot = self.next_named("snapshot").await;
                if snapshot["state"] == state {
                    return snapshot;
                }
            }
        };
        tokio::time::timeout(PATIENCE, skipping)
            .await
            .unwrap_or_else(|_| panic!("no {state} snapshot within {PATIENCE:?}"))
    }
}

/// An event block (`event: ...\ndata: ...\n` and maybe `retry: ...`); `None` for one without
/// data, such as a comment.
fn parse(block: &str) -> Option<Received> {
    let mut name = "message".to_owned();
    let mut data = None;
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event: ") {
            name = value.to_owned();
        } else if let Some(value) = line.strip_prefix("data: ") {
            data = Some(serde_json::from_str(value).unwrap_or_else(|err| panic!("{err}: {value}")));
        }
    }
    Some(Received { name, data: data? })
}
