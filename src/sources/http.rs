//! HTTP plumbing shared by every adapter: one client, bounded bodies, errors
//! a CRE can read on a chip, and secrets that never leak into them.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue,
    RETRY_AFTER,
};
use reqwest::{Request, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::core::domain::SourceError;
use crate::core::sanitize;

/// Largest response body an adapter will read. A 1,000-ticket Zendesk export
/// page with sideloads is a few MB; anything far beyond that is a broken or
/// hostile server, and reading it would only cost memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Time allowed to establish a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for a whole request, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A credential. Its `Debug` and `Display` are redacted so it cannot reach a
/// log line or a panic message by accident; only [`Secret::expose`] reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for building an `Authorization` header and nothing else.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// When a vendor account may be called again. A rate limit is per account,
/// not per adapter: the poller's reader and the outbox's writer of one
/// vendor hold handles on one gate ([`RateGate::share`]), so a 429 answered
/// to either holds the other back instead of it walking into the next 429.
///
/// The side that got the 429 already waits its `Retry-After` (the poller
/// and the outbox schedule by it), so a 429 closes the gate for the *other*
/// handles only; a budget the headers say is spent closes it for all.
#[derive(Debug)]
pub struct RateGate {
    shared: Arc<Mutex<Closed>>,
    /// This handle, to tell its own 429s from the others'.
    id: u64,
}

/// Until when the gate is closed, and which handle it does not hold back.
#[derive(Debug, Default)]
struct Closed {
    until: Option<Instant>,
    except: Option<u64>,
}

impl Default for RateGate {
    fn default() -> Self {
        Self {
            shared: Arc::default(),
            id: next_gate_id(),
        }
    }
}

fn next_gate_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl RateGate {
    /// Another handle on the same gate, for another instance of the account.
    #[must_use]
    pub fn share(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            id: next_gate_id(),
        }
    }

    fn closed(&self) -> std::sync::MutexGuard<'_, Closed> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuse to call while the account's budget has not reset yet; the
    /// error carries the wait, as a 429 would.
    pub fn check(&self, what: &str) -> Result<(), SourceError> {
        let closed = self.closed();
        let Some(until) = closed.until.filter(|_| closed.except != Some(self.id)) else {
            return Ok(());
        };
        drop(closed);
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        let wait = until - now;
        Err(SourceError::new(format!(
            "{what}: rate limit spent, resets in {}s",
            wait.as_secs_f64().ceil()
        ))
        .with_retry_after(wait))
    }

    /// The budget is spent for `wait`: nobody calls until then.
    pub fn close_for(&self, wait: Duration) {
        *self.closed() = Closed {
            until: Some(Instant::now() + wait),
            except: None,
        };
    }

    /// The account said it has budget again.
    pub fn reopen(&self) {
        *self.closed() = Closed::default();
    }

    /// [`fetch_json_explained`] through the gate: refused without a request
    /// while the gate is closed to this handle, and an answer that asks to
    /// stay away holds the other handles back.
    pub async fn fetch_json_explained<T: DeserializeOwned, E: DeserializeOwned>(
        &self,
        what: &str,
        request: RequestBuilder,
        explain: impl FnOnce(E) -> Option<String>,
    ) -> Result<Fetched<T>, SourceError> {
        self.check(what)?;
        let fetched = fetch_json_explained(what, request, explain).await;
        self.note(&fetched);
        fetched
    }

    /// An answer to this handle asked to stay away (429 with `Retry-After`):
    /// hold the other handles back for as long (this one waits by itself).
    pub fn note<T>(&self, result: &Result<T, SourceError>) {
        let Err(SourceError {
            retry_after: Some(wait),
            ..
        }) = result
        else {
            return;
        };
        let until = Instant::now() + *wait;
        let mut closed = self.closed();
        if closed.until.is_none_or(|known| known < until) {
            *closed = Closed {
                until: Some(until),
                except: Some(self.id),
            };
        }
    }
}

/// The HTTP client type, named here so the layers above hand it around
/// without speaking HTTP themselves.
pub type Client = reqwest::Client;

