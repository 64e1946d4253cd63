//! What the model asks the local store to keep, and what it takes back.
//!
//! The model decides *when* (no IO here): once the stored history has been
//! loaded (so a fresh trigger never overwrites an older one), every source
//! has answered at least once (so a half-loaded score is not kept as the
//! day's), and then at most every few minutes or when the day changes.

use jiff::{SignedDuration, Timestamp};

use super::{Model, SourceStatus};
use crate::insight::health::DayScore;
use crate::insight::history::{IncidentSeen, Trigger};
use crate::insight::history::{Loaded, Persist};
use crate::model::message::Effect;

/// How often the day's scores are re-saved while the cockpit runs.
const EVERY: SignedDuration = SignedDuration::from_mins(10);

/// The model's side of the store.
#[derive(Debug, Clone, Default)]
pub struct StoreState {
    /// The stored history has been loaded into `Data::history`.
    pub loaded: bool,
    /// Why it could not be, if it could not.
    pub error: Option<String>,
    pub last_saved: Option<Timestamp>,
    pending: Option<Persist>,
}

impl Model {
    /// Fold the stored history in.
    pub(super) fn stored(&mut self, result: Result<Loaded, String>) {
        match result {
            Ok(loaded) => {
                let history = &mut self.data.history;
                for (account, day) in loaded.scores {
                    history.record_score(&account, day);
                }
                for (account, trigger) in loaded.triggers {
                    // A trigger seen this session before the load is newer
                    // information only if its driver differs.
                    match history.triggers.get(&account) {
                        Some(t) if t.code != trigger.code => {}
                        _ => {
                            history.triggers.insert(account, trigger);
                        }
                    }
                }
                history.incidents_seen(loaded.incidents);
                self.store.loaded = true;
                self.store.error = None;
                self.recompute();
            }
            Err(e) => {
                tracing::warn!(error = %e, "health history unavailable");
                self.say(format!("health history unavailable: {e}"));
                self.store.error = Some(e);
            }
        }
    }

    /// After a recompute: remember what the derived view says about
    /// incidents and triggers, and queue a save if one is due.
    pub(super) fn remember(&mut self) {
        // Until every source has answered, drivers computed from partial
        // data would reset the triggers' start times; leave them alone.
        let all_answered = self
            .sources
            .iter()
            .all(|s| s.status != SourceStatus::Loading);
        let history = &mut self.data.history;
        let mut triggers = std::collections::HashMap::new();
        let mut seen = Vec::new();
        for row in &self.derived.customers {
            let account = &self.data.accounts[row.account];
            for &i in &row.incidents {
                let incident = &self.data.incidents[i];
                if incident.severity <= crate::core::domain::Severity::Sev2
                    && row.health.in_incident
                {
                    seen.push(IncidentSeen {
                        incident: incident.id.to_string(),
                        account: account.id.to_string(),
                        severity: incident.severity,
                        started_at: incident.started_at,
                    });
                }
            }
            if let Some(action) = &row.next_action {
                triggers.insert(
                    account.id.to_string(),
                    Trigger {
                        code: action.code.to_owned(),
                        since: action.since,
                    },
                );
            }
        }
        history.incidents_seen(seen);
        if all_answered && !self.derived.customers.is_empty() {
            history.triggers = triggers;
        }
        let today = |t: Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
        let due = match self.store.last_saved {
            None => true,
            Some(at) => self.now.duration_since(at) >= EVERY || today(at) != today(self.now),
        };
        if self.store.loaded && all_answered && due && !self.derived.customers.is_empty() {
            self.store.pending = Some(self.batch());
            self.store.last_saved = Some(self.now);
        }
    }

    /// Today's scores, the current triggers and the incidents seen; today's
    /// scores also join the in-memory history, so a session that runs for
    /// days keeps its own trend.
    fn batch(&mut self) -> Persist {
        let day = self.now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut scores = Vec::with_capacity(self.derived.customers.len());
        for row in &self.derived.customers {
            let account = self.data.accounts[row.account].id.to_string();
            if let Some(score) = DayScore::of(&row.health, day) {
                self.data.history.record_score(&account, score.clone());
                scores.push((account, score));
            }
        }
        Persist {
            scores,
            triggers: self
                .data
                .history
                .triggers
                .iter()
                .map(|(a, t)| (a.clone(), t.clone()))
                .collect(),
            incidents: self.data.history.incidents.clone(),
        }
    }

    /// The save queued by the last recompute, if any.
    pub(super) fn take_persist(&mut self) -> Option<Effect> {
        self.store
            .pending
            .take()
            .map(|batch| Effect::Persist(Box::new(batch)))
    }

    /// A save of everything now (on quit, or at the end of `snapshot`),
    /// if the history was loaded.
    pub fn persist_now(&mut self) -> Option<Effect> {
        if !self.store.loaded || self.derived.customers.is_empty() {
            return None;
        }
        self.store.last_saved = Some(self.now);
        let batch = self.batch();
        Some(Effect::Persist(Box::new(batch)))
    }
}
