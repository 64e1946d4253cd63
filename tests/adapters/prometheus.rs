//! Prometheus: instant queries, the week-ago query, the error-ratio range.

use cre_cockpit::insight::slo;
use cre_cockpit::sources::MetricsSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::prometheus::Prometheus;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "prom-secret-456";

fn adapter(server: &MockServer, token: Option<&str>) -> Prometheus {
    let config = super::config(&format!(
        "[metrics]\nkind = \"prometheus\"\nurl = \"{}\"\ntenant_label = \"customer\"\n\
         [metrics.queries]\nerror_ratio = \"err_q\"\nrequest_rate = \"rate_q\"\n\
         active_users = \"users_q\"\nlatency_p99 = \"lat_q\"\nfeature_usage = \"feat_q\"\n",
        server.uri()
    ));
    let metrics = config.metrics.expect("metrics section");
    Prometheus::new(http::client(), &metrics, token.map(Secret::new)).expect("adapter")
}

fn now() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

fn param(request: &Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// True for an instant query evaluated about a week ago.
fn week_ago(request: &Request) -> bool {
    param(request, "time")
        .and_then(|t| t.parse::<f64>().ok())
        .is_some_and(|t| (now() - t - 7.0 * 86_400.0).abs() < 120.0)
}

fn vector(series: &[(&str, &str)]) -> Value {
    let result: Vec<Value> = series
        .iter()
        .map(|(tenant, value)| {
            json!({"metric": {"customer": tenant, "job": "api"}, "value": [1_795_220_413.844, value]})
        })
        .collect();
    json!({"status": "success", "data": {"resultType": "vector", "result": result}})
}

async fn mount_instant(server: &MockServer, query: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(query_param("query", query))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// A healthy server; `error_ratio` may be replaced by a failure.
async fn healthy(server: &MockServer, error_ratio: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(query_param("query", "err_q"))
        .respond_with(error_ratio)
        .mount(server)
        .await;
    let mut rate = vector(&[("acme", "120.5"), ("globex", "3")]);
    rate["data"]["result"]
        .as_array_mut()
        .expect("array")
        .push(json!({"metric": {"job": "api"}, "value": [1_795_220_413, "9"]}));
    mount_instant(server, "rate_q", rate).await;
    // Mounted first so it wins over the "now" answer for the same query.
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(query_param("query", "users_q"))
        .and(week_ago)
        .respond_with(ResponseTemplate::new(200).set_body_json(vector(&[("acme", "50")])))
        .mount(server)
        .await;
    mount_instant(
        server,
        "users_q",
        vector(&[("acme", "40"), ("globex", "7")]),
    )
    .await;
    mount_instant(server, "lat_q", vector(&[])).await;
    mount_instant(server, "feat_q", vector(&[("acme", "4")])).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query_range"))
        .and(query_param("query", "users_q"))
        .and(query_param("step", "86400"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": {"resultType": "matrix", "result": [
                {"metric": {"customer": "acme"}, "values": [[1_795_000_000, "30"], [1_795_086_400, "41"]]}
            ]}
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query_range"))
        .and(query_param("query", "err_q"))
        .and(query_param("step", "3600"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": {"resultType": "matrix", "result": [
                {"metric": {"customer": "acme"},
                 "values": [[1_795_000_000, "0.01"], [1_795_003_600, "NaN"], [1_795_007_200, "0.03"]]},
                {"metric": {"customer": "globex"}, "values": [[1_795_000_000, "0"], [1_795_003_600, "0.5"]]}
            ]}
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn poll_groups_by_tenant_and_handles_nan_inf_empty_and_warnings() {
    let server = MockServer::start().await;
    let mut ratio = vector(&[("acme", "0.02"), ("globex", "NaN"), ("initech", "+Inf")]);
    ratio["warnings"] = json!(["PromQL info: metric might not be a counter"]);
    healthy(&server, ResponseTemplate::new(200).set_body_json(ratio)).await;

    let snapshot = adapter(&server, Some(TOKEN)).poll().await.expect("poll");

    let acme = &snapshot.by_tenant["acme"];
    assert_eq!(acme.error_ratio, Some(0.02));
    assert_eq!(acme.request_rate, Some(120.5));
    assert_eq!(acme.active_users, Some(40.0));
    assert_eq!(
        acme.active_users_prev,
        Some(50.0),
        "from the query at now - 7d"
    );
    assert_eq!(acme.latency_p99, None, "empty result is absent, not zero");

    let globex = &snapshot.by_tenant["globex"];
    assert_eq!(globex.error_ratio, None, "NaN is not stored");
    assert_eq!(globex.request_rate, Some(3.0));
    assert_eq!(globex.active_users_prev, None);
    let initech = snapshot
        .by_tenant
        .get("initech")
        .cloned()
        .unwrap_or_default();
    assert_eq!(initech.error_ratio, None, "+Inf is not stored");

    assert_eq!(
        snapshot.error_history["acme"],
        vec![0.01, 0.03],
        "oldest first, NaN skipped"
    );
    assert_eq!(snapshot.error_history["globex"], vec![0.0, 0.5]);

    let warnings = snapshot.warnings.join("\n");
    assert!(
        warnings.contains("error_ratio: PromQL info: metric might not be a counter"),
        "{warnings}"
    );
    assert!(
        warnings.contains("error_ratio: tenant globex: value NaN"),
        "{warnings}"
    );
    assert!(
        warnings.contains("error_ratio: tenant initech: value +Inf"),
        "{warnings}"
    );
    assert!(
        warnings.contains("error_history: tenant acme: 1 NaN/Inf"),
        "{warnings}"
    );
    assert!(
        warnings.contains("request_rate: 1 series without the \"customer\" label"),
        "{warnings}"
    );

    let received = server.received_requests().await.expect("recording on");
    // The mocks know each query alone: the combined query is refused (404)
    // and the signals are asked one by one.
    assert_eq!(
        received.len(),
        9,
        "a refused combined query, six instant queries and two ranges"
    );
    assert_eq!(acme.features_used, Some(4.0));
    assert_eq!(snapshot.active_users_history["acme"], vec![30.0, 41.0]);
    for request in &received {
        assert_eq!(
            request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    let range = received
        .iter()
        .find(|r| r.url.path() == "/api/v1/query_range")
        .expect("range query");
    let start: f64 = param(range, "start")
        .and_then(|s| s.parse().ok())
        .expect("start");
    let end: f64 = param(range, "end")
        .and_then(|s| s.parse().ok())
        .expect("end");
    assert_eq!(end - start, 167.0 * 3600.0, "a week of whole hours");
    assert_eq!(end % 3600.0, 0.0, "on the clock grid: {end}");
    assert!(end < now() && now() - end <= 3600.0, "the last whole hour");
    let instants = received
        .iter()
        .filter(|r| r.url.path() == "/api/v1/query" && r.method.as_str() == "GET");
    assert_eq!(instants.clone().filter(|r| week_ago(r)).count(), 1);
    assert!(
        instants.clone().all(|r| param(r, "time").is_some()),
        "instant queries pin their time"
    );
}

#[tokio::test]
async fn no_token_means_no_authorization_header() {
    let server = MockServer::start().await;
    healthy(
        &server,
        ResponseTemplate::new(200).set_body_json(vector(&[("acme", "0")])),
    )
    .await;
    adapter(&server, None).poll().await.expect("poll");
    let received = server.received_requests().await.expect("recording on");
    assert!(
        received
            .iter()
            .all(|r| r.headers.get("authorization").is_none())
    );
}

#[tokio::test]
async fn an_error_envelope_fails_the_poll_naming_the_signal() {
    let server = MockServer::start().await;
    healthy(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({
            "status": "error",
            "errorType": "bad_data",
            "error": "invalid parameter \"query\": 1:6: parse error: unclosed left parenthesis"
        })),
    )
    .await;
    let err = adapter(&server, Some(TOKEN))
        .poll()
        .await
        .expect_err("bad query");
    assert!(
        err.message.starts_with(
            "metrics: error_ratio query: bad_data: invalid parameter \"query\": 1:6: parse error"
        ),
        "{err}"
    );
    assert!(err.message.ends_with("(HTTP 400 Bad Request)"), "{err}");
}

#[tokio::test]
async fn an_error_envelope_with_status_200_is_still_an_error() {
    let server = MockServer::start().await;
    healthy(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "error", "errorType": "execution",
            "error": "many-to-one matching must be explicit (group_left/group_right)"
        })),
    )
    .await;
    let err = adapter(&server, None)
        .poll()
        .await
        .expect_err("execution error");
    assert_eq!(
        err.message,
        "metrics: error_ratio query: execution: many-to-one matching must be explicit (group_left/group_right)"
    );
}

#[tokio::test]
async fn a_scalar_answer_is_rejected_clearly() {
    let server = MockServer::start().await;
    healthy(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "data": {"resultType": "scalar", "result": [1_795_220_413, "1"]}
        })),
    )
    .await;
    let err = adapter(&server, None).poll().await.expect_err("scalar");
    assert!(
        err.message
            .contains("error_ratio query: expected a vector result, got scalar"),
        "{err}"
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
        let err = adapter(&server, Some(TOKEN)).poll().await.expect_err(label);
        super::check_failure(label, &err, "metrics: ", needle, retry, TOKEN);
        assert!(
            err.message.contains(" query: "),
            "{label}: names the signal: {err}"
        );
    }
}

