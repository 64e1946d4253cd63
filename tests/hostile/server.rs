//! A fault-injecting HTTP proxy in front of the simulator, on plain tokio
//! TCP so it can misbehave below HTTP. Until armed it forwards every request
//! to the simulator (the cockpit loads good data through it); once armed,
//! requests whose path starts with the armed prefix get the fault instead.
//!
//! It records what a test needs to judge the client: the requests it saw
//! (and whether they carried an `Authorization` header), when each hostile
//! one arrived, how many are still open, and how many body bytes the client
//! actually accepted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};

/// One GiB: the size of the bodies the gigabyte faults offer.
pub const GIB: u64 = 1 << 30;

/// What the proxy does to an armed request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Accept the request and never answer.
    Hang,
    /// Send the headers of a 200, then nothing.
    HangAfterHeaders,
    /// Send the headers of a 200, then one byte every 50 ms, for ever.
    Trickle,
    /// Reset the connection (RST) instead of answering.
    Reset,
    /// A 1 GiB body, with its length declared up front or chunked.
    Gigabyte { declared: bool },
    /// A 200 JSON body nested 100,000 arrays deep.
    DeepJson,
    /// A 200 JSON body cut off in the middle of a document.
    TruncatedJson,
    /// A 200 `text/html` login page where JSON belongs.
    Html,
    /// A 302 back to the same URL.
    RedirectLoop,
    /// A 302 to this URL (another host or port).
    RedirectTo(String),
    /// This status with a body echoing the request's `Authorization` header,
    /// as some gateways' error pages do.
    Refuse(u16),
    /// 429, with this `Retry-After` (seconds) or none.
    RateLimited(Option<u64>),
    /// Forward the request (so the simulator applies it), then reset the
    /// connection instead of passing the answer on: a write whose answer
    /// was lost. Fires once, then the proxy disarms. (Used by
    /// tests/customer_updates.rs, not by every test that includes this file.)
    #[allow(dead_code)]
    LoseAnswer,
}

impl Fault {
    /// Whether the fault keeps the request open by itself; the others are
    /// held at a gate until the test releases them, so the test can act
    /// while they are in flight.
    fn holds_itself(&self) -> bool {
        matches!(self, Self::Hang | Self::HangAfterHeaders | Self::Trickle)
    }
}

/// A request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub hostile: bool,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    armed: Mutex<Option<(String, Fault)>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    body_bytes: AtomicU64,
    arrived: Notify,
    gate: Mutex<Option<Arc<Semaphore>>>,
}

pub struct Hostile {
    pub url: String,
    state: Arc<State>,
}

impl Hostile {
    /// Listen on a free loopback port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State::default());
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, upstream, shared.clone()));
            }
        });
        Self { url, state }
    }

    /// From now on, answer requests under `prefix` with `fault`. Answers
    /// that do not hold themselves wait at a gate until [`Self::release`].
    pub fn arm(&self, prefix: &str, fault: Fault) {
        *self.state.gate.lock().unwrap() = Some(Arc::new(Semaphore::new(0)));
        *self.state.armed.lock().unwrap() = Some((prefix.to_owned(), fault));
    }

    /// Let held answers (and all later ones) through.
    pub fn release(&self) {
        if let Some(gate) = self.state.gate.lock().unwrap().as_ref() {
            gate.close();
        }
    }

    /// Wait until an armed request has arrived (and had its fault begun).
    pub async fn arrived(&self) {
        tokio::time::timeout(Duration::from_secs(20), self.state.arrived.notified())
            .await
            .expect("no request reached the armed fault within 20 s");
    }

    /// Hostile requests the client has not finished with.
    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// Body bytes of hostile answers the client accepted (written into the
    /// socket; the kernel's buffers make this a slight overestimate).
    pub fn body_bytes(&self) -> u64 {
        self.state.body_bytes.load(Ordering::SeqCst)
    }

    /// Every request seen, forwarded or hostile, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// When each hostile request arrived, oldest first.
    pub fn hostile_arrivals(&self) -> Vec<Instant> {
        self.seen()
            .iter()
            .filter(|s| s.hostile)
            .map(|s| s.at)
            .collect()
    }
}

/// Decrements the in-flight count however the answer ends.
struct InFlight(Arc<State>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request head and body, as read off the socket.
struct Request {
    head: String,
    body: Vec<u8>,
    target: String,
    authorization: Option<String>,
}

async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if raw.len() > 64 * 1024 {
            return None;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut body = raw[end..].to_vec();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let authorization = header("authorization");
    Some(Request {
        head,
        body,
        target,
        authorization,
    })
}

async fn serve(mut socket: TcpStream, upstream: SocketAddr, state: Arc<State>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let fault = state
        .armed
        .lock()
        .unwrap()
        .as_ref()
        .filter(|(prefix, _)| request.target.starts_with(prefix.as_str()))
        .map(|(_, fault)| fault.clone());
    state.seen.lock().unwrap().push(Seen {
        path: request.target.clone(),
        authorization: request.authorization.clone(),
        hostile: fault.is_some(),
        at: Instant::now(),
    });
    if matches!(fault, Some(Fault::LoseAnswer)) {
        *state.armed.lock().unwrap() = None;
        lose_answer(socket, upstream, &request).await;
        state.arrived.notify_one();
        return;
    }
    match fault {
        None => forward(socket, upstream, &request).await,
        Some(fault) => {
            state.in_flight.fetch_add(1, Ordering::SeqCst);
            let _in_flight = InFlight(state.clone());
            misbehave(socket, &request, &fault, &state).await;
        }
    }
}

/// Pass the request to the simulator, one request per connection.
async fn forward(mut socket: TcpStream, upstream: SocketAddr, request: &Request) {
    let Ok(mut sim) = TcpStream::connect(upstream).await else {
        return;
    };
    let mut head: String = request
        .head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    head.push_str("Connection: close\r\n\r\n");
    if sim.write_all(head.as_bytes()).await.is_err() || sim.write_all(&request.body).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy(&mut sim, &mut socket).await;
    let _ = socket.shutdown().await;
}

/// Let the simulator apply the request, read its whole answer, and reset
/// the client's connection without a byte of it.
async fn lose_answer(socket: TcpStream, upstream: SocketAddr, request: &Request) {
    if let Ok(mut sim) = TcpStream::connect(upstream).await {
        let mut head: String = request
            .head
            .trim_end()
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        head.push_str("Connection: close\r\n\r\n");
        if sim.write_all(head.as_bytes()).await.is_ok()
            && sim.write_all(&request.body).await.is_ok()
        {
            let mut answer = Vec::new();
            let _ = sim.read_to_end(&mut answer).await;
        }
    }
    let _ = socket.set_zero_linger();
    drop(socket);
}

/// Wait until the client hangs up (or a day passes).
async fn until_client_leaves(socket: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(86_400), async {
        while let Ok(n) = socket.read(&mut buf).await {
            if n == 0 {
                return;
            }
        }
    })
    .await;
}

