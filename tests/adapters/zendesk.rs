//! Zendesk: incremental cursor export, sideloads, comments.

use cre_cockpit::core::domain::{DeskUpdate, Inquiry, InquiryStatus, Priority};
use cre_cockpit::sources::DeskSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::zendesk::Zendesk;
use serde_json::{Value, json};
use wiremock::matchers::{basic_auth, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMAIL: &str = "cre@example.com";
const TOKEN: &str = "zd-secret-123";
const EXPORT: &str = "/api/v2/incremental/tickets/cursor";
const INCLUDES: &str = "users,organizations,groups,metric_sets,slas";

fn adapter(server: &MockServer) -> Zendesk {
    let config = super::config(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{}\"\nemail = \"{EMAIL}\"\n",
        server.uri()
    ));
    let desk = config.desk.expect("desk section");
    Zendesk::new(http::client(), &desk, Secret::new(TOKEN)).expect("adapter")
}

/// A ticket as the export sends it, with the noise real tickets carry.
fn ticket(id: u64, status: &str, priority: Value, org: Option<u64>, tags: &[&str]) -> Value {
    json!({
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"),
        "external_id": null,
        "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": null}},
        "created_at": "2026-11-20T09:00:00Z",
        "updated_at": "2026-11-21T04:30:00Z",
        "generated_timestamp": 1_795_228_200,
        "type": "incident",
        "subject": format!("Ticket {id}: login fails"),
        "raw_subject": format!("Ticket {id}: login fails"),
        "description": "It does not work.",
        "priority": priority,
        "status": status,
        "recipient": "support@acme.example",
        "requester_id": 501,
        "submitter_id": 501,
        "assignee_id": 601,
        "organization_id": org,
        "group_id": 77,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "has_incidents": false,
        "is_public": true,
        "due_at": null,
        "tags": tags,
        "custom_fields": [{"id": 27642, "value": "745"}],
        "satisfaction_rating": {"score": "unoffered"},
        // Asked for with `include=slas`, the sideload is on every ticket,
        // empty where no policy applies.
        "slas": {"policy_metrics": []},
        "sharing_agreement_ids": [],
        "brand_id": 1,
        "allow_channelback": false,
        "from_messaging_channel": false
    })
}

fn page(
    tickets: Vec<Value>,
    users: Value,
    orgs: Value,
    after: &str,
    end: bool,
) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "tickets": tickets,
        "users": users,
        "organizations": orgs,
        "after_cursor": after,
        "after_url": format!("https://acme.zendesk.com{EXPORT}?cursor={after}"),
        "before_cursor": null,
        "before_url": null,
        "end_of_stream": end
    }))
}

async fn mount_cursor(server: &MockServer, cursor: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", cursor))
        .and(query_param_is_missing("start_time"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn by_id<'a>(update: &'a DeskUpdate, id: &str) -> &'a Inquiry {
    update
        .changed
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("ticket {id} not in {:?}", update.changed))
}

