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

use serde::Deserialize;

use crate::insight::sla::Policy;
use crate::insight::sla::SlaConfig;
use crate::model::Settings;
use crate::model::action::Action;
use crate::model::keymap::Keymap;
use crate::model::views::{ViewConfig, Views};
// The sections each source reads are the sources' own; the file is parsed
// into them here, and they are re-exported as parts of the whole config.
pub use crate::sources::config::{
    AccountsConfig, DeskConfig, DeskKind, IncidentsConfig, IncidentsKind, MetricsConfig,
    MetricsKind, QueryConfig, SloConfig, WINDOW_PLACEHOLDER,
};
use crate::sources::token::{self, TokenError};
pub mod paths;
pub mod team;
pub use team::TeamConfig;

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
    /// Service → the feature areas of the inquiries it is about, for
    /// linking inquiries to an incident by topic (a service not listed is
    /// its own area).
    #[serde(default)]
    pub service_areas: BTreeMap<String, Vec<String>>,
    /// Saved views of the inquiries pane, after the built-in ones.
    #[serde(default)]
    pub views: Vec<ViewConfig>,
    /// Health score weights, thresholds, bands and attention multipliers.
    #[serde(default)]
    pub health: crate::insight::health::HealthConfig,
    /// KPI windows: the length of a shift.
    #[serde(default)]
    pub kpi: crate::insight::kpi::KpiConfig,
    /// Team mode: the journal and outbox on a shared PostgreSQL store.
    pub team: Option<TeamConfig>,
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Your name as the desk shows assignees (for the "mine" view).
    pub me: Option<String>,
    /// Error ratio above which a tenant counts as hurt during an incident.
    pub impact_error_ratio: Option<f64>,
    /// Report the mouse to the cockpit (clicks, wheel); `false` leaves it
    /// to the terminal, for selecting text. Default on.
    pub mouse: Option<bool>,
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
        config
            .incident_updates
            .validate()
            .map_err(|message| ParseError {
                line: find_line(text, "incident_updates", "public_fields").unwrap_or(1),
                key: "incident_updates.public_fields".into(),
                message,
            })?;
        config.validate_team(text)?;
        config.built = Built { keymap, sla, views };
        Ok(config)
    }

    /// What the model needs, from what `parse` built and checked.
    #[must_use]
    pub fn settings(&self, demo: bool) -> Settings {
        Settings {
            keymap: self.built.keymap.clone(),
            service_tenants: self.service_tenants.clone(),
            service_areas: self.service_areas.clone(),
            sla: self.built.sla.clone(),
            me: self.ui.me.clone(),
            team: self.team.is_some(),
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
            mirror_links: self
                .desk
                .as_ref()
                .is_some_and(|d| d.kind == DeskKind::Zendesk && d.mirror_links && !d.read_only),
            incident_notes: self
                .incidents
                .as_ref()
                .is_some_and(|i| i.kind == IncidentsKind::Pagerduty && !i.read_only),
            views: self.built.views.clone(),
            health: self.health.clone(),
            kpi: self.kpi.clone(),
            mouse: self.ui.mouse.unwrap_or(true),
            // https://no-color.org: set and not empty.
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            join_hints: crate::insight::coverage::JoinHints {
                customer_field: self.desk.as_ref().and_then(|d| d.customer_field.clone()),
                tenant_label: self.metrics.as_ref().map(|m| m.tenant_label.clone()),
                slo_queries: self
                    .slo
                    .iter()
                    .map(|s| (s.display_name().to_owned(), s.valid.clone()))
                    .collect(),
            },
        }
    }
}

impl Config {
    /// `[team]`: a usable store URL, and `[ui] me` to sign the writes.
    fn validate_team(&self, text: &str) -> Result<(), ParseError> {
        let Some(team) = &self.team else {
            return Ok(());
        };
        team.validate().map_err(|(key, message)| ParseError {
            line: find_line(text, "team", key)
                .or_else(|| find_line(text, "team", "store"))
                .unwrap_or(1),
            key: format!("team.{key}"),
            message,
        })?;
        if self.ui.me.as_deref().is_none_or(|me| me.trim().is_empty()) {
            return Err(ParseError {
                line: find_line(text, "ui", "me")
                    .or_else(|| find_line(text, "team", "store"))
                    .unwrap_or(1),
                key: "ui.me".into(),
                message: "team mode needs your name: every write in the shared journal records its author".into(),
            });
        }
        Ok(())
    }

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
    use std::time::Duration;

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