#[tokio::test]
async fn optional_queries_that_fail_leave_warnings_not_a_failed_poll() {
    let server = MockServer::start().await;
    healthy(
        &server,
        ResponseTemplate::new(200).set_body_json(vector(&[("acme", "0.02")])),
    )
    .await;
    // feature usage and every SLO count answer 400 bad_data.
    let bad = ResponseTemplate::new(400).set_body_json(json!({
        "status": "error", "errorType": "bad_data", "error": "parse error: unexpected }"
    }));
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .respond_with(bad)
        .mount(&server)
        .await;
    let config = super::config(&format!(
        "[metrics]\nkind = \"prometheus\"\nurl = \"{}\"\ntenant_label = \"customer\"\n\
         [metrics.queries]\nerror_ratio = \"err_q\"\nrequest_rate = \"rate_q\"\n\
         active_users = \"users_q\"\nlatency_p99 = \"lat_q\"\nfeature_usage = \"broken_q\"\n\
         [[slo]]\nservice = \"api\"\ntarget = 0.999\ngood = \"good[{{{{window}}}}]\"\nvalid = \"valid[{{{{window}}}}]\"\n",
        server.uri()
    ));
    let mut adapter = Prometheus::new(http::client(), config.metrics.as_ref().unwrap(), None)
        .unwrap()
        .with_slos(&config.slo);
    let mut snapshot = adapter
        .snapshot_at(jiff::Timestamp::now())
        .await
        .expect("poll");
    slo::judge(&mut snapshot);
    assert_eq!(snapshot.by_tenant["acme"].error_ratio, Some(0.02));
    assert_eq!(snapshot.by_tenant["acme"].features_used, None);
    assert!(
        snapshot.slos.is_empty(),
        "an SLO without counts is not reported"
    );
    let warnings = snapshot.warnings.join("\n");
    assert!(
        warnings.contains("feature_usage query: bad_data: parse error"),
        "{warnings}"
    );
    assert!(warnings.contains("slo api: not evaluated"), "{warnings}");
}