#[tokio::test]
async fn first_poll_follows_three_cursor_pages_then_a_quiet_poll_is_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .and(query_param_is_missing("cursor"))
        .and(query_param("per_page", "1000"))
        .and(query_param("include", INCLUDES))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(page(
            vec![
                ticket(
                    101,
                    "open",
                    json!("urgent"),
                    Some(9001),
                    &["vip", "feature_billing"],
                ),
                ticket(102, "new", Value::Null, Some(9002), &["login"]),
            ],
            json!([{"id": 501, "name": "Yuki Tanaka", "role": "end-user"},
                   {"id": 601, "name": "Sam Agent", "role": "agent"}]),
            json!([{"id": 9001, "name": "Acme Corp", "domain_names": ["acme.example"]}]),
            "c1",
            false,
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_cursor(
        &server,
        "c1",
        page(
            vec![
                ticket(103, "solved", json!("high"), Some(9001), &[]),
                ticket(104, "deleted", json!("low"), Some(9001), &[]),
            ],
            json!([]),
            json!([]),
            "c2",
            false,
        ),
    )
    .await;
    mount_cursor(
        &server,
        "c2",
        page(
            // 101 changed again later in the stream: the later page wins.
            // 105's org and users were only sideloaded on page 1.
            vec![
                ticket(
                    101,
                    "pending",
                    json!("urgent"),
                    Some(9001),
                    &["vip", "feature_billing"],
                ),
                ticket(
                    105,
                    "hold",
                    json!("whenever"),
                    Some(9001),
                    &["feature_sso_login"],
                ),
            ],
            json!([]),
            json!([]),
            "c3",
            true,
        ),
    )
    .await;
    mount_cursor(
        &server,
        "c3",
        page(vec![], json!([]), json!([]), "c3", true),
    )
    .await;

    let mut desk = adapter(&server);
    let first = desk.poll().await.expect("first poll");
    assert!(first.full);
    assert_eq!(first.requests, 3);
    assert_eq!(first.removed, vec!["104".to_string()]);
    let mut ids: Vec<&str> = first.changed.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["101", "102", "103", "105"]);

    let t101 = by_id(&first, "101");
    assert_eq!(t101.status, InquiryStatus::Pending);
    assert_eq!(t101.priority, Priority::Urgent);
    assert_eq!(t101.org.as_deref(), Some("Acme Corp"));
    assert_eq!(t101.requester.as_deref(), Some("Yuki Tanaka"));
    assert_eq!(t101.assignee.as_deref(), Some("Sam Agent"));
    assert_eq!(t101.group.as_deref(), Some("77"));
    assert_eq!(t101.tags, ["vip", "feature_billing"]);
    assert_eq!(t101.feature_area.as_deref(), Some("billing"));
    assert_eq!(t101.subject, "Ticket 101: login fails");
    assert_eq!(t101.created_at.to_string(), "2026-11-20T09:00:00Z");
    assert_eq!(t101.updated_at.to_string(), "2026-11-21T04:30:00Z");
    assert!(t101.replied);
    assert_eq!(t101.sla, None);
    assert_eq!(
        t101.url.as_deref(),
        Some(format!("{}/agent/tickets/101", server.uri()).as_str())
    );

    let t102 = by_id(&first, "102");
    assert_eq!(t102.status, InquiryStatus::New);
    assert_eq!(t102.priority, Priority::Normal, "null priority is normal");
    assert_eq!(
        t102.org.as_deref(),
        Some("9002"),
        "unknown org falls back to its id"
    );
    assert_eq!(t102.feature_area, None);
    assert!(!t102.replied, "a new ticket has no reply yet");

    assert_eq!(by_id(&first, "103").status, InquiryStatus::Solved);

    let t105 = by_id(&first, "105");
    assert_eq!(t105.status, InquiryStatus::Hold);
    assert_eq!(
        t105.priority,
        Priority::Normal,
        "unknown priority maps to normal"
    );
    assert_eq!(
        t105.org.as_deref(),
        Some("Acme Corp"),
        "org name from the cache"
    );
    assert_eq!(t105.requester.as_deref(), Some("Yuki Tanaka"));
    assert_eq!(t105.feature_area.as_deref(), Some("sso_login"));

    let quiet = desk.poll().await.expect("quiet poll");
    assert_eq!(
        quiet,
        DeskUpdate {
            full: false,
            changed: vec![],
            removed: vec![],
            requests: 1
        }
    );

    let received = server.received_requests().await.expect("recording on");
    assert_eq!(
        received.len(),
        4,
        "3 pages, then exactly one request when nothing changed"
    );
    let expected_auth = format!(
        "Basic {}",
        "Y3JlQGV4YW1wbGUuY29tL3Rva2VuOnpkLXNlY3JldC0xMjM="
    );
    for (n, request) in received.iter().enumerate() {
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let has = |k: &str| query.iter().any(|(key, _)| key == k);
        assert_eq!(has("start_time"), n == 0, "request {n}: {query:?}");
        assert_eq!(has("cursor"), n > 0, "request {n}: {query:?}");
        assert!(query.contains(&("include".into(), INCLUDES.into())));
        assert!(query.contains(&("per_page".into(), "1000".into())));
        assert_eq!(
            request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(expected_auth.as_str())
        );
    }
}

#[tokio::test]
async fn a_ticket_solved_later_arrives_as_changed_with_status_solved() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(page(
            vec![ticket(201, "open", json!("high"), Some(9001), &[])],
            json!([{"id": 501, "name": "Yuki Tanaka"}, {"id": 601, "name": "Sam Agent"}]),
            json!([{"id": 9001, "name": "Acme Corp"}]),
            "k1",
            true,
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_cursor(
        &server,
        "k1",
        page(
            vec![ticket(201, "solved", json!("high"), Some(9001), &[])],
            json!([]),
            json!([]),
            "k2",
            true,
        ),
    )
    .await;

    let mut desk = adapter(&server);
    let first = desk.poll().await.expect("first poll");
    assert_eq!(by_id(&first, "201").status, InquiryStatus::Open);

    let second = desk.poll().await.expect("second poll");
    assert!(!second.full);
    assert_eq!(second.requests, 1);
    assert_eq!(second.changed.len(), 1);
    let solved = &second.changed[0];
    assert_eq!(
        (solved.id.as_str(), solved.status),
        ("201", InquiryStatus::Solved)
    );
    assert!(!solved.status.is_open());
    assert_eq!(
        solved.org.as_deref(),
        Some("Acme Corp"),
        "org cache survives across polls"
    );
    assert_eq!(solved.assignee.as_deref(), Some("Sam Agent"));
}

#[tokio::test]
async fn a_failed_page_is_resumed_not_restarted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(page(
            vec![ticket(301, "open", json!("low"), None, &[])],
            json!([]),
            json!([]),
            "r1",
            false,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "r1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_cursor(
        &server,
        "r1",
        page(
            vec![ticket(302, "new", json!("low"), None, &[])],
            json!([]),
            json!([]),
            "r2",
            true,
        ),
    )
    .await;

    let mut desk = adapter(&server);
    let err = desk.poll().await.expect_err("page 2 is rate limited");
    assert_eq!(err.retry_after.map(|d| d.as_secs()), Some(30), "{err}");
    assert!(err.message.starts_with("zendesk: ticket export: "), "{err}");

    let resumed = desk.poll().await.expect("resumed poll");
    assert!(
        resumed.full,
        "the interrupted first read is still the full picture"
    );
    assert_eq!(resumed.requests, 1, "resumes at the cursor reached");
    let mut ids: Vec<&str> = resumed.changed.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["301", "302"],
        "nothing read before the failure is lost"
    );
}

