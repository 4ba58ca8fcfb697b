//! `GET /` and `GET /dashboard/{file}`: the page and its scripts, styles and icon, compiled
//! into the binary.
//!
//! Every answer carries a Content-Security-Policy that lets the page load and connect to this
//! origin only: no inline script or style, no other host, no framing. The page needs nothing
//! else (no CDN, no web font), so the policy costs it nothing and shuts out injected markup.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, Uri};
use axum::response::{IntoResponse, Response};
use service_kit::fallback::not_found;

/// The page's policy: its own origin for scripts, styles, images and the event stream, nothing
/// else.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = include_str!("assets/index.html");

/// The files under `/dashboard/`: name, content type, content.
const FILES: [(&str, &str, &str); 8] = [
    ("style.css", CSS, include_str!("assets/style.css")),
    ("main.js", JS, include_str!("assets/main.js")),
    ("state.js", JS, include_str!("assets/state.js")),
    ("chart.js", JS, include_str!("assets/chart.js")),
    ("timeline.js", JS, include_str!("assets/timeline.js")),
    ("calls.js", JS, include_str!("assets/calls.js")),
    ("admin.js", JS, include_str!("assets/admin.js")),
    ("icon.svg", SVG, include_str!("assets/icon.svg")),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// `GET /`.
pub async fn page() -> Response {
    answer(HTML, PAGE)
}

/// `GET /dashboard/{file}`; 404 JSON for a file that is not there.
pub async fn file(Path(name): Path<String>, uri: Uri) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, content)) => answer(content_type, content),
        None => not_found(uri).await.into_response(),
    }
}

fn answer(content_type: &'static str, content: &'static str) -> Response {
    let headers: [(HeaderName, &str); 5] = [
        (CONTENT_TYPE, content_type),
        (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (REFERRER_POLICY, "no-referrer"),
        // The files change with the binary: a browser asks again rather than keep an old one.
        (CACHE_CONTROL, "no-cache"),
    ];
    (headers, content).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_that_are_served() {
        for reference in PAGE
            .split('"')
            .filter(|part| part.starts_with("/dashboard/"))
        {
            let name = &reference["/dashboard/".len()..];
            assert!(
                FILES.iter().any(|(file, _, _)| *file == name),
                "the page refers to {reference}, which is not served"
            );
        }
    }

    #[test]
    fn every_script_imports_only_files_that_are_served() {
        for (file, content_type, content) in FILES {
            if content_type != JS {
                continue;
            }
            for line in content.lines().filter(|line| line.starts_with("import ")) {
                let name = line
                    .split(['"', '\''])
                    .nth(1)
                    .and_then(|path| path.strip_prefix("./"))
                    .unwrap_or_else(|| panic!("{file}: an import not of ./file: {line}"));
                assert!(
                    FILES.iter().any(|(served, _, _)| *served == name),
                    "{file} imports {name}, which is not served"
                );
            }
        }
    }
}