/// The range queries a server received, as (query, start, end).
async fn ranges(server: &MockServer) -> Vec<(String, i64, i64)> {
    let received = server.received_requests().await.expect("recording on");
    received
        .iter()
        .filter(|r| r.url.path() == "/api/v1/query_range")
        .map(|r| {
            let at = |key| param(r, key).and_then(|v| v.parse().ok()).expect(key);
            (param(r, "query").expect("query"), at("start"), at("end"))
        })
        .collect()
}

/// Poll `adapter` as of `at` against a freshly mounted healthy server
/// (so `ranges` sees only this poll's requests).
async fn poll_afresh(
    server: &MockServer,
    adapter: &mut Prometheus,
    at: &str,
) -> cre_cockpit::core::domain::MetricsSnapshot {
    server.reset().await;
    healthy(
        server,
        ResponseTemplate::new(200).set_body_json(vector(&[("acme", "0.02")])),
    )
    .await;
    adapter
        .snapshot_at(at.parse().expect("timestamp"))
        .await
        .expect("poll")
}

#[tokio::test]
async fn histories_are_fetched_once_per_clock_grid_point_and_then_extended() {
    let server = MockServer::start().await;
    let mut adapter = adapter(&server, None);
    let hour = |raw: &str| {
        raw.parse::<jiff::Timestamp>()
            .expect("timestamp")
            .as_second()
    };

    // First poll: the whole week up to the last whole hour, the whole month
    // up to the last midnight.
    let first = poll_afresh(&server, &mut adapter, "2026-11-21T10:30:00Z").await;
    assert_eq!(
        ranges(&server).await,
        [
            (
                "err_q".to_owned(),
                hour("2026-11-14T11:00:00Z"),
                hour("2026-11-21T10:00:00Z")
            ),
            (
                "users_q".to_owned(),
                hour("2026-10-23T00:00:00Z"),
                hour("2026-11-21T00:00:00Z")
            ),
        ]
    );
    assert_eq!(first.error_history["acme"], vec![0.01, 0.03]);

    // Same hour: nothing new is due, no range query, same histories.
    let quiet = poll_afresh(&server, &mut adapter, "2026-11-21T10:59:59Z").await;
    assert_eq!(ranges(&server).await, []);
    assert_eq!(quiet.error_history, first.error_history);
    assert_eq!(quiet.active_users_history, first.active_users_history);

    // Past the hour: only the new point is asked for, and appended.
    let next = poll_afresh(&server, &mut adapter, "2026-11-21T11:00:01Z").await;
    let eleven = hour("2026-11-21T11:00:00Z");
    assert_eq!(
        ranges(&server).await,
        [("err_q".to_owned(), eleven, eleven)]
    );
    assert_eq!(
        next.error_history["acme"],
        vec![0.01, 0.03, 0.01, 0.03],
        "the answer to the new hour appended (the mock repeats itself)"
    );
    assert_eq!(next.error_history["globex"], vec![0.0, 0.5, 0.0, 0.5]);
    assert_eq!(next.active_users_history, first.active_users_history);

    // After a gap longer than the window, the whole week is read afresh.
    let later = poll_afresh(&server, &mut adapter, "2026-12-01T09:15:00Z").await;
    assert_eq!(later.error_history["acme"], vec![0.01, 0.03]);
    assert_eq!(
        ranges(&server).await.len(),
        2,
        "both histories read whole again"
    );
}