#[tokio::test]
async fn comments_follow_both_pagination_styles_and_resolve_authors() {
    let server = MockServer::start().await;
    let base = server.uri();
    let comments = "/api/v2/tickets/101/comments";
    let comment = |id: u64, author: u64, public: bool, at: &str, body: &str| {
        json!({
            "id": id, "type": "Comment", "author_id": author, "public": public,
            "body": body, "html_body": format!("<p>{body}</p>"), "plain_body": body,
            "attachments": [], "audit_id": 1, "via": {"channel": "web"}, "metadata": {},
            "created_at": at
        })
    };
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param_is_missing("page"))
        .and(query_param("include", "users"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [comment(1, 501, true, "2026-11-20T09:00:00Z", "Login fails\r\nsince 9:00")],
            "users": [{"id": 501, "name": "Yuki Tanaka"}],
            "next_page": format!("{base}{comments}.json?page=2"),
            "previous_page": null,
            "count": 3
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{comments}.json")))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [comment(3, 601, false, "2026-11-20T11:00:00Z", "internal: \u{1b}]52;c;cGF5bG9hZA==\u{7}check logs")],
            "meta": {"has_more": true, "after_cursor": "x", "before_cursor": null},
            "links": {"next": format!("{base}{comments}?page%5Bafter%5D=x"), "prev": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param("page[after]", "x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [comment(2, 601, true, "2026-11-20T10:00:00Z", "We are looking into it.")],
            "meta": {"has_more": false, "after_cursor": null, "before_cursor": "x"},
            "links": {"next": null, "prev": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/show_many"))
        .and(query_param("ids", "601"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": 601, "name": "Sam Agent", "role": "agent"}]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let mut desk = adapter(&server);
    let got = desk.comments("101").await.expect("comments");
    let ids: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"], "oldest first");
    assert_eq!(got[0].author.as_deref(), Some("Yuki Tanaka"));
    assert_eq!(got[0].body, "Login fails\nsince 9:00");
    assert!(got[0].public);
    assert_eq!(
        got[1].author.as_deref(),
        Some("Sam Agent"),
        "resolved via show_many"
    );
    assert!(!got[2].public, "internal note stays private");
    assert!(
        !got[2].body.contains('\u{1b}') && !got[2].body.contains('\u{7}'),
        "{:?}",
        got[2].body
    );
    assert!(got[2].body.ends_with("check logs"));

    // Authors are now cached: opening the ticket again needs no show_many.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(comments))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [comment(2, 601, true, "2026-11-20T10:00:00Z", "again")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let again = desk.comments("101").await.expect("comments again");
    assert_eq!(again[0].author.as_deref(), Some("Sam Agent"));
}

#[tokio::test]
async fn comments_refuse_a_next_page_on_another_host_and_odd_ids() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [],
            "next_page": "https://evil.example/api/v2/tickets/7/comments.json?page=2"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut desk = adapter(&server);
    let err = desk.comments("7").await.expect_err("foreign link");
    assert!(err.message.contains("another host"), "{err}");
    let err = desk.comments("7/../../users").await.expect_err("not an id");
    assert!(err.message.contains("not a Zendesk ticket id"), "{err}");
}

#[tokio::test]
async fn failures_become_clear_errors() {
    for (label, response, needle, retry) in super::failure_cases() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        let err = adapter(&server).poll().await.expect_err(label);
        super::check_failure(
            label,
            &err,
            "zendesk: ticket export: ",
            needle,
            retry,
            TOKEN,
        );
    }
}

#[tokio::test]
async fn a_zendesk_error_body_is_explained() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "Forbidden", "description": "You do not have access to this page"
        })))
        .mount(&server)
        .await;
    let err = adapter(&server).poll().await.expect_err("403");
    assert_eq!(
        err.message,
        "zendesk: ticket export: forbidden, check the token's access: Forbidden: You do not have access to this page (HTTP 403 Forbidden)"
    );
}

#[test]
fn construction_requires_an_email_and_refuses_plain_http() {
    let no_email =
        super::config("[desk]\nkind = \"zendesk\"\nurl = \"https://acme.zendesk.com\"\n");
    let err = Zendesk::new(
        http::client(),
        &no_email.desk.expect("desk"),
        Secret::new(TOKEN),
    )
    .err()
    .expect("email is required");
    assert!(err.message.contains("email"), "{err}");
    let plain = super::config(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"http://acme.example\"\nemail = \"{EMAIL}\"\n"
    ));
    let err = Zendesk::new(
        http::client(),
        &plain.desk.expect("desk"),
        Secret::new(TOKEN),
    )
    .err()
    .expect("plain http refused");
    assert!(err.message.contains("allow_insecure_http"), "{err}");
}

