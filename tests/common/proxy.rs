//! A fault-injecting HTTP proxy for tests: it listens on 127.0.0.1, forwards
//! to an upstream base URL, and follows a script of rules matched by method
//! and path, each with a remaining count; everything else passes through.
//! Every request is recorded (method, path, body, what was done), so a test
//! can count what reached the upstream.
//!
//! Deliberately small: HTTP/1.1, one request per connection (every answer
//! says `Connection: close`), bodies by `Content-Length` (what reqwest
//! sends). It runs on a thread of its own with its own runtime, so it keeps
//! answering while a test blocks on a child process.
//!
//! Its own test is in tests/exactly_once.rs (`the_proxy_…`): a test here
//! would run again in every test target that includes `common`.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward it and answer with the upstream's answer.
    Pass,
    /// Forward it (the upstream applies it), wait for the upstream's answer,
    /// then close the connection without answering: to the client, a
    /// broken connection after the server stored the request.
    DropAnswerAfterForward,
    /// Forward it, then hold the connection open without answering for
    /// this long before closing it: a client with a shorter timeout sees a
    /// timeout after the server stored the request.
    HoldAnswerAfterForward(Duration),
    /// Answer with this status (e.g. 429) and an optional `Retry-After` in
    /// seconds, without forwarding.
    Status(u16, Option<u64>),
    /// Close the connection without forwarding or answering.
    Refuse,
    /// Forward it, then answer `status` with this body instead of the
    /// upstream's answer (an HTML page, an empty body, `{}`).
    ReplaceAnswer {
        status: u16,
        content_type: String,
        body: String,
    },
}

impl Fault {
    /// 200 with an HTML page (a login page, a proxy's error page).
    pub fn html_200() -> Self {
        Self::ReplaceAnswer {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            body: "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=\"/login\"></form></body></html>".into(),
        }
    }

    /// 200 with an empty body.
    pub fn empty_200() -> Self {
        Self::ReplaceAnswer {
            status: 200,
            content_type: "application/json".into(),
            body: String::new(),
        }
    }

    /// 200 with a JSON object where an array or a ticket was expected.
    pub fn object_200() -> Self {
        Self::ReplaceAnswer {
            status: 200,
            content_type: "application/json".into(),
            body: "{}".into(),
        }
    }

    fn forwards(&self) -> bool {
        !matches!(self, Self::Status(..) | Self::Refuse)
    }
}

/// How a rule matches the request target (path and query).
#[derive(Debug, Clone)]
pub enum PathMatch {
    Prefix(String),
    Contains(String),
    /// This path or anything beneath it (`/…`, `?…`, `.json`), so that
    /// `/tickets/1` does not match `/tickets/12`.
    Under(String),
}

