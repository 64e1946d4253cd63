//! Configuration: one TOML file, validated strictly.
//!
//! Unknown keys and bad values are errors that name the file, the line and
//! the key (`ConfigError`), never a panic and never silently ignored: a typo
//! in `poll_intreval` should not quietly poll at the default rate. Secrets are
//! never in the file; a source names the environment variable that holds its
//! token (`token_env`) or, in builds with the `keyring` feature, the OS
//! keyring entry (`token_keyring`, see `token`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::core::durations::{duration, optional_duration};
use crate::insight::sla::Policy;
use crate::insight::sla::SlaConfig;
use crate::model::Settings;
use crate::model::action::Action;
use crate::model::keymap::Keymap;
use crate::model::views::{ViewConfig, Views};
use crate::sources::token::{self, TokenError};
pub mod paths;

/// The commented template `cre-cockpit init` writes.
pub const TEMPLATE: &str = include_str!("../assets/config-template.toml");

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub desk: Option<DeskConfig>,
    pub metrics: Option<MetricsConfig>,
    pub incidents: Option<IncidentsConfig>,
    pub accounts: Option<AccountsConfig>,
    /// Action name → key bindings; replaces the defaults for the actions it names.
    #[serde(default)]
    pub keys: BTreeMap<Action, Vec<String>>,
    #[serde(default)]
    pub sla: SlaConfig,
    #[serde(default)]
    pub ui: UiConfig,
    /// Turn every write off (same as `--read-only`).
    #[serde(default)]
    pub read_only: bool,
    /// Where escalations go (`[[escalation.targets]]`).
    #[serde(default)]
    pub escalation: crate::insight::escalation::EscalationConfig,
    /// Bell and desktop notifications.
    #[serde(default)]
    pub notify: crate::insight::notify::NotifyConfig,
    /// Customer-update cadence and templates for incident mode.
    #[serde(default)]
    pub incident_updates: crate::insight::updates::UpdatesConfig,
    /// Service-level objectives, evaluated globally and per tenant from
    /// the metrics source (`[[slo]]`).
    #[serde(default)]
    pub slo: Vec<SloConfig>,
    /// Service → tenants it serves, for linking incidents that name only a
    /// service to the customers behind it.
    #[serde(default)]
    pub service_tenants: BTreeMap<String, Vec<String>>,
    /// Saved views of the inquiries pane, after the built-in ones.
    #[serde(default)]
    pub views: Vec<ViewConfig>,
    /// Health score weights, thresholds, bands and attention multipliers.
    #[serde(default)]
    pub health: crate::insight::health::HealthConfig,
    /// KPI windows: the length of a shift.
    #[serde(default)]
    pub kpi: crate::insight::kpi::KpiConfig,
    /// What `parse` built from the text while validating it (key bindings,
    /// the SLA policy, saved views), kept so they are built once.
    #[serde(skip)]
    pub(crate) built: Built,
}

/// The values validation builds; the defaults are what an empty file gives.
#[derive(Debug, Clone, Default)]
pub(crate) struct Built {
    keymap: Keymap,
    sla: Policy,
    views: Views,
}

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
    /// RT: the ticket custom field naming the customer; without it the
    /// customer is the requester's email domain.
    #[serde(default)]
    pub customer_field: Option<String>,
    /// RT: the ticket custom field holding the feature area.
    #[serde(default)]
    pub feature_field: Option<String>,
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
            page_size: None,
            timeout: None,
            tags_field: None,
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
    crate::insight::slo::DEFAULT_MIN_BAD_EVENTS
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Your name as the desk shows assignees (for the "mine" view).
    pub me: Option<String>,
    /// Error ratio above which a tenant counts as hurt during an incident.
    pub impact_error_ratio: Option<f64>,
}

fn default_poll() -> Duration {
    Duration::from_secs(30)
}

fn default_tenant_label() -> String {
    "tenant".into()
}

/// A configuration problem, located in the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{key}: {message}")]
    Value { key: String, message: String },
}