#[tokio::test]
async fn sideloads_name_groups_count_replies_and_carry_the_desks_sla() {
    let server = MockServer::start().await;
    let mut with_sla = ticket(401, "open", json!("high"), Some(9001), &[]);
    with_sla["slas"] = json!({"policy_metrics": [
        {"breach_at": "2026-11-21T12:00:00Z", "stage": "active", "metric": "first_reply_time", "hours": 2}
    ]});
    let mut body = json!({
        "tickets": [with_sla, ticket(402, "open", json!("low"), Some(9001), &[])],
        "users": [], "organizations": [],
        "groups": [{"id": 77, "name": "Support L2"}],
        "metric_sets": [{"ticket_id": 401, "replies": 0}, {"ticket_id": 402, "replies": 2}],
        "after_cursor": "s1", "end_of_stream": true
    });
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&server)
        .await;
    body["after_cursor"] = json!("s2");
    mount_cursor(
        &server,
        "s1",
        ResponseTemplate::new(200).set_body_json(body),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/slas/policies"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sla_policies": [
            {"id": 1, "title": "Standard", "policy_metrics": [
                {"priority": "high", "metric": "first_reply_time", "target": 120, "business_hours": true},
                {"priority": "low", "metric": "first_reply_time", "target": 480, "business_hours": false}
            ]}
        ]})))
        .expect(1)
        .mount(&server)
        .await;

    let mut desk = adapter(&server);
    let first = desk.poll().await.expect("first poll");
    assert_eq!(first.requests, 2, "the export page and the SLA policies");
    let t401 = by_id(&first, "401");
    assert_eq!(t401.group.as_deref(), Some("Support L2"));
    assert!(
        !t401.replied,
        "metric set: no reply yet, although status is open"
    );
    let sla = t401.sla.expect("the desk's own SLA");
    assert_eq!(sla.due.to_string(), "2026-11-21T12:00:00Z");
    assert!(sla.business_hours, "the policy counts business hours");
    let t402 = by_id(&first, "402");
    assert!(t402.replied);
    assert_eq!(t402.sla, None, "no desk SLA: the model computes one");

    let second = desk.poll().await.expect("second poll");
    assert_eq!(second.requests, 1, "policies are read once");
}

#[tokio::test]
async fn a_restart_resumes_from_the_saved_cursor_with_one_request() {
    let server = MockServer::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(page(
            vec![
                ticket(501, "open", json!("high"), Some(9001), &[]),
                ticket(502, "new", json!("low"), Some(9001), &[]),
                ticket(503, "solved", json!("low"), Some(9001), &[]),
            ],
            json!([{"id": 501, "name": "Yuki Tanaka"}]),
            json!([{"id": 9001, "name": "Acme Corp"}]),
            "saved-1",
            true,
        ))
        .expect(1)
        .mount(&server)
        .await;
    {
        let mut desk = adapter(&server).resume_in(data.path());
        let first = desk.poll().await.expect("first run");
        assert!(first.full);
        assert_eq!(first.requests, 1);
    }

    // A new process: the saved cursor, then only what changed since.
    mount_cursor(
        &server,
        "saved-1",
        page(
            vec![
                ticket(502, "solved", json!("low"), Some(9001), &[]),
                ticket(504, "new", json!("urgent"), Some(9001), &[]),
            ],
            json!([]),
            json!([]),
            "saved-2",
            true,
        ),
    )
    .await;
    let mut desk = adapter(&server).resume_in(data.path());
    let resumed = desk.poll().await.expect("resumed run");
    assert!(
        resumed.full,
        "the saved set plus the changes is the whole queue"
    );
    assert_eq!(
        resumed.requests, 1,
        "one small request instead of a full read"
    );
    let mut ids: Vec<(&str, bool)> = resumed
        .changed
        .iter()
        .map(|i| (i.id.as_str(), i.status.is_open()))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [("501", true), ("502", false), ("504", true)]);
    assert_eq!(
        by_id(&resumed, "501").org.as_deref(),
        Some("Acme Corp"),
        "names survive the restart"
    );

    // And the next process starts from the newer cursor and set.
    mount_cursor(
        &server,
        "saved-2",
        page(vec![], json!([]), json!([]), "saved-2", true),
    )
    .await;
    let mut desk = adapter(&server).resume_in(data.path());
    let third = desk.poll().await.expect("third run");
    let mut ids: Vec<&str> = third.changed.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["501", "504"]);
}

