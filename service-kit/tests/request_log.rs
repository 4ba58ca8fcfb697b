//! What `serve` logs for every request: tower-http's trace lines at DEBUG, a 5xx among them,
//! never as an error, since both services answer 500 by design and log the cause where it
//! arises.
//!
//! A binary of its own: its subscriber is the thread's default while the test runs, and the
//! server's tasks run on that thread (tokio's current-thread test runtime).

mod support;

use service_kit::server::ServerLimits;
use service_kit::test_support::Captured;
use support::Server;
use tracing::Level;

#[tokio::test]
async fn a_5xx_is_logged_at_debug_and_never_as_an_error() {
    let (log, _default) = Captured::on_this_thread(Level::DEBUG);
    let server = Server::start(ServerLimits::default()).await;
    for path in ["/fail", "/health"] {
        let response = reqwest::get(format!("http://{}{path}", server.address))
            .await
            .expect("answered");
        assert!(response.bytes().await.is_ok(), "{path}");
    }
    server.stop().await;

    let text = log.text();
    let failed: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("response failed"))
        .collect();
    assert_eq!(failed.len(), 1, "one failure, the 500:\n{text}");
    assert!(failed[0].contains("DEBUG"), "{}", failed[0]);
    assert!(failed[0].contains("500"), "{}", failed[0]);
    assert!(
        text.lines()
            .any(|line| line.contains("DEBUG") && line.contains("uri=/health")),
        "every request gets its span and DEBUG lines:\n{text}"
    );
    assert!(
        !text.lines().any(|line| line.contains("ERROR")),
        "nothing logged as an error:\n{text}"
    );
}
