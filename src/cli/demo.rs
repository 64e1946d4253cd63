//! The built-in demo: a config that points every adapter at the simulator,
//! with every feature switched on, and the user's own file merged over it.
//!
//! The demo config is written as TOML and read through `Config::parse`, the
//! same path a user's file takes, so its views, key bindings and SLA policy
//! are validated and built exactly as theirs would be.

use std::path::Path;
use std::time::Duration;

use crate::app::wiring::Secrets;
use crate::config::{Config, ConfigError};
use crate::simulator::Simulator;
use crate::simulator::prometheus::{DEMO_SLO_GOOD, DEMO_SLO_VALID};
use crate::sources::http::Secret;

/// Demo sources poll faster than real ones so the scenario visibly moves
/// (still within Zendesk's 10 incremental exports a minute).
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// The sections a user's file replaces whole rather than merges into: a
/// source is either the simulator or theirs, never a mix of both (a desk
/// `kind = "rt"` must not inherit the simulated Zendesk's custom fields).
pub const SOURCE_SECTIONS: [&str; 4] = ["desk", "metrics", "incidents", "accounts"];

/// Everything in the demo config but the sources: what makes each feature
/// reachable (`e` needs targets, `M` needs `[ui] me`, customer updates need
/// customer-facing service names). Names match the simulator's agents,
/// groups, services and feature areas.
const FEATURES: &str = r#"
[ui]
# One of the simulated CRE group's agents, so "mine" (M) has rows.
me = "Haruka Sato"

[[escalation.targets]]
name = "api-eng"
label = "API engineering"
feature_areas = ["api", "webhooks", "integrations"]
priority = "urgent"
tags = ["eng-api"]
# Pages the simulated PagerDuty (Events v2): the page opens an incident.
routing_key_env = "CRE_DEMO_ROUTING_KEY"
severity = "critical"

[[escalation.targets]]
name = "cre"
label = "Customer reliability (CRE group)"
priority = "high"
group = "390000000003"
tags = ["cre"]

[[escalation.targets]]
name = "billing-ops"
label = "Billing operations"
feature_areas = ["billing"]
tags = ["billing-ops"]

[incident_updates.service_names]
api = "the Acme Cloud API"
exports = "data exports"

[service_areas]
api = ["api", "webhooks", "integrations"]
exports = ["exports", "dashboards"]

[[views]]
name = "enterprise, high and up"
filter = "segment = enterprise and priority >= high"

[[views]]
name = "API and webhooks"
filter = "area = api or area = webhooks"

[[views]]
name = "mine, due within 4h"
filter = "assignee = me and sla < 4h"

[[views]]
name = "nobody's, urgent"
filter = "assignee = none and priority = urgent"
"#;

/// The variable the demo's `api-eng` target names for its routing key;
/// the demo supplies the key itself.
const DEMO_ROUTING_KEY_ENV: &str = "CRE_DEMO_ROUTING_KEY";

/// A config for the running simulator. The accounts file is written to
/// `dir` and read back through the real loader, like a CRM export.
pub fn config(
    sim: &Simulator,
    dir: &Path,
    every: Duration,
) -> Result<(Config, Secrets), ConfigError> {
    config_for(&sim.base_url(), &sim.accounts_csv(), dir, every, None)
}