/// Team mode: a teammate's cockpit takes the polling over from the last
/// leader's cursor and the rows it stored: one "what changed since"
/// request, the whole queue in the update. Another desk's state is not
/// taken.
#[tokio::test]
async fn a_new_leader_continues_from_the_teams_cursor() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(page(
            vec![
                ticket(601, "open", json!("high"), Some(9001), &[]),
                ticket(602, "new", json!("low"), Some(9001), &[]),
            ],
            json!([]),
            json!([{"id": 9001, "name": "Acme Corp"}]),
            "team-1",
            true,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut leader = adapter(&server);
    let first = leader.poll().await.expect("the leader's read");
    let state = leader.hand_over().expect("a cursor to hand over");

    mount_cursor(
        &server,
        "team-1",
        page(
            vec![ticket(603, "new", json!("urgent"), Some(9001), &[])],
            json!([]),
            json!([]),
            "team-2",
            true,
        ),
    )
    .await;
    let mut next = adapter(&server);
    assert!(next.take_over(&state, first.changed.clone()));
    let update = next.poll().await.expect("the new leader's first poll");
    assert!(
        update.full,
        "the team's rows plus the changes: the whole queue"
    );
    assert_eq!(update.requests, 1);
    let mut ids: Vec<&str> = update.changed.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["601", "602", "603"]);
    assert_eq!(by_id(&update, "601").org.as_deref(), Some("Acme Corp"));

    // Another account's desk does not continue from it.
    let other = super::config(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{}\"\nemail = \"other@example.com\"\n",
        server.uri()
    ));
    let mut other = Zendesk::new(
        http::client(),
        &other.desk.expect("desk"),
        Secret::new(TOKEN),
    )
    .unwrap();
    assert!(!other.take_over(&state, first.changed));
}

#[tokio::test]
async fn a_refused_saved_cursor_falls_back_to_a_full_read() {
    let server = MockServer::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(page(
            vec![ticket(601, "open", json!("high"), None, &[])],
            json!([]),
            json!([]),
            "old",
            true,
        ))
        .expect(2)
        .mount(&server)
        .await;
    adapter(&server)
        .resume_in(data.path())
        .poll()
        .await
        .expect("first run");
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "old"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": "InvalidPaginationParameter", "description": "cursor is invalid or expired"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let update = adapter(&server)
        .resume_in(data.path())
        .poll()
        .await
        .expect("falls back");
    assert!(update.full);
    assert_eq!(update.requests, 2, "the refused cursor, then the full read");
    assert_eq!(update.changed.len(), 1);
}

#[tokio::test]
async fn nearly_spent_rate_limit_asks_the_poller_to_pause_before_a_429() {
    let server = MockServer::start().await;
    let body = json!({"tickets": [], "after_cursor": "q1", "end_of_stream": true});
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Rate-Limit", "700")
                .insert_header("X-Rate-Limit-Remaining", "9")
                .set_body_json(body.clone()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "q1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Rate-Limit", "700")
                .insert_header("X-Rate-Limit-Remaining", "650")
                .set_body_json(body),
        )
        .mount(&server)
        .await;
    let mut desk = adapter(&server);
    desk.poll().await.expect("first");
    assert_eq!(
        desk.pause_hint().map(|d| d.as_secs()),
        Some(60),
        "9 of 700 left: wait for the window to reset"
    );
    desk.poll().await.expect("second");
    assert_eq!(desk.pause_hint(), None, "plenty left: poll on schedule");
}

#[tokio::test]
async fn the_poller_is_told_to_wait_when_the_budget_is_nearly_spent() {
    use cre_cockpit::app::poll::{Desk, Pollable};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ratelimit-limit", "100")
                .insert_header("ratelimit-remaining", "2")
                .insert_header("ratelimit-reset", "41")
                .set_body_json(json!({"tickets": [], "after_cursor": "x", "end_of_stream": true})),
        )
        .mount(&server)
        .await;
    let (message, wait) = Desk(adapter(&server)).poll().await;
    assert!(
        matches!(
            message,
            cre_cockpit::model::message::Message::Desk { result: Ok(_), .. }
        ),
        "the poll itself succeeded"
    );
    assert_eq!(wait.map(|d| d.as_secs()), Some(41));
}

/// Mount an export that answers 429 (Retry-After 30) and count the PUTs.
async fn rate_limited_export(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 7}})))
        .mount(server)
        .await;
}

async fn puts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("recording on")
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count()
}

/// One account, one budget: a 429 answered to the poller's reader holds the
/// outbox's writer of the same account back (no request, the wait said),
/// while a writer with a gate of its own would have walked into it.
#[tokio::test]
async fn a_429_to_the_reader_holds_the_writer_of_the_same_account_back() {
    let server = MockServer::start().await;
    rate_limited_export(&server).await;
    let mut reader = adapter(&server);
    let writer = adapter(&server).with_rate_gate(reader.rate_gate());
    let err = reader.poll().await.expect_err("429");
    assert_eq!(err.retry_after.map(|d| d.as_secs()), Some(30), "{err}");

    let held = writer
        .add_comment("7", "note", false)
        .await
        .expect_err("held back");
    assert!(
        held.message
            .starts_with("zendesk: add comment: rate limit spent, resets in"),
        "{held}"
    );
    assert!(held.retry_after.is_some_and(|w| w.as_secs() <= 30));
    assert_eq!(puts(&server).await, 0, "nothing was sent into the limit");

    // A writer of another account (its own gate) is not held back.
    adapter(&server)
        .add_comment("7", "note", false)
        .await
        .expect("own budget");
    assert_eq!(puts(&server).await, 1);
}

