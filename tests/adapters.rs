//! The HTTP adapters against wiremock servers speaking the vendors'
//! wire shapes (reference/apis.md §1, §3, §5.1).

#[path = "adapters/misbehaving.rs"]
mod misbehaving;
#[path = "adapters/pagerduty.rs"]
mod pagerduty;
#[path = "adapters/prometheus.rs"]
mod prometheus;
#[path = "adapters/rt.rs"]
mod rt;
#[path = "adapters/zendesk.rs"]
mod zendesk;

use cre_cockpit::config::Config;
use cre_cockpit::core::domain::SourceError;
use wiremock::ResponseTemplate;

/// A config with one section pointing at a mock server.
/// A server that answers every GET with `body`, 10 s late (for a source
/// configured with `timeout = "1s"`).
pub async fn slow_server(body: serde_json::Value) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(body)
                .set_delay(std::time::Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    server
}

pub fn config(toml: &str) -> Config {
    Config::parse(toml).unwrap_or_else(|e| panic!("test config does not parse: {e:?}\n{toml}"))
}

/// The failure answers every adapter must turn into a clear [`SourceError`]:
/// `(label, response, text the message must contain, expected retry_after)`.
pub fn failure_cases() -> Vec<(&'static str, ResponseTemplate, &'static str, Option<u64>)> {
    vec![
        (
            "429 with Retry-After",
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "17")
                .set_body_raw(
                    "Number of allowed API requests per minute exceeded",
                    "text/plain",
                ),
            "HTTP 429",
            Some(17),
        ),
        (
            "500",
            ResponseTemplate::new(500).set_body_raw("upstream exploded", "text/plain"),
            "HTTP 500",
            None,
        ),
        (
            "malformed JSON",
            ResponseTemplate::new(200).set_body_raw("{\"tickets\": [oops]}", "application/json"),
            "malformed JSON",
            None,
        ),
        (
            "truncated JSON",
            ResponseTemplate::new(200)
                .set_body_raw("{\"data\": {\"result\": [{\"id\": 1", "application/json"),
            "truncated JSON",
            None,
        ),
    ]
}

/// Check one failure against its expectations, and that no secret leaked.
pub fn check_failure(
    label: &str,
    err: &SourceError,
    vendor_prefix: &str,
    needle: &str,
    retry: Option<u64>,
    secret: &str,
) {
    assert!(err.message.starts_with(vendor_prefix), "{label}: {err}");
    assert!(err.message.contains(needle), "{label}: {err}");
    assert_eq!(
        err.retry_after.map(|d| d.as_secs()),
        retry,
        "{label}: {err}"
    );
    assert!(
        !err.message.contains(secret),
        "{label}: token leaked: {err}"
    );
}
