//! Delivery of journalled writes, exactly once.
//!
//! Steps are sent oldest first, and the steps on one remote item (a ticket,
//! an incident) strictly in order: a later step waits while an earlier one on
//! the same item is not done. Failures are sorted by what they prove:
//! - the request never left (cannot connect), or was refused for a reason a
//!   retry won't fix (4xx): queued again / failed with the reason;
//! - it may have been applied (timeout after sending, broken connection, 5xx):
//!   `unknown`, and before sending again the outbox asks the source whether
//!   it arrived (notes carry a marker; tags, priority and pages are
//!   idempotent by nature).
//!
//! Retries back off exponentially with jitter and never sooner than a
//! `Retry-After` the source gave.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::app::wiring::RateGates;
use crate::core::domain::SourceError;
use crate::core::writes::{Delivery, SourceWrite, Step, StepState, Target};
use crate::model::message::Message;
use crate::sources::events::{Events, Trigger};
use crate::sources::http::Secret;
use crate::sources::pagerduty::PagerDuty;
use crate::sources::zendesk::Zendesk;
use crate::store::journal::{Journal, JournalError};

/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The desk's write side, by kind.
pub enum DeskWriter {
    Zendesk(Zendesk),
    /// RT, with the custom field that stands in for tags (if any).
    Rt(crate::sources::rt::Rt, Option<String>),
}

/// Everything the outbox can write to; a missing one means the journal keeps
/// the step queued with the reason.
#[derive(Default)]
pub struct Writers {
    pub desk: Option<DeskWriter>,
    pub incidents: Option<PagerDuty>,
    pub events: Option<Events>,
    /// PagerDuty routing keys by the name of the environment variable the
    /// escalation map names (the journal stores the name, never the key).
    pub routing_keys: std::collections::HashMap<String, Secret>,
    /// Read-only mode: nothing is sent; steps stay queued.
    pub read_only: bool,
}

/// What one delivery attempt proved.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// Will not succeed by retrying.
    Failed(String),
    /// Try again later; `maybe_applied` says whether to check first.
    Retry {
        error: String,
        maybe_applied: bool,
        after: Option<Duration>,
    },
}

impl From<SourceError> for Outcome {
    fn from(e: SourceError) -> Self {
        match e.status {
            // Rate limited or timed out at the gateway: retry as told.
            Some(408 | 429) => Self::Retry {
                error: e.message,
                maybe_applied: false,
                after: e.retry_after,
            },
            // The source refused the request itself: retrying won't help.
            Some(s) if (400..500).contains(&s) => Self::Failed(e.message),
            _ => Self::Retry {
                error: e.message,
                maybe_applied: e.maybe_applied,
                after: e.retry_after,
            },
        }
    }
}

/// The body actually sent for a note: the text plus the step's marker, by
/// which the outbox recognises its own note later.
#[must_use]
pub fn note_body(text: &str, marker: &str) -> String {
    format!("{text}\n\n— via cre-cockpit [{marker}]")
}

/// Whether our note (carrying `marker`) is already on the ticket: read the
/// conversation through the desk's ordinary read path.
async fn desk_has_marker(
    desk: &mut impl crate::sources::DeskSource,
    ticket: &str,
    marker: &str,
) -> Result<bool, SourceError> {
    Ok(desk
        .comments(ticket)
        .await?
        .iter()
        .any(|c| c.body.contains(marker)))
}

fn unavailable(what: &str) -> Outcome {
    Outcome::Retry {
        error: format!("no {what} configured to deliver to"),
        maybe_applied: false,
        after: None,
    }
}

impl Writers {
    /// Spend the same rate-limit budget as the pollers: the gates of the
    /// readers of the same accounts (see [`Sources::rate_gates`]), so a 429
    /// answered to one side holds the other back too.
    ///
    /// [`Sources::rate_gates`]: crate::app::wiring::Sources::rate_gates
    #[must_use]
    pub fn sharing(mut self, gates: RateGates) -> Self {
        self.desk = match (self.desk, gates.desk) {
            (Some(DeskWriter::Zendesk(z)), Some(gate)) => {
                Some(DeskWriter::Zendesk(z.with_rate_gate(gate)))
            }
            (desk, _) => desk,
        };
        if let Some(gate) = gates.incidents {
            self.incidents = self.incidents.map(|p| p.with_rate_gate(gate));
        }
        self
    }