/// The TUI's wiring: the writers it builds share the pollers' gates.
#[tokio::test]
async fn the_cockpits_writers_share_the_readers_rate_limit() {
    use cre_cockpit::app::outbox::{DeskWriter, Writers};
    use cre_cockpit::app::wiring::{Secrets, Sources};
    let server = MockServer::start().await;
    rate_limited_export(&server).await;
    let config = super::config(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{}\"\nemail = \"{EMAIL}\"\n",
        server.uri()
    ));
    let secrets = Secrets {
        desk: Some(Secret::new(TOKEN)),
        ..Default::default()
    };
    let client = http::client();
    let writers = Writers::from_config(&config, &secrets, &client, false).expect("writers");
    let sources = Sources::build(&config, secrets, &client).expect("sources");
    let writers = writers.sharing(sources.rate_gates());
    let polled = sources.poll_once().await;
    assert_eq!(polled.len(), 1);
    let Some(DeskWriter::Zendesk(writer)) = &writers.desk else {
        panic!("a Zendesk writer");
    };
    writer
        .add_comment("7", "note", false)
        .await
        .expect_err("held back by the poller's 429");
    assert_eq!(puts(&server).await, 0);
}

/// A comment as Zendesk sends one made through the API or a voice call:
/// `plain_body` empty while `body` has the words.
#[tokio::test]
async fn comments_fall_back_to_body_page_by_cursor_without_a_link_and_list_attachments() {
    let server = MockServer::start().await;
    let comments = "/api/v2/tickets/202/comments";
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param_is_missing("page[after]"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [{
                "id": 1, "type": "VoiceComment", "author_id": null, "public": true,
                "body": "Caller reports SSO loop", "html_body": "<p>Caller reports SSO loop</p>",
                "plain_body": "", "audit_id": 11, "via": {"channel": "voice"},
                "metadata": {"system": {}}, "created_at": "2026-11-20T09:00:00Z",
                "attachments": [{
                    "id": 498483, "file_name": "har\u{1b}[2J-export.har",
                    "content_url": "https://acme.zendesk.com/attachments/token/tyBq1ms40dFaHefSIigxZpwGg/?name=har-export.har",
                    "content_type": "application/json", "size": 48213, "thumbnails": [],
                    "inline": false, "deleted": false, "malware_scan_result": "malware_not_found"
                }, {
                    "id": 498484, "file_name": "screenshot.png", "content_url": "javascript:alert(1)",
                    "size": null
                }, "not an attachment"]
            }],
            // `has_more` with the cursor, but no `links.next`: the list
            // goes on and must be read to the end.
            "meta": {"has_more": true, "after_cursor": "abc", "before_cursor": null},
            "links": {"next": null, "prev": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param("page[after]", "abc"))
        .and(query_param("page[size]", "100"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [{
                "id": 2, "author_id": null, "public": false, "body": "second page",
                "plain_body": null, "attachments": [], "created_at": "2026-11-20T10:00:00Z"
            }],
            "meta": {"has_more": true, "after_cursor": "abc", "before_cursor": "abc"},
            "links": {}
        })))
        // A desk that repeats its cursor is asked once, not until the page
        // limit.
        .expect(1)
        .mount(&server)
        .await;

    let mut desk = adapter(&server);
    let got = desk.comments("202").await.expect("comments");
    let ids: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["1", "2"], "the second page was read");
    assert_eq!(got[0].body, "Caller reports SSO loop", "empty plain_body");
    assert_eq!(got[1].body, "second page", "null plain_body");
    let files = &got[0].attachments;
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files[0].name.starts_with("har") && !files[0].name.contains('\u{1b}'),
        "sanitised: {:?}",
        files[0].name
    );
    assert_eq!(files[0].size, Some(48_213));
    assert!(
        files[0]
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://acme.zendesk.com/attachments/")),
        "{files:?}"
    );
    assert_eq!(files[1].url, None, "only web links are kept");
    assert_eq!(files[1].size, None);
}

