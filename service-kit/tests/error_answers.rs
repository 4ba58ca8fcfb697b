//! What a client sees when a request is refused: the status and a JSON error body, from the
//! fallbacks and the strict query extractor, over real HTTP.

mod support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use service_kit::server::ServerLimits;
use support::Server;

async fn answer(server: &Server, method: Method, path_and_query: &str) -> (StatusCode, Value) {
    let url = format!("http://{}{path_and_query}", server.address);
    let response = Client::new()
        .request(method, url)
        .send()
        .await
        .expect("answered");
    let status = response.status();
    let body = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).expect("a JSON body"))
}

#[tokio::test]
async fn refusals_are_4xx_with_a_json_error_body_naming_the_problem() {
    let server = Server::start(ServerLimits::default()).await;
    for (method, path, status, message) in [
        (
            Method::GET,
            "/nowhere",
            StatusCode::NOT_FOUND,
            "no route for /nowhere",
        ),
        (
            Method::DELETE,
            "/health",
            StatusCode::METHOD_NOT_ALLOWED,
            "method DELETE not allowed for /health",
        ),
        (
            Method::GET,
            "/query?name=%zz",
            StatusCode::BAD_REQUEST,
            r#"malformed query string: bad percent-escape "%zz" at byte 5"#,
        ),
    ] {
        assert_eq!(
            answer(&server, method, path).await,
            (status, json!({"status": "error", "message": message})),
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_well_formed_query_reaches_its_handler() {
    let server = Server::start(ServerLimits::default()).await;
    let url = format!("http://{}/query?name=a%26b", server.address);
    let body = reqwest::get(url)
        .await
        .expect("answered")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "a&b");
    server.stop().await;
}
