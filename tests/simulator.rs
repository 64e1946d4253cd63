//! The simulator over real HTTP: the wire shapes the adapters rely on, the
//! scenario facts the demo relies on, and determinism.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use cre_cockpit::simulator::{SimOptions, Simulator};
use reqwest::{Client, RequestBuilder, StatusCode, Url};
use serde_json::Value;

/// A fixed scenario start (2027-01-15T08:00:00Z) for tests that compare runs.
const ANCHOR: i64 = 1_800_000_000;

async fn start(options: SimOptions) -> Simulator {
    Simulator::start(options).await.expect("simulator starts")
}

fn url(sim: &Simulator, path: &str, params: &[(&str, &str)]) -> Url {
    Url::parse_with_params(&format!("{}{path}", sim.base_url()), params).expect("valid url")
}

/// Zendesk API-token auth: `{email}/token` and any token.
fn zendesk(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth("cre@example.com/token", Some("secret"))
}

async fn zd_get(
    client: &Client,
    sim: &Simulator,
    path: &str,
    params: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = zendesk(client.get(url(sim, path, params)))
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("json body"))
}

async fn pd_get(
    client: &Client,
    sim: &Simulator,
    path: &str,
    params: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = client
        .get(url(sim, path, params))
        .header("Authorization", "Token token=test")
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("json body"))
}

async fn prom(
    client: &Client,
    sim: &Simulator,
    path: &str,
    params: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = client
        .get(url(sim, path, params))
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("json body"))
}

