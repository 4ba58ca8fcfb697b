//! What the services' own tests check alike (feature `test-support`, for their
//! dev-dependencies only): a binary that refuses its flags, a binary run with its stdout read
//! line by line, stopped with SIGTERM, the connection flags its `--help` lists, raw requests on
//! a socket (a head alone, a body that trickles in), an in-process answer read as text, and a
//! log writer that keeps what a test's subscriber wrote.
//!
//! Every wait is bounded by [`PATIENCE`], so a bug fails the test instead of hanging it.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::Level;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// Upper bound on anything a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Asserts that `binary --help` lists the connection flags of
/// [`ServerLimits`](crate::server::ServerLimits) with their defaults (their parsing and bounds
/// are tested in this crate).
pub fn assert_help_lists_the_connection_flags(binary: &str) {
    let output = Command::new(binary).arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "--header-timeout <HEADER_TIMEOUT>",
        "[default: 10s]",
        "--body-timeout <BODY_TIMEOUT>",
        "--max-connections <MAX_CONNECTIONS>",
        "[default: 10000]",
        "--max-connections-per-client <N>",
        "--shutdown-grace <SHUTDOWN_GRACE>",
        "[default: 5s]",
    ] {
        assert!(help.contains(expected), "{expected:?} missing from\n{help}");
    }
}

/// Runs `binary` with `args`, without the environment variables named in `env_remove`, and
/// asserts that it refuses them as a usage error (exit code 2) with a message on stderr that
/// holds every one of `expected` (the flag, its range, the value given...).
pub fn assert_refused(binary: &str, env_remove: &[&str], args: &[&str], expected: &[&str]) {
    let mut command = Command::new(binary);
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for name in env_remove {
        command.env_remove(name);
    }
    let mut child = command.spawn().expect("binary starts");
    // A binary that takes the flags starts serving: it is stopped rather than waited for.
    let Some(exit) = exit_within_patience(&mut child) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{args:?} was not refused: still running after {PATIENCE:?}");
    };
    // A refusal is a few lines, well within the pipe's buffer: the binary never waits on us.
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("stderr is UTF-8");
    assert_eq!(exit.code(), Some(2), "{args:?}: {stderr}");
    for part in expected {
        assert!(
            stderr.contains(part),
            "{args:?} does not say {part:?}: {stderr}"
        );
    }
}

/// A service binary, started with `RUST_LOG=info`, its stdout read on a thread of its own into
/// a channel. Dropping it kills the process, so a failing assertion leaves nothing running.
#[derive(Debug)]
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    /// Starts `binary` with `args`, without the environment variables named in `env_remove`
    /// (the ones a developer's shell may set for the service).
    pub fn start(binary: &str, args: &[&str], env_remove: &[&str]) -> Self {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for name in env_remove {
            command.env_remove(name);
        }
        let mut child = command.spawn().expect("binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line, or `None` when none came within [`PATIENCE`] or the output ended.
    pub fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(PATIENCE).ok()
    }

    /// The lines up to and including the first that satisfies `wanted`; panics, with the lines
    /// seen, when none does within [`PATIENCE`].
    pub fn until(&self, what: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = wanted(&line);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(_) => panic!("no line with {what} within {PATIENCE:?}; saw {seen:#?}"),
            }
        }
    }

    /// Whether the process has not exited yet.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Sends SIGTERM and waits, at most [`PATIENCE`], for the process to exit; returns how it
    /// exited and every line it wrote after the ones already read.
    pub fn terminate(mut self) -> (ExitStatus, Vec<String>) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = exit_within_patience(&mut self.child)
            .unwrap_or_else(|| panic!("still running {PATIENCE:?} after SIGTERM"));
        // The process has exited, so its stdout closes and the reader thread ends the channel;
        // the wait is bounded all the same.
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            rest.push(line);
        }
        (exit, rest)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Both fail harmlessly once the child has exited and been waited for.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How `child` exited, or `None` when it is still running after [`PATIENCE`].
fn exit_within_patience(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            return Some(exit);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `head` (and nothing more) on a new connection and reads until the server closes it:
/// the status line and the JSON body.
pub async fn answer_to(address: SocketAddr, head: &str) -> (String, serde_json::Value) {
    let mut client = TcpStream::connect(address).await.expect("connect");
    client.write_all(head.as_bytes()).await.expect("sent");
    let answer = read_to_close(&mut client).await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("a full answer");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, serde_json::from_str(body).expect("a JSON body"))
}

/// Everything the server sends on `stream` until it closes it, as text, within [`PATIENCE`].
pub async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed within the patience")
        .expect("read");
    String::from_utf8(answer).expect("UTF-8")
}

/// Sends `head` (which declares a body of up to 1,000 bytes), then `byte` every 20 ms, well
/// within any pause the header timeout allows; returns as soon as the server answers, closes,
/// or stops taking bytes, or after 1,000 bytes.
pub async fn trickle_body(stream: &mut TcpStream, head: &str, byte: u8) {
    stream.write_all(head.as_bytes()).await.expect("head sent");
    for _ in 0..1_000 {
        if stream.write_all(&[byte]).await.is_err() {
            return;
        }
        tokio::select! {
            _ = stream.readable() => return,
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
}

/// The status of an answer given in-process (a router's `oneshot`, say) and its body as text.
pub async fn status_and_text(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

/// A log writer that keeps everything written, for a test that reads what a service logged:
/// [`Captured::on_this_thread`], or give it to `tracing_subscriber::fmt().with_writer(..)`.
/// Clones share what was written.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A new capture, written by a plain-text subscriber (no colours) of events at `max_level`
    /// and more severe, that is this thread's default subscriber until the returned guard is
    /// dropped. A test on tokio's current-thread runtime logs there from every task it spawns.
    pub fn on_this_thread(max_level: Level) -> (Self, DefaultGuard) {
        let captured = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(max_level)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Everything logged so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Forgets what was logged so far.
    pub fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}
