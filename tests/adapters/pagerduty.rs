//! PagerDuty REST v2: open incidents, paging limits, rate limits, notes.

use cre_cockpit::core::domain::{Incident, IncidentStatus, Severity};
use cre_cockpit::sources::IncidentSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::pagerduty::PagerDuty;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "pd-secret-789";
const FROM: &str = "oncall@example.com";
const ACCEPT: &str = "application/vnd.pagerduty+json;version=2, application/json";

fn adapter(server: &MockServer, from: bool) -> PagerDuty {
    let from = if from {
        format!("from = \"{FROM}\"\n")
    } else {
        String::new()
    };
    let config = super::config(&format!(
        "[incidents]\nkind = \"pagerduty\"\nurl = \"{}\"\n{from}",
        server.uri()
    ));
    let incidents = config.incidents.expect("incidents section");
    PagerDuty::new(http::client(), &incidents, Secret::new(KEY)).expect("adapter")
}

fn reference(kind: &str, id: &str, summary: &str) -> Value {
    json!({
        "id": id, "type": kind, "summary": summary,
        "self": format!("https://api.pagerduty.com/x/{id}"),
        "html_url": format!("https://acme.pagerduty.com/x/{id}")
    })
}

/// An incident as `GET /incidents` with `include[]=assignees,priorities`
/// returns it.
fn incident(
    id: &str,
    status: &str,
    urgency: &str,
    priority: Option<&str>,
    assignees: &[&str],
) -> Value {
    let assignments: Vec<Value> = assignees
        .iter()
        .map(|name| {
            json!({
                "at": "2026-11-21T05:01:00Z",
                "assignee": {"id": "PXPGF42", "type": "user", "summary": name, "name": name,
                             "email": "someone@example.com", "time_zone": "Asia/Tokyo"}
            })
        })
        .collect();
    let priority = priority.map(|p| {
        json!({"id": "P53ZZH5", "type": "priority", "summary": p, "name": p,
               "description": "", "order": 1, "color": "a8171c"})
    });
    json!({
        "id": id, "type": "incident", "summary": format!("[#1234] {id} is on fire"),
        "self": format!("https://api.pagerduty.com/incidents/{id}"),
        "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
        "incident_number": 1234, "title": format!("{id}: API 5xx above 5%"),
        "created_at": "2026-11-21T05:00:00Z", "updated_at": "2026-11-21T05:10:00Z",
        "status": status, "urgency": urgency, "incident_key": "baf7cf21b1da41b4b0221008339ff357",
        "service": reference("service_reference", "PIJ90N7", "Public API"),
        "assignments": assignments, "assigned_via": "escalation_policy",
        "acknowledgements": [], "last_status_change_at": "2026-11-21T05:00:00Z",
        "escalation_policy": reference("escalation_policy_reference", "PT20YPA", "API on-call"),
        "teams": [reference("team_reference", "PQ9K7I8", "Platform")],
        "alert_counts": {"all": 2, "triggered": 2, "resolved": 0},
        "pending_actions": [], "is_mergeable": true, "incident_type": {"name": "incident_default"},
        "priority": priority, "resolve_reason": null
    })
}

fn page(incidents: Vec<Value>, offset: u32, more: bool, total: usize) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "incidents": incidents, "limit": 100, "offset": offset, "more": more, "total": total
    }))
}

