//! Prometheus HTTP API subset: `/api/v1/query` and `/api/v1/query_range`
//! (GET or form POST) for the cockpit's default per-tenant queries and the
//! demo's SLO counts, plus the health endpoints.
//!
//! The simulator does not evaluate PromQL. It recognises the default queries
//! verbatim (ignoring whitespace) and answers from the scenario's metric
//! curves at the requested time; anything else is `bad_data`, so a changed
//! default shows up as a clear error instead of silently empty panes. An
//! instant query may also combine them the way the cockpit does,
//! `label_replace((<q>), "<label>", "<value>", "", "") or …`: each part's
//! series then carry that label, as Prometheus's would.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::scenario::Scenario;
use super::{Shared, pairs, param};

/// Prometheus refuses range queries with more points than this per series.
const MAX_POINTS: f64 = 11_000.0;
/// A sample this far ahead of the scenario's "now" does not exist yet; a
/// little slack absorbs clock rounding between the cockpit and the simulator.
const FUTURE_SLACK: f64 = 60.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    ErrorRatio,
    RequestRate,
    ActiveUsers,
    LatencyP99,
    FeatureUsage,
    /// Good events over a window of this many seconds.
    SloGood(u64),
    /// Valid events over a window of this many seconds.
    SloValid(u64),
}

/// The demo's SLO (see `crate::cli::demo`): availability of the `api` service,
/// counted from the same request series as the default queries.
pub(crate) const DEMO_SLO_GOOD: &str =
    r#"sum by (tenant) (increase(http_requests_total{code!~"5.."}[{{window}}]))"#;
pub(crate) const DEMO_SLO_VALID: &str =
    "sum by (tenant) (increase(http_requests_total[{{window}}]))";

const QUERIES: [(&str, Signal); 4] = [
    (
        r#"sum by (tenant) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (tenant) (rate(http_requests_total[5m]))"#,
        Signal::ErrorRatio,
    ),
    (
        "sum by (tenant) (rate(http_requests_total[5m]))",
        Signal::RequestRate,
    ),
    ("max by (tenant) (active_users)", Signal::ActiveUsers),
    (
        "histogram_quantile(0.99, sum by (tenant, le) (rate(http_request_duration_seconds_bucket[5m])))",
        Signal::LatencyP99,
    ),
];

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn recognise(query: &str) -> Option<Signal> {
    let query = squeeze(query);
    if let Some(signal) = QUERIES
        .iter()
        .find(|(q, _)| squeeze(q) == query)
        .map(|(_, s)| *s)
    {
        return Some(signal);
    }
    if query == squeeze(&crate::sources::config::QueryConfig::default().feature_usage) {
        return Some(Signal::FeatureUsage);
    }
    // The SLO templates, with whatever window the cockpit put in.
    for (template, signal) in [
        (DEMO_SLO_GOOD, Signal::SloGood as fn(u64) -> Signal),
        (DEMO_SLO_VALID, Signal::SloValid),
    ] {
        let template = squeeze(template);
        let (before, after) = template.split_once(crate::sources::config::WINDOW_PLACEHOLDER)?;
        if let Some(window) = query
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .and_then(|w| parse_step(w).ok())
            .filter(|w| *w > 0.0)
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Some(signal(window.round() as u64));
        }
    }
    None
}

impl Signal {
    fn value(self, sc: &Scenario, customer: usize, unix: f64) -> f64 {
        match self {
            Self::ErrorRatio => sc.error_ratio(customer, unix),
            Self::RequestRate => sc.request_rate(customer, unix),
            Self::ActiveUsers => sc.monthly_active_users(customer, unix),
            Self::LatencyP99 => sc.latency_p99(customer, unix),
            Self::FeatureUsage => sc.features_used(customer),
            #[allow(clippy::cast_precision_loss)]
            Self::SloGood(window) => sc.event_counts(customer, unix, window as f64).0,
            #[allow(clippy::cast_precision_loss)]
            Self::SloValid(window) => sc.event_counts(customer, unix, window as f64).1,
        }
    }
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/query", get(query).post(query))
        .route("/api/v1/query_range", get(query_range).post(query_range))
        .route(
            "/-/healthy",
            get(|| async { "Prometheus Server is Healthy.\n" }),
        )
        .route(
            "/-/ready",
            get(|| async { "Prometheus Server is Ready.\n" }),
        )
}

