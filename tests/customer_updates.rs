//! Customer updates that are safe to send, against the simulator over real
//! HTTP: the `update` command as a user runs it (the binary), and the
//! outbox through a proxy that loses an answer. Each customer reads only
//! their own text, with no internal marker in it, exactly once.
#![allow(clippy::unwrap_used)]

mod common;
#[allow(dead_code)]
#[path = "hostile/server.rs"]
mod server;

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cre_cockpit::app::outbox::{self, DeskWriter, Writers};
use cre_cockpit::app::wiring::Sources;
use cre_cockpit::config::{DeskConfig, DeskKind};
use cre_cockpit::core::writes::{SourceWrite, StepState, Target, WriteKind};
use cre_cockpit::model::Model;
use cre_cockpit::simulator::{SimOptions, Simulator};
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::zendesk::Zendesk;
use cre_cockpit::store::journal::Journal;
use jiff::Timestamp;
use serde_json::Value;

const LOGIN: &str = "cre@example.com/token";
const TOKEN: &str = "t0ken";

/// A config file for the binary pointing every source at `sim`, with the
/// accounts file beside it; `updates` adds keys to [incident_updates].
fn write_config(sim: &Simulator, dir: &std::path::Path, updates: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("accounts.csv"), sim.accounts_csv()).unwrap();
    let url = sim.base_url();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"[desk]
kind = "zendesk"
url = "{url}"
email = "cre@example.com"
token_env = "ZD_TOKEN"

[metrics]
kind = "prometheus"
url = "{url}"

[incidents]
kind = "pagerduty"
url = "{url}"
token_env = "PD_TOKEN"
from = "cre@example.com"

[accounts]
file = "accounts.csv"

[incident_updates]
status_page = "https://status.example.com"
{updates}
[incident_updates.service_names]
api = "the Example API"
"#
        ),
    )
    .unwrap();
    path
}

fn run(home: &std::path::Path, config: &std::path::Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("ZD_TOKEN", TOKEN)
        .env("PD_TOKEN", TOKEN)
        .output()
        .unwrap()
}

/// [`run`] off the test's thread, which also serves the simulator.
async fn run_async(home: &std::path::Path, config: &std::path::Path, args: Vec<String>) -> Output {
    let (home, config) = (home.to_owned(), config.to_owned());
    tokio::task::spawn_blocking(move || run(&home, &config, &args))
        .await
        .unwrap()
}

