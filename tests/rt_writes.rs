//! Writes to a real Request Tracker 5 land exactly once: plain delivery,
//! RT down in the middle, a process dying between send and record, an
//! escalation, and the `note --wait` command. One test, run in order,
//! because it stops and restarts the shared RT server.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::rt::Rest;
use cre_cockpit::app::outbox::{self, DeskWriter, SharedJournal, Writers};
use cre_cockpit::config::Config;
use cre_cockpit::core::writes::{StepState, Target, WriteKind};
use cre_cockpit::sources::DeskSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::rt::Rt;
use cre_cockpit::store::journal::Journal;
use jiff::Timestamp;

fn rt(url: &str, token: &str) -> Rt {
    let config = Config::parse(&format!("[desk]\nkind = \"rt\"\nurl = \"{url}\"\n")).unwrap();
    Rt::new(
        http::client(),
        &config.desk.unwrap(),
        Secret::new(token.to_owned()),
    )
    .unwrap()
}

fn writers(url: &str, token: &str) -> Writers {
    Writers {
        desk: Some(DeskWriter::Rt(rt(url, token), None)),
        ..Writers::default()
    }
}

/// How many comments on the ticket contain `text`.
async fn count(url: &str, token: &str, ticket: &str, text: &str) -> usize {
    let mut reader = rt(url, token);
    reader
        .comments(ticket)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.body.contains(text))
        .count()
}

fn rt_service(action: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/rt.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg(action)
        .status()
        .unwrap();
    assert!(status.success(), "rt.sh {action} failed");
}

#[ignore = "needs RT (scripts/test.sh starts it)"]
#[tokio::test]
async fn rt_writes_land_exactly_once() {
    let (Some(url), Some(token)) = (
        common::service("CRE_COCKPIT_RT_URL"),
        common::service("CRE_COCKPIT_RT_TOKEN"),
    ) else {
        return;
    };
    let rest = Rest::new(&url, &token);
    let queue = rest.queue("writes").await;
    let ticket = rest
        .ticket(&queue, "Checkout failing for ACME", 50, "acme")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let journal: SharedJournal = Arc::new(Mutex::new(
        Journal::open(&dir.path().join("journal.db")).unwrap(),
    ));

    // 1. A note arrives once, as a comment (not correspondence).
    let id = common::journal_note(&journal, &ticket, "First note: 障害を調査中");
    outbox::pass(&journal, &mut writers(&url, &token), true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, id), StepState::Sent);
    assert_eq!(
        count(&url, &token, &ticket, "First note: 障害を調査中").await,
        1
    );
    let comments = rt(&url, &token).comments(&ticket).await.unwrap();
    assert!(
        comments
            .iter()
            .any(|c| c.body.contains("First note") && !c.public),
        "a private comment"
    );

    // 2. RT goes down; the note waits in the journal; RT comes back; once.
    rt_service("stop");
    let id = common::journal_note(&journal, &ticket, "Second note while RT was down");
    let pass = outbox::pass(&journal, &mut writers(&url, &token), true, &mut |_| {})
        .await
        .unwrap();
    let down = common::write_state(&journal, id);
    rt_service("resume");
    assert_eq!(
        (pass.sent, down),
        (0, StepState::Queued),
        "refused connection: nothing left, still queued"
    );
    outbox::pass(&journal, &mut writers(&url, &token), true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, id), StepState::Sent);
    assert_eq!(
        count(&url, &token, &ticket, "Second note while RT was down").await,
        1
    );

    // 3. The process dies after RT took the note but before the journal
    //    recorded it: after a restart the marker is found, no second copy.
    let id = common::journal_note(&journal, &ticket, "Third note, crash after send");
    outbox::pass(&journal, &mut writers(&url, &token), true, &mut |_| {})
        .await
        .unwrap();
    let step = journal.lock().unwrap().write(id).unwrap().unwrap().steps[0].id;
    journal
        .lock()
        .unwrap()
        .set_state(step, StepState::Sending, None, None, Timestamp::now())
        .unwrap();
    let reopened: SharedJournal = Arc::new(Mutex::new(
        Journal::open(&dir.path().join("journal.db")).unwrap(),
    ));
    outbox::pass(&reopened, &mut writers(&url, &token), true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&reopened, id), StepState::Sent);
    assert_eq!(
        count(&url, &token, &ticket, "Third note, crash after send").await,
        1
    );

    // 4. An escalation raises the priority and adds the note, once.
    let target = cre_cockpit::insight::escalation::EscalationTarget {
        name: "cre".into(),
        label: None,
        feature_areas: Vec::new(),
        priority: Some("urgent".into()),
        group: None,
        tags: Vec::new(),
        routing_key_env: None,
        severity: "error".into(),
    };
    let item = Target::Inquiry(ticket.clone());
    let effects = cre_cockpit::insight::escalation::plan(
        &item,
        &target,
        Some("normal"),
        "ACME checkout",
        "Customer: ACME",
        false,
    );
    let id = reopened
        .lock()
        .unwrap()
        .insert(
            WriteKind::Escalate,
            &item,
            "escalated",
            effects,
            Timestamp::now(),
        )
        .unwrap()
        .id;
    outbox::pass(&reopened, &mut writers(&url, &token), true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&reopened, id), StepState::Sent);
    let fresh: serde_json::Value = rest
        .send(
            reqwest::Method::GET,
            &format!("ticket/{ticket}"),
            serde_json::Value::Null,
        )
        .await;
    let priority: u32 = fresh["Priority"].as_str().unwrap().parse().unwrap();
    assert!(priority >= 90, "priority {priority}");
    assert_eq!(
        count(&url, &token, &ticket, "Escalated to cre by the CRE cockpit").await,
        1
    );

    // 5. The command line: note --wait returns once RT has it.
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[desk]\nkind = \"rt\"\nurl = \"{url}\"\ntoken_env = \"RT_TOKEN\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "note",
            &format!("inquiry:{ticket}"),
            "From the runbook",
            "--wait",
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("RT_TOKEN", &token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&url, &token, &ticket, "From the runbook").await, 1);
}