/// The one HTTP client of the process (it pools connections; clones share
/// the pool). Redirects are followed only within the same scheme, host and
/// port, so a token is never sent to another host. The refusals are worded
/// for the chip: [`describe`] shows them as they are.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("cre-cockpit/", env!("CARGO_PKG_VERSION")))
        // Every request asks for gzip ([`exchange`]) and the answer is
        // inflated here rather than inside reqwest, so that a poll can
        // count the bytes on the wire as well as the bytes decoded.
        .no_gzip()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let previous = attempt.previous();
            let first = previous.first().cloned();
            if previous.contains(attempt.url()) {
                attempt.error("redirect loop")
            } else if previous.len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if first.is_some_and(|f| !same_origin(&f, attempt.url())) {
                let to = format!(
                    "redirect to another host refused ({}:{})",
                    attempt.url().host_str().unwrap_or("?"),
                    attempt.url().port_or_known_default().unwrap_or(0)
                );
                attempt.error(to)
            } else {
                attempt.follow()
            }
        }))
        .build()
        // Building only fails if the TLS backend cannot initialise, which is
        // a broken installation, not a runtime condition to recover from.
        .expect("HTTP client (TLS backend) failed to initialise")
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Parse a configured base URL, refusing plain `http://` to anything but
/// loopback unless the source explicitly allows it.
pub fn base_url(raw: &str, allow_insecure_http: bool) -> Result<Url, SourceError> {
    let url = Url::parse(raw).map_err(|e| SourceError::new(format!("invalid url {raw:?}: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(url),
        "http" => Err(SourceError::new(format!(
            "refusing plain http to {} (set allow_insecure_http = true to allow)",
            url.host_str().unwrap_or("?")
        ))),
        other => Err(SourceError::new(format!(
            "unsupported url scheme {other:?}"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Join a path (and query) onto a base URL that may itself carry a path
/// prefix (`https://host/prometheus` + `/api/v1/query`).
#[must_use]
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url
}

/// A decoded JSON body plus the response headers (rate limits, ETags).
#[derive(Debug)]
pub struct Fetched<T> {
    pub body: T,
    pub headers: HeaderMap,
    pub status: StatusCode,
}

/// Send a request and decode a JSON body of at most [`MAX_BODY_BYTES`].
/// Non-2xx answers become a [`SourceError`] naming the status and a short,
/// sanitised excerpt of the body; a 429 carries its `Retry-After`.
pub async fn fetch_json<T: DeserializeOwned>(
    what: &str,
    request: RequestBuilder,
) -> Result<Fetched<T>, SourceError> {
    fetch_json_explained::<T, serde::de::IgnoredAny>(what, request, |_| None).await
}

/// Like [`fetch_json`], but when a non-2xx body decodes as the vendor's error
/// envelope `E`, `explain` words the reason instead of a raw body excerpt
/// (`"metrics: error_ratio query: bad_data: parse error … (HTTP 400 Bad
/// Request)"`). Status, `Retry-After` and body-limit handling are unchanged.
pub async fn fetch_json_explained<T: DeserializeOwned, E: DeserializeOwned>(
    what: &str,
    request: RequestBuilder,
    explain: impl FnOnce(E) -> Option<String>,
) -> Result<Fetched<T>, SourceError> {
    let (status, headers, body, redact) = exchange(what, request).await?;
    if !status.is_success() {
        let bytes = body.inflate(what).map_err(|e| redact.error(e))?;
        let reason = serde_json::from_slice::<E>(&bytes).ok().and_then(explain);
        return Err(status_error(
            what, status, &headers, &bytes, reason, &redact,
        ));
    }
    let decoded = if body.gzipped && body.bytes.len() >= STREAM_FROM_BYTES {
        decode_streamed(what, &body.bytes, MAX_BODY_BYTES).map_err(|e| redact.error(e))?
    } else {
        let bytes = body.inflate(what).map_err(|e| redact.error(e))?;
        serde_json::from_slice(&bytes)
    };
    let body = decoded.map_err(|e| {
        // A login page or proxy error in place of the API says more by its
        // type than by where the parser gave up.
        let mut error = if let Some(kind) = not_json(&headers) {
            SourceError::new(format!(
                "{what}: not JSON ({kind}), a proxy or login page may be in the way"
            ))
        } else {
            let kind = if e.is_eof() { "truncated" } else { "malformed" };
            SourceError::new(format!("{what}: {kind} JSON ({e})"))
        };
        // The server said 2xx: a write may have been applied even though
        // the answer cannot show it.
        error.maybe_applied = true;
        error
    })?;
    Ok(Fetched {
        body,
        headers,
        status,
    })
}

/// Send a request whose answer body does not matter beyond success.
pub async fn send(
    what: &str,
    request: RequestBuilder,
) -> Result<(StatusCode, HeaderMap, Vec<u8>), SourceError> {
    let (status, headers, body, redact) = exchange(what, request).await?;
    let bytes = body.inflate(what).map_err(|e| redact.error(e))?;
    if !status.is_success() {
        return Err(status_error(what, status, &headers, &bytes, None, &redact));
    }
    Ok((status, headers, bytes))
}

/// Send a request and read its whole (bounded) answer. Every request gets
/// an explicit deadline covering the body too, so a server trickling bytes
/// cannot hold a poller for longer than its timeout, and the message can
/// say which deadline passed.
async fn exchange(
    what: &str,
    request: RequestBuilder,
) -> Result<(StatusCode, HeaderMap, Body, Redactor), SourceError> {
    let (client, request) = request.build_split();
    let mut request = request.map_err(|e| describe(what, &e, REQUEST_TIMEOUT))?;
    let timeout = *request.timeout_mut().get_or_insert(REQUEST_TIMEOUT);
    let redact = Redactor::of(&request);
    request
        .headers_mut()
        .entry(ACCEPT_ENCODING)
        .or_insert(HeaderValue::from_static("gzip"));
    meter::sent();
    let response = client
        .execute(request)
        .await
        .map_err(|e| redact.error(describe(what, &e, timeout)))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_limited(what, response, timeout)
        .await
        .map_err(|e| redact.error(e))?;
    Ok((status, headers, body, redact))
}

/// The media type of a body that says it is something other than JSON
/// (`text/html`); `None` when it claims JSON or names no type.
fn not_json(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!essence.is_empty() && !essence.contains("json"))
        .then(|| sanitize::text(&essence).chars().take(60).collect())
}

/// The credentials a request carries, in every form a misbehaving server
/// could echo back in an error page (the header, its base64 payload, the
/// decoded `user:password` and the password alone), so that no message
/// built from its answer can show them.
struct Redactor(Vec<String>);

impl Redactor {
    fn of(request: &Request) -> Self {
        let mut secrets = Vec::new();
        let header = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Some(header) = header {
            secrets.push(header.to_owned());
            if let Some((scheme, credentials)) = header.split_once(' ') {
                let credentials = credentials.trim();
                secrets.push(credentials.to_owned());
                // PagerDuty's `Token token=…`.
                if let Some((_, value)) = credentials.split_once('=') {
                    secrets.push(value.trim_matches('"').to_owned());
                }
                if scheme.eq_ignore_ascii_case("basic")
                    && let Ok(decoded) =
                        base64::engine::general_purpose::STANDARD.decode(credentials)
                    && let Ok(decoded) = String::from_utf8(decoded)
                {
                    if let Some((_, password)) = decoded.split_once(':') {
                        secrets.push(password.to_owned());
                    }
                    secrets.push(decoded);
                }
            }
        }
        // Longest first, so a whole header is masked before its parts; very
        // short values would mask ordinary words and protect nothing.
        secrets.retain(|s| s.len() >= 6);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self(secrets)
    }

    fn text(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_owned(), |text, secret| text.replace(secret, "***"))
    }

    fn error(&self, mut error: SourceError) -> SourceError {
        error.message = self.text(&error.message);
        error
    }
}

async fn read_limited(
    what: &str,
    mut response: Response,
    timeout: Duration,
) -> Result<Body, SourceError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large(what));
    }
    // Sized once when the length is declared (the limit is checked above),
    // instead of doubling through a large answer.
    let declared = response.content_length().unwrap_or(0);
    let gzipped = response
        .headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| describe(what, &e, timeout))?
    {
        meter::wire(chunk.len());
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large(what));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes: body,
        gzipped,
    })
}