/// Custom fields as real accounts fill them: a drop-down's tag, a text
/// field, a number, a multi-select, null; a custom status; a task's due
/// date; the channel; a satisfaction rating.
#[tokio::test]
async fn desk_fields_custom_statuses_and_ratings_are_read() {
    let server = MockServer::start().await;
    let config = super::config(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{}\"\nemail = \"{EMAIL}\"\n\
         customer_field = \"Customer account\"\nfeature_field = \"360001\"\n\
         segment_field = \"Plan\"\n",
        server.uri()
    ));
    let desk = config.desk.expect("desk section");
    let mut desk = Zendesk::new(http::client(), &desk, Secret::new(TOKEN)).expect("adapter");
    Mock::given(method("GET"))
        .and(path("/api/v2/ticket_fields"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_fields": [
                {"id": 1, "type": "subject", "title": "Subject", "raw_title": "Subject",
                 "title_in_portal": "Subject", "active": true},
                {"id": 360000, "type": "text", "title": "Customer account",
                 "raw_title": "{{dc.customer_account}}", "active": true},
                {"id": 360001, "type": "tagger", "title": "Product area", "active": true,
                 "custom_field_options": [
                     {"id": 9, "name": "Single sign-on", "value": "area_sso", "default": false},
                     {"id": 10, "name": "Billing", "value": "area_billing", "default": false}]},
                {"id": 360002, "type": "multiselect", "title": "plan", "active": true,
                 "custom_field_options": [
                     {"id": 11, "name": "Enterprise", "value": "plan_ent"},
                     {"id": 12, "name": "Add-on: SSO", "value": "plan_sso"}]},
                "an odd field"
            ],
            "next_page": null, "previous_page": null, "count": 4
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/custom_statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "custom_statuses": [
                {"id": 35436, "status_category": "hold", "agent_label": "Waiting on engineering",
                 "end_user_label": "In progress", "active": true, "default": false,
                 "description": "", "end_user_description": "",
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
                {"id": 1, "status_category": "open", "agent_label": "Open", "active": true, "default": true}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut custom = ticket(301, "hold", json!("high"), Some(9001), &["feature_api"]);
    custom["custom_status_id"] = json!(35436);
    custom["custom_fields"] = json!([
        {"id": 360000, "value": "  Globex  "},
        {"id": 360001, "value": "area_sso"},
        {"id": 360002, "value": ["plan_ent", "plan_sso"]},
        {"id": 360003, "value": 42},
        {"id": 360004, "value": true}
    ]);
    custom["satisfaction_rating"] = json!({
        "id": 777, "score": "bad", "comment": "slow", "reason": "Issue took too long",
        "updated_at": "2026-11-21T03:00:00Z"
    });
    custom["via"] = json!({"channel": "web", "source": {"from": {}, "to": {}, "rel": null}});
    let mut plain = ticket(302, "open", json!("normal"), Some(9001), &["feature_api"]);
    plain["custom_status_id"] = json!(1);
    plain["type"] = json!("task");
    plain["due_at"] = json!("2026-11-25T12:00:00Z");
    plain["custom_fields"] = json!([
        {"id": 360000, "value": null},
        {"id": 360001, "value": null},
        {"id": 360002, "value": []}
    ]);
    plain["satisfaction_rating"] = json!({"score": "offered"});
    plain["via"] = json!({"channel": 4});
    let mut solved = ticket(303, "solved", json!("low"), Some(9001), &[]);
    solved["satisfaction_rating"] = json!({"score": "good"});
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("start_time", "0"))
        .respond_with(page(
            vec![custom, plain, solved],
            json!([]),
            json!([{"id": 9001, "name": "Acme Corp"}]),
            "c1",
            true,
        ))
        .expect(1)
        .mount(&server)
        .await;

    let update = desk.poll().await.expect("poll");
    assert_eq!(update.requests, 3, "fields, export page, custom statuses");
    let custom = by_id(&update, "301");
    assert_eq!(
        custom.org.as_deref(),
        Some("Globex"),
        "the customer field wins"
    );
    assert_eq!(
        custom.feature_area.as_deref(),
        Some("Single sign-on"),
        "a drop-down by its option name, before the tag"
    );
    assert_eq!(
        custom.desk.segment.as_deref(),
        Some("Enterprise, Add-on: SSO")
    );
    assert_eq!(custom.status, InquiryStatus::Hold);
    assert_eq!(
        custom.desk.status_label.as_deref(),
        Some("Waiting on engineering")
    );
    assert_eq!(custom.desk.channel.as_deref(), Some("web"));
    let rating = custom.desk.satisfaction.expect("rated");
    assert!(!rating.good);
    assert_eq!(rating.at.to_string(), "2026-11-21T03:00:00Z");

    let plain = by_id(&update, "302");
    assert_eq!(
        plain.org.as_deref(),
        Some("Acme Corp"),
        "empty field: the org"
    );
    assert_eq!(
        plain.feature_area.as_deref(),
        Some("api"),
        "empty field: the tag"
    );
    assert_eq!(plain.desk.segment, None);
    assert_eq!(
        plain.desk.status_label, None,
        "a standard status has no label"
    );
    assert_eq!(
        plain.desk.due_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-25T12:00:00Z")
    );
    assert_eq!(plain.desk.channel.as_deref(), Some("channel 4"));
    assert_eq!(plain.desk.satisfaction, None, "offered is not a rating");
    assert_eq!(
        by_id(&update, "303").desk.satisfaction.map(|s| s.good),
        Some(true)
    );

    let coverage = desk.field_coverage();
    let got: Vec<(&str, Option<u64>, usize, usize)> = coverage
        .iter()
        .map(|c| (c.setting, c.field_id, c.with_value, c.inquiries))
        .collect();
    assert_eq!(
        got,
        [
            ("customer_field", Some(360_000), 1, 2),
            ("feature_field", Some(360_001), 1, 2),
            ("segment_field", Some(360_002), 1, 2),
        ],
        "over the two open inquiries"
    );
}

#[tokio::test]
async fn a_field_no_ticket_field_matches_is_reported_not_fatal() {
    let server = MockServer::start().await;
    let config = super::config(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{}\"\nemail = \"{EMAIL}\"\ncustomer_field = \"Nope\"\n",
        server.uri()
    ));
    let desk = config.desk.expect("desk section");
    let mut desk = Zendesk::new(http::client(), &desk, Secret::new(TOKEN)).expect("adapter");
    Mock::given(method("GET"))
        .and(path("/api/v2/ticket_fields"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket_fields": []})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(page(
            vec![ticket(1, "open", json!("low"), Some(9001), &[])],
            json!([]),
            json!([{"id": 9001, "name": "Acme Corp"}]),
            "c1",
            true,
        ))
        .mount(&server)
        .await;
    let update = desk.poll().await.expect("poll");
    assert_eq!(by_id(&update, "1").org.as_deref(), Some("Acme Corp"));
    let coverage = desk.field_coverage();
    assert_eq!(coverage.len(), 1);
    assert_eq!(coverage[0].field_id, None, "no field matched");
    assert_eq!((coverage[0].with_value, coverage[0].inquiries), (0, 1));

    // A second poll does not ask for the fields again.
    let _ = desk.poll().await;
    let asked = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/api/v2/ticket_fields")
        .count();
    assert_eq!(asked, 1);
}

