//! Writes land exactly once: through outages, unknown outcomes and
//! restarts, in order per item. Real HTTP through the real write adapters,
//! against a recording test server and the simulator.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use cre_cockpit::app::outbox::{self, DeskWriter, SharedJournal, Writers};
use cre_cockpit::config::{DeskConfig, DeskKind};
use cre_cockpit::core::writes::{SourceWrite, StepState, Target, WriteKind};
use cre_cockpit::sources::events::Events;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::zendesk::Zendesk;
use cre_cockpit::store::journal::Journal;
use jiff::Timestamp;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A Zendesk ticket on the test server: PUTs append comments (and are
/// answered with `status`, even when the comment was stored — the case of a
/// lost answer); GETs list them.
#[derive(Clone, Default)]
struct Ticket {
    comments: Arc<Mutex<Vec<String>>>,
    puts: Arc<Mutex<usize>>,
    status: Arc<Mutex<u16>>,
}

impl Respond for Ticket {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request.method == wiremock::http::Method::PUT {
            *self.puts.lock().unwrap() += 1;
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            self.comments.lock().unwrap().push(
                body["ticket"]["comment"]["body"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
            let status = *self.status.lock().unwrap();
            return ResponseTemplate::new(status).set_body_json(json!({"ticket": {"id": 7}}));
        }
        let comments: Vec<Value> = self
            .comments
            .lock()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, body)| json!({"id": i + 1, "body": body, "plain_body": body, "public": false, "author_id": null, "created_at": "2026-11-21T10:00:00Z"}))
            .collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"comments": comments, "next_page": null, "count": comments.len()}),
        )
    }
}

async fn desk(server_uri: &str) -> Writers {
    let config = DeskConfig {
        email: Some("cre@example.com".into()),
        ..DeskConfig::new(DeskKind::Zendesk, server_uri.into())
    };
    let zendesk = Zendesk::new(http::client(), &config, Secret::new("t0ken")).unwrap();
    Writers {
        desk: Some(DeskWriter::Zendesk(zendesk)),
        ..Writers::default()
    }
}

fn journal(dir: &tempfile::TempDir) -> SharedJournal {
    Arc::new(Mutex::new(
        Journal::open(&dir.path().join("journal.db")).unwrap(),
    ))
}

async fn mount(server: &MockServer, ticket: &Ticket) {
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ticket.clone())
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7/comments"))
        .respond_with(ticket.clone())
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_lost_answer_is_checked_not_resent() {
    let server = MockServer::start().await;
    let ticket = Ticket::default();
    *ticket.status.lock().unwrap() = 502;
    mount(&server, &ticket).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir);
    let id = common::journal_note(&journal, "7", "Investigating with the API team 🙏");
    let mut writers = desk(&server.uri()).await;

    // The note arrives but the answer is a 502: outcome unknown.
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, id), StepState::Unknown);
    assert_eq!(*ticket.puts.lock().unwrap(), 1);

    // The retry finds its marker among the comments and does not send again.
    *ticket.status.lock().unwrap() = 200;
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, id), StepState::Sent);
    assert_eq!(*ticket.puts.lock().unwrap(), 1, "exactly one comment");
    let comments = ticket.comments.lock().unwrap();
    assert!(
        comments[0].starts_with("Investigating with the API team 🙏"),
        "text byte for byte: {comments:?}"
    );
}

#[tokio::test]
async fn a_crash_mid_send_is_treated_as_unknown_after_restart() {
    let server = MockServer::start().await;
    let ticket = Ticket::default();
    *ticket.status.lock().unwrap() = 200;
    mount(&server, &ticket).await;
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let journal = journal(&dir);
        let id = common::journal_note(&journal, "7", "restart-safe");
        let mut writers = desk(&server.uri()).await;
        outbox::pass(&journal, &mut writers, true, &mut |_| {})
            .await
            .unwrap();
        // Simulate dying after the request went out but before recording
        // the answer: the step is left `sending`.
        let step = journal.lock().unwrap().write(id).unwrap().unwrap().steps[0].id;
        journal
            .lock()
            .unwrap()
            .set_state(step, StepState::Sending, None, None, Timestamp::now())
            .unwrap();
        id
    };
    // A new process opens the same journal.
    let journal = journal(&dir);
    assert_eq!(journal.lock().unwrap().pending().unwrap().len(), 1);
    let mut writers = desk(&server.uri()).await;
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, id), StepState::Sent);
    assert_eq!(
        *ticket.puts.lock().unwrap(),
        1,
        "the comment was already there; not sent twice"
    );
}