#[tokio::test]
async fn slo_windows_are_asked_again_only_once_they_may_have_moved() {
    let server = MockServer::start().await;
    let config = super::config(&format!(
        "[metrics]\nkind = \"prometheus\"\nurl = \"{}\"\n\
         [metrics.queries]\nerror_ratio = \"\"\nrequest_rate = \"\"\nactive_users = \"\"\n\
         latency_p99 = \"\"\nfeature_usage = \"\"\n\
         [[slo]]\nservice = \"api\"\ntarget = 0.99\nwindow = \"30d\"\n\
         good = 'good[{{{{window}}}}]'\nvalid = 'valid[{{{{window}}}}]'\n",
        server.uri()
    ));
    let count = |v: &str| {
        json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"tenant": "acme"}, "value": [1_795_220_413, v]}
        ]}})
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(|r: &Request| param(r, "query").is_some_and(|q| q.starts_with("good")))
        .respond_with(ResponseTemplate::new(200).set_body_json(count("990")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .and(|r: &Request| param(r, "query").is_some_and(|q| q.starts_with("valid")))
        .respond_with(ResponseTemplate::new(200).set_body_json(count("1000")))
        .mount(&server)
        .await;
    let mut adapter = Prometheus::new(http::client(), config.metrics.as_ref().unwrap(), None)
        .expect("adapter")
        .with_slos(&config.slo);
    let windows_asked = |received: &[Request]| {
        let mut windows: Vec<String> = received
            .iter()
            .filter_map(|r| param(r, "query"))
            .filter_map(|q| {
                q.strip_prefix("good[")
                    .map(|w| w.trim_end_matches(']').to_owned())
            })
            .collect();
        windows.sort();
        windows
    };
    let at = |raw: &str| raw.parse::<jiff::Timestamp>().expect("timestamp");

    let mut first = adapter
        .snapshot_at(at("2026-11-21T10:00:00Z"))
        .await
        .expect("poll");
    slo::judge(&mut first);
    let all = windows_asked(&server.received_requests().await.expect("recording on"));
    assert_eq!(all, ["1h", "30d", "30m", "3d", "5m", "6h"]);

    // 30 s later: only the windows of 3 h or less (30 s ≥ window / 360).
    // The mock now answers 1000 good of 1000 for whatever is asked.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_json(count("1000")))
        .mount(&server)
        .await;
    let mut second = adapter
        .snapshot_at(at("2026-11-21T10:00:30Z"))
        .await
        .expect("poll");
    slo::judge(&mut second);
    let again = windows_asked(&server.received_requests().await.expect("recording on"));
    assert_eq!(again, ["1h", "30m", "5m"]);
    // The budget comes from the 30-day window, which was kept (990 good of
    // 1000: the whole 1 % budget spent), not asked again (1000 of 1000).
    let budget =
        |s: &cre_cockpit::core::domain::MetricsSnapshot| s.by_tenant["acme"].error_budget_remaining;
    assert!(
        budget(&first).is_some_and(|b| b.abs() < 1e-9),
        "{:?}",
        budget(&first)
    );
    assert_eq!(budget(&second), budget(&first), "the 30 d counts were kept");
}

#[tokio::test]
async fn a_slow_server_times_out_after_the_configured_timeout() {
    let server = super::slow_server(vector(&[("acme", "0.02")])).await;
    let config = super::config(&format!(
        "[metrics]\nkind = \"prometheus\"\nurl = \"{}\"\ntimeout = \"1s\"\n",
        server.uri()
    ));
    let mut adapter =
        Prometheus::new(http::client(), config.metrics.as_ref().unwrap(), None).expect("adapter");
    let err = adapter
        .poll()
        .await
        .expect_err("a 10 s answer against a 1 s timeout");
    assert!(err.message.contains("timed out after 1s"), "{err}");
}

/// The form fields of a POSTed query.
fn form(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn the_signals_of_now_are_one_combined_request_split_by_tag() {
    let server = MockServer::start().await;
    // What Prometheus answers to the combined query: each part's series
    // carry the tag label_replace put on them.
    let tagged = |signal: &str, tenant: &str, value: &str| json!({"metric": {"customer": tenant, "cc_signal": signal}, "value": [1_795_220_413.844, value]});
    let body = json!({"status": "success", "data": {"resultType": "vector", "result": [
        tagged("error_ratio", "acme", "0.02"),
        tagged("request_rate", "acme", "120.5"),
        tagged("active_users", "acme", "40"),
        tagged("feature_usage", "acme", "4"),
        // A series with a tag no part set is not taken for any signal.
        tagged("latency", "acme", "9"),
    ]}});
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    mount_instant(&server, "users_q", vector(&[("acme", "50")])).await;
    Mock::given(path("/api/v1/query_range"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status": "success", "data": {"resultType": "matrix", "result": []}}),
        ))
        .mount(&server)
        .await;

    let snapshot = adapter(&server, None).poll().await.expect("poll");

    let acme = &snapshot.by_tenant["acme"];
    assert_eq!(acme.error_ratio, Some(0.02));
    assert_eq!(acme.request_rate, Some(120.5));
    assert_eq!(acme.active_users, Some(40.0));
    assert_eq!(acme.features_used, Some(4.0));
    assert_eq!(acme.latency_p99, None, "no series tagged latency_p99");
    assert_eq!(
        acme.active_users_prev,
        Some(50.0),
        "asked alone, a week ago"
    );

    let received = server.received_requests().await.expect("recording on");
    let posts: Vec<&Request> = received
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "one combined request for the five signals of now"
    );
    let fields = form(posts[0]);
    let query = fields
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.as_str())
        .expect("query field");
    assert_eq!(
        query,
        concat!(
            r#"label_replace(round((err_q), 0.0001), "cc_signal", "error_ratio", "", "")"#,
            r#" or label_replace(round((rate_q), 0.01), "cc_signal", "request_rate", "", "")"#,
            r#" or label_replace((users_q), "cc_signal", "active_users", "", "")"#,
            r#" or label_replace(round((lat_q), 0.0001), "cc_signal", "latency_p99", "", "")"#,
            r#" or label_replace((feat_q), "cc_signal", "feature_usage", "", "")"#,
        )
    );
    assert!(fields.iter().any(|(k, _)| k == "time"), "pinned to now");
    assert_eq!(
        received
            .iter()
            .filter(|r| r.url.path() == "/api/v1/query")
            .count(),
        2,
        "the combined query and the week-ago one; nothing asked twice"
    );
}
