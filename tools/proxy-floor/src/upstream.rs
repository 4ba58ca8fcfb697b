//! The call to B's `/api`, with reqwest or with hyper's own client connections: B's body when it
//! answered 2xx within [`MAX_BODY_BYTES`], a [`FetchError`] otherwise.

use std::error::Error as StdError;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Body;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use reqwest::{Url, redirect, retry};
use tokio::net::TcpStream;

/// B's body is read up to this many bytes, service A's default `--max-response-bytes` (1 MiB);
/// a longer body fails the call.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Idle connections to B kept for reuse, by either client: service A's reqwest pool size.
/// Connections in use are bounded by the server's [`MAX_CONNECTIONS`](crate::MAX_CONNECTIONS).
pub const MAX_IDLE_CONNECTIONS: usize = 64;

/// Which client calls B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientKind {
    /// One `reqwest::Client`, built as service A builds its own.
    Reqwest,
    /// hyper's `client::conn::http1` connections from a pool of idle ones written here.
    Hyper,
}

impl std::fmt::Display for ClientKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Reqwest => "reqwest",
            Self::Hyper => "hyper",
        })
    }
}

/// Why a call to B failed; its text is the 502's message.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// reqwest could not connect, send or read the head.
    #[error("calling service B failed: {0}")]
    Reqwest(#[from] reqwest::Error),
    /// No TCP connection to B.
    #[error("cannot connect to service B at {address}: {source}")]
    Connect {
        /// Where B was looked for.
        address: String,
        /// What the connect said.
        source: std::io::Error,
    },
    /// hyper could not open the HTTP connection, send or read the head.
    #[error("calling service B failed: {0}")]
    Hyper(#[from] hyper::Error),
    /// B answered, but not 2xx.
    #[error("service B answered {0}")]
    Status(StatusCode),
    /// B's body broke off or passed [`MAX_BODY_BYTES`].
    #[error("reading service B's body failed: {0}")]
    Body(Box<dyn StdError + Send + Sync>),
}

/// The way to B's `/api`, with one of the two clients. Shared by every connection.
#[derive(Debug)]
pub enum Upstream {
    /// See [`ClientKind::Reqwest`].
    Reqwest {
        /// The pooled client.
        client: reqwest::Client,
        /// B's `/api`, parsed once.
        url: Url,
    },
    /// See [`ClientKind::Hyper`].
    Hyper(HyperPool),
}

impl Upstream {
    /// The client of `kind` for B's `/api` at `url` (an `http://` URL with a host).
    ///
    /// # Errors
    ///
    /// If reqwest cannot build its client, or `url` has no host or no valid path.
    pub fn new(kind: ClientKind, url: Url) -> anyhow::Result<Self> {
        Ok(match kind {
            ClientKind::Reqwest => Self::Reqwest {
                client: reqwest::Client::builder()
                    .redirect(redirect::Policy::none())
                    .no_proxy()
                    .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
                    .retry(retry::never().max_retries_per_request(0))
                    .build()?,
                url,
            },
            ClientKind::Hyper => Self::Hyper(HyperPool::new(&url)?),
        })
    }

    /// One `GET` of B's `/api`: its body.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] when B cannot be reached, answers other than 2xx, or its body breaks
    /// off or is too long.
    pub async fn fetch(&self) -> Result<Bytes, FetchError> {
        match self {
            Self::Reqwest { client, url } => {
                let response = client.get(url.clone()).send().await?;
                if !response.status().is_success() {
                    return Err(FetchError::Status(response.status()));
                }
                read_capped(hyper::Response::from(response).into_body()).await
            }
            Self::Hyper(pool) => pool.fetch().await,
        }
    }
}

/// B's body, at most [`MAX_BODY_BYTES`] of it ever held.
async fn read_capped<B>(body: B) -> Result<Bytes, FetchError>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    Ok(Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(FetchError::Body)?
        .to_bytes())
}

/// hyper's HTTP/1.1 client connections to B, each driven by a task of its own, with at most
/// [`MAX_IDLE_CONNECTIONS`] idle ones kept for the next calls.
#[derive(Debug)]
pub struct HyperPool {
    /// `host:port` to connect to.
    address: String,
    /// The `Host` header every request carries (hyper's connections add none).
    host: HeaderValue,
    /// `/api`, in origin form.
    path: Uri,
    /// Connections that answered their last call and wait for the next. A std `Mutex` is fine:
    /// it is held for a push or a pop, never across an `.await`.
    idle: Mutex<Vec<SendRequest<Empty<Bytes>>>>,
}

impl HyperPool {
    fn new(url: &Url) -> anyhow::Result<Self> {
        let host = url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("{url} has no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| anyhow::anyhow!("{url} has no port"))?;
        let header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self {
            address: format!("{host}:{port}"),
            host: HeaderValue::try_from(header)?,
            path: Uri::try_from(url.path())?,
            idle: Mutex::new(Vec::with_capacity(MAX_IDLE_CONNECTIONS)),
        })
    }

    async fn fetch(&self) -> Result<Bytes, FetchError> {
        let mut sender = self.connection().await?;
        let mut request = Request::new(Empty::new());
        *request.uri_mut() = self.path.clone();
        request.headers_mut().insert(HOST, self.host.clone());
        let response = sender.send_request(request).await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        let body = read_capped(response.into_body()).await?;
        // Only a connection whose answer was read to the end can carry the next call.
        self.put_back(sender);
        Ok(body)
    }

    /// An idle connection ready for a request, or a new one. At most every idle connection is
    /// looked at once: one that B closed is dropped.
    async fn connection(&self) -> Result<SendRequest<Empty<Bytes>>, FetchError> {
        loop {
            // The lock is released here, before any `.await`.
            let popped = self.idle().pop();
            let Some(mut sender) = popped else { break };
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        let stream =
            TcpStream::connect(&self.address)
                .await
                .map_err(|source| FetchError::Connect {
                    address: self.address.clone(),
                    source,
                })?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // B closing the connection ends it; the next call then opens another.
            let _ = connection.await;
        });
        Ok(sender)
    }

    fn put_back(&self, sender: SendRequest<Empty<Bytes>>) {
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(sender);
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SendRequest<Empty<Bytes>>>> {
        // Nothing panics while the lock is held, and a Vec of connections is valid whatever
        // happened to the holder.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