fn by_id<'a>(incidents: &'a [Incident], id: &str) -> &'a Incident {
    incidents
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn poll_pages_maps_incidents_and_sends_the_documented_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .and(query_param("offset", "0"))
        .respond_with(page(
            vec![
                incident(
                    "PSEV1",
                    "triggered",
                    "high",
                    Some("P1"),
                    &["Earline Greenholt", "Ada Ops"],
                ),
                incident("PSEV2", "acknowledged", "low", Some("SEV-2"), &["Ada Ops"]),
                incident("PHIGH", "triggered", "high", None, &[]),
            ],
            0,
            true,
            5,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .and(query_param("offset", "100"))
        .respond_with(page(
            vec![
                incident("PLOW", "triggered", "low", None, &[]),
                incident("PFIVE", "weird_new_state", "high", Some("P5"), &[]),
            ],
            100,
            false,
            5,
        ))
        .expect(1)
        .mount(&server)
        .await;

    // The assignee is on call at level 2 of the policy (and at level 3 of
    // another): the incident is at level 2.
    Mock::given(method("GET"))
        .and(path("/oncalls"))
        .and(query_param("escalation_policy_ids[]", "PT20YPA"))
        .and(query_param("user_ids[]", "PXPGF42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "oncalls": [
                {"user": reference("user_reference", "PXPGF42", "Ada Ops"),
                 "escalation_policy": reference("escalation_policy_reference", "PT20YPA", "API on-call"),
                 "escalation_level": 3, "start": null, "end": null},
                {"user": reference("user_reference", "PXPGF42", "Ada Ops"),
                 "escalation_policy": reference("escalation_policy_reference", "PT20YPA", "API on-call"),
                 "escalation_level": 2, "start": null, "end": null},
                {"user": reference("user_reference", "POTHER1", "Someone Else"),
                 "escalation_policy": reference("escalation_policy_reference", "PT20YPA", "API on-call"),
                 "escalation_level": 1, "start": null, "end": null}
            ],
            "limit": 100, "offset": 0, "more": false, "total": null
        })))
        .expect(1)
        .mount(&server)
        .await;

    let incidents = adapter(&server, true).poll().await.expect("poll");
    let ids: Vec<&str> = incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["PSEV1", "PSEV2", "PHIGH", "PLOW", "PFIVE"]);
    let details = &by_id(&incidents, "PSEV1").details;
    assert_eq!(details["escalation level"], "2");
    assert_eq!(details["urgency"], "high");
    assert_eq!(details["priority"], "P1");
    assert_eq!(details["escalation policy"], "API on-call");
    assert!(
        !by_id(&incidents, "PHIGH")
            .details
            .contains_key("escalation level"),
        "unassigned: no level"
    );

    let sev1 = by_id(&incidents, "PSEV1");
    assert_eq!(sev1.severity, Severity::Sev1);
    assert_eq!(sev1.status, IncidentStatus::Triggered);
    assert_eq!(sev1.title, "PSEV1: API 5xx above 5%");
    assert_eq!(sev1.service.as_deref(), Some("Public API"));
    assert_eq!(sev1.responders, ["Earline Greenholt", "Ada Ops"]);
    assert_eq!(sev1.started_at.to_string(), "2026-11-21T05:00:00Z");
    assert_eq!(
        sev1.url.as_deref(),
        Some("https://acme.pagerduty.com/incidents/PSEV1")
    );
    assert!(sev1.tenants.is_empty() && sev1.notes.is_empty());

    let sev2 = by_id(&incidents, "PSEV2");
    assert_eq!(
        (sev2.severity, sev2.status),
        (Severity::Sev2, IncidentStatus::Acknowledged)
    );
    assert_eq!(
        by_id(&incidents, "PHIGH").severity,
        Severity::Sev2,
        "no priority, high urgency"
    );
    assert_eq!(
        by_id(&incidents, "PLOW").severity,
        Severity::Sev3,
        "no priority, low urgency"
    );
    let five = by_id(&incidents, "PFIVE");
    assert_eq!(five.severity, Severity::Sev4);
    assert_eq!(
        five.status,
        IncidentStatus::Triggered,
        "unknown status asks for attention"
    );

    let received = server.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 3, "two pages of incidents, one of on-calls");
    for request in &received {
        assert_eq!(header(request, "from"), Some(FROM));
    }
    for request in received.iter().filter(|r| r.url.path() == "/incidents") {
        assert_eq!(
            header(request, "authorization"),
            Some(format!("Token token={KEY}").as_str())
        );
        assert_eq!(header(request, "accept"), Some(ACCEPT));
        assert_eq!(header(request, "content-type"), Some("application/json"));
        assert_eq!(header(request, "from"), Some(FROM));
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let values = |k: &str| -> Vec<&str> {
            query
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(values("statuses[]"), ["triggered", "acknowledged"]);
        assert_eq!(values("include[]"), ["assignees", "priorities"]);
        assert_eq!(values("limit"), ["100"]);
        assert_eq!(values("total"), ["true"]);
    }
}

#[tokio::test]
async fn without_from_configured_no_from_header_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .respond_with(page(vec![], 0, false, 0))
        .mount(&server)
        .await;
    let incidents = adapter(&server, false).poll().await.expect("poll");
    assert!(incidents.is_empty());
    let received = server.received_requests().await.expect("recording on");
    assert_eq!(header(&received[0], "from"), None);
}

/// Always "more": one distinct incident per page, as a huge account would.
struct Endless;

impl Respond for Endless {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let offset: u32 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "offset")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let limit: u32 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "limit")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(25);
        if offset + limit > 10_000 {
            return ResponseTemplate::new(400).set_body_json(json!({
                "error": {"message": "Invalid Input Provided", "code": 2001,
                          "errors": ["Offset must be less than 10000."]}
            }));
        }
        let id = format!("P{offset}");
        page(
            vec![incident(&id, "triggered", "high", None, &[])],
            offset,
            true,
            20_000,
        )
    }
}