/// Every ticket in the export from the beginning, and the cursor at its end.
async fn full_export(
    client: &Client,
    sim: &Simulator,
    per_page: &str,
) -> (Vec<Value>, Vec<Value>, String, usize) {
    let (mut tickets, mut orgs) = (Vec::new(), Vec::new());
    let mut params = vec![("start_time", "0".to_owned())];
    let mut pages = 0;
    loop {
        let mut query: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        query.push(("per_page", per_page));
        query.push(("include", "users,organizations"));
        let (status, page) = zd_get(
            client,
            sim,
            "/api/v2/incremental/tickets/cursor.json",
            &query,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        tickets.extend(page["tickets"].as_array().expect("tickets").iter().cloned());
        orgs.extend(
            page["organizations"]
                .as_array()
                .expect("organizations")
                .iter()
                .cloned(),
        );
        let cursor = page["after_cursor"]
            .as_str()
            .expect("after_cursor")
            .to_owned();
        if page["end_of_stream"] == Value::Bool(true) {
            return (tickets, orgs, cursor, pages);
        }
        params = vec![("cursor", cursor)];
    }
}

fn accounts(sim: &Simulator) -> Vec<BTreeMap<String, String>> {
    let csv = sim.accounts_csv();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        "id,name,desk_org,tenant,segment,seats,arr,renewal_date,owner,tier,nps,csat,pulse,champion_changed".split(',').collect::<Vec<_>>()
    );
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .map(String::from)
                .zip(r.expect("record").iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Poll until `check` returns a value (the scenario runs on real time).
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn unix(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("RFC 3339")
        .as_second()
}

fn is_open(ticket: &Value) -> bool {
    !matches!(ticket["status"].as_str(), Some("solved" | "closed"))
}

fn tags(ticket: &Value) -> Vec<&str> {
    ticket["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[tokio::test]
async fn same_seed_same_scenario_and_another_seed_differs() {
    let options = |seed| SimOptions {
        seed,
        anchor: Some(ANCHOR),
        ..SimOptions::default()
    };
    let (a, b, c) = (
        start(options(42)).await,
        start(options(42)).await,
        start(options(7)).await,
    );
    assert_eq!(a.accounts_csv(), b.accounts_csv());
    assert_ne!(a.accounts_csv(), c.accounts_csv());
    let client = Client::new();
    let first_page = |sim: &Simulator| {
        let client = client.clone();
        let base = sim.base_url();
        let request = client.get(url(
            sim,
            "/api/v2/incremental/tickets/cursor",
            &[("start_time", "0"), ("per_page", "100")],
        ));
        async move {
            let body = zendesk(request)
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body");
            body.replace(&base, "BASE")
        }
    };
    let (pa, pb, pc) = (
        first_page(&a).await,
        first_page(&b).await,
        first_page(&c).await,
    );
    assert!(pa.contains("\"tickets\":[{"), "{pa}");
    assert_eq!(pa, pb);
    assert_ne!(pa, pc);
}

#[tokio::test]
async fn default_scenario_has_segments_and_a_multilingual_queue() {
    let sim = start(SimOptions::default()).await;
    let rows = accounts(&sim);
    assert!(rows.len() >= 30);
    let segments: BTreeSet<&str> = rows.iter().map(|r| r["segment"].as_str()).collect();
    assert_eq!(
        segments,
        BTreeSet::from(["enterprise", "mid-market", "small"])
    );
    assert!(
        rows.iter()
            .all(|r| ["high", "low", "tech-touch"].contains(&r["tier"].as_str()))
    );
    assert!(
        rows.iter()
            .any(|r| r["name"].starts_with("株式会社") || r["name"].ends_with("株式会社"))
    );
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let soon = rows
        .iter()
        .filter(|r| {
            let renewal: jiff::civil::Date = r["renewal_date"].parse().expect("renewal date");
            (renewal - today).get_days() <= 90
        })
        .count();
    assert!(soon >= 3, "renewals within 90 days: {soon}");
    assert!(rows.iter().any(|r| r["nps"].is_empty()) && rows.iter().any(|r| !r["nps"].is_empty()));
    let tenants: HashSet<&str> = rows.iter().map(|r| r["tenant"].as_str()).collect();
    assert_eq!(tenants.len(), rows.len(), "tenant labels are unique");

    let client = Client::new();
    let (tickets, orgs, _, _) = full_export(&client, &sim, "1000").await;
    let open: Vec<&Value> = tickets.iter().filter(|t| is_open(t)).collect();
    assert!(open.len() >= 100, "open tickets: {}", open.len());
    assert!(
        tickets.iter().any(|t| !is_open(t)),
        "solved/closed history is exported too"
    );
    let japanese = open
        .iter()
        .filter(|t| {
            t["subject"]
                .as_str()
                .is_some_and(|s| s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)))
        })
        .count();
    assert!(japanese >= 5, "Japanese subjects: {japanese}");
    for t in &open {
        let tags = tags(t);
        assert!(tags.iter().any(|tag| tag.starts_with("feature_")), "{t}");
        assert!(
            tags.iter()
                .any(|tag| ["enterprise", "mid-market", "small"].contains(tag)),
            "{t}"
        );
        assert!(
            t["updated_at"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z') && !s.contains('.')),
            "{t}"
        );
        assert!(t["generated_timestamp"].is_i64());
    }
    let priorities: BTreeSet<&str> = open.iter().filter_map(|t| t["priority"].as_str()).collect();
    assert_eq!(
        priorities,
        BTreeSet::from(["high", "low", "normal", "urgent"])
    );
    // Sideloaded organisations carry the names the accounts file joins on.
    let desk_orgs: HashSet<&str> = rows.iter().map(|r| r["desk_org"].as_str()).collect();
    let org_names: BTreeMap<i64, &str> = orgs
        .iter()
        .map(|o| {
            (
                o["id"].as_i64().expect("id"),
                o["name"].as_str().expect("name"),
            )
        })
        .collect();
    for t in &tickets {
        let org = org_names
            .get(&t["organization_id"].as_i64().expect("org id"))
            .expect("org sideloaded");
        assert!(desk_orgs.contains(org), "{org}");
    }
    // A conversation starts with the requester's description, and unknown ids are 404.
    let id = open[0]["id"].as_i64().expect("id").to_string();
    let (status, comments) = zd_get(
        &client,
        &sim,
        &format!("/api/v2/tickets/{id}/comments.json"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let first = &comments["comments"][0];
    assert_eq!(first["body"], open[0]["description"]);
    assert_eq!(first["author_id"], open[0]["requester_id"]);
    assert_eq!(
        comments["count"].as_u64(),
        comments["comments"].as_array().map(|a| a.len() as u64)
    );
    let (status, body) = zd_get(&client, &sim, "/api/v2/tickets/999999999", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "RecordNotFound");
}

#[tokio::test]
async fn cursor_export_pages_then_reports_end_of_stream() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let (tickets, _, cursor, pages) = full_export(&client, &sim, "40").await;
    assert!(pages >= 3, "pages: {pages}");
    let ids: HashSet<i64> = tickets
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), tickets.len(), "no ticket twice in one walk");
    let stamps: Vec<i64> = tickets
        .iter()
        .map(|t| t["generated_timestamp"].as_i64().expect("stamp"))
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "ordered by generated_timestamp"
    );
    for _ in 0..2 {
        let (status, page) = zd_get(
            &client,
            &sim,
            "/api/v2/incremental/tickets/cursor",
            &[("cursor", &cursor)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["tickets"], Value::Array(Vec::new()));
        assert_eq!(page["end_of_stream"], true);
        assert_eq!(
            page["after_cursor"].as_str(),
            Some(cursor.as_str()),
            "a quiet cursor can be reused"
        );
    }
    let (status, body) = zd_get(
        &client,
        &sim,
        "/api/v2/incremental/tickets/cursor",
        &[("cursor", "garbage")],
    )
    .await;
    assert!(status.is_client_error(), "{body}");
}

#[tokio::test]
async fn ticket_updates_are_reflected_in_comments_and_the_export() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let (tickets, _, cursor, _) = full_export(&client, &sim, "1000").await;
    let target = tickets
        .iter()
        .find(|t| is_open(t) && t["priority"] != "urgent")
        .expect("an open ticket");
    let id = target["id"].as_i64().expect("id");
    let path = format!("/api/v2/tickets/{id}.json");

    let bad = serde_json::json!({"ticket": {"priority": "asap"}});
    let response = zendesk(client.put(url(&sim, &path, &[])))
        .json(&bad)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "RecordInvalid");
    assert!(body["details"]["priority"].is_array(), "{body}");

    let update = serde_json::json!({"ticket": {
        "priority": "urgent",
        "comment": {"body": "Escalated by CRE: customer at risk", "public": false},
    }});
    let response = zendesk(client.put(url(&sim, &path, &[])))
        .json(&update)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["ticket"]["priority"], "urgent");
    let events = body["audit"]["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "Comment" && e["public"] == false)
    );
    assert!(
        events
            .iter()
            .any(|e| e["field_name"] == "priority" && e["previous_value"] == target["priority"])
    );

    let (_, comments) = zd_get(
        &client,
        &sim,
        &format!("/api/v2/tickets/{id}/comments"),
        &[],
    )
    .await;
    let last = comments["comments"]
        .as_array()
        .and_then(|c| c.last())
        .expect("comments");
    assert_eq!(last["body"], "Escalated by CRE: customer at risk");
    assert_eq!(last["public"], false);

    let response = zendesk(client.put(url(&sim, &format!("/api/v2/tickets/{id}/tags"), &[])))
        .json(&serde_json::json!({"tags": ["escalated"]}))
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    let after: Vec<&str> = body["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        after.contains(&"escalated") && tags(target).iter().all(|t| after.contains(t)),
        "tags are added, not replaced"
    );

    let (_, page) = zd_get(
        &client,
        &sim,
        "/api/v2/incremental/tickets/cursor",
        &[("cursor", &cursor)],
    )
    .await;
    let changed = page["tickets"].as_array().expect("tickets");
    assert_eq!(
        changed.len(),
        1,
        "only the updated ticket reappears: {page}"
    );
    assert_eq!(changed[0]["id"], id);
    assert_eq!(changed[0]["priority"], "urgent");
    assert!(changed[0]["generated_timestamp"].as_i64() >= target["generated_timestamp"].as_i64());
}

