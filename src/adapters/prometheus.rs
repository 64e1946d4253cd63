//! Prometheus HTTP API (and the compatible services: VictoriaMetrics, Thanos,
//! Mimir, Grafana Cloud): per-tenant signals from configured PromQL.
//!
//! There is no change feed, so every poll re-asks the same six questions; they
//! are small (one series per tenant) and run concurrently.

mod wire;

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};

use self::wire::{Answer, EnvelopeDto, Shape};
use super::MetricsSource;
use super::http::{self, Secret};
use crate::config::{MetricsConfig, QueryConfig};
use crate::domain::{MetricsSnapshot, SourceError, TenantMetrics};

/// How far back the usage trend and the error sparkline look.
const WEEK: SignedDuration = SignedDuration::from_hours(7 * 24);
/// One sparkline point per hour: 169 points, far below Prometheus's
/// 11,000-points-per-series guard.
const HISTORY_STEP_SECONDS: &str = "3600";

pub struct Prometheus {
    client: reqwest::Client,
    base: Url,
    token: Option<Secret>,
    queries: QueryConfig,
    tenant_label: String,
}

/// One instant query's answer, which field of [`TenantMetrics`] it fills.
type Setter = fn(&mut TenantMetrics, f64);

impl Prometheus {
    /// An adapter for the server at `config.url`; `token`, when given, is
    /// sent as a bearer token (hosted Prometheus-compatible services).
    pub fn new(
        client: reqwest::Client,
        config: &MetricsConfig,
        token: Option<Secret>,
    ) -> Result<Self, SourceError> {
        let base = http::base_url(&config.url, config.allow_insecure_http)
            .map_err(|e| SourceError::new(format!("metrics: {e}")))?;
        if let Some(token) = &token
            && HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err()
        {
            return Err(SourceError::new(
                "metrics: the token contains characters not allowed in an HTTP header",
            ));
        }
        let tenant_label = config.tenant_label.trim().to_owned();
        if tenant_label.is_empty() {
            return Err(SourceError::new("metrics: tenant_label must not be empty"));
        }
        Ok(Self {
            client,
            base,
            token,
            queries: config.queries.clone(),
            tenant_label,
        })
    }

    /// Run one query. An empty PromQL string in the config switches that
    /// signal off: it answers with no series and costs no request.
    async fn query(
        &self,
        signal: &str,
        path: &str,
        promql: &str,
        params: &[(&str, &str)],
        shape: Shape,
    ) -> Result<Answer, SourceError> {
        if promql.trim().is_empty() {
            return Ok(Answer::default());
        }
        let what = format!("metrics: {signal} query");
        let mut url = http::join(&self.base, path);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("query", promql);
            for (key, value) in params {
                query.append_pair(key, value);
            }
        }
        let mut request = self.client.get(url).header(ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        let envelope: EnvelopeDto = http::fetch_json_explained(&what, request, wire::explain)
            .await?
            .body;
        wire::decode(&what, envelope, shape, &self.tenant_label)
    }

    async fn instant(&self, signal: &str, promql: &str, at: &str) -> Result<Answer, SourceError> {
        self.query(
            signal,
            "/api/v1/query",
            promql,
            &[("time", at)],
            Shape::Vector,
        )
        .await
    }