#[tokio::test]
async fn writes_queued_during_an_outage_are_delivered_in_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir);
    let ids: Vec<i64> = (1..=5)
        .map(|i| common::journal_note(&journal, "7", &format!("update {i}")))
        .collect();
    // Nothing listens on the desk's port: the requests never leave.
    let mut writers = desk("http://127.0.0.1:9").await;
    let pass = outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!((pass.sent, pass.pending), (0, 5));
    for id in &ids {
        assert_eq!(
            common::write_state(&journal, *id),
            StepState::Queued,
            "a refused connection proves nothing was sent"
        );
    }
    // Later writes on the same ticket wait behind the first: one attempt.
    let steps = journal.lock().unwrap().pending().unwrap();
    assert_eq!(steps.iter().filter(|s| s.attempts > 0).count(), 1);

    let server = MockServer::start().await;
    let ticket = Ticket::default();
    *ticket.status.lock().unwrap() = 200;
    mount(&server, &ticket).await;
    let mut writers = desk(&server.uri()).await;
    let pass = outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!((pass.sent, pass.pending, pass.failed), (5, 0, 0));
    let comments = ticket.comments.lock().unwrap();
    let order: Vec<&str> = comments.iter().map(|c| c.lines().next().unwrap()).collect();
    assert_eq!(
        order,
        ["update 1", "update 2", "update 3", "update 4", "update 5"]
    );
}

