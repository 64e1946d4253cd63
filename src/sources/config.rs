//! What each source is told by the configuration file: the desk, metrics,
//! incidents and accounts sections, with their defaults and the checks
//! that belong to a single value (an SLO target is a fraction, a query
//! template has its window placeholder).
//!
//! The structs live with the sources that read them, not in `config`, so
//! an adapter never imports the layer that aggregates the whole file;
//! `config` parses these as parts of the TOML and validates across them.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::core::durations::{duration, optional_duration};
use crate::core::slo::DEFAULT_MIN_BAD_EVENTS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskKind {
    Zendesk,
    Rt,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    pub kind: DeskKind,
    pub url: String,
    /// Agent email for Zendesk API-token auth (`{email}/token:{token}`).
    pub email: Option<String>,
    /// Name of the environment variable holding the API token.
    pub token_env: Option<String>,
    /// OS keyring entry holding the token, `"service:user"` (builds with
    /// the `keyring` feature).
    pub token_keyring: Option<String>,
    #[serde(default = "default_poll", deserialize_with = "duration")]
    pub poll_interval: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
    #[serde(default)]
    pub read_only: bool,
    /// RT: the queue whose open tickets are the inquiries (all queues the
    /// token can see when unset).
    #[serde(default)]
    pub queue: Option<String>,
    /// RT: extra TicketSQL, ANDed with the queue (e.g. `Owner = 'Nobody'`).
    #[serde(default)]
    pub query: Option<String>,
    /// The ticket custom field naming the customer. RT: by name; without
    /// it the customer is the requester's email domain. Zendesk: by field
    /// id or title; a ticket with the field empty keeps its organisation.
    #[serde(default)]
    pub customer_field: Option<String>,
    /// The ticket custom field holding the feature area (RT: by name;
    /// Zendesk: by id or title, else the `feature_*` tag).
    #[serde(default)]
    pub feature_field: Option<String>,
    /// Zendesk: the ticket custom field holding the customer's segment or
    /// plan (by id or title), shown in the detail.
    #[serde(default)]
    pub segment_field: Option<String>,
    /// Tickets per page (RT ≤ 100, default 100; Zendesk export ≤ 1000,
    /// default 1000).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Time allowed for one request, body included (default 30s).
    #[serde(default, deserialize_with = "optional_duration")]
    pub timeout: Option<Duration>,
    /// RT: the custom field that records escalation tags (RT has no tags;
    /// without it an escalation sets no tags on RT).
    pub tags_field: Option<String>,
    /// Zendesk: mirror links made by hand onto the desk — a problem ticket
    /// per incident, each linked inquiry an incident of it. Off by default.
    #[serde(default)]
    pub mirror_links: bool,
}

