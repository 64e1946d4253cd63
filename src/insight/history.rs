//! What the cockpit remembers beyond the latest poll: recently closed
//! inquiries and what happened to inquiries (reopens, late answers) for the
//! support factors, the major incidents that touched each customer, the
//! daily health scores behind the trend, and when each next action's
//! trigger first appeared (so its deadline stays put).
//!
//! The model owns it and changes it without IO; the parts that must survive
//! a restart travel to and from `crate::store` as messages and effects.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::core::domain::{Inquiry, InquiryKind, Name, Priority, Satisfaction, Severity};
use jiff::civil::Date;

use crate::insight::health::{Baseline, DayScore};

/// How long closed inquiries are kept: support burden looks back 90 days.
pub const KEEP_CLOSED: SignedDuration = SignedDuration::from_hours(90 * 24);
/// How long desk events and incidents are kept: F5 and F6 look back 30 days.
pub const KEEP_EVENTS: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How many days of scores are kept in memory: enough for Δ30 and its slack.
pub const KEEP_SCORE_DAYS: i64 = 40;

/// The little the health score and the voice of the customer need of an
/// inquiry that has left the open queue.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedInquiry {
    pub id: String,
    pub org: Option<Name>,
    pub priority: Priority,
    pub kind: Option<InquiryKind>,
    /// Whether support burden counts it (not a question).
    pub problem: bool,
    pub feature_area: Option<Name>,
    pub created_at: Timestamp,
    pub closed_at: Timestamp,
    /// The customer's rating, which usually comes after the close.
    pub satisfaction: Option<Satisfaction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskEventKind {
    /// A solved/closed inquiry came back open.
    Reopened,
    /// An SLA clock ran out before the desk answered (seen when the answer,
    /// or the close, arrived after the due time).
    SlaBreached,
}

/// Something that happened to an inquiry, for support experience (F5).
#[derive(Debug, Clone, PartialEq)]
pub struct DeskEvent {
    pub inquiry: String,
    pub org: Option<Name>,
    pub at: Timestamp,
    pub kind: DeskEventKind,
}

/// A SEV1/SEV2 incident that affected a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSeen {
    pub incident: String,
    /// Account id.
    pub account: String,
    pub severity: Severity,
    pub started_at: Timestamp,
}

/// When a customer's next action was first triggered, by the trigger's
/// stable code (`NextAction::code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub code: String,
    pub since: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    closed: Vec<ClosedInquiry>,
    index: HashMap<String, usize>,
    pub events: Vec<DeskEvent>,
    pub incidents: Vec<IncidentSeen>,
    /// Daily scores by account id, oldest first.
    pub scores: HashMap<String, Vec<DayScore>>,
    /// Next-action triggers by account id.
    pub triggers: HashMap<String, Trigger>,
    /// What each customer's trend compares with, from `scores`; refreshed
    /// when past scores arrive or the day changes.
    baselines: HashMap<String, Baseline>,
}

impl History {
    /// Recently closed inquiries (created within 90 days).
    #[must_use]
    pub fn closed(&self) -> &[ClosedInquiry] {
        &self.closed
    }

    /// An inquiry arrived solved or closed: remember it if it was created
    /// within the 90-day window. `previous` is the open version the model
    /// held, if any, whose SLA clock may have run out before the close.
    pub fn close(&mut self, inquiry: &Inquiry, previous: Option<&Inquiry>, now: Timestamp) {
        if let Some(prev) = previous {
            self.note_late_answer(prev, None, inquiry.updated_at);
        }
        if inquiry.created_at < now - KEEP_CLOSED {
            self.remove_closed(&inquiry.id);
            return;
        }
        let closed = ClosedInquiry {
            id: inquiry.id.to_string(),
            org: inquiry.org.clone(),
            priority: inquiry.priority,
            kind: inquiry.kind,
            problem: crate::insight::health::is_problem(inquiry.kind, &inquiry.tags),
            feature_area: inquiry.feature_area.clone(),
            created_at: inquiry.created_at,
            closed_at: inquiry.updated_at,
            satisfaction: inquiry.desk.satisfaction,
        };
        match self.index.get(inquiry.id.as_str()) {
            Some(&i) => self.closed[i] = closed,
            None => {
                self.index.insert(closed.id.clone(), self.closed.len());
                self.closed.push(closed);
            }
        }
    }

    /// An open version of an inquiry arrived. If the model knew it as
    /// closed, it was reopened; if it held an older open version whose SLA
    /// clock was due before this change, that target was missed.
    pub fn opened(&mut self, inquiry: &Inquiry, previous: Option<&Inquiry>) {
        if let Some(prev) = previous {
            self.note_late_answer(prev, inquiry.sla.map(|c| c.due), inquiry.updated_at);
        }
        if self.remove_closed(&inquiry.id) {
            self.events.push(DeskEvent {
                inquiry: inquiry.id.to_string(),
                org: inquiry.org.clone(),
                at: inquiry.updated_at,
                kind: DeskEventKind::Reopened,
            });
        }
    }

