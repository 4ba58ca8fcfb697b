//! A fake service B on loopback that misbehaves in ways the real one cannot: a status of any
//! kind, a redirect, a body of any size. It speaks just enough HTTP/1.1 by hand (one request per
//! connection, `Connection: close`) to count requests and the body bytes it got out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The most of a request head the fake reads.
const MAX_HEAD: usize = 16 * 1024;
/// The size of each piece of a streamed body.
const CHUNK: usize = 64 * 1024;
/// The body of a good answer.
const OK_BODY: &str = "fake B: ok";

/// How the fake answers every request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status, an empty body.
    Status(u16),
    /// `302 Found` to this location.
    Redirect(String),
    /// 200 with a body of this many bytes and no declared length (it ends when the connection
    /// does), sent in 64 KiB pieces until done or the client hangs up.
    Stream(u64),
    /// 200 declaring `Content-Length` of this many bytes, then nothing.
    Declares(u64),
    /// 200 declaring `Content-Length` of this many bytes, then sending them as [`Answer::Stream`]
    /// does.
    Sized(u64),
    /// `status` to the first `failures` requests, then 200 `fake B: ok`.
    FailFirst {
        /// Requests that fail.
        failures: u64,
        /// Their status.
        status: u16,
    },
    /// `status` with `Retry-After: <retry_after>` to the first `failures` requests, then 200
    /// `fake B: ok`.
    Throttled {
        /// Requests that are refused.
        failures: u64,
        /// Their status, 503 or 429.
        status: u16,
        /// The header's value: seconds or an HTTP date.
        retry_after: &'static str,
    },
}

/// The fake, serving until dropped.
pub struct FakeB {
    address: SocketAddr,
    requests: Arc<AtomicU64>,
    body_bytes_sent: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FakeB {
    /// A fake answering every request with `answer`, on `127.0.0.1:0`.
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let requests = Arc::new(AtomicU64::new(0));
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let (requests, sent) = (requests.clone(), body_bytes_sent.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (answer, requests, sent) = (answer.clone(), requests.clone(), sent.clone());
                    tokio::spawn(async move {
                        serve(stream, &answer, &requests, &sent).await;
                    });
                }
            }
        });
        Self {
            address,
            requests,
            body_bytes_sent,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Body bytes the client's socket took so far (what it read, plus what the kernel buffers
    /// held for it).
    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::SeqCst)
    }
}

impl Drop for FakeB {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, answer: &Answer, requests: &AtomicU64, sent: &AtomicU64) {
    if !read_head(&mut stream).await {
        return;
    }
    let earlier = requests.fetch_add(1, Ordering::SeqCst);
    let (head, body) = match answer {
        Answer::Status(code) => (format!("{code} Fake\r\ncontent-length: 0"), ""),
        Answer::Redirect(location) => (
            format!("302 Found\r\nlocation: {location}\r\ncontent-length: 0"),
            "",
        ),
        Answer::Stream(_) => ("200 OK\r\ncontent-type: text/plain".to_owned(), ""),
        Answer::Declares(length) | Answer::Sized(length) => {
            (format!("200 OK\r\ncontent-length: {length}"), "")
        }
        Answer::FailFirst { failures, status } if earlier < *failures => {
            (format!("{status} Fake\r\ncontent-length: 0"), "")
        }
        Answer::Throttled {
            failures,
            status,
            retry_after,
        } if earlier < *failures => (
            format!("{status} Fake\r\nretry-after: {retry_after}\r\ncontent-length: 0"),
            "",
        ),
        Answer::FailFirst { .. } | Answer::Throttled { .. } => (
            format!("200 OK\r\ncontent-length: {}", OK_BODY.len()),
            OK_BODY,
        ),
    };
    let response = format!("HTTP/1.1 {head}\r\nconnection: close\r\n\r\n{body}");
    if stream.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    if let Answer::Stream(total) | Answer::Sized(total) = answer {
        let piece = vec![b'x'; CHUNK];
        let mut left = *total;
        while left > 0 {
            let size = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
            if stream.write_all(&piece[..size]).await.is_err() {
                return;
            }
            sent.fetch_add(size as u64, Ordering::SeqCst);
            left -= size as u64;
        }
    }
    let _ = stream.shutdown().await;
}

/// Reads up to the blank line ending the request head; false if the client left first or the
/// head is too long.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
        if head.len() > MAX_HEAD {
            return false;
        }
    }
    true
}
