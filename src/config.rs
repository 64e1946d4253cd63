//! Configuration: one TOML file, validated strictly.
//!
//! Unknown keys and bad values are errors that name the file, the line and
//! the key (`ConfigError`), never a panic and never silently ignored: a typo
//! in `poll_intreval` should not quietly poll at the default rate. Secrets are
//! never in the file; a source names the environment variable that holds its
//! token (`token_env`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::action::Action;
use crate::adapters::http::Secret;

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
    /// Health score weights, thresholds, bands and attention multipliers.
    #[serde(default)]
    pub health: crate::health::HealthConfig,
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
    #[serde(default = "default_poll", deserialize_with = "duration")]
    pub poll_interval: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
    #[serde(default)]
    pub read_only: bool,
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
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            error_ratio: r#"sum by (tenant) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (tenant) (rate(http_requests_total[5m]))"#.into(),
            request_rate: "sum by (tenant) (rate(http_requests_total[5m]))".into(),
            active_users: "max by (tenant) (active_users)".into(),
            latency_p99: "histogram_quantile(0.99, sum by (tenant, le) (rate(http_request_duration_seconds_bucket[5m])))".into(),
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
    /// PagerDuty `From` header: a valid user email, required for writes.
    pub from: Option<String>,
    #[serde(default = "default_poll", deserialize_with = "duration")]
    pub poll_interval: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    /// CSV exported from the CRM; relative paths are relative to the config file.
    pub file: PathBuf,
}

/// First-reply targets per priority, used when the desk reports none.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    #[serde(deserialize_with = "duration")]
    pub urgent: Duration,
    #[serde(deserialize_with = "duration")]
    pub high: Duration,
    #[serde(deserialize_with = "duration")]
    pub normal: Duration,
    #[serde(deserialize_with = "duration")]
    pub low: Duration,
}

impl Default for SlaConfig {
    fn default() -> Self {
        Self {
            urgent: Duration::from_secs(3600),
            high: Duration::from_secs(4 * 3600),
            normal: Duration::from_secs(8 * 3600),
            low: Duration::from_secs(24 * 3600),
        }
    }
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

/// Durations are written the friendly way: `"30s"`, `"5m"`, `"1h 30m"`.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(d)?;
    let parsed: jiff::SignedDuration = raw.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid duration {raw:?} (write e.g. \"30s\", \"5m\", \"1h\")"
        ))
    })?;
    let parsed = Duration::try_from(parsed)
        .map_err(|_| serde::de::Error::custom(format!("duration {raw:?} must not be negative")))?;
    if parsed.is_zero() {
        return Err(serde::de::Error::custom(
            "duration must be greater than zero",
        ));
    }
    Ok(parsed)
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
        let config: Self = toml::from_str(text).map_err(|e| ParseError::from_toml(text, &e))?;
        // Key bindings must parse too; report them with the same precision.
        crate::keymap::Keymap::from_config(&config.keys).map_err(|(action, message)| {
            let line = find_line(text, "keys", action.as_ref()).unwrap_or(1);
            ParseError {
                line,
                key: format!("keys.{action}"),
                message,
            }
        })?;
        // Health thresholds must point the right way; report the key's line.
        config.health.validate().map_err(|(key, message)| {
            let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
            let line = find_line(text, table, leaf).unwrap_or(1);
            ParseError { line, key, message }
        })?;
        Ok(config)
    }
}

/// Where the default config lives (`$XDG_CONFIG_HOME/cre-cockpit/config.toml`
/// on Linux), unless `--config` or `CRE_COCKPIT_CONFIG` say otherwise.
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    crate::paths::project().map(|p| p.config_dir().join("config.toml"))
}

/// Resolve a source's `token_env` to the secret it names.
pub fn token(section: &str, token_env: Option<&str>) -> Result<Option<Secret>, ConfigError> {
    let Some(var) = token_env else {
        return Ok(None);
    };
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Some(Secret::new(value))),
        _ => Err(ConfigError::Value {
            key: format!("{section}.token_env"),
            message: format!("environment variable {var} is not set"),
        }),
    }
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
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
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
    };
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
        let expected = crate::health::HealthConfig {
            key_features: Some(8),
            ..crate::health::HealthConfig::default()
        };
        assert_eq!(config.health, expected);
    }
}
