//! Incidents nobody declared: a page-level SLO burn on a service with no
//! open incident becomes a *detected* row in the incidents pane, so a fast
//! burn the alerting missed (or that only one tenant feels) is not silent.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::core::domain::{Incident, IncidentStatus, Severity};
use crate::insight::slo::{BurnLevel, SloReport};

/// The id prefix of detected incidents.
pub const ID_PREFIX: &str = "slo:";

/// Whether an incident (open or silenced) already speaks for a service.
fn declared_for(incidents: &[Incident], service: &str) -> bool {
    incidents.iter().any(|i| {
        i.status != IncidentStatus::Resolved
            && i.status != IncidentStatus::Detected
            && i.service
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(service))
    })
}

/// The detected incidents for the current SLO reports. `previous` is the
/// last incident list, so a burn that goes on keeps its start time instead
/// of restarting every poll.
#[must_use]
pub fn detected(
    slos: &[SloReport],
    declared: &[Incident],
    previous: &[Incident],
    now: Timestamp,
) -> Vec<Incident> {
    let mut out = Vec::new();
    for report in slos {
        let burning: Vec<&String> = report
            .by_tenant
            .iter()
            .filter(|(_, s)| s.level == BurnLevel::Page)
            .map(|(t, _)| t)
            .collect();
        let global = report.global.level == BurnLevel::Page;
        if (!global && burning.is_empty()) || declared_for(declared, &report.service) {
            continue;
        }
        let id = format!("{ID_PREFIX}{}", report.name);
        let started_at = previous
            .iter()
            .find(|i| i.id == id && i.status == IncidentStatus::Detected)
            .map_or(now, |i| i.started_at);
        let scope = if global {
            "the whole service".to_owned()
        } else {
            let names: Vec<&str> = burning.iter().map(|t| t.as_str()).collect();
            format!("tenant {}", names.join(", "))
        };
        let mut details = BTreeMap::new();
        details.insert(
            "slo".to_owned(),
            format!(
                "{} ≥ {:.2}% over {}",
                report.name,
                report.target * 100.0,
                report.window
            ),
        );
        details.insert(
            "global burn".to_owned(),
            format!("{} ({})", report.global.level, report.global.reason),
        );
        out.push(Incident {
            id: id.into(),
            title: format!(
                "SLO {} burning at page level for {scope} (no incident declared)",
                report.name
            ),
            status: IncidentStatus::Detected,
            // domain.md §5.2: a page-level burn on a global SLI is SEV2; one
            // felt by some tenants only is at most SEV3 until someone looks.
            severity: if global {
                Severity::Sev2
            } else {
                Severity::Sev3
            },
            service: Some(report.service.clone()),
            started_at,
            responders: Vec::new(),
            // The join links the burning tenants itself, with the burn as
            // the reason.
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            resolved_at: None,
            details,
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::insight::slo::SloState;

    fn report(service: &str, global: BurnLevel, tenants: &[(&str, BurnLevel)]) -> SloReport {
        let state = |level| SloState {
            level,
            ..SloState::default()
        };
        SloReport {
            name: service.into(),
            service: service.into(),
            target: 0.999,
            window: "30d".into(),
            global: state(global),
            by_tenant: tenants
                .iter()
                .map(|(t, l)| ((*t).to_owned(), state(*l)))
                .collect(),
        }
    }

    fn declared(service: &str, status: IncidentStatus) -> Incident {
        Incident {
            id: "P1".into(),
            title: "t".into(),
            status,
            severity: Severity::Sev2,
            service: Some(service.into()),
            started_at: Timestamp::UNIX_EPOCH,
            responders: Vec::new(),
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            resolved_at: None,
            details: BTreeMap::new(),
        }
    }

    #[test]
    fn a_tenant_page_without_an_incident_is_detected_and_keeps_its_start() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let slos = [
            report(
                "sso",
                BurnLevel::Ok,
                &[("soylent", BurnLevel::Page), ("acme", BurnLevel::Ticket)],
            ),
            report("api", BurnLevel::Page, &[("globex", BurnLevel::Page)]),
            report("db", BurnLevel::Ticket, &[("acme", BurnLevel::Ticket)]),
        ];
        let incidents = [declared("API", IncidentStatus::Firing)];
        let found = detected(&slos, &incidents, &[], now);
        assert_eq!(
            found.len(),
            1,
            "api is declared (case-insensitively), db only tickets"
        );
        assert_eq!(found[0].id, "slo:sso");
        assert_eq!(found[0].status, IncidentStatus::Detected);
        assert_eq!(found[0].severity, Severity::Sev3);
        assert!(
            found[0].title.contains("tenant soylent"),
            "{}",
            found[0].title
        );

        let later = now + jiff::SignedDuration::from_mins(5);
        let again = detected(&slos, &incidents, &found, later);
        assert_eq!(again[0].started_at, now);
    }

    #[test]
    fn a_global_page_is_sev2_and_resolved_incidents_do_not_cover_it() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let slos = [report("api", BurnLevel::Page, &[])];
        let found = detected(
            &slos,
            &[declared("api", IncidentStatus::Resolved)],
            &[],
            now,
        );
        assert_eq!(found[0].severity, Severity::Sev2);
        // A silenced alert on the service is someone's decision: no row.
        assert!(
            detected(
                &slos,
                &[declared("api", IncidentStatus::Suppressed)],
                &[],
                now
            )
            .is_empty()
        );
    }
}
