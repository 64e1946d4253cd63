//! The RT adapter against a real Request Tracker 5 (Debian's
//! request-tracker5, started by scripts/services/rt.sh). Each test makes its
//! own queue so tests running side by side never see each other's tickets.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use common::rt::Rest;

use std::collections::BTreeSet;
use std::process::Command;

use cre_cockpit::config::Config;
use cre_cockpit::core::domain::{Account, InquiryStatus, Priority, Segment, Tier};
use cre_cockpit::sources::DeskSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::rt::Rt;
use serde_json::{Value, json};

/// The test server: its URL and token, or `None` (skip) outside CI.
fn server() -> Option<(String, String)> {
    Some((
        common::service("CRE_COCKPIT_RT_URL")?,
        common::service("CRE_COCKPIT_RT_TOKEN")?,
    ))
}

fn adapter(url: &str, token: &str, queue: &str, extra: &str) -> Rt {
    let config = Config::parse(&format!(
        "[desk]\nkind = \"rt\"\nurl = \"{url}\"\nqueue = \"{queue}\"\ncustomer_field = \"Customer\"\n{extra}"
    ))
    .unwrap();
    Rt::new(
        http::client(),
        &config.desk.unwrap(),
        Secret::new(token.to_owned()),
    )
    .unwrap()
}

#[ignore = "needs RT (scripts/test.sh starts it)"]
#[tokio::test]
async fn lists_the_open_tickets_of_the_queue_beyond_one_page() {
    let Some((url, token)) = server() else { return };
    let rest = Rest::new(&url, &token);
    let queue = rest.queue("paging").await;
    let mut open = BTreeSet::new();
    for (n, customer) in ["acme", "globex", "initech", "acme", "umbrella"]
        .iter()
        .enumerate()
    {
        let id = rest
            .ticket(&queue, &format!("Issue {n}"), 20 * n as u32, customer)
            .await;
        open.insert(id);
    }
    let resolved = rest.ticket(&queue, "Done already", 10, "acme").await;
    rest.update(&resolved, json!({"Status": "resolved"})).await;
    let stalled = open.iter().next().unwrap().clone();
    rest.update(&stalled, json!({"Status": "stalled"})).await;

    let mut rt = adapter(&url, &token, &queue, "page_size = 2\n");
    let update = rt.poll().await.unwrap();
    assert!(update.full);
    assert_eq!(update.requests, 3, "5 tickets at 2 a page: 2 + 2 + 1");
    let ids: BTreeSet<String> = update.changed.iter().map(|i| i.id.to_string()).collect();
    assert_eq!(ids, open);
    assert_eq!(ids, rest.active(&queue).await, "exactly what RT lists");
    let customers: BTreeSet<&str> = update
        .changed
        .iter()
        .filter_map(|i| i.org.as_deref())
        .collect();
    assert_eq!(
        customers,
        BTreeSet::from(["acme", "globex", "initech", "umbrella"])
    );
    let held = update.changed.iter().find(|i| i.id == stalled).unwrap();
    assert_eq!(held.status, InquiryStatus::Hold);
    assert!(
        update
            .changed
            .iter()
            .all(|i| i.group.as_deref() == Some(queue.as_str()))
    );
}