/// A gzipped answer at least this large on the wire is decoded while it is
/// inflated instead of being inflated whole first: a week of hourly error
/// ratios for 10k tenants inflates to tens of MB of JSON, which was held
/// beside what it decodes to (the largest transient in the cockpit's heap).
/// Smaller answers (a desk page, a quiet poll) are inflated whole, which
/// decodes faster and costs little.
const STREAM_FROM_BYTES: usize = 1024 * 1024;

/// An answer's body as it came over the connection.
struct Body {
    bytes: Vec<u8>,
    gzipped: bool,
}

impl Body {
    /// The body as the server meant it (inflated when it was gzipped).
    fn inflate(self, what: &str) -> Result<Vec<u8>, SourceError> {
        let bytes = if self.gzipped {
            gunzip(what, &self.bytes)?
        } else {
            self.bytes
        };
        meter::received(bytes.len());
        Ok(bytes)
    }
}

/// Decode JSON from a gzip body as it inflates, never holding the inflated
/// text; at most `limit` bytes are inflated (a bomb costs no more than a
/// plain answer could). The outer error is the body's (broken gzip, too
/// large), the inner one the JSON's.
fn decode_streamed<T: DeserializeOwned>(
    what: &str,
    compressed: &[u8],
    limit: usize,
) -> Result<Result<T, serde_json::Error>, SourceError> {
    use std::io::Read as _;
    let mut inflated = Counted {
        inner: flate2::read::MultiGzDecoder::new(compressed).take(limit as u64 + 1),
        read: 0,
    };
    // Buffered: serde_json reads a byte at a time.
    let decoded =
        serde_json::from_reader(std::io::BufReader::with_capacity(64 * 1024, &mut inflated));
    meter::received(inflated.read);
    if inflated.read > limit {
        return Err(too_large(what));
    }
    match decoded {
        Err(e) if e.is_io() => Err(SourceError::new(format!(
            "{what}: broken gzip answer ({e})"
        ))),
        decoded => Ok(decoded),
    }
}

