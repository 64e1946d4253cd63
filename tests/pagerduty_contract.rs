//! The PagerDuty adapter against a Prism mock generated from the vendor's
//! REST v2 OpenAPI spec (`scripts/services/prism.sh`): every request the
//! adapter makes must be one the spec accepts. A violation fails with the
//! part of Prism's log that names it.
#![allow(clippy::unwrap_used)]

mod common;

use cre_cockpit::config::Config;
use cre_cockpit::sources::IncidentSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::pagerduty::PagerDuty;

/// Prism's log from `from` on (what this test's requests caused).
fn log_since(from: u64) -> String {
    let Ok(path) = std::env::var("CRE_COCKPIT_PRISM_PAGERDUTY_LOG") else {
        return "(no CRE_COCKPIT_PRISM_PAGERDUTY_LOG: Prism's log is unknown)".into();
    };
    let text = std::fs::read(&path).unwrap_or_default();
    let start = usize::try_from(from).unwrap_or(0).min(text.len());
    String::from_utf8_lossy(&text[start..]).into_owned()
}

fn log_len() -> u64 {
    std::env::var("CRE_COCKPIT_PRISM_PAGERDUTY_LOG")
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len())
}

fn adapter(url: &str) -> PagerDuty {
    let config = Config::parse(&format!(
        "[incidents]\nkind = \"pagerduty\"\nurl = \"{url}\"\nfrom = \"oncall@example.com\"\n"
    ))
    .unwrap();
    PagerDuty::new(
        http::client(),
        config.incidents.as_ref().unwrap(),
        Secret::new("y_NbAkKc66ryYTWUXYEu"),
    )
    .unwrap()
}

/// Prism's request log marks violations with ✖ (errors) — none may
/// come from our requests.
fn assert_no_violation(from: u64, what: &str) {
    let log = log_since(from);
    let violations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains('✖') || l.contains("Request terminated with error"))
        .collect();
    assert!(
        violations.is_empty(),
        "{what}: Prism names contract violations:\n{}",
        violations.join("\n")
    );
}

#[ignore = "needs Prism (scripts/test.sh starts it)"]
#[tokio::test]
async fn incidents_and_notes_are_requests_the_spec_accepts() {
    let Some(url) = common::service("CRE_COCKPIT_PRISM_PAGERDUTY") else {
        return;
    };
    let mut pd = adapter(&url);
    let before = log_len();
    let incidents = match pd.poll().await {
        Ok(i) => i,
        Err(e) => panic!("poll refused: {e}\nPrism log:\n{}", log_since(before)),
    };
    assert!(!incidents.is_empty(), "the spec's example lists incidents");
    let log = log_since(before);
    assert!(log.contains("get /incidents"), "{log}");
    assert_no_violation(before, "poll");
    // The spec's example has `more: true` with the same incident on every
    // page: the adapter must notice it is not moving on.
    assert!(
        log.matches("get /incidents").count() <= 2,
        "paged in circles: {} requests",
        log.matches("get /incidents").count()
    );
    assert!(
        incidents.iter().any(|i| i.details.contains_key("urgency")),
        "{incidents:?}"
    );

    let before = log_len();
    let id = incidents[0].id.clone();
    if let Err(e) = pd.notes(&id).await {
        panic!("notes refused: {e}\nPrism log:\n{}", log_since(before));
    }
    assert_no_violation(before, "notes");

    // The mock does validate: a request breaking the documented header
    // rules is refused, so passing above means something. (Run last, and
    // in this test, so its violation is not read as the adapter's.)
    let response = reqwest::Client::new()
        .get(format!("{url}/incidents"))
        .header("Authorization", "Token token=y_NbAkKc66ryYTWUXYEu")
        .header("Accept", "application/vnd.pagerduty+json;version=2")
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_client_error(),
        "no Content-Type and a vendor-only Accept: {}",
        response.status()
    );
}