impl From<TokenError> for ConfigError {
    fn from(e: TokenError) -> Self {
        Self::Value {
            key: e.key,
            message: e.message,
        }
    }
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|e| e.located(path))?;
        if let Some(accounts) = &mut config.accounts
            && accounts.file.is_relative()
            && let Some(dir) = path.parent()
        {
            accounts.file = dir.join(&accounts.file);
        }
        Ok(config)
    }

    /// Parse config text; errors carry the line and dotted key.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut config: Self = toml::from_str(text).map_err(|e| ParseError::from_toml(text, &e))?;
        // Key bindings must parse too; report them with the same precision.
        let keymap = Keymap::from_config(&config.keys).map_err(|(action, message)| {
            let line = find_line(text, "keys", action.as_ref()).unwrap_or(1);
            ParseError {
                line,
                key: format!("keys.{action}"),
                message,
            }
        })?;
        let sla = Policy::from_config(&config.sla).map_err(|(key, message)| {
            let (table, field) = key.rsplit_once('.').unwrap_or(("sla", key.as_str()));
            ParseError {
                line: find_line(text, table, field)
                    .or_else(|| find_line(text, "sla", field))
                    .unwrap_or(1),
                key,
                message,
            }
        })?;
        let views =
            Views::from_config(&config.views, &keymap).map_err(|(index, field, message)| {
                ParseError {
                    line: find_nth_line(text, "views", index, field).unwrap_or(1),
                    key: format!("views[{index}].{field}"),
                    message,
                }
            })?;
        config.validate_tokens(text)?;
        // Health thresholds must point the right way; report the key's line.
        config.health.validate().map_err(|(key, message)| {
            let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
            let line = find_line(text, table, leaf).unwrap_or(1);
            ParseError { line, key, message }
        })?;
        config.built = Built { keymap, sla, views };
        Ok(config)
    }

    /// What the model needs, from what `parse` built and checked.
    #[must_use]
    pub fn settings(&self, demo: bool) -> Settings {
        Settings {
            keymap: self.built.keymap.clone(),
            service_tenants: self.service_tenants.clone(),
            sla: self.built.sla.clone(),
            me: self.ui.me.clone(),
            impact_error_ratio: self
                .ui
                .impact_error_ratio
                .unwrap_or(crate::insight::join::DEFAULT_IMPACT_ERROR_RATIO),
            demo,
            read_only: self.read_only,
            escalation: self.escalation.clone(),
            notify: self.notify.clone(),
            updates: self.incident_updates.clone(),
            desk_tags: self.desk.as_ref().is_some_and(DeskConfig::supports_tags),
            incident_notes: self
                .incidents
                .as_ref()
                .is_some_and(|i| i.kind == IncidentsKind::Pagerduty && !i.read_only),
            views: self.built.views.clone(),
            health: self.health.clone(),
            kpi: self.kpi.clone(),
        }
    }
}

impl Config {
    /// Each source's token keys, as written (`sources::token::validate`).
    fn validate_tokens(&self, text: &str) -> Result<(), ParseError> {
        let sources = [
            (
                "desk",
                self.desk.as_ref().map(|d| (&d.token_env, &d.token_keyring)),
            ),
            (
                "metrics",
                self.metrics
                    .as_ref()
                    .map(|m| (&m.token_env, &m.token_keyring)),
            ),
            (
                "incidents",
                self.incidents
                    .as_ref()
                    .map(|i| (&i.token_env, &i.token_keyring)),
            ),
        ];
        for (section, keys) in sources {
            let Some((env, keyring)) = keys else { continue };
            token::validate(env.as_deref(), keyring.as_deref()).map_err(|(key, message)| {
                ParseError {
                    line: find_line(text, section, key).unwrap_or(1),
                    key: format!("{section}.{key}"),
                    message,
                }
            })?;
        }
        Ok(())
    }
}

/// Where the default config lives (`$XDG_CONFIG_HOME/cre-cockpit/config.toml`
/// on Linux), unless `--config` or `CRE_COCKPIT_CONFIG` say otherwise.
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    crate::config::paths::project().map(|p| p.config_dir().join("config.toml"))
}

/// A parse error before it knows which file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl ParseError {
    fn from_toml(text: &str, error: &toml::de::Error) -> Self {
        let offset = error.span().map_or(0, |s| s.start);
        let line = text[..offset.min(text.len())].matches('\n').count() + 1;
        let key = key_at(text, offset);
        // toml's message is one line; its Display adds a source excerpt we
        // do not need since we name the line ourselves.
        let message = error.message().trim().to_owned();
        Self { line, key, message }
    }

    #[must_use]
    pub fn located(self, path: &Path) -> ConfigError {
        ConfigError::Invalid {
            path: path.to_owned(),
            line: self.line,
            key: self.key,
            message: self.message,
        }
    }
}

/// The dotted key at a byte offset: the nearest `[table]` header above it,
/// plus the `key =` on the offending line (if the line has one).
fn key_at(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        // `[[slo]]` (an array of tables) names its table like `[slo]` does.
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
        // `[]` or `= 1` name nothing; an error must still name a key.
        .filter(|t| !t.is_empty());
    let trimmed = line.trim();
    let key = if trimmed.starts_with('[') {
        Some(
            trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned(),
        )
    } else {
        trimmed
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches('"').to_owned())
    }
    .filter(|k| !k.is_empty());
    match (table, key) {
        (_, Some(k)) if trimmed.starts_with('[') => k,
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => "(top level)".into(),
    }
}

/// The line of `key =` inside `[table]`, for errors found after parsing.
fn find_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_table = t.trim_matches(|c| c == '[' || c == ']').trim() == table;
        } else if in_table
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
        {
            return Some(i + 1);
        }
    }
    None
}

