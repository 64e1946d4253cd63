//! The write requests the adapters make are valid against the vendors'
//! OpenAPI specs, checked by Prism mock servers started from
//! `../shared/specs` (scripts/services/prism.sh). A request that breaks the
//! contract is answered 4xx, and the mock's log names the violation.
#![allow(clippy::unwrap_used)]

mod common;

use cre_cockpit::config::{DeskConfig, DeskKind, IncidentsConfig, IncidentsKind};
use cre_cockpit::core::domain::SourceError;
use cre_cockpit::sources::events::{Events, Trigger};
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::pagerduty::PagerDuty;
use cre_cockpit::sources::zendesk::Zendesk;

/// Fail with the mock's own account of what broke the contract.
fn explain(result: Result<(), SourceError>, log_var: &str) {
    if let Err(e) = result {
        let log = std::env::var(log_var)
            .ok()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        panic!("{e}\n--- Prism log (newest first) ---\n{}", tail.join("\n"));
    }
}

fn zendesk(url: &str) -> Zendesk {
    let config = DeskConfig {
        email: Some("cre@example.com".into()),
        ..DeskConfig::new(DeskKind::Zendesk, url.into())
    };
    Zendesk::new(http::client(), &config, Secret::new("t0ken")).unwrap()
}

#[ignore = "needs Prism (scripts/test.sh starts it)"]
#[tokio::test]
async fn zendesk_note_priority_and_group_follow_the_spec() {
    let Some(url) = common::service("CRE_COCKPIT_PRISM_ZENDESK") else {
        return;
    };
    let desk = zendesk(&url);
    let log = "CRE_COCKPIT_PRISM_ZENDESK_LOG";
    explain(
        desk.add_comment("35436", "Internal: investigating 障害 🙏", false)
            .await,
        log,
    );
    // Not `add_tags`: the pinned spec declares no request body for
    // `PUT /api/v2/tickets/{id}/tags` (PutTagsTicket) although its own
    // description gives `{"tags": [...]}`, so Prism refuses any body (415).
    // tests/writes.rs checks that request against the documented shape.
    explain(desk.set_priority("35436", "urgent").await, log);
    explain(desk.set_group("35436", "360000000001").await, log);
}

#[ignore = "needs Prism (scripts/test.sh starts it)"]
#[tokio::test]
async fn pagerduty_incident_note_follows_the_spec() {
    let Some(url) = common::service("CRE_COCKPIT_PRISM_PAGERDUTY") else {
        return;
    };
    let config = IncidentsConfig {
        from: Some("oncall@example.com".into()),
        ..IncidentsConfig::new(IncidentsKind::Pagerduty, url)
    };
    let pd = PagerDuty::new(http::client(), &config, Secret::new("y_NbAkKc66ryYTWUXYEu")).unwrap();
    explain(
        pd.add_note("PT4KHLK", "Customer update sent to 3 tickets")
            .await,
        "CRE_COCKPIT_PRISM_PAGERDUTY_LOG",
    );
}

#[ignore = "needs Prism (scripts/test.sh starts it)"]
#[tokio::test]
async fn events_v2_trigger_follows_the_spec() {
    let Some(url) = common::service("CRE_COCKPIT_PRISM_PAGERDUTY_EVENTS") else {
        return;
    };
    // The mock serves the spec's paths at its root (`/enqueue`).
    let events = Events::new(http::client(), &url, false).unwrap();
    let trigger = Trigger {
        dedup_key: "cre-cockpit/inquiry:42".into(),
        summary: "ACME: checkout errors, escalated by CRE".into(),
        severity: "error".into(),
        source: "cre-cockpit".into(),
        custom_details: serde_json::json!({"item": "inquiry:42"}),
    };
    explain(
        events
            .trigger(&Secret::new("R0UTINGKEY0123456789abcdef012345"), &trigger)
            .await,
        "CRE_COCKPIT_PRISM_PAGERDUTY_EVENTS_LOG",
    );
}

/// Mirroring a link (`[desk] mirror_links`): the problem ticket's lookup by
/// external id, its creation, and an inquiry made an incident of it.
#[tokio::test]
#[ignore = "needs Prism (scripts/test.sh starts it)"]
async fn zendesk_problem_ticket_mirror_follows_the_spec() {
    let Some(url) = common::service("CRE_COCKPIT_PRISM_ZENDESK") else {
        return;
    };
    let mut desk = zendesk(&url);
    let log = "CRE_COCKPIT_PRISM_ZENDESK_LOG";
    explain(desk.find_problem("PABC123").await.map(|_| ()), log);
    explain(
        desk.create_problem(
            "PABC123",
            "Incident PABC123: Exports slow",
            "Problem ticket",
        )
        .await
        .map(|_| ()),
        log,
    );
    // The spec's example ticket is 35436: its update answer is that ticket.
    explain(desk.make_incident_of("35436", 9_873_764).await, log);
}