#[tokio::test]
async fn the_incident_hurts_only_affected_tenants_brings_a_wave_and_resolves() {
    let anchor = jiff::Timestamp::now().as_second();
    let sim = start(SimOptions {
        speed: 600.0,
        anchor: Some(anchor),
        ..SimOptions::default()
    })
    .await;
    let client = Client::new();
    let open = [("statuses[]", "triggered"), ("statuses[]", "acknowledged")];
    let incident = eventually("the P1 incident", || async {
        let (_, body) = pd_get(&client, &sim, "/incidents", &open).await;
        body["incidents"]
            .as_array()?
            .iter()
            .find(|i| i["priority"]["summary"] == "P1")
            .cloned()
    })
    .await;
    assert_eq!(incident["service"]["summary"], "api");
    assert_eq!(incident["urgency"], "high");
    let started = jiff::Timestamp::from_second(anchor + 60)
        .expect("time")
        .to_string();
    assert_eq!(incident["created_at"].as_str(), Some(started.as_str()));
    let title = incident["title"].as_str().expect("title");
    let affected: BTreeSet<String> = title
        .split_once("(tenants: ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .expect("tenants in the title")
        .split(", ")
        .map(String::from)
        .collect();
    assert!((3..=5).contains(&affected.len()), "{title}");
    let rows = accounts(&sim);
    assert!(
        rows.iter()
            .any(|r| affected.contains(&r["tenant"]) && r["segment"] == "enterprise")
    );

    let id = incident["id"].as_str().expect("id").to_owned();
    let resolved = eventually("the incident to resolve", || async {
        let (_, body) = pd_get(&client, &sim, &format!("/incidents/{id}"), &[]).await;
        (body["incident"]["status"] == "resolved").then_some(body)
    })
    .await;
    let resolved_at = unix(
        resolved["incident"]["resolved_at"]
            .as_str()
            .expect("resolved_at"),
    );
    let minutes = (resolved_at - anchor - 60) / 60;
    assert!((25..=35).contains(&minutes), "resolved after {minutes} min");
    let (_, notes) = pd_get(&client, &sim, &format!("/incidents/{id}/notes"), &[]).await;
    assert!(
        notes["notes"].as_array().is_some_and(|n| n.len() >= 3),
        "{notes}"
    );

    let error_ratio = r#"sum by (tenant) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (tenant) (rate(http_requests_total[5m]))"#;
    // Metrics clients name wall-clock times; the simulator maps them into
    // its sped-up scenario time, so a scenario instant `at` is asked for as
    // the wall-clock moment it corresponds to.
    let ratios = |at: i64| {
        let client = client.clone();
        let wall = anchor as f64 + (at - anchor) as f64 / 600.0;
        let request = client.get(url(
            &sim,
            "/api/v1/query",
            &[("query", error_ratio), ("time", &format!("{wall:.3}"))],
        ));
        async move {
            let body: Value = request
                .send()
                .await
                .expect("request")
                .json()
                .await
                .expect("json");
            assert_eq!(body["status"], "success", "{body}");
            body["data"]["result"]
                .as_array()
                .expect("result")
                .iter()
                .map(|s| {
                    (
                        s["metric"]["tenant"].as_str().expect("tenant").to_owned(),
                        s["value"][1]
                            .as_str()
                            .expect("value")
                            .parse::<f64>()
                            .expect("float"),
                    )
                })
                .collect::<BTreeMap<String, f64>>()
        }
    };
    let (before, during, after) = (
        ratios(anchor + 30).await,
        ratios(anchor + 60 + 300).await,
        ratios(resolved_at + 60).await,
    );
    assert_eq!(during.len(), rows.len());
    for (tenant, ratio) in &during {
        if affected.contains(tenant) {
            assert!(*ratio > 0.02, "{tenant} during: {ratio}");
        } else {
            assert!(*ratio < 0.01, "{tenant} during: {ratio}");
        }
        assert!(
            before[tenant] < 0.01 && after[tenant] < 0.01,
            "{tenant} before/after"
        );
    }

    let (tickets, orgs, _, _) = full_export(&client, &sim, "1000").await;
    let tenant_of_org: BTreeMap<i64, &str> = orgs
        .iter()
        .map(|o| {
            let name = o["name"].as_str().expect("name");
            let row = rows
                .iter()
                .find(|r| r["desk_org"] == name)
                .expect("org in accounts");
            (o["id"].as_i64().expect("id"), row["tenant"].as_str())
        })
        .collect();
    let wave: Vec<&Value> = tickets
        .iter()
        .filter(|t| tags(t).contains(&"incident"))
        .collect();
    assert!((10..=20).contains(&wave.len()), "wave of {}", wave.len());
    for t in wave {
        assert!(tags(t).contains(&"feature_api"));
        assert!(matches!(t["priority"].as_str(), Some("high" | "urgent")));
        let tenant = tenant_of_org[&t["organization_id"].as_i64().expect("org")];
        assert!(affected.contains(tenant), "{tenant}");
    }
}

#[tokio::test]
async fn prometheus_answers_default_queries_in_the_past_and_rejects_the_rest() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let now = jiff::Timestamp::now().as_second();
    let week_ago = (now - 7 * 86_400).to_string();
    let (status, body) = prom(
        &client,
        &sim,
        "/api/v1/query",
        &[
            ("query", "max by (tenant) (active_users)"),
            ("time", &week_ago),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["resultType"], "vector");
    let result = body["data"]["result"].as_array().expect("result");
    assert_eq!(result.len(), accounts(&sim).len());
    assert!(
        result
            .iter()
            .all(|s| s["value"][1].is_string() && s["value"][0].is_number())
    );

    let error_ratio = r#"sum by (tenant)(rate(http_requests_total{code=~"5.."}[5m]))
        / sum by (tenant)(rate(http_requests_total[5m]))"#;
    let (start, end) = ((now - 7 * 86_400).to_string(), now.to_string());
    let (status, body) = prom(
        &client,
        &sim,
        "/api/v1/query_range",
        &[
            ("query", error_ratio),
            ("start", &start),
            ("end", &end),
            ("step", "1h"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["resultType"], "matrix");
    assert_eq!(
        body["data"]["result"][0]["values"].as_array().map(Vec::len),
        Some(169)
    );

    // Form-encoded POST, as large queries are sent.
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("query", "histogram_quantile(0.99, sum by (tenant, le) (rate(http_request_duration_seconds_bucket[5m])))")
        .finish();
    let response = client
        .post(url(&sim, "/api/v1/query", &[]))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    let p99: f64 = body["data"]["result"][0]["value"][1]
        .as_str()
        .expect("value")
        .parse()
        .expect("float");
    assert!(p99 > 0.05 && p99 < 1.0, "baseline p99 {p99}");

    let (status, body) = prom(&client, &sim, "/api/v1/query", &[("query", "up")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (body["status"].as_str(), body["errorType"].as_str()),
        (Some("error"), Some("bad_data"))
    );
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("unsupported query"))
    );

    let (status, body) = prom(
        &client,
        &sim,
        "/api/v1/query_range",
        &[
            ("query", error_ratio),
            ("start", &start),
            ("end", &end),
            ("step", "10s"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("exceeded maximum resolution")),
        "{body}"
    );
    let (status, body) = prom(
        &client,
        &sim,
        "/api/v1/query",
        &[
            ("query", "max by (tenant) (active_users)"),
            ("time", "yesterday"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["errorType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_data"))
    );
    // The future has no samples yet.
    let tomorrow = (now + 86_400).to_string();
    let (_, body) = prom(
        &client,
        &sim,
        "/api/v1/query",
        &[
            ("query", "max by (tenant) (active_users)"),
            ("time", &tomorrow),
        ],
    )
    .await;
    assert_eq!(body["data"]["result"], Value::Array(Vec::new()));
}

#[tokio::test]
async fn zendesk_and_pagerduty_require_auth() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let export = url(
        &sim,
        "/api/v2/incremental/tickets/cursor",
        &[("start_time", "0"), ("per_page", "1")],
    );
    for request in [
        client.get(export.clone()),
        client
            .get(export.clone())
            .basic_auth("cre@example.com", Some("password")),
        client.get(export.clone()).bearer_auth("token"),
    ] {
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "Couldn't authenticate you");
    }
    let response = zendesk(client.get(export)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-rate-limit"], "700");
    let remaining: u32 = response.headers()["x-rate-limit-remaining"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number");
    assert!(remaining < 700);

    for request in [
        client.get(url(&sim, "/incidents", &[])),
        client.get(url(&sim, "/incidents", &[])).bearer_auth("x"),
    ] {
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], 2006);
    }
}

#[tokio::test]
async fn pagerduty_lists_pages_and_takes_notes() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let (status, body) = pd_get(&client, &sim, "/incidents", &[("total", "true")]).await;
    assert_eq!(status, StatusCode::OK);
    let incidents = body["incidents"].as_array().expect("incidents");
    assert_eq!(
        incidents.len(),
        1,
        "only the background incident before the scripted one: {body}"
    );
    assert_eq!(body["total"], 1);
    assert_eq!(body["more"], false);
    let background = &incidents[0];
    assert_eq!(
        (
            background["urgency"].as_str(),
            background["priority"]["name"].as_str()
        ),
        (Some("low"), Some("P3"))
    );
    assert_eq!(background["service"]["type"], "service_reference");
    assert!(
        background["html_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&sim.base_url()))
    );

    let (status, body) = pd_get(
        &client,
        &sim,
        "/incidents",
        &[("offset", "9990"), ("limit", "25")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 2001);
    assert_eq!(
        body["error"]["errors"][0],
        "Offset must be less than 10000."
    );

    let (_, body) = pd_get(&client, &sim, "/incidents", &[("statuses[]", "resolved")]).await;
    assert_eq!(body["incidents"], Value::Array(Vec::new()));

    let id = background["id"].as_str().expect("id");
    let notes = url(&sim, &format!("/incidents/{id}/notes"), &[]);
    let note = serde_json::json!({"note": {"content": "Customer update sent to 3 accounts"}});
    let response = client
        .post(notes.clone())
        .header("Authorization", "Token token=t")
        .json(&note)
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "From is required"
    );
    let response = client
        .post(notes)
        .header("Authorization", "Token token=t")
        .header("From", "cre@example.com")
        .json(&note)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let (_, listed) = pd_get(&client, &sim, &format!("/incidents/{id}/notes"), &[]).await;
    let last = listed["notes"]
        .as_array()
        .and_then(|n| n.last())
        .expect("notes");
    assert_eq!(last["content"], "Customer update sent to 3 accounts");
    assert!(last["user"]["summary"].is_string() && last["channel"]["summary"].is_string());
    let (status, _) = pd_get(&client, &sim, "/incidents/QNOSUCHINCIDENT", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_hundred_thousand_tickets_are_served_in_pages() {
    let sim = start(SimOptions {
        tickets: 100_000,
        ..SimOptions::default()
    })
    .await;
    let client = Client::new();
    let params = [("start_time", "0"), ("include", "users,organizations")];
    let (status, first) = zd_get(
        &client,
        &sim,
        "/api/v2/incremental/tickets/cursor.json",
        &params,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["tickets"].as_array().map(Vec::len), Some(1000));
    assert_eq!(first["end_of_stream"], false);
    let cursor = first["after_cursor"].as_str().expect("cursor");
    let (_, second) = zd_get(
        &client,
        &sim,
        "/api/v2/incremental/tickets/cursor.json",
        &[("cursor", cursor)],
    )
    .await;
    let second = second["tickets"].as_array().expect("tickets");
    assert_eq!(second.len(), 1000);
    assert!(second[0]["id"] != first["tickets"][0]["id"]);
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let client = Client::new();
    let sim = start(SimOptions::default()).await;
    let probe = url(&sim, "/-/healthy", &[]);
    assert!(client.get(probe.clone()).send().await.is_ok());
    sim.shutdown().await;
    assert!(Client::new().get(probe).send().await.is_err());

    let sim = start(SimOptions::default()).await;
    let probe = url(&sim, "/-/healthy", &[]);
    drop(sim);
    eventually("the dropped server to stop", || async {
        Client::new()
            .get(probe.clone())
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_export_sideloads_reply_counts_and_live_sla_state_like_zendesk() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let (status, page) = zd_get(
        &client,
        &sim,
        "/api/v2/incremental/tickets/cursor",
        &[
            ("start_time", "0"),
            ("per_page", "200"),
            ("include", "metric_sets,slas"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let tickets = page["tickets"].as_array().expect("tickets");
    let sets = page["metric_sets"]
        .as_array()
        .expect("metric_sets sideload");
    assert_eq!(sets.len(), tickets.len(), "one metric set per ticket");
    let mut active = 0;
    for t in tickets {
        let metrics = t["slas"]["policy_metrics"].as_array().expect("slas");
        let Some(m) = metrics.first() else {
            assert!(
                t["priority"].is_null(),
                "only tickets without a priority match no policy"
            );
            continue;
        };
        let replies = sets
            .iter()
            .find(|s| s["ticket_id"] == t["id"])
            .and_then(|s| s["replies"].as_u64())
            .expect("replies");
        let expected = if replies == 0 {
            "first_reply_time"
        } else {
            "next_reply_time"
        };
        assert_eq!(m["metric"], expected, "{t}");
        let stage = m["stage"].as_str().expect("stage");
        if stage == "active" {
            active += 1;
            assert!(matches!(t["status"].as_str(), Some("new" | "open")), "{t}");
            unix(m["breach_at"].as_str().expect("breach_at"));
        }
    }
    assert!(active > 0, "some clocks are running");
    let (status, policies) = zd_get(&client, &sim, "/api/v2/slas/policies", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = policies["sla_policies"][0]["policy_metrics"]
        .as_array()
        .expect("policy metrics");
    assert_eq!(metrics.len(), 8, "first and next reply for four priorities");
    assert!(metrics.iter().all(|m| m["business_hours"].is_boolean()));
}

/// The KPIs read first-reply and solve times from the metric sets: they
/// must agree with the conversation the same simulator serves.
#[tokio::test]
async fn metric_sets_agree_with_the_conversation_on_first_reply_and_solve_time() {
    let sim = start(SimOptions::default()).await;
    let client = Client::new();
    let (_, page) = zd_get(
        &client,
        &sim,
        "/api/v2/incremental/tickets/cursor",
        &[
            ("start_time", "0"),
            ("per_page", "300"),
            ("include", "metric_sets"),
        ],
    )
    .await;
    let tickets = page["tickets"].as_array().expect("tickets");
    let sets = page["metric_sets"].as_array().expect("metric_sets");
    let (mut replied, mut solved) = (0, 0);
    for t in tickets.iter().take(60) {
        let set = sets
            .iter()
            .find(|s| s["ticket_id"] == t["id"])
            .expect("a metric set per ticket");
        let (_, conversation) = zd_get(
            &client,
            &sim,
            &format!("/api/v2/tickets/{}/comments", t["id"]),
            &[],
        )
        .await;
        let first_reply = conversation["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .skip(1)
            .find(|c| c["public"] == true && c["author_id"] != t["requester_id"])
            .map(|c| unix(c["created_at"].as_str().expect("created_at")));
        let minutes = set["reply_time_in_minutes"]["calendar"].as_i64();
        match first_reply {
            Some(at) => {
                replied += 1;
                let created = unix(t["created_at"].as_str().expect("created_at"));
                assert_eq!(minutes, Some((at - created) / 60), "{t} {set}");
            }
            None => assert_eq!(minutes, None, "no reply, no reply time: {set}"),
        }
        if is_open(t) {
            assert_eq!(set["reopens"], 0, "{set}");
        } else {
            solved += 1;
            let at = unix(
                set["solved_at"]
                    .as_str()
                    .expect("solved tickets have solved_at"),
            );
            assert!(at <= unix(t["updated_at"].as_str().expect("updated_at")));
        }
    }
    assert!(
        replied > 0 && solved > 0,
        "{replied} replied, {solved} solved"
    );
}

/// Every ticket the simulated desk serves is valid against the pinned spec
/// where Zendesk itself is lax (no `null` for `recipient`, `forum_topic_id`,
/// `satisfaction_rating` or a custom field's value), and carries what real
/// teams configure: custom fields, custom statuses, satisfaction ratings,
/// which the real adapter then reads.
#[tokio::test]
async fn tickets_carry_custom_fields_statuses_and_ratings_the_adapter_reads() {
    use cre_cockpit::config::{DeskConfig, DeskKind};
    use cre_cockpit::sources::DeskSource;
    use cre_cockpit::sources::http::{self, Secret};
    use cre_cockpit::sources::zendesk::Zendesk;

    let sim = start(SimOptions {
        anchor: Some(ANCHOR),
        ..SimOptions::default()
    })
    .await;
    let client = Client::new();
    let (tickets, _, _, _) = full_export(&client, &sim, "1000").await;
    assert!(!tickets.is_empty());
    let (mut rated, mut custom_status) = (0, 0);
    for t in &tickets {
        assert!(t["recipient"].is_string(), "{t}");
        assert!(t.get("forum_topic_id").is_none_or(Value::is_u64), "{t}");
        assert!(t["satisfaction_rating"].is_object(), "{t}");
        assert!(t["custom_status_id"].is_u64(), "{t}");
        for f in t["custom_fields"].as_array().expect("custom_fields") {
            assert!(f["id"].is_u64() && !f["value"].is_null(), "{f}");
        }
        if matches!(
            t["satisfaction_rating"]["score"].as_str(),
            Some("good" | "bad")
        ) {
            rated += 1;
        }
        if t["custom_status_id"].as_u64().is_some_and(|id| id > 5) {
            custom_status += 1;
        }
    }
    assert!(rated > 0, "some solved tickets were rated");
    for path in ["/api/v2/ticket_fields", "/api/v2/custom_statuses.json"] {
        let (status, body) = zd_get(&client, &sim, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }

    let config = DeskConfig {
        email: Some("cre@example.com".into()),
        feature_field: Some("Product area".into()),
        segment_field: Some("plan".into()),
        ..DeskConfig::new(DeskKind::Zendesk, sim.base_url().to_owned())
    };
    let mut desk = Zendesk::new(http::client(), &config, Secret::new("secret")).expect("adapter");
    let update = desk.poll().await.expect("poll");
    let open: Vec<_> = update
        .changed
        .iter()
        .filter(|i| i.status.is_open())
        .collect();
    assert!(
        open.iter().any(|i| i.feature_area.as_deref() == Some("SSO")
            || i.feature_area.as_deref() == Some("API")),
        "option names, not tags"
    );
    assert!(
        open.iter().all(|i| i.desk.segment.is_some()),
        "every ticket has a plan"
    );
    assert!(
        update.changed.iter().any(|i| i.desk.satisfaction.is_some()),
        "ratings read"
    );
    let labelled = update
        .changed
        .iter()
        .filter(|i| i.desk.status_label.as_deref() == Some("Waiting on engineering"))
        .count();
    assert_eq!(labelled, custom_status, "each custom status is named");
    let coverage = desk.field_coverage();
    assert_eq!(coverage[0].setting, "feature_field");
    assert!(
        coverage[0].with_value < coverage[0].inquiries && coverage[0].with_value > 0,
        "some tickets have no area: {coverage:?}"
    );
    assert_eq!(coverage[1].with_value, coverage[1].inquiries);
}

// ---- through the cockpit's own adapters ---------------------------------------

/// The demo config for `sim` and one poll of every source through the real
/// adapters into a fresh model.
async fn poll_through_adapters(
    sim: &Simulator,
    dir: &std::path::Path,
) -> cre_cockpit::model::Model {
    use cre_cockpit::app::wiring::Sources;
    let (config, secrets) =
        cre_cockpit::cli::demo::config(sim, dir, Duration::from_secs(5)).expect("demo config");
    let sources =
        Sources::build(&config, secrets, &cre_cockpit::sources::http::client()).expect("sources");
    let mut model = cre_cockpit::model::Model::new(
        config.settings(true),
        sources.states(),
        jiff::Timestamp::now(),
    );
    for message in sources.poll_once().await {
        model.update(message);
    }
    for s in &model.sources {
        assert!(s.last_error.is_none(), "{}: {:?}", s.kind, s.last_error);
    }
    model
}

fn inquiry<'a>(
    model: &'a cre_cockpit::model::Model,
    id: &str,
) -> &'a cre_cockpit::core::domain::Inquiry {
    model
        .data
        .inquiries
        .iter()
        .find(|i| i.id == id)
        .expect("the inquiry is still open")
}

#[tokio::test]
async fn a_private_note_keeps_the_reply_clock_and_a_public_reply_restarts_it() {
    use cre_cockpit::core::domain::{InquiryStatus, SlaMetric};
    let sim = start(SimOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let before = poll_through_adapters(&sim, dir.path()).await;
    let target = before
        .data
        .inquiries
        .iter()
        .find(|i| {
            i.status == InquiryStatus::Open
                && i.sla
                    .as_ref()
                    .is_some_and(|s| s.metric == SlaMetric::NextReply)
        })
        .expect("an open inquiry waiting for a next reply");
    let id = target.id.to_string();
    let due = target.sla.as_ref().map(|s| s.due).expect("a clock");
    let client = Client::new();
    let put = |public: bool, body: &str| {
        let update = serde_json::json!({"ticket": {"comment": {"body": body, "public": public}}});
        zendesk(client.put(url(&sim, &format!("/api/v2/tickets/{id}.json"), &[]))).json(&update)
    };
    // Whole seconds apart, so a restarted clock would show.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = put(false, "Checked the logs; nothing for the customer yet")
        .send()
        .await;
    assert_eq!(response.expect("request").status(), StatusCode::OK);
    let after_note = poll_through_adapters(&sim, dir.path()).await;
    let noted = inquiry(&after_note, &id);
    assert!(
        noted.updated_at > target.updated_at,
        "the note updated the ticket"
    );
    assert_eq!(
        noted.sla.as_ref().map(|s| s.due),
        Some(due),
        "a private note must not restart the next-reply clock"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = put(true, "We found the cause and are rolling out a fix.")
        .send()
        .await;
    assert_eq!(response.expect("request").status(), StatusCode::OK);
    let after_reply = poll_through_adapters(&sim, dir.path()).await;
    let replied = inquiry(&after_reply, &id);
    let new_due = replied.sla.as_ref().map(|s| s.due).expect("a clock");
    assert!(
        new_due > due,
        "a public reply restarts the clock: {due} → {new_due}"
    );
}

#[tokio::test]
async fn pagerduty_oncalls_give_the_open_incidents_their_escalation_level() {
    let sim = start(SimOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let model = poll_through_adapters(&sim, dir.path()).await;
    let open: Vec<_> = model
        .data
        .incidents
        .iter()
        .filter(|i| i.is_open())
        .collect();
    assert!(!open.is_empty());
    for incident in open {
        assert_eq!(
            incident.details.get("escalation level").map(String::as_str),
            Some("1"),
            "{}: {:?}",
            incident.title,
            incident.details
        );
    }
    // Filtered and paged as PagerDuty does.
    let (status, page) = pd_get(&Client::new(), &sim, "/oncalls", &[("limit", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["oncalls"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["more"], true);
    let user = page["oncalls"][0]["user"]["id"]
        .as_str()
        .expect("user id")
        .to_owned();
    let (_, mine) = pd_get(&Client::new(), &sim, "/oncalls", &[("user_ids[]", &user)]).await;
    let mine = mine["oncalls"].as_array().expect("oncalls");
    assert!(!mine.is_empty() && mine.iter().all(|o| o["user"]["id"] == user.as_str()));
}

#[tokio::test]
async fn during_the_incident_ratio_burn_and_verdict_tell_one_story() {
    use cre_cockpit::insight::slo::BurnLevel;
    // 60×: the incident starts a second in; poll until ten scenario
    // minutes into it, when the fast page rule (1 h and 5 m) has had time.
    let sim = start(SimOptions {
        speed: 60.0,
        incident_after: Duration::from_secs(60),
        ..SimOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    tokio::time::sleep(Duration::from_secs(12)).await;
    let model = poll_through_adapters(&sim, dir.path()).await;
    let incident = model
        .data
        .incidents
        .iter()
        .find(|i| i.is_open() && i.title.contains("tenants:"))
        .expect("the API incident is open");
    let hit: BTreeSet<String> = incident
        .title
        .split("tenants: ")
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches(')')
        .split(", ")
        .map(str::to_owned)
        .collect();
    let metrics = &model.data.metrics;
    let report = metrics.slos.first().expect("the demo's SLO");
    let target = report.target;
    for (tenant, m) in &metrics.by_tenant {
        let ratio = m.error_ratio.expect("an error ratio");
        let state = report
            .by_tenant
            .get(tenant)
            .expect("an SLO state per tenant");
        let five = state
            .windows
            .iter()
            .find(|w| w.window == "5m")
            .and_then(|w| w.burn_rate)
            .expect("a 5m burn");
        // The burn rate is the same series' ratio over the budget. The
        // metrics poll rounds error ratios to 0.0001 on the server (a tenth
        // of the 0.1 % shown), so a background tenant's ratio may be off by
        // half a step: against a 99.99 % budget that is 0.5×.
        // Background tenants (a few thousandths of a percent) are checked
        // by their verdict below: there the 5 m window's noise and the
        // rounding are as large as the ratio itself.
        let expected = ratio / (1.0 - target);
        let rounding = 0.000_05 / (1.0 - target);
        assert!(
            ratio < 0.001 || (five - expected).abs() <= 0.3 * expected.max(1.0) + rounding,
            "{tenant}: 5m burn {five:.1}× but error ratio {ratio} means {expected:.1}×"
        );
        if hit.contains(tenant) {
            assert!(ratio > 0.02, "{tenant} is hit: {ratio}");
            assert_ne!(
                state.level,
                BurnLevel::Ok,
                "{tenant}: {:.1} % errors and a {five:.0}× burn, yet the SLO says OK ({})",
                ratio * 100.0,
                state.reason
            );
        } else {
            // Within the budget, give or take the half step of rounding.
            assert!(
                ratio < 1.0 - target + 0.000_05,
                "{tenant} is not hit: {ratio}"
            );
            assert_eq!(state.level, BurnLevel::Ok, "{tenant}: {}", state.reason);
        }
    }
}

#[tokio::test]
async fn the_30_day_budget_does_not_flicker_between_polls() {
    // A 30-day window with coarse slices counted the 30-minute incident
    // zero or thirty times over depending on where "now" fell.
    let sim = start(SimOptions {
        speed: 600.0,
        incident_after: Duration::from_secs(60),
        ..SimOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    // 600×: the incident (about 30 scenario minutes) is over after ~4 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut budgets: Vec<BTreeMap<String, f64>> = Vec::new();
    // Tenants erring in any poll: a later scenario event (a poll under load
    // can be ten scenario minutes after the last) really spends budget.
    let mut erring: BTreeSet<String> = BTreeSet::new();
    for _ in 0..3 {
        let model = poll_through_adapters(&sim, dir.path()).await;
        erring.extend(
            model
                .data
                .metrics
                .by_tenant
                .iter()
                .filter(|(_, m)| m.error_ratio.is_some_and(|r| r >= 0.001))
                .map(|(t, _)| t.clone()),
        );
        let report = model
            .data
            .metrics
            .slos
            .first()
            .expect("the demo's SLO")
            .clone();
        budgets.push(
            report
                .by_tenant
                .iter()
                .filter_map(|(t, s)| Some((t.clone(), s.budget_remaining?)))
                .collect(),
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    for budget in &budgets {
        assert!(budget.len() >= 30, "budgets for {} tenants", budget.len());
    }
    for (tenant, first) in budgets[0].iter().filter(|(t, _)| !erring.contains(*t)) {
        for later in &budgets[1..] {
            let Some(&b) = later.get(tenant) else {
                continue;
            };
            assert!(
                (b - first).abs() < 0.05,
                "{tenant}: budget left {first:.3} then {b:.3}"
            );
        }
    }
}

/// `demo --simulator` reads the accounts export before its first frame, and
/// asks for gzip as every source does: the simulator answers from a copy
/// compressed once, identical to the plain export once inflated.
#[tokio::test]
async fn accounts_export_is_served_gzipped_when_asked_and_equals_the_plain_one() {
    use std::io::Read as _;
    let sim = start(SimOptions::default()).await;
    let client = Client::builder().no_gzip().build().expect("client");
    let get = |gzip: bool| {
        let mut request = client.get(url(&sim, "/accounts.csv", &[]));
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        request.send()
    };
    let plain = get(false).await.expect("request");
    assert_eq!(plain.headers().get("content-encoding"), None);
    let plain = plain.bytes().await.expect("body");
    assert_eq!(&plain[..], sim.accounts_csv().as_bytes());

    let zipped = get(true).await.expect("request");
    assert_eq!(
        zipped
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    let zipped = zipped.bytes().await.expect("body");
    assert!(zipped.len() < plain.len() / 2, "{} bytes", zipped.len());
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut inflated)
        .expect("one gzip stream, not compressed twice");
    assert_eq!(inflated, plain);
}
