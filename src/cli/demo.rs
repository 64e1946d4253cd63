//! The built-in demo: a config that points every adapter at the simulator.

use std::path::Path;
use std::time::Duration;

use crate::app::wiring::Secrets;
use crate::config::{
    AccountsConfig, Config, DeskConfig, DeskKind, IncidentsConfig, IncidentsKind, MetricsConfig,
    MetricsKind, QueryConfig, SloConfig,
};
use crate::simulator::Simulator;
use crate::simulator::prometheus::{DEMO_SLO_GOOD, DEMO_SLO_VALID};
use crate::sources::http::Secret;

/// Demo sources poll faster than real ones so the scenario visibly moves
/// (still within Zendesk's 10 incremental exports a minute).
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// A config for the running simulator. The accounts file is written to
/// `dir` and read back through the real loader, like a CRM export.
pub fn config(sim: &Simulator, dir: &Path, every: Duration) -> std::io::Result<(Config, Secrets)> {
    config_for(&sim.base_url(), &sim.accounts_csv(), dir, every)
}

/// A config for a simulator running elsewhere (`cre-cockpit simulate`),
/// given its base URL and the accounts file it serves at `/accounts.csv`.
pub fn config_for(
    url: &str,
    accounts_csv: &str,
    dir: &Path,
    every: Duration,
) -> std::io::Result<(Config, Secrets)> {
    std::fs::create_dir_all(dir)?;
    let accounts = dir.join("accounts.csv");
    std::fs::write(&accounts, accounts_csv)?;
    let url = url.trim_end_matches('/').to_owned();
    let config = Config {
        desk: Some(DeskConfig {
            email: Some("demo@cre-cockpit.invalid".into()),
            poll_interval: every,
            // The simulated desk keeps these in custom fields, as real
            // accounts do.
            feature_field: Some("Product area".into()),
            segment_field: Some("Plan".into()),
            ..DeskConfig::new(DeskKind::Zendesk, url.clone())
        }),
        metrics: Some(MetricsConfig {
            kind: MetricsKind::Prometheus,
            url: url.clone(),
            token_env: None,
            token_keyring: None,
            poll_interval: every,
            allow_insecure_http: false,
            queries: QueryConfig::default(),
            tenant_label: "tenant".into(),
            timeout: None,
        }),
        incidents: Some(IncidentsConfig {
            token_env: None,
            from: Some("demo@cre-cockpit.invalid".into()),
            poll_interval: every,
            ..IncidentsConfig::new(IncidentsKind::Pagerduty, url)
        }),
        accounts: Some(AccountsConfig { file: accounts }),
        // 99 %: the simulated tenants' background errors (0.1–0.8 %) spend
        // part of the budget (and a few exhaust it once the incident has
        // burned through it); at 99.5 % the background alone would exhaust
        // a third of the customers' budgets and paint them Red.
        slo: vec![SloConfig {
            name: Some("api availability".into()),
            service: "api".into(),
            target: 0.99,
            window: Duration::from_secs(30 * 86_400),
            good: DEMO_SLO_GOOD.into(),
            valid: DEMO_SLO_VALID.into(),
            min_bad_events: crate::insight::slo::DEFAULT_MIN_BAD_EVENTS,
        }],
        ..Config::default()
    };
    // The simulator accepts any credentials but, like the real services,
    // insists that some are sent.
    let token = Some(Secret::new("demo-token"));
    Ok((
        config,
        Secrets {
            desk: token.clone(),
            metrics: None,
            incidents: token,
        },
    ))
}