/// The line of `key =` inside the `n`-th (0-based) `[[table]]`, for errors
/// in arrays of tables such as `[[views]]`.
fn find_nth_line(text: &str, table: &str, n: usize, key: &str) -> Option<usize> {
    let mut seen = None;
    let mut header = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            if t.starts_with("[[") && name == table {
                seen = Some(seen.map_or(0, |s: usize| s + 1));
                if seen == Some(n) {
                    header = Some(i + 1);
                }
            } else if seen == Some(n) {
                return header;
            }
            continue;
        }
        if seen == Some(n)
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
        {
            return Some(i + 1);
        }
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line_and_key() {
        let text = "[desk]\nkind = \"zendesk\"\nurl = \"https://x.zendesk.com\"\npoll_intreval = \"30s\"\n";
        let err = Config::parse(text).unwrap_err();
        assert_eq!(err.line, 4);
        assert_eq!(err.key, "desk.poll_intreval");
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }

    #[test]
    fn errors_under_nameless_tables_and_keys_still_name_a_key() {
        // Found by the config fuzz target: `[]` and `= …` made the key empty,
        // so the message read "config.toml:3: : key with no value".
        for text in ["[]\nbell = false\ndesktop )\n", "= 1\n", "[]\n"] {
            let err = Config::parse(text).unwrap_err();
            assert!(!err.key.is_empty(), "{text:?}: {err:?}");
        }
    }

    #[test]
    fn bad_duration_names_line_and_key() {
        let text = "[metrics]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\npoll_interval = \"soon\"\n";
        let err = Config::parse(text).unwrap_err();
        assert_eq!((err.line, err.key.as_str()), (4, "metrics.poll_interval"));
        assert!(err.message.contains("invalid duration"), "{}", err.message);
    }

    #[test]
    fn durations_parse_friendly_forms() {
        let text =
            "[desk]\nkind = \"rt\"\nurl = \"http://127.0.0.1:29380\"\npoll_interval = \"1m 30s\"\n";
        let config = Config::parse(text).unwrap();
        assert_eq!(config.desk.unwrap().poll_interval, Duration::from_secs(90));
    }

    #[test]
    fn slo_parses_with_day_windows_and_defaults() {
        let text = "[[slo]]\nservice = \"api\"\ntarget = 0.999\nwindow = \"28d\"\ngood = 'sum by (tenant) (increase(ok[{{window}}]))'\nvalid = 'sum by (tenant) (increase(all[{{window}}]))'\n";
        let config = Config::parse(text).unwrap();
        let slo = &config.slo[0];
        assert_eq!(slo.window, Duration::from_secs(28 * 86_400));
        assert_eq!(slo.min_bad_events, 10.0);
        assert_eq!(slo.display_name(), "api");
    }

    #[test]
    fn slo_errors_name_line_and_key() {
        let base = "[ui]\nme = \"x\"\n\n[[slo]]\nservice = \"api\"\n";
        let err = Config::parse(&format!(
            "{base}target = 99.9\ngood = '{{{{window}}}}'\nvalid = '{{{{window}}}}'\n"
        ))
        .unwrap_err();
        assert_eq!((err.line, err.key.as_str()), (6, "slo.target"));
        assert!(err.message.contains("between 0 and 1"), "{}", err.message);
        let err = Config::parse(&format!(
            "{base}target = 0.99\ngood = 'sum(rate(x[5m]))'\nvalid = '{{{{window}}}}'\n"
        ))
        .unwrap_err();
        assert_eq!((err.line, err.key.as_str()), (7, "slo.good"));
        assert!(err.message.contains("{{window}}"), "{}", err.message);
    }

    #[test]
    fn health_thresholds_the_wrong_way_name_line_and_key() {
        let text = "[health]\nkey_features = 8\n\n[health.seat_utilisation]\nweight = 15\npoor = 0.8\ngood = 0.5\n";
        let err = Config::parse(text).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (7, "health.seat_utilisation.good")
        );
        assert!(err.message.contains("higher is better"), "{}", err.message);
        let ok = "[health]\nkey_features = 8\nvalue_multiplier = true\n[health.support_burden]\npoor = 6\n";
        let config = Config::parse(ok).unwrap();
        assert_eq!(config.health.key_features, Some(8));
        assert_eq!(config.health.support_burden.poor, 6.0);
        assert_eq!(
            config.health.support_burden.good, 2.0,
            "unset keys keep their default"
        );
    }

    #[test]
    fn template_is_a_valid_config() {
        Config::parse(TEMPLATE).unwrap();
    }

    /// The template's commented health section, uncommented, is valid and
    /// spells out the defaults exactly.
    #[test]
    fn template_health_section_is_the_defaults() {
        let section: String = TEMPLATE
            .lines()
            .skip_while(|l| !l.starts_with("# --- Health score"))
            .skip(1)
            .take_while(|l| !l.starts_with("# ---"))
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.starts_with('[') || l.split_once(" = ").is_some_and(|(k, _)| !k.contains(' '))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(section.contains("[health.reliability]"), "{section}");
        let config = Config::parse(&section).unwrap();
        let expected = crate::insight::health::HealthConfig {
            key_features: Some(8),
            ..crate::insight::health::HealthConfig::default()
        };
        assert_eq!(config.health, expected);
    }
}
