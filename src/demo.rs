//! The built-in demo: a config that points every adapter at the simulator.

use std::path::Path;
use std::time::Duration;

use crate::adapters::http::Secret;
use crate::config::{
    AccountsConfig, Config, DeskConfig, DeskKind, IncidentsConfig, IncidentsKind, MetricsConfig,
    MetricsKind, QueryConfig,
};
use crate::simulator::Simulator;
use crate::sources::Secrets;

/// Demo sources poll faster than real ones so the scenario visibly moves
/// (still within Zendesk's 10 incremental exports a minute).
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// A config for the running simulator. The accounts file is written to
/// `dir` and read back through the real loader, like a CRM export.
pub fn config(sim: &Simulator, dir: &Path, every: Duration) -> std::io::Result<(Config, Secrets)> {
    std::fs::create_dir_all(dir)?;
    let accounts = dir.join("accounts.csv");
    std::fs::write(&accounts, sim.accounts_csv())?;
    let url = sim.base_url();
    let config = Config {
        desk: Some(DeskConfig {
            kind: DeskKind::Zendesk,
            url: url.clone(),
            email: Some("demo@cre-cockpit.invalid".into()),
            token_env: None,
            poll_interval: every,
            allow_insecure_http: false,
            read_only: false,
            queue: None,
            query: None,
            customer_field: None,
            feature_field: None,
            page_size: None,
            timeout: None,
        }),
        metrics: Some(MetricsConfig {
            kind: MetricsKind::Prometheus,
            url: url.clone(),
            token_env: None,
            poll_interval: every,
            allow_insecure_http: false,
            queries: QueryConfig::default(),
            tenant_label: "tenant".into(),
        }),
        incidents: Some(IncidentsConfig {
            kind: IncidentsKind::Pagerduty,
            url,
            token_env: None,
            from: Some("demo@cre-cockpit.invalid".into()),
            poll_interval: every,
            allow_insecure_http: false,
            read_only: false,
        }),
        accounts: Some(AccountsConfig { file: accounts }),
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