impl PathMatch {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Self::Prefix(p) => path.starts_with(p.as_str()),
            Self::Contains(p) => path.contains(p.as_str()),
            Self::Under(p) => path
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '.'])),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    method: String,
    path: PathMatch,
    fault: Fault,
    remaining: usize,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    pub body: String,
    /// What the proxy did with it.
    pub fault: Fault,
    /// Whether it reached the upstream.
    pub forwarded: bool,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Proxy {
    /// Start a proxy in front of `upstream` (a base URL such as
    /// `http://127.0.0.1:29380`).
    pub fn start(upstream: &str) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                addr_tx.send(listener.local_addr().expect("address")).ok();
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(60))
                    .build()
                    .expect("client");
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let (client, upstream, state) =
                            (client.clone(), upstream.clone(), shared.clone());
                        tokio::spawn(async move {
                            let _ = serve(stream, &client, &upstream, &state).await;
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stop_rx => {}
                }
            });
            // Dropping the runtime here ends connections still open.
        });
        let addr: SocketAddr = addr_rx.recv().expect("the proxy started");
        Self {
            url: format!("http://{addr}"),
            state,
            stop: Some(stop_tx),
        }
    }

    /// The proxy's base URL, to configure instead of the upstream's.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Add a rule: the next `times` requests with `method` whose target
    /// matches `path` get `fault`. Rules are tried in the order added; a
    /// spent rule no longer matches.
    pub fn rule(&self, method: &str, path: PathMatch, fault: Fault, times: usize) {
        self.state().rules.push(Rule {
            method: method.to_ascii_uppercase(),
            path,
            fault,
            remaining: times,
        });
    }

    /// Forget every rule left: everything passes through from now on.
    pub fn pass_through(&self) {
        self.state().rules.clear();
    }

    /// Every request seen so far, in order of arrival.
    pub fn requests(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// How many requests with `method` whose target matches `path` reached
    /// the upstream.
    pub fn forwarded(&self, method: &str, path: &PathMatch) -> usize {
        self.state()
            .seen
            .iter()
            .filter(|s| {
                s.forwarded && s.method.eq_ignore_ascii_case(method) && path.matches(&s.path)
            })
            .count()
    }

    /// How many rules still have uses left.
    pub fn rules_left(&self) -> usize {
        self.state()
            .rules
            .iter()
            .filter(|r| r.remaining > 0)
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A request as read off the wire.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream) -> io::Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > 1 << 20 {
            return Err(io::Error::other("request head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"))
    {
        return Err(io::Error::other("chunked request bodies are not supported"));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

/// The fault for a request, spending one use of the rule that matched.
fn decide(state: &Mutex<State>, request: &Request) -> Fault {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let rule = state
        .rules
        .iter_mut()
        .find(|r| r.remaining > 0 && r.method == request.method && r.path.matches(&request.target));
    match rule {
        Some(rule) => {
            rule.remaining -= 1;
            rule.fault.clone()
        }
        None => Fault::Pass,
    }
}

/// Headers that describe one hop, not the message.
fn hop(name: &str) -> bool {
    [
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    request: &Request,
) -> Result<reqwest::Response, reqwest::Error> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or_default();
    let mut builder = client.request(method, format!("{upstream}{}", request.target));
    for (k, v) in request.headers.iter().filter(|(k, _)| !hop(k)) {
        builder = builder.header(k, v);
    }
    builder.body(request.body.clone()).send().await
}

async fn answer(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<()> {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers.iter().filter(|(k, _)| !hop(k)) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

async fn serve(
    mut stream: TcpStream,
    client: &reqwest::Client,
    upstream: &str,
    state: &Mutex<State>,
) -> io::Result<()> {
    let request = read_request(&mut stream).await?;
    let fault = decide(state, &request);
    state
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .seen
        .push(Seen {
            method: request.method.clone(),
            path: request.target.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
            fault: fault.clone(),
            forwarded: fault.forwards(),
        });
    let upstream_answer = if fault.forwards() {
        match forward(client, upstream, &request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers: Vec<(String, String)> = response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                    .collect();
                let body = response.bytes().await.unwrap_or_default().to_vec();
                Some((status, headers, body))
            }
            // The upstream is unreachable: so is the proxy.
            Err(_) => return Ok(()),
        }
    } else {
        None
    };
    match (fault, upstream_answer) {
        (Fault::Pass, Some((status, headers, body))) => {
            answer(&mut stream, status, &headers, &body).await
        }
        (Fault::Status(status, retry_after), _) => {
            let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
            if let Some(secs) = retry_after {
                headers.push(("Retry-After".to_owned(), secs.to_string()));
            }
            let body = format!("{{\"error\":\"injected {status}\"}}");
            answer(&mut stream, status, &headers, body.as_bytes()).await
        }
        (
            Fault::ReplaceAnswer {
                status,
                content_type,
                body,
            },
            _,
        ) => {
            let headers = vec![("Content-Type".to_owned(), content_type)];
            answer(&mut stream, status, &headers, body.as_bytes()).await
        }
        (Fault::HoldAnswerAfterForward(hold), _) => {
            tokio::time::sleep(hold).await;
            Ok(())
        }
        // Drop and Refuse: close without a word.
        _ => Ok(()),
    }
}