    /// `previous`'s clock was replaced at `at` by one due at `next_due` (or
    /// stopped): a breach if it was due before then. A clock that carries
    /// on unchanged is still running and is counted live from the open
    /// queue, not here, so nothing is counted twice.
    fn note_late_answer(&mut self, previous: &Inquiry, next_due: Option<Timestamp>, at: Timestamp) {
        if let Some(clock) = previous.sla
            && clock.due < at
            && next_due != Some(clock.due)
            && !self
                .events
                .iter()
                .any(|e| e.inquiry == previous.id && e.at == clock.due)
        {
            self.events.push(DeskEvent {
                inquiry: previous.id.to_string(),
                org: previous.org.clone(),
                at: clock.due,
                kind: DeskEventKind::SlaBreached,
            });
        }
    }

    fn remove_closed(&mut self, id: &str) -> bool {
        let Some(i) = self.index.remove(id) else {
            return false;
        };
        self.closed.swap_remove(i);
        if let Some(moved) = self.closed.get(i) {
            self.index.insert(moved.id.clone(), i);
        }
        true
    }

    /// The desk replaced everything it had told us: forget the closed list
    /// (it comes again) but keep the events, which were observations.
    pub fn desk_reloaded(&mut self) {
        self.closed.clear();
        self.index.clear();
    }

    /// The desk deleted an inquiry.
    pub fn deleted(&mut self, id: &str) {
        self.remove_closed(id);
    }

    /// Remember that incidents affected customers; a pair already known is
    /// kept as it was. One call per batch: checking each pair against the
    /// whole list cost pairs × list at every poll when a SEV1 hit thousands.
    pub fn incidents_seen(&mut self, seen: impl IntoIterator<Item = IncidentSeen>) {
        let mut known: std::collections::HashSet<(String, String)> = self
            .incidents
            .iter()
            .map(|s| (s.incident.clone(), s.account.clone()))
            .collect();
        for s in seen {
            if known.insert((s.incident.clone(), s.account.clone())) {
                self.incidents.push(s);
            }
        }
    }

    /// Record a day's score for a customer (replacing an earlier one that
    /// day).
    pub fn record_score(&mut self, account: &str, score: DayScore) {
        let day = score.day;
        let days = self.scores.entry(account.to_owned()).or_default();
        match days.binary_search_by_key(&day, |d| d.day) {
            Ok(i) => days[i] = score,
            Err(i) => days.insert(i, score),
        }
        // Today's own score is not its baseline; a past day changes it.
        if let Some(today) = self.baselines.get(account).and_then(|b| b.today)
            && day < today
        {
            let baseline = Baseline::of(days, today);
            self.baselines.insert(account.to_owned(), baseline);
        }
    }

    /// The trend baseline of a customer for `today` (computed if missing or
    /// stale; see [`History::refresh_baselines`] to do it for everyone).
    #[must_use]
    pub fn baseline(&self, account: &str, today: Date) -> std::borrow::Cow<'_, Baseline> {
        match self.baselines.get(account) {
            Some(b) if b.today == Some(today) => std::borrow::Cow::Borrowed(b),
            _ => std::borrow::Cow::Owned(Baseline::of(
                self.scores.get(account).map_or(&[][..], Vec::as_slice),
                today,
            )),
        }
    }

    /// Bring every customer's baseline to `today` (once a day, and after
    /// the stored history is loaded).
    pub fn refresh_baselines(&mut self, today: Date) {
        for (account, days) in &self.scores {
            let fresh = self
                .baselines
                .get(account)
                .is_some_and(|b| b.today == Some(today));
            if !fresh {
                self.baselines
                    .insert(account.clone(), Baseline::of(days, today));
            }
        }
    }

    /// Forget what no factor looks at any more.
    pub fn prune(&mut self, now: Timestamp) {
        let closed_cutoff = now - KEEP_CLOSED;
        if self.closed.iter().any(|c| c.created_at < closed_cutoff) {
            self.closed.retain(|c| c.created_at >= closed_cutoff);
            self.index = self
                .closed
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.clone(), i))
                .collect();
        }
        let cutoff = now - KEEP_EVENTS;
        self.events.retain(|e| e.at >= cutoff);
        self.incidents.retain(|s| s.started_at >= cutoff);
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let stale = self
            .baselines
            .values()
            .next()
            .is_some_and(|b| b.today != Some(today));
        if stale && let Ok(oldest) = today.checked_sub(jiff::Span::new().days(KEEP_SCORE_DAYS)) {
            for days in self.scores.values_mut() {
                days.retain(|d| d.day >= oldest);
            }
        }
        if stale || self.baselines.len() < self.scores.len() {
            self.refresh_baselines(today);
        }
    }
}