/// A config for a simulator at `url` (here or started elsewhere with
/// `cre-cockpit simulate`), given the accounts file it serves, with the
/// user's file (`demo --config FILE`) merged over it: their keys win, their
/// arrays (`[[views]]`, `[[slo]]`, targets) replace the demo's, and a
/// source section they write replaces the simulator's for that source (its
/// token then comes from their `token_env`, as outside the demo).
pub fn config_for(
    url: &str,
    accounts_csv: &str,
    dir: &Path,
    every: Duration,
    user: Option<&Path>,
) -> Result<(Config, Secrets), ConfigError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ConfigError::Read { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let accounts = dir.join("accounts.csv");
    std::fs::write(&accounts, accounts_csv).map_err(io(&accounts))?;
    let text = demo_toml(url, &accounts, every);
    let mut merged: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Value {
        key: "demo".into(),
        message: e.to_string(),
    })?;
    // The simulator accepts any credentials but, like the real services,
    // insists that some are sent.
    let token = Some(Secret::new("demo-token"));
    let mut secrets = Secrets {
        desk: token.clone(),
        metrics: None,
        incidents: token,
        // The simulator's Events v2 takes any routing key.
        routing_keys: [(
            DEMO_ROUTING_KEY_ENV.to_owned(),
            Secret::new("demo-routing-key"),
        )]
        .into(),
    };
    if let Some(path) = user {
        // Validated alone first, so its errors name its own lines.
        let theirs = Config::load(path)?;
        let mut table: toml::Table =
            std::fs::read_to_string(path)
                .map_err(io(path))
                .and_then(|t| {
                    toml::from_str(&t).map_err(|e| ConfigError::Value {
                        key: path.display().to_string(),
                        message: e.to_string(),
                    })
                })?;
        // `Config::load` resolved a relative accounts file against the
        // config's directory; keep that resolution in the merged text.
        if let Some(file) = theirs.accounts.as_ref().map(|a| a.file.clone())
            && let Some(toml::Value::Table(section)) = table.get_mut("accounts")
        {
            section.insert(
                "file".into(),
                toml::Value::String(file.display().to_string()),
            );
        }
        let user_secrets = crate::app::wiring::Secrets::from_env(&theirs)?;
        if theirs.desk.is_some() {
            secrets.desk = user_secrets.desk;
        }
        if theirs.metrics.is_some() {
            secrets.metrics = user_secrets.metrics;
        }
        if theirs.incidents.is_some() {
            secrets.incidents = user_secrets.incidents;
        }
        secrets.routing_keys.extend(user_secrets.routing_keys);
        merge(&mut merged, table);
    }
    let text = toml::to_string(&merged).map_err(|e| ConfigError::Value {
        key: "demo".into(),
        message: e.to_string(),
    })?;
    let config = Config::parse(&text).map_err(|e| ConfigError::Value {
        key: e.key,
        message: format!("{} (in the demo config merged with yours)", e.message),
    })?;
    Ok((config, secrets))
}

/// Merge `theirs` over `ours`: tables merge key by key, anything else
/// (values, arrays, and the source sections at the top) is replaced.
fn merge(ours: &mut toml::Table, theirs: toml::Table) {
    fn merge_tables(ours: &mut toml::Table, theirs: toml::Table, top: bool) {
        for (key, value) in theirs {
            let whole = top && SOURCE_SECTIONS.contains(&key.as_str());
            match (ours.get_mut(&key), value) {
                (Some(toml::Value::Table(mine)), toml::Value::Table(yours)) if !whole => {
                    merge_tables(mine, yours, false);
                }
                (_, value) => {
                    ours.insert(key, value);
                }
            }
        }
    }
    merge_tables(ours, theirs, true);
}