impl DeskConfig {
    /// Whether escalations can tag tickets on this desk.
    #[must_use]
    pub fn supports_tags(&self) -> bool {
        self.kind == DeskKind::Zendesk || self.tags_field.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricsKind {
    Prometheus,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub kind: MetricsKind,
    pub url: String,
    /// Optional bearer token for Prometheus-compatible services.
    pub token_env: Option<String>,
    /// Or the OS keyring entry holding it, `"service:user"`.
    pub token_keyring: Option<String>,
    #[serde(default = "default_poll", deserialize_with = "duration")]
    pub poll_interval: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// PromQL per signal; each must return one series per tenant, labelled
    /// with `tenant_label`.
    #[serde(default)]
    pub queries: QueryConfig,
    #[serde(default = "default_tenant_label")]
    pub tenant_label: String,
    /// Time allowed for one request, body included (default 30s).
    #[serde(default, deserialize_with = "optional_duration")]
    pub timeout: Option<Duration>,
}

/// Per-tenant PromQL. The defaults assume the common
/// `http_requests_total{tenant, code}` and `active_users{tenant}` series.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct QueryConfig {
    pub error_ratio: String,
    pub request_rate: String,
    pub active_users: String,
    pub latency_p99: String,
    /// Distinct key features each tenant used in the last 28 days.
    pub feature_usage: String,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            error_ratio: r#"sum by (tenant) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (tenant) (rate(http_requests_total[5m]))"#.into(),
            request_rate: "sum by (tenant) (rate(http_requests_total[5m]))".into(),
            active_users: "max by (tenant) (active_users)".into(),
            latency_p99: "histogram_quantile(0.99, sum by (tenant, le) (rate(http_request_duration_seconds_bucket[5m])))".into(),
            feature_usage: "count by (tenant) (sum by (tenant, feature) (increase(feature_used_total[28d])) > 0)".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentsKind {
    Alertmanager,
    Pagerduty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsConfig {
    pub kind: IncidentsKind,
    pub url: String,
    pub token_env: Option<String>,
    /// Or the OS keyring entry holding the token, `"service:user"`.
    pub token_keyring: Option<String>,
    /// PagerDuty `From` header: a valid user email, required for writes.
    pub from: Option<String>,
    #[serde(default = "default_poll", deserialize_with = "duration")]
    pub poll_interval: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Time allowed for one request, body included (default 30s).
    #[serde(default, deserialize_with = "optional_duration")]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub read_only: bool,
    /// Alertmanager: alerts with equal values of these labels form one
    /// incident.
    #[serde(default = "default_group_by")]
    pub group_by: Vec<String>,
    /// Alertmanager: the label whose value gives the severity.
    #[serde(default = "default_severity_label")]
    pub severity_label: String,
    /// Alertmanager: labels naming the affected tenant or customer.
    #[serde(default = "default_tenant_labels")]
    pub tenant_labels: Vec<String>,
    /// Alertmanager: the label naming the service.
    #[serde(default = "default_service_label")]
    pub service_label: String,
}

impl DeskConfig {
    /// A desk of `kind` at `url` with every optional key at its default.
    #[must_use]
    pub fn new(kind: DeskKind, url: String) -> Self {
        Self {
            kind,
            url,
            email: None,
            token_env: None,
            token_keyring: None,
            poll_interval: default_poll(),
            allow_insecure_http: false,
            read_only: false,
            queue: None,
            query: None,
            customer_field: None,
            feature_field: None,
            segment_field: None,
            page_size: None,
            timeout: None,
            tags_field: None,
            mirror_links: false,
        }
    }
}

impl IncidentsConfig {
    /// A source of `kind` at `url` with every optional key at its default.
    #[must_use]
    pub fn new(kind: IncidentsKind, url: String) -> Self {
        Self {
            kind,
            url,
            token_env: None,
            token_keyring: None,
            from: None,
            poll_interval: default_poll(),
            allow_insecure_http: false,
            timeout: None,
            read_only: false,
            group_by: default_group_by(),
            severity_label: default_severity_label(),
            tenant_labels: default_tenant_labels(),
            service_label: default_service_label(),
        }
    }
}

fn default_group_by() -> Vec<String> {
    vec!["alertname".into(), "service".into()]
}

fn default_severity_label() -> String {
    "severity".into()
}

fn default_tenant_labels() -> Vec<String> {
    vec!["tenant".into(), "customer".into()]
}

fn default_service_label() -> String {
    "service".into()
}

/// The `{{window}}` placeholder SLO query templates must contain.
pub const WINDOW_PLACEHOLDER: &str = "{{window}}";

/// One `[[slo]]`: a target over a rolling window for a service, measured by
/// two per-tenant PromQL templates counting good and valid events.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// Shown in the cockpit; defaults to the service name.
    pub name: Option<String>,
    /// The service as incidents name it (Alertmanager `service` label,
    /// PagerDuty service name), so burns and incidents meet.
    pub service: String,
    /// Fraction of good events promised, e.g. 0.999.
    #[serde(deserialize_with = "slo_target")]
    pub target: f64,
    /// Rolling window, e.g. "30d".
    #[serde(default = "default_slo_window", deserialize_with = "long_duration")]
    pub window: Duration,
    /// Good events per tenant over `{{window}}`.
    #[serde(deserialize_with = "window_template")]
    pub good: String,
    /// Valid events per tenant over `{{window}}`.
    #[serde(deserialize_with = "window_template")]
    pub valid: String,
    /// Bad events a long window needs before a fast burn pages (fewer
    /// makes it a ticket): small tenants' burn rates are noise.
    #[serde(default = "default_min_bad_events")]
    pub min_bad_events: f64,
}

impl SloConfig {
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.service)
    }
}

fn default_slo_window() -> Duration {
    Duration::from_secs(30 * 86_400)
}

fn default_min_bad_events() -> f64 {
    DEFAULT_MIN_BAD_EVENTS
}

fn slo_target<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let target = f64::deserialize(d)?;
    if target > 0.0 && target < 1.0 {
        Ok(target)
    } else {
        Err(serde::de::Error::custom(format!(
            "target {target} must be a fraction between 0 and 1 (write 99.9 % as 0.999)"
        )))
    }
}

fn window_template<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let query = String::deserialize(d)?;
    if query.contains(WINDOW_PLACEHOLDER) {
        Ok(query)
    } else {
        Err(serde::de::Error::custom(format!(
            "the query must contain {WINDOW_PLACEHOLDER} where the range goes, e.g. increase(x[{WINDOW_PLACEHOLDER}])"
        )))
    }
}

/// Like `duration`, but days are allowed (as 24 hours): `"30d"`, `"28d"`.
fn long_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(d)?;
    let invalid = || {
        serde::de::Error::custom(format!(
            "invalid duration {raw:?} (write e.g. \"30d\", \"7d\", \"12h\")"
        ))
    };
    let span: jiff::Span = raw.parse().map_err(|_| invalid())?;
    let parsed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| invalid())?;
    match Duration::try_from(parsed) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(serde::de::Error::custom(
            "duration must be greater than zero",
        )),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    /// CSV exported from the CRM; relative paths are relative to the config file.
    pub file: PathBuf,
}

fn default_poll() -> Duration {
    Duration::from_secs(30)
}

fn default_tenant_label() -> String {
    "tenant".into()
}