#[ignore = "needs RT (scripts/test.sh starts it)"]
#[tokio::test]
async fn a_change_in_rt_shows_on_the_next_poll_and_a_quiet_poll_is_one_request() {
    let Some((url, token)) = server() else { return };
    let rest = Rest::new(&url, &token);
    let queue = rest.queue("changes").await;
    let a = rest.ticket(&queue, "Checkout 500", 20, "acme").await;
    let b = rest.ticket(&queue, "Invoice currency", 20, "globex").await;
    let mut rt = adapter(&url, &token, &queue, "");
    let first = rt.poll().await.unwrap();
    assert_eq!(first.changed.len(), 2);

    let quiet = rt.poll().await.unwrap();
    assert_eq!(quiet.requests, 1, "nothing changed: one request");
    assert!(
        quiet.changed.is_empty() && quiet.removed.is_empty(),
        "{quiet:?}"
    );

    rest.update(&a, json!({"Priority": 95, "Status": "open"}))
        .await;
    rest.update(&b, json!({"Status": "resolved"})).await;
    let c = rest.ticket(&queue, "New one", 50, "initech").await;
    let next = rt.poll().await.unwrap();
    assert!(!next.full);
    assert_eq!(next.requests, 1);
    let changed = |id: &str| next.changed.iter().find(|i| i.id == id).unwrap();
    assert_eq!(changed(&a).priority, Priority::Urgent);
    assert_eq!(changed(&a).status, InquiryStatus::Open);
    assert!(!changed(&b).status.is_open(), "resolved leaves the queue");
    assert_eq!(changed(&c).org.as_deref(), Some("initech"));
    assert_eq!(next.changed.len(), 3, "{:?}", next.changed);
}

#[ignore = "needs RT (scripts/test.sh starts it)"]
#[tokio::test]
async fn the_conversation_reads_back_public_and_private() {
    let Some((url, token)) = server() else { return };
    let rest = Rest::new(&url, &token);
    let queue = rest.queue("comments").await;
    let id = rest.ticket(&queue, "SSO loop", 30, "initech").await;
    rest.send(
        reqwest::Method::POST,
        &format!("ticket/{id}/comment"),
        json!({"Content": "Internal: SAML clock skew?", "ContentType": "text/plain"}),
    )
    .await;
    rest.send(
        reqwest::Method::POST,
        &format!("ticket/{id}/correspond"),
        json!({"Content": "ログインを確認しています。\nline two", "ContentType": "text/plain"}),
    )
    .await;
    let mut rt = adapter(&url, &token, &queue, "");
    let comments = rt.comments(&id).await.unwrap();
    let seen: Vec<(bool, &str)> = comments
        .iter()
        .map(|c| (c.public, c.body.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (true, "Reported through the portal."),
            (false, "Internal: SAML clock skew?"),
            (true, "ログインを確認しています。\nline two"),
        ]
    );
    assert_eq!(comments[1].author.as_deref(), Some("Cockpit Tests"));

    // Unchanged ticket: the cached conversation (ETag); a new note shows.
    assert_eq!(rt.comments(&id).await.unwrap(), comments);
    rest.send(
        reqwest::Method::POST,
        &format!("ticket/{id}/comment"),
        json!({"Content": "Second note", "ContentType": "text/plain"}),
    )
    .await;
    let again = rt.comments(&id).await.unwrap();
    assert_eq!(again.len(), 4);
    assert_eq!(again[3].body, "Second note");
    assert!(rt.comments("1; DROP").await.is_err());
}

#[ignore = "needs RT (scripts/test.sh starts it)"]
#[tokio::test]
async fn a_subject_full_of_escape_sequences_arrives_sanitised() {
    let Some((url, token)) = server() else { return };
    let rest = Rest::new(&url, &token);
    let queue = rest.queue("escapes").await;
    let hostile = "Help\u{1b}[2J\u{1b}[H\u{1b}]52;c;cm0gLXJmIC8=\u{7}\u{202e}gnp.exe\u{1b}[31m now";
    let id = rest.ticket(&queue, hostile, 50, "acme").await;
    rest.send(
        reqwest::Method::POST,
        &format!("ticket/{id}/comment"),
        json!({"Content": format!("note {hostile}"), "ContentType": "text/plain"}),
    )
    .await;
    let mut rt = adapter(&url, &token, &queue, "");
    let update = rt.poll().await.unwrap();
    let subject = &update.changed[0].subject;
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!subject.contains(bad), "{subject:?}");
    }
    assert!(
        subject.starts_with("Help") && subject.ends_with("now"),
        "{subject:?}"
    );
    let comments = rt.comments(&id).await.unwrap();
    assert!(
        comments
            .iter()
            .all(|c| !c.body.contains('\u{1b}') && !c.body.contains('\u{7}')),
        "{comments:?}"
    );
}