/// A desk that does not serve the `slas` sideload: the reply clocks come
/// from the ticket metric events (apply_sla, then the breach Zendesk lists
/// ahead of time, deleted once the target is met).
#[tokio::test]
async fn without_the_slas_sideload_clocks_come_from_metric_events() {
    let server = MockServer::start().await;
    let bare = |id: u64| {
        let mut t = ticket(id, "open", json!("high"), Some(9001), &[]);
        t.as_object_mut().expect("object").remove("slas");
        t
    };
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(page(
            vec![bare(401), bare(402), bare(403)],
            json!([]),
            json!([]),
            "c1",
            true,
        ))
        .mount(&server)
        .await;
    let event = |id: u64, ticket: u64, instance: u64, kind: &str, time: &str| {
        json!({"id": id, "ticket_id": ticket, "metric": "reply_time", "instance_id": instance,
               "type": kind, "time": time})
    };
    let mut applied = event(2, 401, 2, "apply_sla", "2026-11-21T04:30:00Z");
    applied["sla"] = json!({"target": 240, "business_hours": true,
                            "policy": {"id": 1, "title": "Enterprise", "description": ""}});
    let mut met_breach = event(7, 402, 1, "breach", "2026-11-21T10:00:00Z");
    met_breach["deleted"] = json!(true);
    let mut applied_402 = event(5, 402, 1, "apply_sla", "2026-11-21T04:00:00Z");
    applied_402["sla"] = json!({"target": 60, "business_hours": false});
    Mock::given(method("GET"))
        .and(path("/api/v2/incremental/ticket_metric_events"))
        .and(basic_auth(format!("{EMAIL}/token"), TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_metric_events": [
                event(1, 401, 1, "fulfill", "2026-11-21T04:29:00Z"),
                applied,
                event(3, 401, 2, "activate", "2026-11-21T04:30:00Z"),
                event(4, 401, 2, "breach", "2026-11-21T08:30:00Z"),
                applied_402,
                met_breach,
                event(8, 402, 1, "fulfill", "2026-11-21T04:20:00Z"),
                {"id": 9, "ticket_id": 403, "metric": "agent_work_time", "instance_id": 1,
                 "type": "measure", "time": "2026-11-21T04:00:00Z"}
            ],
            "count": 8,
            "end_time": 1_795_230_000,
            "next_page": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut desk = adapter(&server);
    let update = desk.poll().await.expect("poll");
    assert_eq!(update.requests, 2, "the export page, then the events");
    let clock = by_id(&update, "401").sla.expect("a clock from the events");
    assert_eq!(
        clock.metric,
        cre_cockpit::core::domain::SlaMetric::NextReply
    );
    assert_eq!(clock.due.to_string(), "2026-11-21T08:30:00Z");
    assert!(clock.business_hours);
    assert_eq!(by_id(&update, "402").sla, None, "met: no running clock");
    assert_eq!(by_id(&update, "403").sla, None, "no reply target");
    let asked = server.received_requests().await.unwrap_or_default();
    let events = asked
        .iter()
        .find(|r| r.url.path().ends_with("ticket_metric_events"))
        .expect("events read");
    assert!(
        events.url.query_pairs().any(|(k, _)| k == "start_time"),
        "{}",
        events.url
    );
}
