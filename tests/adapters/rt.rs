//! RT 5 REST2 against a mock speaking RT 5.0.3's dialect (the real server
//! is exercised by tests/rt.rs; these cover what a healthy RT will not do).

use cre_cockpit::sources::DeskSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::rt::Rt;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_contains};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "1-14-abcdef";
const SEARCH: &str = "/REST/2.0/tickets";

fn adapter(server: &MockServer, extra: &str) -> Rt {
    let config = super::config(&format!(
        "[desk]\nkind = \"rt\"\nurl = \"{}\"\nqueue = \"Customer Support\"\n{extra}",
        server.uri()
    ));
    Rt::new(
        http::client(),
        &config.desk.expect("desk"),
        Secret::new(TOKEN),
    )
    .expect("adapter")
}

/// A ticket as a REST2 collection lists it: ids and numbers as strings.
fn ticket(id: u64, status: &str, updated: &str) -> Value {
    json!({
        "id": id.to_string(), "type": "ticket", "_url": format!("http://rt/REST/2.0/ticket/{id}"),
        "Subject": format!("Ticket {id}"), "Status": status, "Priority": "50",
        "Owner": {"id": "Nobody", "Name": "Nobody", "RealName": "Nobody in particular", "type": "user"},
        "Queue": {"id": "3", "Name": "Customer Support", "type": "queue"},
        "Requestor": [{"id": "a@acme.example", "EmailAddress": "a@acme.example", "RealName": "", "type": "user"}],
        "Created": "2026-11-21T06:00:00Z", "LastUpdated": updated,
        "Told": "1970-01-01T00:00:00Z", "Due": "1970-01-01T00:00:00Z",
        "CustomFields": []
    })
}

fn collection(items: Vec<Value>, per_page: usize) -> ResponseTemplate {
    // RT 5.0.3 without SuperUser rights: no total, no pages, no next_page.
    ResponseTemplate::new(200).set_body_json(json!({
        "count": items.len(), "page": 1, "per_page": per_page,
        "total": null, "pages": null, "items": items
    }))
}

#[tokio::test]
async fn pages_continue_while_full_although_total_and_pages_are_null() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param(
            "query",
            "Queue = 'Customer Support' AND Status = '__Active__'",
        ))
        .and(query_param("per_page", "2"))
        .and(header("authorization", format!("token {TOKEN}").as_str()))
        .respond_with(collection(
            vec![
                ticket(1, "new", "2026-11-21T06:00:00Z"),
                ticket(2, "open", "2026-11-21T06:05:00Z"),
            ],
            2,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param(
            "query",
            "Queue = 'Customer Support' AND Status = '__Active__' AND id > 2",
        ))
        .respond_with(collection(
            vec![ticket(5, "stalled", "2026-11-21T06:10:00Z")],
            2,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut rt = adapter(&server, "page_size = 2\n");
    let update = rt.poll().await.expect("poll");
    assert!(update.full);
    assert_eq!(update.requests, 2);
    let ids: Vec<&str> = update.changed.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "5"]);
    assert_eq!(update.changed[0].org.as_deref(), Some("acme.example"));
}

#[tokio::test]
async fn a_quiet_poll_is_one_request_and_reports_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param_contains("query", "__Active__"))
        .respond_with(collection(
            vec![ticket(1, "new", "2026-11-21T06:00:00Z")],
            100,
        ))
        .expect(1)
        .mount(&server)
        .await;
    // The overlap of the window returns ticket 1 again, unchanged.
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param_contains("query", "LastUpdated >= '-"))
        .respond_with(collection(
            vec![ticket(1, "new", "2026-11-21T06:00:00Z")],
            100,
        ))
        .expect(2)
        .mount(&server)
        .await;
    let mut rt = adapter(&server, "");
    rt.poll().await.expect("first");
    for _ in 0..2 {
        let quiet = rt.poll().await.expect("quiet");
        assert_eq!((quiet.full, quiet.requests), (false, 1));
        assert!(
            quiet.changed.is_empty() && quiet.removed.is_empty(),
            "{quiet:?}"
        );
    }
}

#[tokio::test]
async fn an_error_inside_a_200_message_array_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!(["Ticket 1: Permission Denied"])),
        )
        .mount(&server)
        .await;
    let err = adapter(&server, "").poll().await.expect_err("messages");
    assert_eq!(
        err.message,
        "rt: ticket search: RT said: Ticket 1: Permission Denied"
    );
}

#[tokio::test]
async fn an_rt_error_body_is_explained() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "message": "Incomplete query, at /usr/share/request-tracker5/lib/RT/Tickets.pm line 3187.\n"
        })))
        .mount(&server)
        .await;
    let err = adapter(&server, "query = \"Status = \"")
        .poll()
        .await
        .expect_err("400");
    assert!(
        err.message
            .starts_with("rt: ticket search: Incomplete query"),
        "{err}"
    );
    assert!(err.message.ends_with("(HTTP 400 Bad Request)"), "{err}");
    assert!(!err.message.contains(TOKEN));
}

/// A first read: tickets 1 and 2 open, once.
async fn mount_first_read(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param_contains("query", "__Active__"))
        .respond_with(collection(
            vec![
                ticket(1, "new", "2026-11-21T06:00:00Z"),
                ticket(2, "open", "2026-11-21T06:01:00Z"),
            ],
            100,
        ))
        .expect(1)
        .mount(server)
        .await;
}

/// What changed since the first read: 2 resolved, 3 new; asked once.
async fn mount_changed_since(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param_contains("query", "LastUpdated >= '-"))
        .respond_with(collection(
            vec![
                ticket(2, "resolved", "2026-11-21T06:30:00Z"),
                ticket(3, "new", "2026-11-21T06:31:00Z"),
            ],
            100,
        ))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_restart_resumes_with_one_incremental_request() {
    let server = MockServer::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    mount_first_read(&server).await;
    adapter(&server, "")
        .resume_in(data.path())
        .poll()
        .await
        .expect("first run");
    mount_changed_since(&server).await;
    let update = adapter(&server, "")
        .resume_in(data.path())
        .poll()
        .await
        .expect("resumed");
    assert!(update.full);
    assert_eq!(update.requests, 1);
    let ids: Vec<&str> = update.changed.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["1", "3"], "2 was resolved while the cockpit was down");
}

/// Team mode: a teammate's cockpit takes the polling over from the last
/// leader's position and rows: one incremental request, the whole queue in
/// the update; another queue's state is not taken.
#[tokio::test]
async fn a_new_leader_continues_from_the_teams_position() {
    let server = MockServer::start().await;
    mount_first_read(&server).await;
    let mut leader = adapter(&server, "");
    let first = leader.poll().await.expect("the leader's read");
    let state = leader.hand_over().expect("a position to hand over");
    mount_changed_since(&server).await;
    let mut next = adapter(&server, "");
    assert!(next.take_over(&state, first.changed.clone()));
    let update = next.poll().await.expect("the new leader's first poll");
    assert!(update.full);
    assert_eq!(update.requests, 1);
    let ids: Vec<&str> = update.changed.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["1", "3"], "2 was resolved since the hand-over");

    let mut other = adapter(&server, "query = \"Owner = 'Nobody'\"\n");
    assert!(!other.take_over(&state, first.changed));
}