/// A reader that counts what passed through it (the bytes decoded, for
/// the poll's meter).
struct Counted<R> {
    inner: R,
    read: usize,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n;
        Ok(n)
    }
}

/// Inflate a gzip body; the limit applies to what it inflates to, so a
/// small bomb cannot cost more memory than a plain answer could.
fn gunzip(what: &str, compressed: &[u8]) -> Result<Vec<u8>, SourceError> {
    use std::io::Read as _;
    let mut body = Vec::with_capacity(compressed.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(compressed)
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| SourceError::new(format!("{what}: broken gzip answer ({e})")))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large(what));
    }
    Ok(body)
}

fn too_large(what: &str) -> SourceError {
    SourceError::new(format!(
        "{what}: response larger than {} MiB, not read",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

/// A non-2xx answer in words. The statuses a CRE can act on lead with what
/// to do (check the token, wait); the rest name the status. The vendor's
/// reason, or else a short excerpt of the body, follows — with any echoed
/// credential masked before it is cut short, so no fragment survives.
fn status_error(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    explained: Option<String>,
    redact: &Redactor,
) -> SourceError {
    let mut http = format!("HTTP {}", status.as_u16());
    if let Some(reason) = status.canonical_reason() {
        http.push(' ');
        http.push_str(reason);
    }
    // A 429 without `Retry-After` may still say when the window resets
    // (PagerDuty and Zendesk send `ratelimit-reset` in seconds); without
    // either it still means "slow down": back off a minute.
    let retry_after = retry_after(headers)
        .or_else(|| match status {
            StatusCode::TOO_MANY_REQUESTS => Some(
                header_u64(headers, "ratelimit-reset")
                    .map_or(DEFAULT_RATE_LIMIT_WAIT, Duration::from_secs),
            ),
            _ => None,
        })
        .map(|wait| wait.min(MAX_RETRY_AFTER));
    let lead = match status {
        StatusCode::UNAUTHORIZED => Some("unauthorized, check the token".to_owned()),
        StatusCode::FORBIDDEN => Some("forbidden, check the token's access".to_owned()),
        StatusCode::TOO_MANY_REQUESTS => {
            retry_after.map(|wait| format!("rate limited, retrying in {}", seconds(wait)))
        }
        _ => None,
    };
    if let (Some(wait), false) = (retry_after, status == StatusCode::TOO_MANY_REQUESTS) {
        http.push_str(&format!(", retry after {}", seconds(wait)));
    }
    let explained = explained
        .map(|r| {
            redact
                .text(&sanitize::text(&r))
                .chars()
                .take(300)
                .collect::<String>()
        })
        .filter(|r| !r.is_empty());
    let excerpt = || -> String {
        redact
            .text(&sanitize::text(&String::from_utf8_lossy(body)))
            .chars()
            .take(160)
            .collect()
    };
    let message = match (lead, explained) {
        (Some(lead), Some(reason)) => format!("{what}: {lead}: {reason} ({http})"),
        (None, Some(reason)) => format!("{what}: {reason} ({http})"),
        (lead, None) => {
            let head = lead.map_or_else(|| http.clone(), |lead| format!("{lead} ({http})"));
            match excerpt() {
                e if e.is_empty() => format!("{what}: {head}"),
                e => format!("{what}: {head}: {e}"),
            }
        }
    };
    let mut error = SourceError::new(message).with_status(status.as_u16());
    // A server error may come after the change was applied.
    error.maybe_applied = status.is_server_error();
    match retry_after {
        Some(wait) => error.with_retry_after(wait),
        None => error,
    }
}

/// The longest any `Retry-After` (or rate-limit reset) holds a poller or a
/// write back: a typo'd or hostile header must not park the cockpit or a
/// customer update for a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// How long to stay away after a 429 that names no wait.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A duration as a CRE reads it: `1s`, `1.5s`, `250ms`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare on these APIs and is
/// treated as absent).
#[must_use]
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_u64(headers, RETRY_AFTER.as_str()).map(Duration::from_secs)
}

/// Below this share of the rate-limit window left, polls slow down.
const RATE_LIMIT_RESERVE: u64 = 10; // percent

/// How long to pause before the next poll because the rate-limit headers say
/// the budget is nearly spent (`X-Rate-Limit` / `X-Rate-Limit-Remaining`,
/// or `ratelimit-limit` / `ratelimit-remaining` / `ratelimit-reset`): waiting
/// for the window to reset now is cheaper than a 429 later. `None` while
/// more than a tenth of the budget is left, or when the server sends none.
#[must_use]
pub fn rate_limit_pause(headers: &HeaderMap) -> Option<Duration> {
    let remaining = header_u64(headers, "x-rate-limit-remaining")
        .or_else(|| header_u64(headers, "ratelimit-remaining"))?;
    let limit = header_u64(headers, "x-rate-limit")
        .or_else(|| header_u64(headers, "ratelimit-limit"))
        .filter(|l| *l > 0)?;
    if remaining.saturating_mul(100) > limit.saturating_mul(RATE_LIMIT_RESERVE) {
        return None;
    }
    // Without a reset time, a minute is the window every vendor here uses.
    let reset = header_u64(headers, "ratelimit-reset")
        .unwrap_or(60)
        .clamp(1, 3600);
    Some(Duration::from_secs(reset))
}

/// A numeric header, if present and well-formed.
#[must_use]
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Turn a transport error into a sentence. reqwest's own `Display` includes
/// the full URL; we name the operation instead and add the root cause.
/// `timeout` is the deadline the request ran under, so a timeout can say how
/// long it waited.
fn describe(what: &str, error: &reqwest::Error, timeout: Duration) -> SourceError {
    let mut cause = String::new();
    let mut dropped = false;
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        dropped |= inner.downcast_ref::<std::io::Error>().is_some_and(|io| {
            use std::io::ErrorKind::{
                BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof,
            };
            matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            )
        });
        source = inner.source();
    }
    let cause = sanitize::text(&cause);
    let with_cause = |kind: &str| {
        if cause.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} ({cause})")
        }
    };
    let said = if error.is_connect() && error.is_timeout() {
        format!(
            "cannot connect: timed out after {}",
            seconds(CONNECT_TIMEOUT.min(timeout))
        )
    } else if error.is_timeout() {
        format!("timed out after {}", seconds(timeout))
    } else if error.is_redirect() {
        // The policy in [`client`] words its refusals for the chip.
        if cause.is_empty() {
            "redirect refused".to_owned()
        } else {
            cause.clone()
        }
    } else if error.is_connect() {
        with_cause("cannot connect")
    } else if dropped || cause.contains("closed before message completed") {
        with_cause("the server dropped the connection")
    } else if error.is_body() || error.is_decode() {
        with_cause("connection broke while reading the answer")
    } else {
        with_cause("request failed")
    };
    let mut described = SourceError::new(format!("{what}: {said}"));
    // Only a failure to connect proves the request never left; after a
    // timeout or a broken answer the server may have acted on it.
    described.maybe_applied = !error.is_connect() && !error.is_redirect() && !error.is_builder();
    described
}