/// Poll the simulator (as the binary will) until its SEV1 touches several
/// customers with several linked inquiries; returns that model.
async fn wait_for_the_wave(sim: &Simulator, dir: &std::path::Path) -> (Model, usize) {
    let (config, secrets) =
        cre_cockpit::cli::demo::config(sim, &dir.join("probe"), Duration::from_millis(300))
            .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let mut model = Model::new(config.settings(true), Vec::new(), Timestamp::now());
        let sources = Sources::build(&config, secrets.clone(), &http::client()).unwrap();
        for message in sources.poll_once().await {
            model.update(message);
        }
        // The SEV1 itself: before the pager has it, tenants whose errors
        // rose are blamed on the only open incident (the exports SEV3).
        if let Some(index) = model
            .data
            .incidents
            .iter()
            .zip(&model.derived.impacts)
            .position(|(incident, i)| {
                incident.severity == cre_cockpit::core::domain::Severity::Sev1
                    && i.affected.len() >= 3
                    && i.linked.len() >= 3
            })
        {
            return (model, index);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no incident with several linked inquiries"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn get_json(sim: &Simulator, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", sim.base_url()))
        .basic_auth(LOGIN, Some(TOKEN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The comments the cockpit posted through the API on a ticket.
async fn api_comments(sim: &Simulator, ticket: &str) -> Vec<Value> {
    let comments = common::sim_comments(&sim.base_url(), LOGIN, TOKEN, ticket).await;
    comments["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["via"]["channel"] == "api")
        .cloned()
        .collect()
}

/// Ticket ids from the command's "PUBLIC reply on inquiry N (…)" lines.
fn tickets_in(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PUBLIC reply on inquiry "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_public_update_reaches_each_linked_inquiry_once_naming_nobody_else() {
    let sim = Simulator::start(SimOptions {
        speed: 60.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = write_config(&sim, home.path(), "");
    let (probe, index) = wait_for_the_wave(&sim, home.path()).await;
    let incident = probe.data.incidents[index].clone();
    // Everyone the incident touches, by every identifier a reply could leak.
    let parties: Vec<(String, [String; 3])> = probe.derived.impacts[index]
        .affected
        .iter()
        .map(|a| {
            let acc = &probe.data.accounts[a.account];
            (
                acc.name.clone(),
                [acc.name.clone(), acc.tenant.clone(), acc.desk_org.clone()],
            )
        })
        .collect();
    assert!(
        parties.len() >= 3,
        "the scenario's SEV1 touches several tenants"
    );

    let out = run_async(
        home.path(),
        &config,
        vec![
            "update".into(),
            format!("incident:{}", incident.id),
            "--status".into(),
            "investigating".into(),
            "--public".into(),
            "--wait".into(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(": sent"), "{stdout}");
    let tickets = tickets_in(&stdout);
    assert!(tickets.len() >= 3, "{stdout}");

    for ticket in &tickets {
        let ours = api_comments(&sim, ticket).await;
        assert_eq!(ours.len(), 1, "ticket {ticket}: exactly one reply {ours:?}");
        let reply = &ours[0];
        assert_eq!(reply["public"], true, "ticket {ticket}");
        let body = reply["body"].as_str().unwrap();
        assert!(
            !body.contains("[cc-"),
            "a marker in what the customer reads: {body}"
        );
        assert!(
            !body.contains(&incident.title),
            "the internal title: {body}"
        );
        assert!(
            body.contains("the Example API"),
            "the public service name: {body}"
        );
        // The ticket's own customer, from the desk organisation.
        let t = get_json(&sim, &format!("/api/v2/tickets/{ticket}")).await;
        let org_id = t["ticket"]["organization_id"].as_u64();
        let org = match org_id {
            Some(id) => {
                get_json(&sim, &format!("/api/v2/organizations/{id}")).await["organization"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            }
            None => String::new(),
        };
        let own = parties
            .iter()
            .find(|(_, ids)| ids.iter().any(|v| v.eq_ignore_ascii_case(&org)));
        for (name, ids) in &parties {
            if own.is_some_and(|(n, _)| n == name) {
                assert!(
                    body.contains(name.as_str()),
                    "greets its own customer: {body}"
                );
                continue;
            }
            for id in ids {
                assert!(
                    !body.to_lowercase().contains(&id.to_lowercase()),
                    "ticket {ticket} ({org}) names {name} ({id}): {body}"
                );
            }
        }
        // The marker went out of band: on the update's audit.
        let audits = get_json(&sim, &format!("/api/v2/tickets/{ticket}/audits")).await;
        let marked = audits["audits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| {
                a["metadata"]["custom"]["cre_cockpit_marker"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("cc-"))
            })
            .count();
        assert_eq!(marked, 1, "ticket {ticket}: {audits}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_title_naming_other_tenants_is_refused_in_a_public_template() {
    let sim = Simulator::start(SimOptions {
        speed: 60.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    // The config allows the title in public replies; the simulator's title
    // names the tenants it hurts ("… (tenants: a, b, c)").
    let config = write_config(&sim, home.path(), "public_fields = [\"title\"]");
    let message = home.path().join("update.txt");
    std::fs::write(&message, "Hello {customer}: we are working on {title}.").unwrap();
    let (probe, index) = wait_for_the_wave(&sim, home.path()).await;
    let incident = probe.data.incidents[index].clone();
    let linked: Vec<String> = probe.derived.impacts[index]
        .linked
        .iter()
        .map(|l| l.inquiry.clone())
        .collect();

    let args = |public: bool| {
        let mut a = vec![
            "update".to_owned(),
            format!("incident:{}", incident.id),
            "--status".into(),
            "investigating".into(),
            "--message".into(),
            message.to_str().unwrap().to_owned(),
        ];
        if public {
            a.push("--public".into());
        }
        a
    };
    let out = run_async(home.path(), &config, args(true)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("names another affected customer"),
        "{stderr}"
    );
    assert!(stderr.contains("not saved"), "{stderr}");
    // Nothing was journalled, so nothing is delivered later either.
    let out = run_async(home.path(), &config, vec!["sync".to_owned()]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sent 0, failed 0, still pending 0"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for ticket in &linked {
        assert!(
            api_comments(&sim, ticket).await.is_empty(),
            "ticket {ticket}"
        );
    }
    // The same text as a private note is fine: the team may read the title.
    let out = run_async(home.path(), &config, args(false)).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_to_a_public_reply_is_found_in_the_audits_not_resent() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let proxy = server::Hostile::start(sim.addr()).await;
    // An open ticket: closed ones refuse comments.
    let export = get_json(&sim, "/api/v2/incremental/tickets/cursor?start_time=0").await;
    let ticket = export["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "open")
        .unwrap()["id"]
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Mutex::new(
        Journal::open(&dir.path().join("journal.db")).unwrap(),
    ));
    let body =
        "Hello Acme, we are investigating errors on the Example API. Next update by 10:25 UTC.";
    let write = journal
        .lock()
        .unwrap()
        .insert(
            WriteKind::CustomerUpdate,
            &Target::Incident("P1".into()),
            body,
            vec![SourceWrite::DeskNote {
                ticket: ticket.clone(),
                body: body.into(),
                public: true,
            }],
            Timestamp::now(),
        )
        .unwrap();
    let config = DeskConfig {
        email: Some("cre@example.com".into()),
        ..DeskConfig::new(DeskKind::Zendesk, proxy.url.clone())
    };
    let mut writers = Writers {
        desk: Some(DeskWriter::Zendesk(
            Zendesk::new(http::client(), &config, Secret::new(TOKEN)).unwrap(),
        )),
        ..Writers::default()
    };

    // The reply is applied, but its answer never comes back.
    proxy.arm(
        &format!("/api/v2/tickets/{ticket}"),
        server::Fault::LoseAnswer,
    );
    proxy.release();
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, write.id), StepState::Unknown);
    assert_eq!(api_comments(&sim, &ticket).await.len(), 1, "it did arrive");

    // The retry asks the audits (the body has no marker to find) and does
    // not send again.
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, write.id), StepState::Sent);
    let ours = api_comments(&sim, &ticket).await;
    assert_eq!(ours.len(), 1, "exactly once: {ours:?}");
    assert_eq!(ours[0]["body"], body, "byte for byte, no marker");
    assert_eq!(ours[0]["public"], true);
    let checked = proxy
        .seen()
        .iter()
        .filter(|s| {
            s.path
                .starts_with(&format!("/api/v2/tickets/{ticket}/audits"))
        })
        .count();
    assert!(checked >= 1, "the check went through the audits");
    sim.shutdown().await;
}