/// What the model gets back at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// Daily scores by account id, oldest first.
    pub scores: Vec<(String, DayScore)>,
    pub triggers: Vec<(String, Trigger)>,
    pub incidents: Vec<IncidentSeen>,
}

/// What the model asks to be saved. Replaces the triggers wholesale (a
/// customer without an action has none); upserts today's scores and the
/// incidents seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Persist {
    pub scores: Vec<(String, DayScore)>,
    pub triggers: Vec<(String, Trigger)>,
    pub incidents: Vec<IncidentSeen>,
}

// Scores are finite numbers, so equality is an equivalence here; `Effect`
// (which carries a `Persist`) needs `Eq`.
impl Eq for Persist {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::{InquiryStatus, SlaClock, SlaMetric};

    #[test]
    fn an_incident_is_remembered_once_per_customer() {
        let seen = |incident: &str, account: &str, minute: i64| IncidentSeen {
            incident: incident.into(),
            account: account.into(),
            severity: Severity::Sev1,
            started_at: Timestamp::from_second(minute * 60).unwrap(),
        };
        let mut history = History::default();
        history.incidents_seen([seen("P1", "acme", 1), seen("P1", "globex", 1)]);
        // Seen again (and twice within one batch): the first record stays.
        history.incidents_seen([
            seen("P1", "acme", 9),
            seen("P2", "acme", 5),
            seen("P2", "acme", 6),
        ]);
        assert_eq!(
            history.incidents,
            [
                seen("P1", "acme", 1),
                seen("P1", "globex", 1),
                seen("P2", "acme", 5)
            ]
        );
    }

    fn inquiry(id: &str, status: InquiryStatus, updated: &str, due: Option<&str>) -> Inquiry {
        Inquiry {
            history: Default::default(),
            id: id.into(),
            subject: "s".into(),
            status,
            priority: Priority::High,
            org: Some("Acme".into()),
            requester: None,
            assignee: None,
            group: None,
            tags: Vec::new(),
            feature_area: Some("api".into()),
            created_at: "2026-11-20T00:00:00Z".parse().unwrap(),
            updated_at: updated.parse().unwrap(),
            sla: due.map(|d| SlaClock {
                metric: SlaMetric::FirstReply,
                due: d.parse().unwrap(),
                business_hours: false,
            }),
            replied: false,
            url: None,
            kind: None,
            desk: Default::default(),
        }
    }

    fn now() -> Timestamp {
        "2026-11-21T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn reopen_and_late_answer_are_observed() {
        let mut h = History::default();
        let open = inquiry(
            "1",
            InquiryStatus::Open,
            "2026-11-20T00:00:00Z",
            Some("2026-11-20T04:00:00Z"),
        );
        // Solved at 06:00, two hours after its clock ran out.
        let solved = inquiry("1", InquiryStatus::Solved, "2026-11-20T06:00:00Z", None);
        h.close(&solved, Some(&open), now());
        assert_eq!(h.closed().len(), 1);
        assert_eq!(h.events.len(), 1);
        assert_eq!(h.events[0].kind, DeskEventKind::SlaBreached);
        // Back open the next day: a reopen, and no longer closed.
        let again = inquiry("1", InquiryStatus::Open, "2026-11-21T00:00:00Z", None);
        h.opened(&again, None);
        assert!(h.closed().is_empty());
        assert_eq!(h.events[1].kind, DeskEventKind::Reopened);
        // An answer in time is no breach.
        let mut h = History::default();
        let answered = inquiry("2", InquiryStatus::Open, "2026-11-20T03:00:00Z", None);
        h.opened(&answered, Some(&open));
        assert!(h.events.is_empty());
    }

    #[test]
    fn prune_forgets_old_things_only() {
        let mut h = History::default();
        let mut old = inquiry("old", InquiryStatus::Closed, "2026-08-01T00:00:00Z", None);
        old.created_at = "2026-07-01T00:00:00Z".parse().unwrap();
        h.close(&old, None, "2026-09-01T00:00:00Z".parse().unwrap());
        h.close(
            &inquiry("new", InquiryStatus::Closed, "2026-11-20T00:00:00Z", None),
            None,
            now(),
        );
        // Too old to count when it arrives: not kept at all.
        h.close(&old, None, now());
        assert_eq!(h.closed().len(), 1);
        h.close(&old, None, "2026-09-01T00:00:00Z".parse().unwrap());
        h.prune("2026-11-21T00:00:00Z".parse().unwrap());
        assert_eq!(h.closed().len(), 1);
        assert_eq!(h.closed()[0].id, "new");
        // The index still finds it after pruning.
        h.deleted("new");
        assert!(h.closed().is_empty());
    }
}
