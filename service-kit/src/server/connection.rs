//! How one HTTP/1 connection is served: hyper's own timeouts and bounds on what a client sends.

use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;

use super::limits::ServerLimits;

/// The longest request head (request line and headers) a client may send, in bytes; a longer
/// one is answered 431 with an empty body and the connection closed.
///
/// hyper's own bound is its read buffer, about 400 KiB. 16 KiB is what Node.js allows and leaves
/// room for large cookies; it also bounds what a connection cap's worth of half-sent heads can
/// hold: 10,000 × 16 KiB is 160 MiB at most.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The most header fields a request may carry; one more is answered 431. (hyper's default,
/// made explicit here so the bound is ours to document.)
pub const MAX_HEADERS: usize = 100;

/// An HTTP/1.1 connection builder holding clients to `limits`.
///
/// hyper's header read timeout starts when a connection begins waiting for a request head:
/// when it opens, and again each time a keep-alive connection goes idle after an answer. So
/// `--header-timeout` also closes an idle keep-alive connection; no separate idle timer is
/// needed. HTTP/1 only, as `axum::serve` with axum's default features: neither service's
/// client speaks HTTP/2.
pub(super) fn builder(limits: &ServerLimits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS);
    builder
}