/// What a poll cost: requests sent, body bytes on the wire (gzip, which
/// the client asks every source for) and body bytes decoded, counted per
/// task so each poller measures only its own source (the performance
/// record's "requests and bytes per quiet poll", and a debug log line per
/// poll).
pub mod meter {
    use std::cell::Cell;
    use std::future::Future;

    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Usage {
        pub requests: u64,
        /// Body bytes decoded (after gzip).
        pub bytes: u64,
        /// Body bytes as they came over the connection.
        pub wire: u64,
    }

    tokio::task_local! {
        static USAGE: Cell<Usage>;
    }

    /// Run `work`, counting the requests and bytes it moves.
    pub async fn measure<T>(work: impl Future<Output = T>) -> (T, Usage) {
        USAGE
            .scope(Cell::new(Usage::default()), async {
                let out = work.await;
                (out, USAGE.with(Cell::get))
            })
            .await
    }

    fn add(delta: Usage) {
        // Outside `measure` nobody is counting, and that is fine.
        let _ = USAGE.try_with(|u| {
            let mut usage = u.get();
            usage.requests += delta.requests;
            usage.bytes += delta.bytes;
            usage.wire += delta.wire;
            u.set(usage);
        });
    }

    pub(super) fn sent() {
        add(Usage {
            requests: 1,
            ..Usage::default()
        });
    }

