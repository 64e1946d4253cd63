//! Which notifiable conditions hold in the model now: the scan behind
//! `insight::notify`, which decides what is new and how it is shown.

use crate::core::domain::Severity;
use crate::insight::health::Band;
use crate::insight::notify::{BREACH_WARNING, Condition, Kind};
use crate::model::Model;

/// Whether every configured source has answered once (the baseline moment).
#[must_use]
pub fn ready(model: &Model) -> bool {
    model
        .sources
        .iter()
        .all(|s| s.last_ok.is_some() || s.last_error.is_some())
}

/// Every notifiable condition true now.
#[must_use]
pub fn conditions(model: &Model) -> Vec<Condition> {
    let mut out = Vec::new();
    for incident in &model.data.incidents {
        if incident.severity <= Severity::Sev2 && incident.is_open() {
            out.push(Condition {
                kind: Kind::MajorIncident,
                id: incident.id.to_string(),
                title: format!("{} incident", incident.severity),
                body: incident.title.clone(),
            });
        }
    }
    for row in &model.derived.customers {
        if row.health.band == Band::Red {
            let account = &model.data.accounts[row.account];
            let why = row
                .health
                .red_flags
                .first()
                .map(ToString::to_string)
                .or_else(|| row.health.factors.first().map(|f| f.name().to_owned()))
                .unwrap_or_default();
            out.push(Condition {
                kind: Kind::TurnedRed,
                id: account.id.to_string(),
                title: format!("{} turned Red", account.name),
                body: why,
            });
        }
    }
    for inquiry in &model.data.inquiries {
        if let Some(sla) = inquiry.sla {
            let left = sla.due.duration_since(model.now);
            if left <= BREACH_WARNING && !left.is_negative() {
                out.push(Condition {
                    kind: Kind::BreachSoon,
                    id: inquiry.id.to_string(),
                    title: format!("SLA breach in {} min", left.as_mins()),
                    body: format!("{} {}", inquiry.id, inquiry.subject),
                });
            }
        }
    }
    out
}