#[tokio::test]
async fn a_refused_write_fails_with_the_reason_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({"error": "RecordInvalid", "description": "Record validation errors"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir);
    let id = common::journal_note(&journal, "7", "closed ticket");
    let mut writers = desk(&server.uri()).await;
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    let write = journal.lock().unwrap().write(id).unwrap().unwrap();
    assert_eq!(write.state(), StepState::Failed);
    assert!(
        write.steps[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("422"),
        "{:?}",
        write.steps[0].last_error
    );
}

/// Journal an escalation's effects on `item` and deliver them; the write's
/// id.
async fn escalate(
    journal: &SharedJournal,
    writers: &mut Writers,
    item: &Target,
    effects: Vec<SourceWrite>,
) -> i64 {
    let write = journal
        .lock()
        .unwrap()
        .insert(
            WriteKind::Escalate,
            item,
            "escalating",
            effects,
            Timestamp::now(),
        )
        .unwrap();
    outbox::pass(journal, writers, true, &mut |_| {})
        .await
        .unwrap();
    write.id
}

/// The simulated PagerDuty's incidents whose title holds `text`.
async fn incidents_titled(sim: &cre_cockpit::simulator::Simulator, text: &str) -> usize {
    let incidents: Value = reqwest::Client::new()
        .get(format!("{}/incidents?limit=100", sim.base_url()))
        .header("Authorization", "Token token=t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    incidents["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["title"].as_str().unwrap_or("").contains(text))
        .count()
}

#[tokio::test]
async fn re_escalating_pages_once_per_dedup_key() {
    let sim =
        cre_cockpit::simulator::Simulator::start(cre_cockpit::simulator::SimOptions::default())
            .await
            .unwrap();
    let events = Events::new(http::client(), &format!("{}/v2", sim.base_url()), false).unwrap();
    let var = "PD_ROUTING_KEY_CRE";
    let keys = [(
        var.to_owned(),
        Secret::new("R0UTINGKEY0123456789abcdef012345"),
    )]
    .into();
    let mut writers = Writers {
        events: Some(events),
        routing_keys: keys,
        ..Writers::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir);
    let target = cre_cockpit::insight::escalation::EscalationTarget {
        name: "cre".into(),
        label: None,
        feature_areas: Vec::new(),
        priority: None,
        group: None,
        tags: Vec::new(),
        routing_key_env: Some(var.into()),
        severity: "critical".into(),
    };
    let item = Target::Customer("c001".into());
    for _ in 0..2 {
        let effects = cre_cockpit::insight::escalation::plan(
            &item,
            &target,
            None,
            "ACME needs help",
            "context",
            true,
        );
        escalate(&journal, &mut writers, &item, effects).await;
    }
    assert_eq!(incidents_titled(&sim, "ACME needs help").await, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn tags_are_added_not_replaced() {
    use wiremock::matchers::{basic_auth, body_json};
    let server = MockServer::start().await;
    // `PUT …/tags` adds; `POST` or a ticket update with `tags` would replace
    // every tag the ticket has (apis.md §1.5).
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7/tags"))
        .and(basic_auth("cre@example.com/token", "t0ken"))
        .and(body_json(json!({"tags": ["escalated", "escalated-cre"]})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tags": ["vip", "escalated", "escalated-cre"]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir);
    let effects = vec![SourceWrite::DeskTags {
        ticket: "7".into(),
        tags: vec!["escalated".into(), "escalated-cre".into()],
    }];
    let id = journal
        .lock()
        .unwrap()
        .insert(
            WriteKind::Escalate,
            &Target::Inquiry("7".into()),
            "tags",
            effects,
            Timestamp::now(),
        )
        .unwrap()
        .id;
    let mut writers = desk(&server.uri()).await;
    outbox::pass(&journal, &mut writers, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(common::write_state(&journal, id), StepState::Sent);
}

/// A 2xx that does not carry the vendor's proof of the change — an HTML
/// page, an empty body, `{}` — never marks a PagerDuty note or page `sent`:
/// the step stays `unknown`, to be checked (notes) or safely repeated
/// (pages, by their dedup key) before anything else happens.
#[tokio::test]
async fn pagerduty_notes_and_pages_answered_with_garbage_are_not_sent() {
    use cre_cockpit::config::{IncidentsConfig, IncidentsKind};
    use cre_cockpit::sources::pagerduty::PagerDuty;
    for (content_type, body) in [
        ("text/html", "<html><body>Sign in</body></html>"),
        ("application/json", ""),
        ("application/json", "{}"),
    ] {
        let server = MockServer::start().await;
        for (verb, route) in [
            ("POST", "/incidents/PABC123/notes"),
            ("POST", "/v2/enqueue"),
        ] {
            Mock::given(method(verb))
                .and(path(route))
                .respond_with(
                    ResponseTemplate::new(if route.ends_with("enqueue") { 202 } else { 201 })
                        .set_body_raw(body, content_type),
                )
                .mount(&server)
                .await;
        }
        let config = IncidentsConfig {
            from: Some("cre@example.com".into()),
            allow_insecure_http: true,
            ..IncidentsConfig::new(IncidentsKind::Pagerduty, server.uri())
        };
        let var = "PD_ROUTING_KEY_GARBAGE";
        let mut writers = Writers {
            incidents: Some(PagerDuty::new(http::client(), &config, Secret::new("t")).unwrap()),
            events: Some(
                Events::new(http::client(), &format!("{}/v2", server.uri()), true).unwrap(),
            ),
            routing_keys: [(
                var.to_owned(),
                Secret::new("R0UTINGKEY0123456789abcdef012345"),
            )]
            .into(),
            ..Writers::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let journal = journal(&dir);
        let effects = vec![
            SourceWrite::IncidentNote {
                incident: "PABC123".into(),
                body: "Customer impact confirmed".into(),
            },
            SourceWrite::Page {
                routing_key_env: var.into(),
                dedup_key: "cre-cockpit/incident:PABC123".into(),
                summary: "ACME needs help".into(),
                severity: "critical".into(),
                details: json!({}),
            },
        ];
        let write = journal
            .lock()
            .unwrap()
            .insert(
                WriteKind::Escalate,
                &Target::Incident("PABC123".into()),
                "escalating",
                effects,
                Timestamp::now(),
            )
            .unwrap();
        let pass = outbox::pass(&journal, &mut writers, true, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(pass.sent, 0, "{content_type} {body:?}: {pass:?}");
        let steps = journal
            .lock()
            .unwrap()
            .write(write.id)
            .unwrap()
            .unwrap()
            .steps;
        for step in steps {
            assert_eq!(
                (step.state, step.check_first),
                (StepState::Unknown, true),
                "{content_type} {body:?}: {step:?}"
            );
        }
    }
}

/// A desk marked `read_only` gets no writer, and what the TUI checks before
/// journalling (`Writers::accepts`, handed to the event loop) refuses a note
/// on it with the reason — as `note` does — instead of queueing it forever.
#[test]
fn a_read_only_desk_refuses_notes_before_the_journal() {
    let config = cre_cockpit::config::Config::parse(
        "[desk]\nkind = \"zendesk\"\nurl = \"https://acme.zendesk.com\"\nemail = \"cre@acme.test\"\ntoken_env = \"T\"\nread_only = true\n",
    )
    .unwrap();
    let secrets = cre_cockpit::app::wiring::Secrets {
        desk: Some(Secret::new("t0ken")),
        ..Default::default()
    };
    let writers = Writers::from_config(&config, &secrets, &http::client(), false).unwrap();
    let note = writers.note_effects(&Target::Inquiry("42".into()), "called them");
    let refusal = writers.accepts().refuse(&note).expect("refused");
    assert!(refusal.contains("read_only"), "{refusal}");
    // The same desk without read_only takes it.
    let config = cre_cockpit::config::Config::parse(
        "[desk]\nkind = \"zendesk\"\nurl = \"https://acme.zendesk.com\"\nemail = \"cre@acme.test\"\ntoken_env = \"T\"\n",
    )
    .unwrap();
    let writers = Writers::from_config(&config, &secrets, &http::client(), false).unwrap();
    assert_eq!(writers.accepts().refuse(&note), None);
}

/// A Zendesk desk that creates tickets: POSTs store a problem ticket and
/// answer with `status` (502: stored, answer lost); GET by external id
/// lists what was stored; PUT on the inquiry records the problem it joins.
#[derive(Clone, Default)]
struct Problems {
    created: Arc<Mutex<Vec<(u64, String)>>>,
    joined: Arc<Mutex<Vec<Value>>>,
    lose_first_answer: Arc<Mutex<bool>>,
}

impl Respond for Problems {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match request.method.as_str() {
            "POST" => {
                let mut created = self.created.lock().unwrap();
                let id = 900 + created.len() as u64;
                let external = body["ticket"]["external_id"].as_str().unwrap().to_owned();
                assert_eq!(body["ticket"]["type"], "problem");
                created.push((id, external.clone()));
                let mut lose = self.lose_first_answer.lock().unwrap();
                let status = if *lose { 502 } else { 201 };
                *lose = false;
                ResponseTemplate::new(status)
                    .set_body_json(json!({"ticket": {"id": id, "external_id": external}}))
            }
            "GET" => {
                let wanted = request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "external_id")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let tickets: Vec<Value> = self
                    .created
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(_, e)| *e == wanted)
                    .map(|(id, e)| json!({"id": id, "external_id": e, "type": "problem"}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(
                    json!({"tickets": tickets, "next_page": null, "previous_page": null, "count": tickets.len()}),
                )
            }
            _ => {
                self.joined.lock().unwrap().push(body["ticket"].clone());
                ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 7}}))
            }
        }
    }
}

/// Mirroring a link on Zendesk: the problem ticket is created once even
/// when its creation's answer is lost (found again by its external id, not
/// created twice), and the inquiry joins it as an incident.
#[tokio::test]
async fn a_mirrored_link_creates_one_problem_ticket_across_a_lost_answer() {
    let server = MockServer::start().await;
    let problems = Problems::default();
    *problems.lose_first_answer.lock().unwrap() = true;
    Mock::given(path("/api/v2/tickets"))
        .respond_with(problems.clone())
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(problems.clone())
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir);
    let effects =
        cre_cockpit::core::writes::link_effects("7", "PABC123", Some("Exports slow"), true, true);
    assert_eq!(effects.len(), 3, "{effects:?}");
    let write = journal
        .lock()
        .unwrap()
        .insert(
            WriteKind::Link,
            &Target::Inquiry("7".into()),
            "linked to incident PABC123 by alex",
            effects,
            Timestamp::now(),
        )
        .unwrap();
    let mut writers = desk(&server.uri()).await;
    for _ in 0..3 {
        outbox::pass(&journal, &mut writers, true, &mut |_| {})
            .await
            .unwrap();
    }
    let steps = journal
        .lock()
        .unwrap()
        .write(write.id)
        .unwrap()
        .unwrap()
        .steps;
    let states: Vec<StepState> = steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [StepState::Local, StepState::Sent, StepState::Sent],
        "{steps:?}"
    );
    let created = problems.created.lock().unwrap().clone();
    assert_eq!(
        created,
        [(900, "cre-cockpit:incident:PABC123".to_owned())],
        "one problem ticket"
    );
    let joined = problems.joined.lock().unwrap().clone();
    assert!(
        joined
            .iter()
            .all(|t| t["type"] == "incident" && t["problem_id"] == 900),
        "{joined:?}"
    );
    assert!(!joined.is_empty());
}

/// The demo's escalation targets page: `api-eng` names a routing key the
/// demo supplies, and its Events v2 URL is the simulator's, where the page
/// opens an incident the incidents pane then shows.
#[tokio::test]
async fn the_demo_pages_the_simulated_pagerduty_when_escalating() {
    let sim =
        cre_cockpit::simulator::Simulator::start(cre_cockpit::simulator::SimOptions::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, secrets) =
        cre_cockpit::cli::demo::config(&sim, dir.path(), std::time::Duration::from_secs(5))
            .unwrap();
    let target = config
        .escalation
        .targets
        .iter()
        .find(|t| t.routing_key_env.is_some())
        .expect("a demo target that pages")
        .clone();
    let mut writers = Writers::from_config(&config, &secrets, &http::client(), false).unwrap();
    let journal = journal(&dir);
    let item = Target::Incident("PDEMO01".into());
    let effects = cre_cockpit::insight::escalation::plan(
        &item,
        &target,
        None,
        "Demo escalation to API engineering",
        "context",
        true,
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, SourceWrite::Page { .. })),
        "{effects:?}"
    );
    let write = escalate(&journal, &mut writers, &item, effects).await;
    let write = journal.lock().unwrap().write(write).unwrap().unwrap();
    let page = write
        .steps
        .iter()
        .find(|s| matches!(s.effect, SourceWrite::Page { .. }))
        .unwrap();
    assert_eq!(page.state, StepState::Sent, "{:?}", page.last_error);
    assert_eq!(
        incidents_titled(&sim, "Demo escalation to API engineering").await,
        1
    );
    sim.shutdown().await;
}