    /// Deliver one step. `check_first` is set when an earlier attempt's
    /// outcome is unknown: look for the marker before sending again.
    pub async fn deliver(&mut self, step: &Step, check_first: bool) -> Outcome {
        if self.read_only {
            return Outcome::Retry {
                error: "read-only: not sent".into(),
                maybe_applied: false,
                after: None,
            };
        }
        let result: Result<(), SourceError> = match &step.effect {
            SourceWrite::Local => return Outcome::Sent,
            SourceWrite::DeskNote {
                ticket,
                body,
                public,
            } => {
                match &mut self.desk {
                    // A public reply is read by the customer: no marker in
                    // the body; it travels in the audit's metadata and is
                    // checked through the ticket's audits.
                    Some(DeskWriter::Zendesk(desk)) if *public => {
                        if check_first {
                            match desk.has_audit_marker(ticket, &step.marker).await {
                                Ok(true) => return Outcome::Sent,
                                Ok(false) => {}
                                Err(e) => return e.into(),
                            }
                        }
                        desk.add_comment_marked(ticket, body, true, &step.marker)
                            .await
                    }
                    Some(DeskWriter::Zendesk(desk)) => {
                        let body = note_body(body, &step.marker);
                        if check_first {
                            match desk_has_marker(desk, ticket, &step.marker).await {
                                Ok(true) => return Outcome::Sent,
                                Ok(false) => {}
                                Err(e) => return e.into(),
                            }
                        }
                        desk.add_comment(ticket, &body, *public).await
                    }
                    Some(DeskWriter::Rt(rt, _)) => {
                        let body = note_body(body, &step.marker);
                        if *public {
                            return Outcome::Failed("public replies to RT tickets are not sent from the cockpit (RT mails them)".into());
                        }
                        if check_first {
                            match desk_has_marker(rt, ticket, &step.marker).await {
                                Ok(true) => return Outcome::Sent,
                                Ok(false) => {}
                                Err(e) => return e.into(),
                            }
                        }
                        rt.add_comment(ticket, &body).await
                    }
                    None => return unavailable("desk"),
                }
            }
            SourceWrite::DeskTags { ticket, tags } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk.add_tags(ticket, tags).await,
                Some(DeskWriter::Rt(rt, Some(field))) => rt.set_field(ticket, field, tags).await,
                Some(DeskWriter::Rt(_, None)) => {
                    return Outcome::Failed(
                        "RT has no tags: set desk.tags_field to record them".into(),
                    );
                }
                None => return unavailable("desk"),
            },
            SourceWrite::DeskPriority { ticket, priority } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk.set_priority(ticket, priority).await,
                Some(DeskWriter::Rt(rt, _)) => rt.set_priority(ticket, priority).await,
                None => return unavailable("desk"),
            },
            SourceWrite::DeskGroup { ticket, group } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk.set_group(ticket, group).await,
                Some(DeskWriter::Rt(rt, _)) => rt.set_queue(ticket, group).await,
                None => return unavailable("desk"),
            },
            SourceWrite::IncidentNote { incident, body } => {
                let Some(pd) = &mut self.incidents else {
                    return unavailable("incident source");
                };
                if check_first {
                    match pd.has_note_with(incident, &step.marker).await {
                        Ok(true) => return Outcome::Sent,
                        Ok(false) => {}
                        Err(e) => return e.into(),
                    }
                }
                pd.add_note(incident, &note_body(body, &step.marker)).await
            }
            SourceWrite::Page {
                routing_key_env,
                dedup_key,
                summary,
                severity,
                details,
            } => {
                let Some(events) = &self.events else {
                    return unavailable("PagerDuty Events endpoint");
                };
                let Some(key) = self.routing_keys.get(routing_key_env) else {
                    return Outcome::Retry {
                        error: format!(
                            "environment variable {routing_key_env} (the routing key) is not set"
                        ),
                        maybe_applied: false,
                        after: None,
                    };
                };
                let trigger = Trigger {
                    dedup_key: dedup_key.clone(),
                    summary: summary.clone(),
                    severity: severity.clone(),
                    source: "cre-cockpit".into(),
                    custom_details: details.clone(),
                };
                events.trigger(key, &trigger).await
            }
        };
        match result {
            Ok(()) => Outcome::Sent,
            Err(e) => e.into(),
        }
    }
}

/// Delay before attempt `attempts + 1`: exponential, capped, ±20 % jitter so
/// that many queued writes do not retry in lockstep.
#[must_use]
pub fn backoff(attempts: u32, retry_after: Option<Duration>) -> Duration {
    let exp = BASE_BACKOFF
        .saturating_mul(1 << attempts.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let jitter = 0.8 + 0.4 * rand::random::<f64>();
    exp.mul_f64(jitter).max(retry_after.unwrap_or_default())
}

/// The journal, shared between the outbox task and whoever writes to it.
pub type SharedJournal = Arc<Mutex<Journal>>;

/// Run a closure on the journal off the async threads (SQLite commits
/// fsync).
pub async fn with_journal<T: Send + 'static>(
    journal: &SharedJournal,
    f: impl FnOnce(&mut Journal) -> Result<T, JournalError> + Send + 'static,
) -> Result<T, JournalError> {
    let journal = journal.clone();
    tokio::task::spawn_blocking(move || {
        f(&mut journal.lock().unwrap_or_else(PoisonError::into_inner))
    })
    .await
    .map_err(|e| JournalError::Invalid(format!("journal task failed: {e}")))?
}

