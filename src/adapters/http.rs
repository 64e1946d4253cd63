//! HTTP plumbing shared by every adapter: one client, bounded bodies, errors
//! a CRE can read on a chip, and secrets that never leak into them.

use std::fmt;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::domain::SourceError;
use crate::sanitize;

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

/// The one HTTP client of the process (it pools connections; clones share
/// the pool). Redirects are followed only within the same scheme, host and
/// port, so a token is never sent to another host.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("cre-cockpit/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().cloned();
            if attempt.previous().len() > 5 {
                attempt.error("too many redirects")
            } else if first.is_some_and(|f| !same_origin(&f, attempt.url())) {
                attempt.error("redirect to another host refused")
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
    let (response, secret) = execute(what, request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = read_limited(what, response)
        .await
        .map_err(|e| redact(e, secret.as_deref()))?;
    if !status.is_success() {
        let reason = serde_json::from_slice::<E>(&bytes).ok().and_then(explain);
        let error = status_error(what, status, &headers, &bytes, reason);
        return Err(redact(error, secret.as_deref()));
    }
    let body = serde_json::from_slice(&bytes).map_err(|e| {
        let kind = if e.is_eof() { "truncated" } else { "malformed" };
        SourceError::new(format!("{what}: {kind} JSON ({e})"))
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
    let (response, secret) = execute(what, request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = read_limited(what, response)
        .await
        .map_err(|e| redact(e, secret.as_deref()))?;
    if !status.is_success() {
        let error = status_error(what, status, &headers, &bytes, None);
        return Err(redact(error, secret.as_deref()));
    }
    Ok((status, headers, bytes))
}

/// Send the request; also return the secret its `Authorization` header
/// carries, so that errors built from the answer can be redacted.
async fn execute(
    what: &str,
    request: RequestBuilder,
) -> Result<(Response, Option<String>), SourceError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|e| describe(what, &e))?;
    let secret = credential(&request);
    let response = client
        .execute(request)
        .await
        .map_err(|e| redact(describe(what, &e), secret.as_deref()))?;
    Ok((response, secret))
}

/// The secret in a request's `Authorization` header: the password of
/// `Basic`, the token of `Bearer`, `Token token=…` (PagerDuty) or `token …`
/// (RT). Too short to redact safely means none.
fn credential(request: &reqwest::Request) -> Option<String> {
    use base64::Engine;
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    let secret = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        String::from_utf8(decoded)
            .ok()?
            .split_once(':')?
            .1
            .to_owned()
    } else {
        rest.strip_prefix("token=").unwrap_or(rest).to_owned()
    };
    (secret.len() >= 4).then_some(secret)
}

/// A server may echo the credential back (`invalid token abc…` in a 401
/// body); the error reaches a chip, the log and `snapshot`, so it must not
/// carry it.
fn redact(mut error: SourceError, secret: Option<&str>) -> SourceError {
    if let Some(secret) = secret
        && error.message.contains(secret)
    {
        error.message = error.message.replace(secret, "***");
    }
    error
}

async fn read_limited(what: &str, mut response: Response) -> Result<Vec<u8>, SourceError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large(what));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(what, &e))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large(what));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(what: &str) -> SourceError {
    SourceError::new(format!(
        "{what}: response larger than {} MiB, not read",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

fn status_error(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    explained: Option<String>,
) -> SourceError {
    let mut http = format!("HTTP {}", status.as_u16());
    if let Some(reason) = status.canonical_reason() {
        http.push(' ');
        http.push_str(reason);
    }
    // A 429 without `Retry-After` may still say when the window resets
    // (PagerDuty and Zendesk send `ratelimit-reset` in seconds).
    let retry_after = retry_after(headers).or_else(|| match status {
        StatusCode::TOO_MANY_REQUESTS => {
            header_u64(headers, "ratelimit-reset").map(Duration::from_secs)
        }
        _ => None,
    });
    if let Some(wait) = retry_after {
        http.push_str(&format!(", retry after {}s", wait.as_secs()));
    }
    let explained = explained
        .map(|r| sanitize::text(&r).chars().take(300).collect::<String>())
        .filter(|r| !r.is_empty());
    let message = if let Some(reason) = explained {
        format!("{what}: {reason} ({http})")
    } else {
        let excerpt: String = sanitize::text(&String::from_utf8_lossy(body))
            .chars()
            .take(160)
            .collect();
        if excerpt.is_empty() {
            format!("{what}: {http}")
        } else {
            format!("{what}: {http}: {excerpt}")
        }
    };
    let mut error = SourceError::new(message).with_status(status.as_u16());
    // A server error may come after the change was applied.
    error.maybe_applied = status.is_server_error();
    match (status, retry_after) {
        (_, Some(wait)) => error.with_retry_after(wait),
        // A 429 without a hint still means "slow down": back off a minute.
        (StatusCode::TOO_MANY_REQUESTS, None) => error.with_retry_after(Duration::from_secs(60)),
        _ => error,
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
fn describe(what: &str, error: &reqwest::Error) -> SourceError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_redirect() {
        "redirect refused"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "connection broke while reading the answer"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    let mut described = if cause.is_empty() {
        SourceError::new(format!("{what}: {kind}"))
    } else {
        SourceError::new(format!("{what}: {kind} ({})", sanitize::text(&cause)))
    };
    // Only a failure to connect proves the request never left; after a
    // timeout or a broken answer the server may have acted on it.
    described.maybe_applied = !error.is_connect() && !error.is_redirect() && !error.is_builder();
    described
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn the_credential_of_every_auth_scheme_is_found_and_redacted() {
        let client = reqwest::Client::new();
        let get = || client.get("https://desk.example/x");
        let found = |r: RequestBuilder| credential(&r.build().unwrap());
        assert_eq!(
            found(get().basic_auth("me@x.example/token", Some("zd-s3cret"))),
            Some("zd-s3cret".into())
        );
        assert_eq!(
            found(get().bearer_auth("prom-s3cret")),
            Some("prom-s3cret".into())
        );
        assert_eq!(
            found(get().header(AUTHORIZATION, "Token token=pd-s3cret")),
            Some("pd-s3cret".into())
        );
        assert_eq!(
            found(get().header(AUTHORIZATION, "token rt-s3cret")),
            Some("rt-s3cret".into())
        );
        assert_eq!(found(get()), None);
        let echoed = SourceError::new("HTTP 401: bad token pd-s3cret");
        assert_eq!(
            redact(echoed, Some("pd-s3cret")).message,
            "HTTP 401: bad token ***"
        );
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