#[tokio::test]
async fn paging_stops_before_offset_plus_limit_exceeds_10000() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .respond_with(Endless)
        .mount(&server)
        .await;

    let incidents = adapter(&server, false)
        .poll()
        .await
        .expect("stops without an error");
    assert_eq!(incidents.len(), 100);
    assert_eq!(incidents.last().map(|i| i.id.as_str()), Some("P9900"));

    let received = server.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 100);
    let max_end = received
        .iter()
        .map(|r| {
            let get = |k: &str| -> u32 {
                r.url
                    .query_pairs()
                    .find(|(key, _)| key == k)
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0)
            };
            get("offset") + get("limit")
        })
        .max();
    assert_eq!(max_end, Some(10_000));
}

#[tokio::test]
async fn a_spent_rate_limit_returns_the_data_then_waits_for_the_reset() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .respond_with(
            page(
                vec![incident("PONE", "triggered", "high", Some("P2"), &[])],
                0,
                false,
                1,
            )
            .insert_header("ratelimit-limit", "960")
            .insert_header("ratelimit-remaining", "0")
            .insert_header("ratelimit-reset", "30"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut pd = adapter(&server, false);
    let incidents = pd.poll().await.expect("data despite the spent budget");
    assert_eq!(incidents.len(), 1);

    let err = pd.poll().await.expect_err("no request before the reset");
    let wait = err.retry_after.expect("retry_after").as_secs();
    assert!((28..=30).contains(&wait), "{err}");
    assert!(err.message.contains("rate limit"), "{err}");
    let err = pd.notes("PONE").await.expect_err("notes wait too");
    assert!(err.retry_after.is_some());
}

#[tokio::test]
async fn a_spent_rate_limit_mid_paging_is_an_error_not_a_partial_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .respond_with(
            page(
                vec![incident("PONE", "triggered", "high", None, &[])],
                0,
                true,
                150,
            )
            .insert_header("ratelimit-remaining", "0")
            .insert_header("ratelimit-reset", "20"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server, false).poll().await.expect_err("partial");
    assert_eq!(err.retry_after.map(|d| d.as_secs()), Some(20));
    assert!(err.message.contains("after 1 of 150 incidents"), "{err}");
}

#[tokio::test]
async fn notes_are_sanitised_and_oldest_first() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/incidents/PT4KHLK/notes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "notes": [
                {"id": "PWL7QXS", "user": reference("user_reference", "PXPGF42", "Earline Greenholt"),
                 "channel": {"summary": "The PagerDuty website or APIs"},
                 "content": "Mitigated.\r\nRolling back \u{1b}[31mnow\u{1b}[0m",
                 "created_at": "2026-11-21T05:28:51-05:00", "updated_at": "2026-11-21T05:28:51-05:00"},
                {"id": "PCQC25", "user": reference("bot_user_reference", "PXPGF43", "A Global Event Rule"),
                 "channel": {"summary": "A Global Event Rule"},
                 "content": "Initial alert information indicates a 1-alarm fire",
                 "created_at": "2026-11-21T05:28:42-05:00"}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let notes = adapter(&server, true)
        .notes("PT4KHLK")
        .await
        .expect("notes");
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].author.as_deref(), Some("A Global Event Rule"));
    assert_eq!(notes[1].author.as_deref(), Some("Earline Greenholt"));
    assert_eq!(notes[1].at.to_string(), "2026-11-21T10:28:51Z");
    assert_eq!(notes[1].text, "Mitigated.\nRolling back [31mnow[0m");
    let received = server.received_requests().await.expect("recording on");
    assert_eq!(header(&received[0], "from"), Some(FROM));
    assert_eq!(header(&received[0], "accept"), Some(ACCEPT));
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_ratelimit_reset() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("ratelimit-reset", "12")
                .set_body_json(json!({"error": {"message": "Rate Limit Exceeded", "code": 2020}})),
        )
        .mount(&server)
        .await;
    let err = adapter(&server, false).poll().await.expect_err("429");
    assert_eq!(err.retry_after.map(|d| d.as_secs()), Some(12), "{err}");
    assert_eq!(
        err.message,
        "pagerduty: incidents: rate limited, retrying in 12s: Rate Limit Exceeded (code 2020) (HTTP 429 Too Many Requests)"
    );
}