    async fn snapshot(&self) -> Result<MetricsSnapshot, SourceError> {
        let now = Timestamp::now();
        let week_ago = now
            .checked_sub(WEEK)
            .map_err(|e| SourceError::new(format!("metrics: clock out of range ({e})")))?;
        let (now_s, week_ago_s) = (unix(now), unix(week_ago));
        let q = &self.queries;
        let range = [
            ("start", week_ago_s.as_str()),
            ("end", now_s.as_str()),
            ("step", HISTORY_STEP_SECONDS),
        ];
        let (error_ratio, request_rate, active_users, active_users_prev, latency_p99, history) = futures::try_join!(
            self.instant("error_ratio", &q.error_ratio, &now_s),
            self.instant("request_rate", &q.request_rate, &now_s),
            self.instant("active_users", &q.active_users, &now_s),
            self.instant("active_users_prev", &q.active_users, &week_ago_s),
            self.instant("latency_p99", &q.latency_p99, &now_s),
            self.query(
                "error_history",
                "/api/v1/query_range",
                &q.error_ratio,
                &range,
                Shape::Matrix
            ),
        )?;

        let mut snapshot = MetricsSnapshot::default();
        let instants: [(&str, Answer, Setter); 5] = [
            ("error_ratio", error_ratio, |m, v| m.error_ratio = Some(v)),
            ("request_rate", request_rate, |m, v| {
                m.request_rate = Some(v)
            }),
            ("active_users", active_users, |m, v| {
                m.active_users = Some(v)
            }),
            ("active_users_prev", active_users_prev, |m, v| {
                m.active_users_prev = Some(v);
            }),
            ("latency_p99", latency_p99, |m, v| m.latency_p99 = Some(v)),
        ];
        for (signal, answer, set) in instants {
            for (tenant, samples) in self.by_tenant(signal, answer, &mut snapshot.warnings) {
                let Some(&value) = samples.last() else {
                    continue;
                };
                if value.is_finite() {
                    set(snapshot.by_tenant.entry(tenant).or_default(), value);
                } else {
                    snapshot.warnings.push(format!(
                        "{signal}: tenant {tenant}: value {} not stored",
                        non_finite(value)
                    ));
                }
            }
        }
        for (tenant, samples) in self.by_tenant("error_history", history, &mut snapshot.warnings) {
            let total = samples.len();
            let finite: Vec<f64> = samples.into_iter().filter(|v| v.is_finite()).collect();
            if finite.len() < total {
                snapshot.warnings.push(format!(
                    "error_history: tenant {tenant}: {} NaN/Inf samples not stored",
                    total - finite.len()
                ));
            }
            snapshot.error_history.insert(tenant, finite);
        }
        Ok(snapshot)
    }

    /// Index an answer by tenant, turning its oddities (server warnings,
    /// series without the label, duplicate tenants, unreadable values) into
    /// warnings rather than failures.
    fn by_tenant(
        &self,
        signal: &str,
        answer: Answer,
        warnings: &mut Vec<String>,
    ) -> BTreeMap<String, Vec<f64>> {
        warnings.extend(
            answer
                .warnings
                .into_iter()
                .map(|w| format!("{signal}: {w}")),
        );
        let mut out = BTreeMap::new();
        let mut unlabelled = 0;
        let mut duplicated = BTreeSet::new();
        for series in answer.series {
            let Some(tenant) = series.tenant else {
                unlabelled += 1;
                continue;
            };
            if series.unreadable > 0 {
                warnings.push(format!(
                    "{signal}: tenant {tenant}: {} unreadable samples not stored",
                    series.unreadable
                ));
            }
            if out.contains_key(&tenant) {
                duplicated.insert(tenant);
                continue;
            }
            out.insert(tenant, series.samples);
        }
        if unlabelled > 0 {
            warnings.push(format!(
                "{signal}: {unlabelled} series without the {:?} label ignored",
                self.tenant_label
            ));
        }
        for tenant in duplicated {
            warnings.push(format!(
                "{signal}: several series for tenant {tenant}; the query should aggregate by {:?}, using the first",
                self.tenant_label
            ));
        }
        out
    }
}

/// A non-finite value the way Prometheus writes it.
fn non_finite(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// Unix seconds with millisecond precision, the form Prometheus's `time`,
/// `start` and `end` parameters accept.
fn unix(at: Timestamp) -> String {
    let ms = at.as_millisecond();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

impl MetricsSource for Prometheus {
    fn vendor(&self) -> &'static str {
        "prometheus"
    }

    async fn poll(&mut self) -> Result<MetricsSnapshot, SourceError> {
        let requests = [
            &self.queries.error_ratio,
            &self.queries.request_rate,
            &self.queries.active_users,
            &self.queries.active_users,
            &self.queries.latency_p99,
            &self.queries.error_ratio,
        ]
        .iter()
        .filter(|q| !q.trim().is_empty())
        .count();
        let result = self.snapshot().await;
        match &result {
            Ok(s) => tracing::debug!(
                requests,
                tenants = s.by_tenant.len(),
                warnings = s.warnings.len(),
                "prometheus: poll"
            ),
            Err(e) => tracing::debug!(requests, "prometheus: poll failed: {e}"),
        }
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn unix_time_has_millisecond_precision() {
        let at = Timestamp::from_millisecond(1_795_220_413_844).unwrap();
        assert_eq!(unix(at), "1795220413.844");
        let whole = Timestamp::from_second(1_795_220_413).unwrap();
        assert_eq!(unix(whole), "1795220413.000");
    }
}