async fn misbehave(mut socket: TcpStream, request: &Request, fault: &Fault, state: &State) {
    const JSON_200: &str =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n";
    match fault {
        Fault::HangAfterHeaders | Fault::Trickle => {
            let head = format!("{JSON_200}Content-Length: 1000000\r\n\r\n");
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
        }
        _ => {}
    }
    state.arrived.notify_one();
    if !fault.holds_itself() {
        let gate = state.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            // Closed by `release`: the error is the signal to go on.
            let _ = gate.acquire().await;
        }
    }
    let simple = |status: &str, headers: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let answer = match fault {
        Fault::Hang | Fault::HangAfterHeaders => {
            until_client_leaves(&mut socket).await;
            return;
        }
        Fault::Trickle => {
            let (mut reader, mut writer) = socket.split();
            let trickle = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if writer.write_all(b" ").await.is_err() {
                        return;
                    }
                    state.body_bytes.fetch_add(1, Ordering::SeqCst);
                }
            };
            let mut buf = [0u8; 64];
            tokio::select! {
                () = trickle => {}
                _ = reader.read(&mut buf) => {}
            }
            return;
        }
        // Handled in `serve` before it gets here.
        Fault::LoseAnswer => return,
        Fault::Reset => {
            let _ = socket.set_zero_linger();
            drop(socket);
            return;
        }
        Fault::Gigabyte { declared } => {
            stream_gigabyte(socket, *declared, state).await;
            return;
        }
        Fault::DeepJson => {
            let depth = 100_000;
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            simple("200 OK", "Content-Type: application/json\r\n", &body)
        }
        Fault::TruncatedJson => simple(
            "200 OK",
            "Content-Type: application/json\r\n",
            r#"{"tickets": [{"id": 1, "subject": "half a tick"#,
        ),
        Fault::Html => simple(
            "200 OK",
            "Content-Type: text/html; charset=utf-8\r\n",
            "<!doctype html><html><head><title>Sign in</title></head><body><form>SSO</form></body></html>",
        ),
        Fault::RedirectLoop => simple(
            "302 Found",
            &format!("Location: {}\r\n", request.target),
            "",
        ),
        Fault::RedirectTo(url) => simple(
            "302 Found",
            &format!("Location: {url}{}\r\n", request.target),
            "",
        ),
        Fault::Refuse(code) => {
            let reason = match code {
                401 => "401 Unauthorized",
                403 => "403 Forbidden",
                _ => "400 Bad Request",
            };
            let echoed = request.authorization.as_deref().unwrap_or("(none)");
            simple(
                reason,
                "Content-Type: text/plain\r\nWWW-Authenticate: Basic realm=\"api\"\r\n",
                &format!("Invalid credentials. You sent Authorization: {echoed}"),
            )
        }
        Fault::RateLimited(retry_after) => {
            let header = retry_after.map_or_else(String::new, |s| format!("Retry-After: {s}\r\n"));
            simple(
                "429 Too Many Requests",
                &format!("Content-Type: text/plain\r\n{header}"),
                "Too Many Requests",
            )
        }
    };
    if socket.write_all(answer.as_bytes()).await.is_ok() {
        let _ = socket.shutdown().await;
    }
}

/// Offer 1 GiB of JSON whitespace in 1 MiB pieces without ever holding
/// more than one piece, counting what the client takes.
async fn stream_gigabyte(mut socket: TcpStream, declared: bool, state: &State) {
    const PIECE: usize = 1 << 20;
    let head = if declared {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {GIB}\r\nConnection: close\r\n\r\n"
        )
    } else {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_owned()
    };
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let piece = vec![b' '; PIECE];
    let mut framed = Vec::with_capacity(PIECE + 16);
    if declared {
        framed.extend_from_slice(&piece);
    } else {
        framed.extend_from_slice(format!("{PIECE:x}\r\n").as_bytes());
        framed.extend_from_slice(&piece);
        framed.extend_from_slice(b"\r\n");
    }
    for _ in 0..(GIB / PIECE as u64) {
        if socket.write_all(&framed).await.is_err() {
            return;
        }
        state.body_bytes.fetch_add(PIECE as u64, Ordering::SeqCst);
    }
    if !declared {
        let _ = socket.write_all(b"0\r\n\r\n").await;
    }
}