#[tokio::test]
async fn failures_become_clear_errors() {
    for (label, response, needle, retry) in super::failure_cases() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        let err = adapter(&server, true).poll().await.expect_err(label);
        super::check_failure(label, &err, "pagerduty: incidents: ", needle, retry, KEY);
    }
}

#[test]
fn construction_refuses_plain_http_and_empty_keys() {
    let plain = super::config("[incidents]\nkind = \"pagerduty\"\nurl = \"http://pd.example\"\n");
    let incidents = plain.incidents.expect("incidents");
    let err = PagerDuty::new(http::client(), &incidents, Secret::new(KEY))
        .err()
        .expect("plain http");
    assert!(err.message.contains("allow_insecure_http"), "{err}");
    let https =
        super::config("[incidents]\nkind = \"pagerduty\"\nurl = \"https://api.pagerduty.com\"\n");
    let incidents = https.incidents.expect("incidents");
    assert!(PagerDuty::new(http::client(), &incidents, Secret::new("")).is_err());
    let err = PagerDuty::new(http::client(), &incidents, Secret::new("bad\nkey"))
        .err()
        .expect("newline");
    assert!(
        !err.message.contains("bad"),
        "the key is never echoed: {err}"
    );
}

#[tokio::test]
async fn a_slow_server_times_out_after_the_configured_timeout() {
    let server = super::slow_server(json!({"incidents": [], "more": false})).await;
    let config = super::config(&format!(
        "[incidents]\nkind = \"pagerduty\"\nurl = \"{}\"\ntimeout = \"1s\"\n",
        server.uri()
    ));
    let incidents = config.incidents.expect("incidents section");
    let mut adapter =
        PagerDuty::new(http::client(), &incidents, Secret::new(KEY)).expect("adapter");
    let err = adapter
        .poll()
        .await
        .expect_err("a 10 s answer against a 1 s timeout");
    assert!(err.message.contains("timed out after 1s"), "{err}");
}

/// The other way round: a 429 answered to the outbox's note holds the
/// poller back; the writer itself waits by its step's schedule, so its own
/// gate handle is not closed by its own 429.
#[tokio::test]
async fn a_429_to_the_writer_holds_the_reader_of_the_same_account_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("ratelimit-reset", "20"))
        .mount(&server)
        .await;
    let writer = adapter(&server, true);
    let mut reader = adapter(&server, false).with_rate_gate(writer.rate_gate());
    let err = writer
        .add_note("PT4KHLK", "checking")
        .await
        .expect_err("429");
    assert_eq!(err.retry_after.map(|d| d.as_secs()), Some(20), "{err}");

    let held = reader.poll().await.expect_err("held back");
    assert!(
        held.message
            .starts_with("pagerduty: incidents: rate limit spent, resets in"),
        "{held}"
    );
    let gets = |r: &[wiremock::Request]| r.iter().filter(|r| r.method.as_str() == "GET").count();
    assert_eq!(
        gets(&server.received_requests().await.expect("recording on")),
        0,
        "the reader sent nothing into the limit"
    );
    // The writer's own handle stays open: its retry is the outbox's call.
    let again = writer
        .add_note("PT4KHLK", "checking")
        .await
        .expect_err("still 429");
    assert!(again.message.contains("HTTP 429"), "{again}");
}

/// PagerDuty can list an incident that resolved between the filter and the
/// answer: it arrives as resolved with its `resolved_at`, and open ones
/// carry `resolved_at: null`.
#[tokio::test]
async fn a_resolved_incident_in_the_list_is_read_as_resolved_with_its_end() {
    let server = MockServer::start().await;
    let mut resolved = incident("PDONE", "resolved", "high", Some("P1"), &[]);
    resolved["resolved_at"] = json!("2026-11-21T06:30:00Z");
    resolved["resolve_reason"] = Value::Null;
    let mut open = incident("POPEN", "triggered", "high", Some("P1"), &[]);
    open["resolved_at"] = Value::Null;
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .respond_with(page(vec![resolved, open], 0, false, 2))
        .expect(1)
        .mount(&server)
        .await;
    let incidents = adapter(&server, false).poll().await.expect("poll");
    let done = by_id(&incidents, "PDONE");
    assert_eq!(done.status, IncidentStatus::Resolved);
    assert!(!done.is_open(), "neither links nor counts downstream");
    assert_eq!(
        done.resolved_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-21T06:30:00Z")
    );
    let open = by_id(&incidents, "POPEN");
    assert!(open.is_open());
    assert_eq!(open.resolved_at, None);
}