/// What a pass over the pending steps did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pass {
    pub sent: usize,
    pub failed: usize,
    /// Still pending afterwards.
    pub pending: usize,
    /// When the earliest waiting step is due.
    pub next_due: Option<Timestamp>,
}

/// Try every pending step that is due (or all of them with `ignore_backoff`,
/// for `sync`), in order, once. Reports each change through `report`.
pub async fn pass(
    journal: &SharedJournal,
    writers: &mut Writers,
    ignore_backoff: bool,
    report: &mut (dyn FnMut(Delivery) + Send),
) -> Result<Pass, JournalError> {
    let steps = with_journal(journal, |j| j.pending()).await?;
    let mut result = Pass::default();
    // Items with an unfinished earlier step: later steps on them wait.
    let mut blocked: HashSet<String> = HashSet::new();
    for step in steps {
        let now = Timestamp::now();
        if blocked.contains(&step.item) || (!ignore_backoff && step.next_attempt_at > now) {
            blocked.insert(step.item.clone());
            result.pending += 1;
            result.next_due = Some(
                result
                    .next_due
                    .map_or(step.next_attempt_at, |d: Timestamp| {
                        d.min(step.next_attempt_at)
                    }),
            );
            continue;
        }
        // A step found `sending` was interrupted mid-send: as good as unknown.
        let check_first = matches!(step.state, StepState::Unknown | StepState::Sending);
        let id = step.id;
        with_journal(journal, move |j| {
            j.set_state(id, StepState::Sending, None, None, now)
        })
        .await?;
        let outcome = writers.deliver(&step, check_first).await;
        let now = Timestamp::now();
        let (state, error, retry_at) = match &outcome {
            Outcome::Sent => (StepState::Sent, None, None),
            Outcome::Failed(e) => (StepState::Failed, Some(e.clone()), None),
            Outcome::Retry {
                error,
                maybe_applied,
                after,
            } => {
                let wait = backoff(step.attempts + 1, *after);
                let at =
                    now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(60));
                let state = if *maybe_applied {
                    StepState::Unknown
                } else {
                    StepState::Queued
                };
                (state, Some(error.clone()), Some(at))
            }
        };
        let err = error.clone();
        with_journal(journal, move |j| {
            j.set_state(id, state, err.as_deref(), retry_at, now)
        })
        .await?;
        match state {
            StepState::Sent => result.sent += 1,
            StepState::Failed => result.failed += 1,
            _ => {
                result.pending += 1;
                blocked.insert(step.item.clone());
                if let Some(at) = retry_at {
                    result.next_due = Some(result.next_due.map_or(at, |d| d.min(at)));
                }
            }
        }
        if let Some(e) = &error {
            tracing::warn!(step = id, state = %state, "delivery: {e}");
        }
        report(Delivery {
            write_id: step.write_id,
            step_id: id,
            state,
            error,
        });
    }
    Ok(result)
}

/// The background delivery task: a pass now, then whenever something is
/// journalled (`wake`) or the next retry is due; stops with `cancel`.
pub fn spawn(
    journal: SharedJournal,
    mut writers: Writers,
    wake: Arc<Notify>,
    tx: mpsc::UnboundedSender<Message>,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let mut report = |d: Delivery| {
                let _ = tx.send(Message::Delivery(d));
            };
            let next = match pass(&journal, &mut writers, false, &mut report).await {
                Ok(p) => p.next_due,
                Err(e) => {
                    tracing::error!("outbox: {e}");
                    let _ = tx.send(Message::Status(format!("journal error: {e}")));
                    Some(Timestamp::now() + SignedDuration::from_secs(30))
                }
            };
            let sleep = next.map_or(Duration::from_secs(3600), |at| {
                Duration::try_from(at.duration_since(Timestamp::now()))
                    .unwrap_or_default()
                    .max(Duration::from_millis(200))
            });
            tokio::select! {
                () = cancel.cancelled() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
    });
}

