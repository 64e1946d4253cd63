//! An Alertmanager `GET /api/v2/alerts` body, grouped into incidents under
//! the default labels (alertname + service, severity, tenant).
#![no_main]

use std::collections::BTreeSet;

use cre_cockpit::sources::alertmanager::read_alerts;
use cre_cockpit::config::{IncidentsConfig, IncidentsKind};
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = IncidentsConfig::new(
        IncidentsKind::Alertmanager,
        "https://alertmanager.example".into(),
    );
    let base = url::Url::parse(&config.url).expect("a fixed URL");
    match read_alerts(data, &config, &base) {
        Ok((incidents, notes)) => {
            incidents.iter().for_each(check::incident);
            let ids: BTreeSet<&str> = incidents.iter().map(|i| i.id.as_str()).collect();
            assert_eq!(ids.len(), incidents.len(), "two incidents share an id");
            for incident in &incidents {
                let alerts = notes
                    .get(incident.id.as_str())
                    .expect("every incident has its alerts");
                assert!(!alerts.is_empty(), "an incident of no alerts");
                alerts.iter().for_each(check::note);
            }
        }
        Err(e) => check::error(&e),
    }
});