    pub(super) fn wire(bytes: usize) {
        add(Usage {
            wire: bytes as u64,
            ..Usage::default()
        });
    }

    pub(super) fn received(bytes: usize) {
        add(Usage {
            bytes: bytes as u64,
            ..Usage::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_answers_are_inflated_and_a_broken_one_is_an_error() {
        use std::io::Write as _;
        let body = br#"{"status":"success"}"#.repeat(100);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&body).unwrap();
        let compressed = encoder.finish().unwrap();
        assert!(compressed.len() < body.len() / 10);
        assert_eq!(gunzip("q", &compressed).unwrap(), body);
        let err = gunzip("metrics: q", &compressed[..compressed.len() / 2]).unwrap_err();
        assert!(
            err.message.starts_with("metrics: q: broken gzip answer"),
            "{err}"
        );
    }

    #[test]
    fn a_large_gzip_answer_decodes_as_it_inflates_within_the_limit() {
        use std::io::Write as _;
        let body = serde_json::json!({"status": "success", "data": vec![0.25; 5000]}).to_string();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(body.as_bytes()).unwrap();
        let compressed = encoder.finish().unwrap();
        let decoded: serde_json::Value = decode_streamed("q", &compressed, body.len())
            .unwrap()
            .unwrap();
        assert_eq!(
            decoded,
            serde_json::from_str::<serde_json::Value>(&body).unwrap()
        );
        // One byte over the limit: refused as too large, not half-decoded.
        let err =
            decode_streamed::<serde_json::Value>("q", &compressed, body.len() - 1).unwrap_err();
        assert!(err.message.contains("larger than"), "{err}");
        let err = decode_streamed::<serde_json::Value>(
            "metrics: q",
            &compressed[..compressed.len() / 2],
            body.len(),
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("metrics: q: broken gzip answer"),
            "{err}"
        );
        // Whole gzip, but not JSON: the JSON's error, for the caller to word.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"<html>login</html>").unwrap();
        let html = encoder.finish().unwrap();
        assert!(
            decode_streamed::<serde_json::Value>("q", &html, 1000)
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn secret_is_redacted_in_debug() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(base_url("http://127.0.0.1:9090", false).is_ok());
        assert!(base_url("http://localhost:9090", false).is_ok());
        assert!(base_url("http://[::1]:9090", false).is_ok());
        let err = base_url("http://prom.example.com", false).unwrap_err();
        assert!(err.message.contains("allow_insecure_http"), "{err}");
        assert!(base_url("http://prom.example.com", true).is_ok());
        assert!(base_url("https://prom.example.com", false).is_ok());
    }

    #[test]
    fn rate_limit_headers_slow_down_only_when_nearly_spent() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        let plenty = headers(&[("x-rate-limit", "700"), ("x-rate-limit-remaining", "650")]);
        assert_eq!(rate_limit_pause(&plenty), None);
        let low = headers(&[("x-rate-limit", "700"), ("x-rate-limit-remaining", "12")]);
        assert_eq!(rate_limit_pause(&low), Some(Duration::from_secs(60)));
        let reset = headers(&[
            ("ratelimit-limit", "100"),
            ("ratelimit-remaining", "3"),
            ("ratelimit-reset", "41"),
        ]);
        assert_eq!(rate_limit_pause(&reset), Some(Duration::from_secs(41)));
        assert_eq!(rate_limit_pause(&HeaderMap::new()), None);
    }

    #[test]
    fn echoed_credentials_are_masked_in_every_form() {
        let client = reqwest::Client::new();
        let basic = client
            .get("http://127.0.0.1/")
            .basic_auth("cre@example.com/token", Some("s3cr3t-token"))
            .build()
            .unwrap();
        let redact = Redactor::of(&basic);
        let header = basic.headers()[AUTHORIZATION].to_str().unwrap().to_owned();
        let payload = header.trim_start_matches("Basic ");
        for echo in [
            header.as_str(),
            payload,
            "cre@example.com/token:s3cr3t-token",
            "s3cr3t-token",
        ] {
            let masked = redact.text(&format!("you sent {echo}!"));
            assert!(!masked.contains("s3cr3t-token"), "{masked}");
            assert!(!masked.contains(payload), "{masked}");
            assert!(masked.contains("***"), "{masked}");
        }
        let pagerduty = client
            .get("http://127.0.0.1/")
            .header(AUTHORIZATION, "Token token=pd-abcdef")
            .build()
            .unwrap();
        assert_eq!(Redactor::of(&pagerduty).text("got pd-abcdef"), "got ***");
        let bearer = client
            .get("http://127.0.0.1/")
            .bearer_auth("prom-s3cret")
            .build()
            .unwrap();
        assert_eq!(Redactor::of(&bearer).text("bad prom-s3cret"), "bad ***");
        let rt = client
            .get("http://127.0.0.1/")
            .header(AUTHORIZATION, "token rt-s3cret")
            .build()
            .unwrap();
        assert_eq!(Redactor::of(&rt).text("bad rt-s3cret"), "bad ***");
        // Nothing to mask without credentials.
        let bare = client.get("http://127.0.0.1/").build().unwrap();
        assert_eq!(Redactor::of(&bare).text("plain"), "plain");
    }

    #[test]
    fn a_non_json_media_type_is_named() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, value.parse().unwrap());
            not_json(&h)
        };
        assert_eq!(
            with("text/html; charset=utf-8").as_deref(),
            Some("text/html")
        );
        assert_eq!(with("application/json; charset=utf-8"), None);
        assert_eq!(with("application/problem+json"), None);
        assert_eq!(not_json(&HeaderMap::new()), None);
    }

    #[test]
    fn durations_read_as_a_cre_would_say_them() {
        assert_eq!(seconds(Duration::from_secs(1)), "1s");
        assert_eq!(seconds(Duration::from_secs(60)), "60s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
        assert_eq!(seconds(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn join_keeps_a_base_path_prefix() {
        let base = Url::parse("https://h.example/prom/").unwrap();
        assert_eq!(
            join(&base, "/api/v1/query").as_str(),
            "https://h.example/prom/api/v1/query"
        );
        let bare = Url::parse("https://h.example").unwrap();
        assert_eq!(
            join(&bare, "/api/v1/query").as_str(),
            "https://h.example/api/v1/query"
        );
    }
}