impl Writers {
    /// The write side of the configured sources. A source marked
    /// `read_only` (or everything, with `--read-only`) gets no writer, and
    /// [`Writers::refuse`] says so before anything is journalled.
    pub fn from_config(
        config: &crate::config::Config,
        secrets: &crate::app::wiring::Secrets,
        client: &crate::sources::http::Client,
        read_only: bool,
    ) -> Result<Self, SourceError> {
        use crate::config::{DeskKind, IncidentsKind};
        let read_only = read_only || config.read_only;
        let desk = match (&config.desk, &secrets.desk) {
            (Some(d), Some(token)) if d.kind == DeskKind::Zendesk && !d.read_only => Some(
                DeskWriter::Zendesk(Zendesk::new(client.clone(), d, token.clone())?),
            ),
            (Some(d), Some(token)) if d.kind == DeskKind::Rt && !d.read_only => {
                Some(DeskWriter::Rt(
                    crate::sources::rt::Rt::new(client.clone(), d, token.clone())?,
                    d.tags_field.clone(),
                ))
            }
            _ => None,
        };
        let incidents = match (&config.incidents, &secrets.incidents) {
            (Some(i), Some(token)) if i.kind == IncidentsKind::Pagerduty && !i.read_only => {
                Some(PagerDuty::new(client.clone(), i, token.clone())?)
            }
            _ => None,
        };
        let esc = &config.escalation;
        let events = if esc.targets.iter().any(|t| t.routing_key_env.is_some()) {
            Some(Events::new(
                client.clone(),
                &esc.events_url,
                esc.allow_insecure_http,
            )?)
        } else {
            None
        };
        // Keys are read once, here; the journal only ever holds the names.
        let routing_keys = esc
            .targets
            .iter()
            .filter_map(|t| t.routing_key_env.as_ref())
            .filter_map(|var| {
                let value = std::env::var(var).ok().filter(|v| !v.is_empty())?;
                Some((var.clone(), Secret::new(value)))
            })
            .collect();
        Ok(Self {
            desk,
            incidents,
            events,
            routing_keys,
            read_only,
        })
    }

    /// Why effects cannot be delivered, if they cannot: checked before a
    /// write is journalled, so nothing is saved that could never be sent.
    #[must_use]
    pub fn refuse(&self, effects: &[SourceWrite]) -> Option<String> {
        if self.read_only && effects.iter().any(|e| *e != SourceWrite::Local) {
            return Some("read-only: writes are turned off".into());
        }
        effects.iter().find_map(|e| match e {
            SourceWrite::DeskNote { .. } | SourceWrite::DeskTags { .. } | SourceWrite::DeskPriority { .. } | SourceWrite::DeskGroup { .. } if self.desk.is_none() => {
                Some("the desk is not configured for writes (missing, read_only, or a kind without write support)".into())
            }
            SourceWrite::IncidentNote { .. } if self.incidents.is_none() => Some("PagerDuty is not configured for writes".into()),
            SourceWrite::Page { .. } if self.events.is_none() => Some("no PagerDuty Events endpoint configured".into()),
            _ => None,
        })
    }

    /// What a note on `target` does with these writers.
    #[must_use]
    pub fn note_effects(&self, target: &Target, text: &str) -> Vec<SourceWrite> {
        crate::core::writes::note_effects(target, text, self.incidents.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_respects_retry_after() {
        for attempts in 1..20 {
            let d = backoff(attempts, None);
            assert!(d <= MAX_BACKOFF.mul_f64(1.2), "{attempts}: {d:?}");
            assert!(d >= Duration::from_millis(1600), "{attempts}: {d:?}");
        }
        assert!(backoff(5, None) > backoff(1, None));
        assert_eq!(
            backoff(1, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn errors_sort_into_retry_check_or_give_up() {
        let mut e = SourceError::new("HTTP 422");
        e.status = Some(422);
        assert_eq!(Outcome::from(e), Outcome::Failed("HTTP 422".into()));
        let mut e = SourceError::new("HTTP 429").with_retry_after(Duration::from_secs(7));
        e.status = Some(429);
        assert_eq!(
            Outcome::from(e),
            Outcome::Retry {
                error: "HTTP 429".into(),
                maybe_applied: false,
                after: Some(Duration::from_secs(7))
            }
        );
        let mut e = SourceError::new("HTTP 502");
        e.status = Some(502);
        e.maybe_applied = true;
        assert!(matches!(
            Outcome::from(e),
            Outcome::Retry {
                maybe_applied: true,
                ..
            }
        ));
        let e = SourceError::new("cannot connect");
        assert!(matches!(
            Outcome::from(e),
            Outcome::Retry {
                maybe_applied: false,
                ..
            }
        ));
    }

    #[test]
    fn note_body_carries_the_marker_after_the_text() {
        let body = note_body("障害対応中", "cc-00ff");
        assert!(body.starts_with("障害対応中\n"));
        assert!(body.ends_with("[cc-00ff]"));
    }
}