fn bad_data(message: &str) -> Response {
    let body = json!({"status": "error", "errorType": "bad_data", "error": message});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn success(result_type: &str, result: Vec<Value>) -> Response {
    axum::Json(json!({"status": "success", "data": {"resultType": result_type, "result": result}}))
        .into_response()
}

/// Query-string and (for form POSTs) body parameters, like Go's `FormValue`.
fn params(
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut all = pairs(query);
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST && form {
        // Prometheus gives body parameters precedence over the query string.
        let mut body_pairs = pairs(std::str::from_utf8(body).ok());
        body_pairs.append(&mut all);
        all = body_pairs;
    }
    all
}

fn parse_time(name: &str, raw: &str) -> Result<f64, String> {
    if let Ok(v) = raw.parse::<f64>()
        && v.is_finite()
    {
        return Ok(v);
    }
    raw.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond() as f64 / 1000.0)
        .map_err(|_| {
            format!("invalid parameter \"{name}\": cannot parse \"{raw}\" to a valid timestamp")
        })
}

/// Seconds as a float, or a Prometheus duration such as `30s`, `5m`, `1h30m`.
fn parse_step(raw: &str) -> Result<f64, String> {
    let err = || format!("invalid parameter \"step\": cannot parse \"{raw}\" to a valid duration");
    if let Ok(v) = raw.parse::<f64>() {
        return if v.is_finite() { Ok(v) } else { Err(err()) };
    }
    if raw.is_empty() {
        return Err(err());
    }
    let mut total = 0.0;
    let mut rest = raw;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().map_err(|_| err())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return Err(err()),
        };
        total += number * unit;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// The parts of `a or b or …`: split at each `or` outside parentheses and
/// string literals.
fn or_parts(query: &str) -> Vec<&str> {
    let bytes = query.as_bytes();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let mut parts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match (quote, c) {
            (Some(q), b'\\') if q != b'`' => i += 1,
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'' | b'`') => quote = Some(c),
            (None, b'(' | b'[' | b'{') => depth += 1,
            (None, b')' | b']' | b'}') => depth -= 1,
            (None, b'o')
                if depth == 0
                    && bytes.get(i + 1) == Some(&b'r')
                    && i > 0
                    && !is_word(bytes[i - 1])
                    && bytes.get(i + 2).is_none_or(|&n| !is_word(n)) =>
            {
                parts.push(&query[start..i]);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&query[start..]);
    parts
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// One part of a combined query: which query, the label it sets and its
/// value, and what `round` rounds it to.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    signal: Signal,
    tag: Option<(String, String)>,
    round: Option<f64>,
}