fn snapshot(dir: &std::path::Path, token: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args([
            "--config",
            dir.join("config.toml").to_str().unwrap(),
            "snapshot",
            "--json",
        ])
        .env("HOME", dir)
        .env("CRE_COCKPIT_DATA", dir.join("data"))
        .env("TEST_RT_TOKEN", token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout.contains(token),
        "the token leaked into the snapshot"
    );
    serde_json::from_str(&stdout).unwrap()
}

fn ids(json: &Value) -> BTreeSet<String> {
    json["inquiries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[ignore = "needs RT (scripts/test.sh starts it)"]
#[tokio::test]
async fn snapshot_json_lists_exactly_rts_open_tickets_and_follows_changes() {
    let Some((url, token)) = server() else { return };
    let rest = Rest::new(&url, &token);
    let queue = rest.queue("snapshot").await;
    let a = rest.ticket(&queue, "Checkout 500", 80, "acme").await;
    let b = rest.ticket(&queue, "API errors", 95, "globex").await;
    let done = rest.ticket(&queue, "Old question", 10, "acme").await;
    rest.update(&done, json!({"Status": "resolved"})).await;

    let dir = tempfile::tempdir().unwrap();
    // Two customers, named in RT's Customer field by their tenant.
    let customers = [
        Account {
            desk_org: "acme".into(),
            owner: "Dana".into(),
            ..fixtures::account(
                "c1",
                "Acme Corp",
                "acme",
                Segment::Enterprise,
                400,
                240_000.0,
            )
        },
        Account {
            desk_org: "globex".into(),
            renewal_date: Some(jiff::civil::date(2027, 3, 1)),
            owner: "Dana".into(),
            tier: Tier::Low,
            ..fixtures::account("c2", "Globex", "globex", Segment::Small, 20, 9_000.0)
        },
    ];
    std::fs::write(
        dir.path().join("accounts.csv"),
        fixtures::accounts_csv(&customers),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[desk]\nkind = \"rt\"\nurl = \"{url}\"\ntoken_env = \"TEST_RT_TOKEN\"\n\
             queue = \"{queue}\"\ncustomer_field = \"Customer\"\n\n[accounts]\nfile = \"accounts.csv\"\n"
        ),
    )
    .unwrap();

    let first = snapshot(dir.path(), &token);
    assert_eq!(ids(&first), rest.active(&queue).await);
    assert_eq!(ids(&first), BTreeSet::from([a.clone(), b.clone()]));
    let inquiries = first["inquiries"].as_array().unwrap();
    // SLA order: the urgent one breaches first.
    assert_eq!(inquiries[0]["id"], b.as_str());
    assert_eq!(inquiries[0]["priority"], "urgent");
    assert_eq!(inquiries[0]["customer"]["name"], "Globex");
    assert_eq!(inquiries[1]["customer"]["name"], "Acme Corp");
    assert_eq!(inquiries[1]["priority"], "high");
    for i in inquiries {
        let left = i["sla"]["seconds_left"].as_i64().unwrap();
        assert!(left > 0 && left <= 4 * 3600, "{i}");
        assert_eq!(i["sla"]["metric"], "first_reply");
    }
    assert_eq!(first["sources"][0]["status"], "ready");

    // A change in RT shows on the next run (which resumes from its cursor).
    rest.update(&b, json!({"Status": "resolved"})).await;
    let c = rest.ticket(&queue, "Slow exports", 50, "acme").await;
    let second = snapshot(dir.path(), &token);
    assert_eq!(ids(&second), BTreeSet::from([a, c]));
    assert_eq!(ids(&second), rest.active(&queue).await);
}