/// The demo config as a user would write it, pointed at the simulator.
fn demo_toml(url: &str, accounts: &Path, every: Duration) -> String {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let url = url.trim_end_matches('/');
    let events = quote(&format!("{url}/v2"));
    let url = quote(url);
    let every = quote(&format!("{}ms", every.as_millis().max(1)));
    let accounts = quote(&accounts.display().to_string());
    let good = quote(DEMO_SLO_GOOD);
    let valid = quote(DEMO_SLO_VALID);
    format!(
        r#"
[desk]
kind = "zendesk"
url = {url}
email = "demo@cre-cockpit.invalid"
poll_interval = {every}
# The simulated desk keeps these in custom fields, as real accounts do.
feature_field = "Product area"
segment_field = "Plan"

[metrics]
kind = "prometheus"
url = {url}
poll_interval = {every}

[incidents]
kind = "pagerduty"
url = {url}
from = "demo@cre-cockpit.invalid"
poll_interval = {every}

[accounts]
file = {accounts}

[escalation]
events_url = {events}

# 99.99 %: the simulated tenants' background errors (0.001–0.008 %) spend
# part of the budget; the incident's 4–15 % errors burn it fast enough that
# the multiwindow rules (1 h and 5 m at 14.4×) fire within about three
# minutes even for the least hurt tenant, so the verdict agrees with the
# error ratio and burn rate shown beside it. (At 99.9 % a tenant at 4 %
# would read OK for 20 minutes of a 30-minute incident.)
[[slo]]
name = "api availability"
service = "api"
target = 0.9999
window = "30d"
good = {good}
valid = {valid}
{FEATURES}"#
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{DeskKind, IncidentsKind};

    const URL: &str = "http://127.0.0.1:9";
    const CSV: &str = "id,name,desk_org,tenant,segment,seats,arr,renewal_date,owner,tier\n";

    fn demo(user: Option<&str>) -> Result<(Config, Secrets), ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        if let Some(text) = user {
            std::fs::write(&path, text).unwrap();
        }
        config_for(
            URL,
            CSV,
            &dir.path().join("demo"),
            POLL_EVERY,
            user.map(|_| path.as_path()),
        )
    }

    #[test]
    fn the_demo_config_switches_every_feature_on() {
        let (config, secrets) = demo(None).unwrap();
        let settings = config.settings(true);
        assert_eq!(settings.me.as_deref(), Some("Haruka Sato"));
        assert!(config.escalation.targets.len() >= 2);
        assert!(config.views.len() >= 3);
        // The built views (built-ins plus the demo's) are what `v` cycles.
        assert!(settings.views.len() >= 5 + config.views.len());
        assert_eq!(
            config
                .incident_updates
                .service_names
                .get("api")
                .map(String::as_str),
            Some("the Acme Cloud API")
        );
        let desk = config.desk.unwrap();
        assert_eq!(desk.url, URL);
        assert_eq!(desk.poll_interval, POLL_EVERY);
        assert_eq!(config.slo.len(), 1);
        assert!(secrets.desk.is_some() && secrets.incidents.is_some());
        // A target pages, with a key the demo supplies, at the simulator.
        let paging = config
            .escalation
            .targets
            .iter()
            .find_map(|t| t.routing_key_env.as_ref())
            .unwrap();
        assert!(secrets.routing_keys.contains_key(paging));
        assert_eq!(config.escalation.events_url, format!("{URL}/v2"));
    }

    #[test]
    fn the_users_file_wins_key_by_key_and_replaces_arrays() {
        let (config, _) = demo(Some(
            "[ui]\nme = \"Mei Lin\"\n\n[[views]]\nname = \"mine\"\nfilter = \"assignee = me\"\n\n\
             [incident_updates.service_names]\nexports = \"Reports\"\n",
        ))
        .unwrap();
        assert_eq!(config.ui.me.as_deref(), Some("Mei Lin"));
        let names: Vec<&str> = config.views.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["mine"]);
        let services = &config.incident_updates.service_names;
        assert_eq!(services.get("exports").map(String::as_str), Some("Reports"));
        // A key the user did not write is the demo's.
        assert_eq!(
            services.get("api").map(String::as_str),
            Some("the Acme Cloud API")
        );
        // Sources the user did not configure stay the simulator.
        assert_eq!(config.desk.unwrap().url, URL);
        assert_eq!(config.incidents.unwrap().kind, IncidentsKind::Pagerduty);
    }

    #[test]
    fn a_source_the_user_configures_replaces_the_simulators_whole() {
        let (config, secrets) = demo(Some(
            "[desk]\nkind = \"rt\"\nurl = \"http://127.0.0.1:8\"\nqueue = \"Support\"\n",
        ))
        .unwrap();
        let desk = config.desk.unwrap();
        assert_eq!(desk.kind, DeskKind::Rt);
        assert_eq!(desk.url, "http://127.0.0.1:8");
        // Not inherited from the simulated Zendesk.
        assert_eq!(desk.feature_field, None);
        assert_eq!(desk.email, None);
        // No token_env: no token, not the simulator's.
        assert!(secrets.desk.is_none());
        assert!(secrets.incidents.is_some());
        assert_eq!(config.metrics.unwrap().url, URL);
    }

    #[test]
    fn an_error_in_the_users_file_names_their_file_and_line() {
        let Err(e) = demo(Some("[ui]\nme = \"x\"\npoll = 3\n")) else {
            panic!("accepted an unknown key");
        };
        let text = e.to_string();
        assert!(text.contains("mine.toml:3"), "{text}");
    }
}