/// `label_replace(<q>, "<label>", "<value>", "", "")` (the source label and
/// regex empty: the label is set on every series), where `<q>` is a query,
/// `(<q>)` or `round((<q>), <step>)`: its query, label, value and step.
fn tagged(part: &str) -> Option<(String, String, String, Option<f64>)> {
    let squeezed = squeeze(part);
    let inner = squeezed
        .strip_prefix("label_replace(")?
        .strip_suffix(r#","","")"#)?;
    let (rest, value) = inner.strip_suffix('"')?.rsplit_once(r#",""#)?;
    let (query, label) = rest.strip_suffix('"')?.rsplit_once(r#",""#)?;
    let (query, round) = match query
        .strip_prefix("round(")
        .and_then(|q| q.strip_suffix(')'))
        .and_then(|q| q.rsplit_once(','))
    {
        Some((q, step)) => (q, Some(step.parse::<f64>().ok().filter(|s| *s > 0.0)?)),
        None => (query, None),
    };
    let query = query
        .strip_prefix('(')
        .and_then(|q| q.strip_suffix(')'))
        .filter(|q| recognise(q).is_some())
        .unwrap_or(query);
    Some((query.to_owned(), label.to_owned(), value.to_owned(), round))
}

/// PromQL's `round(v, to_nearest)`, computed as Prometheus does (through
/// the inverse, so that 0.01 steps print as two decimals).
fn round_to(v: f64, step: f64) -> f64 {
    let inverse = 1.0 / step;
    (v * inverse + 0.5).floor() / inverse
}

/// An instant query's parts: one recognised query, or several combined
/// with `label_replace` and `or`, each with the label it sets.
fn instant_parts(params: &[(String, String)]) -> Result<Vec<Part>, String> {
    let query = param(params, "query").unwrap_or_default();
    let parts = or_parts(query);
    if parts.len() == 1 && recognise(query).is_some() {
        return signal(params).map(|signal| {
            vec![Part {
                signal,
                tag: None,
                round: None,
            }]
        });
    }
    parts
        .into_iter()
        .map(|part| {
            let (q, label, value, round) = tagged(part)
                .ok_or_else(|| format!("simulator: unsupported query {part:?}; only the cockpit's default per-tenant queries, alone or tagged with label_replace and joined with or, are answered"))?;
            let signal = recognise(&q).ok_or_else(|| format!("simulator: unsupported query {q:?}"))?;
            Ok(Part {
                signal,
                tag: Some((label, value)),
                round,
            })
        })
        .collect()
}

fn signal(params: &[(String, String)]) -> Result<Signal, String> {
    match param(params, "query") {
        None | Some("") => Err("invalid parameter \"query\": 1:1: parse error: no expression found in input".into()),
        Some(q) => recognise(q).ok_or_else(|| {
            format!("simulator: unsupported query {q:?}; only the cockpit's default per-tenant queries are answered")
        }),
    }
}

/// Timestamps are seconds with millisecond precision, whole ones without a fraction.
fn stamp(unix: f64) -> Value {
    let ms = (unix * 1000.0).round();
    if ms % 1000.0 == 0.0 {
        json!((ms / 1000.0) as i64)
    } else {
        json!(ms / 1000.0)
    }
}

fn sample(unix: f64, v: f64) -> Value {
    json!([stamp(unix), format!("{v}")])
}

fn available(shared: &Shared, unix: f64) -> bool {
    shared.scenario.has_data(unix) && unix <= shared.now_unix() + FUTURE_SLACK
}

fn ordered_tenants(sc: &Scenario) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sc.customers.len()).collect();
    order.sort_by(|&a, &b| sc.customers[a].tenant.cmp(&sc.customers[b].tenant));
    order
}

async fn query(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = params(&method, &headers, q.as_deref(), &body);
    instant(&shared, &p).unwrap_or_else(|message| bad_data(&message))
}

fn instant(shared: &Shared, p: &[(String, String)]) -> Result<Response, String> {
    let parts = match param(p, "query") {
        None | Some("") => vec![Part {
            signal: signal(p)?,
            tag: None,
            round: None,
        }],
        Some(_) => instant_parts(p)?,
    };
    let at = match param(p, "time") {
        None | Some("") => (shared.now_unix() * 1000.0).round() / 1000.0,
        Some(raw) => shared.scenario_time(parse_time("time", raw)?),
    };
    let sc = &shared.scenario;
    let result = if available(shared, at) {
        let tenants = ordered_tenants(sc);
        parts
            .iter()
            .flat_map(|part| {
                tenants.iter().map(move |&i| {
                    let mut metric = serde_json::Map::new();
                    metric.insert("tenant".into(), json!(sc.customers[i].tenant));
                    if let Some((label, value)) = &part.tag {
                        metric.insert(label.clone(), json!(value));
                    }
                    let mut value = part.signal.value(sc, i, at);
                    if let Some(step) = part.round {
                        value = round_to(value, step);
                    }
                    json!({"metric": metric, "value": sample(at, value)})
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(success("vector", result))
}

async fn query_range(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = params(&method, &headers, q.as_deref(), &body);
    range(&shared, &p).unwrap_or_else(|message| bad_data(&message))
}

fn range(shared: &Shared, p: &[(String, String)]) -> Result<Response, String> {
    let signal = signal(p)?;
    let start = parse_time("start", param(p, "start").unwrap_or_default())?;
    let end = parse_time("end", param(p, "end").unwrap_or_default())?;
    if end < start {
        return Err("end timestamp must not be before start time".into());
    }
    let step = parse_step(param(p, "step").unwrap_or_default())?;
    if step <= 0.0 {
        return Err("zero or negative query resolution step widths are not accepted. Try a positive integer".into());
    }
    if (end - start) / step > MAX_POINTS {
        return Err(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
        );
    }
    let sc = &shared.scenario;
    let count = ((end - start) / step).floor() as usize + 1;
    let times: Vec<f64> = (0..count)
        .map(|k| shared.scenario_time(start + k as f64 * step))
        .filter(|&t| available(shared, t))
        .collect();
    let result = if times.is_empty() {
        Vec::new()
    } else {
        ordered_tenants(sc)
            .into_iter()
            .map(|i| {
                let values: Vec<Value> = times
                    .iter()
                    .map(|&t| sample(t, signal.value(sc, i, t)))
                    .collect();
                json!({"metric": {"tenant": sc.customers[i].tenant}, "values": values})
            })
            .collect()
    };
    Ok(success("matrix", result))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn default_queries_are_recognised_whatever_the_spacing() {
        assert_eq!(
            recognise("max by(tenant)(active_users)"),
            Some(Signal::ActiveUsers)
        );
        assert_eq!(
            recognise("  sum by (tenant) (rate(http_requests_total[5m]))\n"),
            Some(Signal::RequestRate)
        );
        assert_eq!(recognise("sum(rate(http_requests_total[5m]))"), None);
    }

    fn query(q: &str) -> Vec<(String, String)> {
        vec![("query".to_owned(), q.to_owned())]
    }

    #[test]
    fn combined_queries_split_into_tagged_parts() {
        let q = r#"label_replace((max by (tenant) (active_users)), "cc_signal", "users", "", "")
            or label_replace(round((sum by (tenant) (rate(http_requests_total[5m]))), 0.01), "cc_signal", "rate", "", "")"#;
        assert_eq!(
            instant_parts(&query(q)),
            Ok(vec![
                Part {
                    signal: Signal::ActiveUsers,
                    tag: Some(("cc_signal".into(), "users".into())),
                    round: None
                },
                Part {
                    signal: Signal::RequestRate,
                    tag: Some(("cc_signal".into(), "rate".into())),
                    round: Some(0.01)
                },
            ])
        );
        assert_eq!(format!("{}", round_to(120.456_789, 0.01)), "120.46");
        assert_eq!(format!("{}", round_to(0.005_692_948, 0.0001)), "0.0057");
        // As Prometheus answers `round(vector(0.005692948), 0.00001)`.
        assert_eq!(
            format!("{}", round_to(0.005_692_948, 0.000_01)),
            "0.005690000000000001"
        );
        // An `or` inside a label value or a word is not a split.
        assert_eq!(
            or_parts(r#"a{x="b or c"} or errors"#),
            vec![r#"a{x="b or c"} "#, " errors"]
        );
        // A part that is not recognised names itself.
        let err = instant_parts(&query(
            r#"label_replace((up), "cc_signal", "x", "", "") or max by (tenant) (active_users)"#,
        ))
        .unwrap_err();
        assert!(err.contains("up"), "{err}");
        // A lone default query is still answered untagged.
        assert_eq!(
            instant_parts(&query("max by (tenant) (active_users)")),
            Ok(vec![Part {
                signal: Signal::ActiveUsers,
                tag: None,
                round: None
            }])
        );
    }

    #[test]
    fn steps_parse_like_prometheus() {
        assert_eq!(parse_step("60").ok(), Some(60.0));
        assert_eq!(parse_step("1h30m").ok(), Some(5400.0));
        assert_eq!(parse_step("250ms").ok(), Some(0.25));
        assert!(parse_step("1x").is_err());
        assert!(parse_step("").is_err());
    }

    #[test]
    fn whole_second_stamps_have_no_fraction() {
        assert_eq!(stamp(1_795_220_413.0).to_string(), "1795220413");
        assert_eq!(stamp(1_795_238_413.844).to_string(), "1795238413.844");
    }
}
