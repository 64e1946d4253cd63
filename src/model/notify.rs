//! Which notifiable conditions hold in the model now: the scan behind
//! `insight::notify`, which decides what is new and how it is shown.
//!
//! The scan runs when data arrives, not on every tick: incidents and health
//! only change with data, and the SLA warnings are laid out in a
//! [`BreachSchedule`] when the inquiries change, so the 1 Hz tick only
//! compares its clock with the next warning due.

use jiff::Timestamp;

use crate::core::domain::{Inquiry, Severity};
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

/// When each inquiry's SLA warning falls due (its breach less
/// [`BREACH_WARNING`]), soonest first.
#[derive(Debug, Clone, Default)]
pub struct BreachSchedule {
    /// (warning due, breach due, index into the inquiries).
    due: Vec<(Timestamp, Timestamp, usize)>,
    /// Warnings before this one have fallen due already (and were
    /// announced, or were part of a data scan).
    next: usize,
}

impl BreachSchedule {
    /// The warnings of `inquiries` whose breach is still ahead of `now`.
    #[must_use]
    pub fn build(inquiries: &[Inquiry], now: Timestamp) -> Self {
        let mut due: Vec<(Timestamp, Timestamp, usize)> = inquiries
            .iter()
            .enumerate()
            .filter_map(|(i, inquiry)| {
                let breach = inquiry.sla?.due;
                (breach >= now).then(|| (breach - BREACH_WARNING, breach, i))
            })
            .collect();
        due.sort_unstable();
        let next = due.partition_point(|(warn, _, _)| *warn <= now);
        Self { due, next }
    }

    /// When the next warning falls due, if any is left.
    #[must_use]
    pub fn next_due(&self) -> Option<Timestamp> {
        self.due.get(self.next).map(|(warn, _, _)| *warn)
    }
}

/// The SLA warnings that fell due by `now` since the last call: what a
/// tick can make true. Costs one comparison when none did.
pub fn breaches_due(model: &mut Model) -> Vec<Condition> {
    let now = model.now;
    let schedule = &mut model.breaches;
    if schedule.next_due().is_none_or(|warn| warn > now) {
        return Vec::new();
    }
    let start = schedule.next;
    let end = start + schedule.due[start..].partition_point(|(warn, _, _)| *warn <= now);
    schedule.next = end;
    let model = &*model;
    model.breaches.due[start..end]
        .iter()
        .filter(|(_, breach, _)| *breach >= now)
        .filter_map(|(_, _, i)| model.data.inquiries.get(*i))
        .filter_map(|inquiry| breach_soon(inquiry, now))
        .collect()
}

/// The condition of an inquiry within [`BREACH_WARNING`] of its breach.
fn breach_soon(inquiry: &Inquiry, now: Timestamp) -> Option<Condition> {
    let left = inquiry.sla?.due.duration_since(now);
    (left <= BREACH_WARNING && !left.is_negative()).then(|| Condition {
        kind: Kind::BreachSoon,
        id: inquiry.id.to_string(),
        title: format!("SLA breach in {} min", left.as_mins()),
        body: format!("{} {}", inquiry.id, inquiry.subject),
    })
}

/// Every notifiable condition true now (run when data changes).
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
    // Only the warnings already due can hold: the rest are in the future.
    let schedule = &model.breaches;
    out.extend(
        schedule.due[..schedule.next]
            .iter()
            .filter_map(|(_, _, i)| model.data.inquiries.get(*i))
            .filter_map(|inquiry| breach_soon(inquiry, model.now)),
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::core::domain::{SlaClock, SlaMetric};

    fn due_in(id: &str, now: Timestamp, mins: i64) -> Inquiry {
        Inquiry {
            sla: Some(SlaClock {
                metric: SlaMetric::FirstReply,
                due: now + SignedDuration::from_mins(mins),
                business_hours: false,
            }),
            ..Inquiry::bare(id)
        }
    }

    #[test]
    fn the_schedule_holds_breaches_ahead_soonest_first() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let inquiries = [
            due_in("late", now, 60),
            due_in("passed", now, -5),
            due_in("soon", now, 10),
            Inquiry::bare("no clock"),
            due_in("next", now, 30),
        ];
        let schedule = BreachSchedule::build(&inquiries, now);
        let ids: Vec<&str> = schedule
            .due
            .iter()
            .map(|(_, _, i)| inquiries[*i].id.as_str())
            .collect();
        assert_eq!(ids, ["soon", "next", "late"], "a passed breach is left out");
        // "soon" is within its warning already: the data scan covers it,
        // and the tick waits for "next" (30 min less the warning).
        assert_eq!(schedule.next, 1);
        assert_eq!(
            schedule.next_due(),
            Some(now + SignedDuration::from_mins(30) - BREACH_WARNING)
        );
    }
}
