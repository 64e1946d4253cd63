//! Delivery of journalled writes, exactly once.
//!
//! Any number of deliverers may run at once — the TUI's outbox, `sync`,
//! `note --wait`, in one process or several, on one machine or (with a
//! team store) several — because a deliverer touches a
//! step only after claiming it in the journal (`Journal::claim`: an owner
//! and a lease, one write transaction), and records the outcome only while
//! it holds the lease.
//!
//! Steps are sent oldest first, and the steps on one remote item (a ticket,
//! an incident) strictly in order: a later step waits while an earlier one on
//! the same item is not done. Each attempt ends in what it proves:
//! - `sent`: the source's answer shows the change (not just any 2xx);
//! - `queued` again: the request never reached the source (cannot connect,
//!   429), so it is sent again;
//! - `unknown`: it may have been applied (timeout after sending, broken
//!   connection, 5xx, a 2xx that does not prove it). From then on the step
//!   is checked on the source before any resend — notes by their marker;
//!   tags, priority, queue and pages are idempotent, so sending again is
//!   the check — and stays so until a check succeeds; a failed check
//!   changes nothing;
//! - `failed`: the source refused it (4xx); retrying won't help.
//!
//! Retries back off exponentially with jitter and never sooner than a
//! `Retry-After` the source gave (capped at [`MAX_RETRY_AFTER`]).

use std::collections::HashSet;
use std::future::Future;
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
use crate::sources::http::{self, Secret};
use crate::sources::pagerduty::PagerDuty;
use crate::sources::zendesk::Zendesk;
use crate::store::journal::{Claim, Journal, JournalError, Owner, Settle};

/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
pub use crate::sources::http::MAX_RETRY_AFTER;
/// How often an idle outbox looks for writes journalled by another process
/// or a teammate's cockpit (`note` without `--wait`): one cheap read of a
/// change counter (`PRAGMA data_version` in SQLite, `journal_seq` in
/// PostgreSQL).
const JOURNAL_WATCH: Duration = Duration::from_secs(2);

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
    /// This deliverer's name in the journal's claims.
    pub owner: Owner,
}

/// What the configured writers can take: the desk (by name) and whether
/// incident notes and pages have somewhere to go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepts {
    pub desk: Option<&'static str>,
    pub incident_notes: bool,
    pub pages: bool,
    pub read_only: bool,
}

impl Accepts {
    /// Why effects cannot be delivered, if they cannot — including ids the
    /// source could never accept, so nothing is queued to be retried
    /// forever.
    #[must_use]
    pub fn refuse(&self, effects: &[SourceWrite]) -> Option<String> {
        if self.read_only && effects.iter().any(|e| !e.is_local()) {
            return Some("read-only: writes are turned off".into());
        }
        effects.iter().find_map(|e| match e {
            SourceWrite::DeskNote { ticket, .. }
            | SourceWrite::DeskTags { ticket, .. }
            | SourceWrite::DeskPriority { ticket, .. }
            | SourceWrite::DeskGroup { ticket, .. }
            | SourceWrite::DeskIncidentOf { ticket, .. } => match self.desk {
                None => Some("the desk is not configured for writes (missing, read_only, or a kind without write support)".into()),
                Some(desk) if ticket.is_empty() || !ticket.bytes().all(|b| b.is_ascii_digit()) => {
                    Some(format!("{ticket:?} is not a {desk} ticket id (digits only)"))
                }
                Some(_) => None,
            },
            SourceWrite::IncidentNote { incident, .. } => {
                if !self.incident_notes {
                    Some("PagerDuty is not configured for writes".into())
                } else if incident.is_empty() || !incident.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Some(format!("{incident:?} is not a PagerDuty incident id"))
                } else {
                    None
                }
            }
            SourceWrite::Page { .. } if !self.pages => Some("no PagerDuty Events endpoint configured".into()),
            SourceWrite::DeskProblem { .. } if self.desk != Some("Zendesk") => {
                Some("problem tickets are mirrored on a Zendesk desk only".into())
            }
            SourceWrite::Unreadable { reason } => Some(reason.clone()),
            _ => None,
        })
    }
}

/// What one delivery attempt proved.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The source's answer shows the change (or a check found it).
    Sent,
    /// Will not succeed by retrying.
    Failed(String),
    /// Not applied: send again later.
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// May have been applied: check the source before any resend.
    Unknown {
        error: String,
        after: Option<Duration>,
    },
}

impl From<SourceError> for Outcome {
    fn from(e: SourceError) -> Self {
        match e.status {
            // Rate limited or timed out at the gateway: retry as told.
            Some(408 | 429) => Self::Retry {
                error: e.message,
                after: e.retry_after,
            },
            // The source refused the request itself: retrying won't help.
            Some(s) if (400..500).contains(&s) => Self::Failed(e.message),
            _ if e.maybe_applied => Self::Unknown {
                error: e.message,
                after: e.retry_after,
            },
            _ => Self::Retry {
                error: e.message,
                after: e.retry_after,
            },
        }
    }
}

impl Outcome {
    /// The record of this outcome for a claimed step.
    fn settle(&self, attempts: u32, now: Timestamp) -> Settle {
        let retry_at = |after: &Option<Duration>| {
            let wait = backoff(attempts, *after);
            Some(now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(60)))
        };
        let (state, error, retry_at, check_first) = match self {
            Self::Sent => (StepState::Sent, None, None, false),
            Self::Failed(e) => (StepState::Failed, Some(e.clone()), None, false),
            Self::Retry { error, after } => (
                StepState::Queued,
                Some(error.clone()),
                retry_at(after),
                false,
            ),
            Self::Unknown { error, after } => (
                StepState::Unknown,
                Some(error.clone()),
                retry_at(after),
                true,
            ),
        };
        Settle {
            state,
            error,
            retry_at,
            check_first,
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

fn unavailable(what: &str) -> SourceError {
    SourceError::new(format!("no {what} configured to deliver to"))
}

/// A deliverer: what the outbox needs from the sources. [`Writers`] is the
/// real one; tests drive the protocol with a model desk.
pub trait Deliver {
    /// This deliverer's name in the journal's claims.
    fn owner(&self) -> &Owner;
    /// The longest one check or send may take; a claim's lease outlasts it.
    fn timeout(&self) -> Duration;
    /// Whether an earlier attempt of `step` arrived. Effects that are safe
    /// to repeat answer `false`: sending again is their check.
    fn arrived(&mut self, step: &Step) -> impl Future<Output = Result<bool, SourceError>> + Send;
    /// Send `step` once and say what the answer proves.
    fn send(&mut self, step: &Step) -> impl Future<Output = Outcome> + Send;
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

    async fn send_step(&mut self, step: &Step) -> Result<(), SourceError> {
        match &step.effect {
            SourceWrite::Local | SourceWrite::Link { .. } => Ok(()),
            SourceWrite::Unreadable { reason } => Err(SourceError::new(reason.clone())),
            SourceWrite::DeskNote {
                ticket,
                body,
                public,
            } => {
                match &self.desk {
                    // A public reply is read by the customer: no marker in
                    // the body; it travels in the audit's metadata and is
                    // checked through the ticket's audits.
                    Some(DeskWriter::Zendesk(desk)) if *public => {
                        desk.add_comment_marked(ticket, body, true, &step.marker)
                            .await
                    }
                    Some(DeskWriter::Zendesk(desk)) => {
                        desk.add_comment(ticket, &note_body(body, &step.marker), false)
                            .await
                    }
                    Some(DeskWriter::Rt(rt, _)) => {
                        rt.add_comment(ticket, &note_body(body, &step.marker)).await
                    }
                    None => Err(unavailable("desk")),
                }
            }
            SourceWrite::DeskTags { ticket, tags } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk.add_tags(ticket, tags).await,
                Some(DeskWriter::Rt(rt, Some(field))) => rt.set_field(ticket, field, tags).await,
                Some(DeskWriter::Rt(_, None)) => Err(refused(
                    "RT has no tags: set desk.tags_field to record them",
                )),
                None => Err(unavailable("desk")),
            },
            SourceWrite::DeskPriority { ticket, priority } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk.set_priority(ticket, priority).await,
                Some(DeskWriter::Rt(rt, _)) => rt.set_priority(ticket, priority).await,
                None => Err(unavailable("desk")),
            },
            SourceWrite::DeskGroup { ticket, group } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk.set_group(ticket, group).await,
                Some(DeskWriter::Rt(rt, _)) => rt.set_queue(ticket, group).await,
                None => Err(unavailable("desk")),
            },
            SourceWrite::DeskProblem {
                incident,
                subject,
                body,
            } => match &self.desk {
                Some(DeskWriter::Zendesk(desk)) => desk
                    .create_problem(incident, subject, body)
                    .await
                    .map(|_| ()),
                Some(DeskWriter::Rt(..)) => Err(refused(
                    "RT has no problem tickets: mirroring links is a Zendesk feature",
                )),
                None => Err(unavailable("desk")),
            },
            SourceWrite::DeskIncidentOf { ticket, incident } => match &mut self.desk {
                Some(DeskWriter::Zendesk(desk)) => match desk.find_problem(incident).await? {
                    Some(problem) => desk.make_incident_of(ticket, problem).await,
                    // The problem ticket's step is earlier in the same write:
                    // wait for it (nothing was sent).
                    None => Err(SourceError::new(format!(
                        "the problem ticket for incident {incident} does not exist yet"
                    ))),
                },
                Some(DeskWriter::Rt(..)) => Err(refused(
                    "RT has no problem tickets: mirroring links is a Zendesk feature",
                )),
                None => Err(unavailable("desk")),
            },
            SourceWrite::IncidentNote { incident, body } => match &self.incidents {
                Some(pd) => pd.add_note(incident, &note_body(body, &step.marker)).await,
                None => Err(unavailable("incident source")),
            },
            SourceWrite::Page {
                routing_key_env,
                dedup_key,
                summary,
                severity,
                details,
            } => {
                let Some(events) = &self.events else {
                    return Err(unavailable("PagerDuty Events endpoint"));
                };
                let Some(key) = self.routing_keys.get(routing_key_env) else {
                    return Err(SourceError::new(format!(
                        "environment variable {routing_key_env} (the routing key) is not set"
                    )));
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
        }
    }
}

/// A refusal known before any request: final, like a 4xx.
fn refused(why: &str) -> SourceError {
    SourceError::new(why).with_status(422)
}

impl Deliver for Writers {
    fn owner(&self) -> &Owner {
        &self.owner
    }

    fn timeout(&self) -> Duration {
        let desk = match &self.desk {
            Some(DeskWriter::Zendesk(z)) => z.timeout(),
            Some(DeskWriter::Rt(rt, _)) => rt.timeout(),
            None => http::REQUEST_TIMEOUT,
        };
        let incidents = self
            .incidents
            .as_ref()
            .map_or(http::REQUEST_TIMEOUT, PagerDuty::timeout);
        desk.max(incidents).max(http::REQUEST_TIMEOUT) + http::CONNECT_TIMEOUT
    }

    async fn arrived(&mut self, step: &Step) -> Result<bool, SourceError> {
        if self.read_only {
            return Err(SourceError::new("read-only: not checked"));
        }
        match &step.effect {
            SourceWrite::DeskNote { ticket, public, .. } => match &mut self.desk {
                // A public reply carries its marker in the audit, not the body.
                Some(DeskWriter::Zendesk(desk)) if *public => {
                    desk.has_audit_marker(ticket, &step.marker).await
                }
                Some(DeskWriter::Zendesk(desk)) => {
                    desk_has_marker(desk, ticket, &step.marker).await
                }
                Some(DeskWriter::Rt(rt, _)) => desk_has_marker(rt, ticket, &step.marker).await,
                None => Err(unavailable("desk")),
            },
            SourceWrite::IncidentNote { incident, .. } => match &mut self.incidents {
                Some(pd) => pd.has_note_with(incident, &step.marker).await,
                None => Err(unavailable("incident source")),
            },
            // A problem ticket is found again by its external id: one that
            // exists (ours from a lost answer, or a teammate's) is reused.
            SourceWrite::DeskProblem { incident, .. } => match &mut self.desk {
                Some(DeskWriter::Zendesk(desk)) => Ok(desk.find_problem(incident).await?.is_some()),
                _ => Err(unavailable("Zendesk desk")),
            },
            // Tags are added, priority, group and queue set, pages folded by
            // their dedup key: a repeat changes nothing, so it is the check.
            SourceWrite::DeskTags { .. }
            | SourceWrite::DeskIncidentOf { .. }
            | SourceWrite::DeskPriority { .. }
            | SourceWrite::DeskGroup { .. }
            | SourceWrite::Page { .. }
            | SourceWrite::Local
            | SourceWrite::Link { .. } => Ok(false),
            SourceWrite::Unreadable { reason } => Err(SourceError::new(reason.clone())),
        }
    }

    async fn send(&mut self, step: &Step) -> Outcome {
        if self.read_only {
            return Outcome::Retry {
                error: "read-only: not sent".into(),
                after: None,
            };
        }
        if let SourceWrite::DeskNote { public: true, .. } = &step.effect
            && let Some(DeskWriter::Rt(..)) = &self.desk
        {
            return Outcome::Failed(
                "public replies to RT tickets are not sent from the cockpit (RT mails them)".into(),
            );
        }
        match self.send_step(step).await {
            Ok(()) => Outcome::Sent,
            Err(e) => e.into(),
        }
    }
}

/// Delay before attempt `attempts + 1`: exponential, capped, ±20 % jitter so
/// that many queued writes do not retry in lockstep; never sooner than the
/// source's `Retry-After`, itself capped at [`MAX_RETRY_AFTER`].
#[must_use]
pub fn backoff(attempts: u32, retry_after: Option<Duration>) -> Duration {
    let exp = BASE_BACKOFF
        .saturating_mul(1 << attempts.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let jitter = 0.8 + 0.4 * rand::random::<f64>();
    exp.mul_f64(jitter)
        .max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER))
}

/// The journal, shared between the outbox task and whoever writes to it.
pub type SharedJournal = Arc<Mutex<Journal>>;

/// Run a closure on the journal off the async threads (SQLite commits
/// fsync; the PostgreSQL client blocks on the network).
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
    /// Of those, held by another deliverer right now.
    pub held: usize,
    /// When the earliest waiting step is due.
    pub next_due: Option<Timestamp>,
}

impl Pass {
    fn wait(&mut self, at: Timestamp) {
        self.pending += 1;
        self.next_due = Some(self.next_due.map_or(at, |d| d.min(at)));
    }
}

/// Try every pending step that is due (or all of them with `ignore_backoff`,
/// for `sync`), in order, once — each only after claiming it, so another
/// deliverer's step is left alone. Reports each change through `report`.
pub async fn pass<D: Deliver + Send>(
    journal: &SharedJournal,
    deliverer: &mut D,
    ignore_backoff: bool,
    report: &mut (dyn FnMut(Delivery) + Send),
) -> Result<Pass, JournalError> {
    let steps = with_journal(journal, Journal::pending).await?;
    let owner = deliverer.owner().clone();
    let lease =
        SignedDuration::try_from(deliverer.timeout() * 2).unwrap_or(SignedDuration::from_secs(120));
    let mut result = Pass::default();
    // Items with an unfinished earlier step: later steps on them wait.
    let mut blocked: HashSet<String> = HashSet::new();
    for step in steps {
        let now = Timestamp::now();
        if blocked.contains(&step.item) || (!ignore_backoff && step.next_attempt_at > now) {
            blocked.insert(step.item.clone());
            result.wait(step.next_attempt_at);
            continue;
        }
        let (id, who) = (step.id, owner.clone());
        let claim = with_journal(journal, move |j| j.claim(id, &who, lease, now)).await?;
        let step = match claim {
            Claim::Claimed(step) => *step,
            Claim::Held { until, .. } => {
                blocked.insert(step.item.clone());
                result.held += 1;
                result.wait(until);
                continue;
            }
            Claim::Settled => continue,
        };
        let checked = if step.check_first {
            match deliverer.arrived(&step).await {
                Ok(true) => Some(Outcome::Sent),
                Ok(false) => None,
                // Whether it arrived is still unknown: never send blind.
                Err(e) => Some(Outcome::Unknown {
                    error: format!(
                        "not sent again until a check succeeds: an earlier attempt may have arrived, and checking failed: {}",
                        e.message
                    ),
                    after: e.retry_after,
                }),
            }
        } else {
            None
        };
        let outcome = match checked {
            Some(outcome) => Some(outcome),
            None => {
                // The lease may have run out during a slow check: send only
                // while the step is still ours.
                let who = owner.clone();
                let ours =
                    with_journal(journal, move |j| j.renew(id, &who, lease, Timestamp::now()))
                        .await?;
                if ours {
                    Some(deliverer.send(&step).await)
                } else {
                    None
                }
            }
        };
        let record = outcome.map(|o| o.settle(step.attempts, Timestamp::now()));
        let kept = match record.clone() {
            Some(r) => {
                let who = owner.clone();
                with_journal(journal, move |j| j.settle(id, &who, &r, Timestamp::now())).await?
            }
            None => false,
        };
        let (Some(record), true) = (record, kept) else {
            // Another deliverer took the step over (this one overran its
            // lease): its record stands, and it checks before sending.
            tracing::warn!(step = id, "delivery: lease lost; left to its new holder");
            blocked.insert(step.item.clone());
            result.pending += 1;
            continue;
        };
        match record.state {
            StepState::Sent => result.sent += 1,
            StepState::Failed => result.failed += 1,
            _ => {
                blocked.insert(step.item.clone());
                result.wait(record.retry_at.unwrap_or(now));
            }
        }
        if let Some(e) = &record.error {
            tracing::warn!(step = id, state = %record.state, "delivery: {e}");
        }
        report(Delivery {
            write_id: step.write_id,
            step_id: id,
            state: record.state,
            error: record.error,
        });
    }
    Ok(result)
}

/// The background delivery task: a pass now, then whenever something is
/// journalled here (`wake`) or by another process, or the next retry is
/// due; stops with `cancel`.
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
            let due = tokio::time::Instant::now()
                + next.map_or(Duration::from_secs(3600), |at| {
                    Duration::try_from(at.duration_since(Timestamp::now()))
                        .unwrap_or_default()
                        .max(Duration::from_millis(200))
                });
            loop {
                let tick = due.min(tokio::time::Instant::now() + JOURNAL_WATCH);
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = wake.notified() => break,
                    () = tokio::time::sleep_until(tick) => {}
                }
                if tokio::time::Instant::now() >= due {
                    break;
                }
                let changed = with_journal(&journal, Journal::changed_elsewhere).await;
                if changed.unwrap_or(true) {
                    // Another process journalled or settled something: its
                    // writes are this outbox's to deliver too.
                    if let Ok(recent) = with_journal(&journal, |j| j.recent(500)).await {
                        let _ = tx.send(Message::JournalLoaded(recent));
                    }
                    break;
                }
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
        Ok(Self {
            desk,
            incidents,
            events,
            // Read once with the other secrets; the journal only ever holds
            // the variables' names.
            routing_keys: secrets.routing_keys.clone(),
            read_only,
            owner: Owner::this_process(),
        })
    }

    /// What these writers can take, for checks made elsewhere (the TUI
    /// journals from its event loop, not through the writers).
    #[must_use]
    pub fn accepts(&self) -> Accepts {
        Accepts {
            desk: self.desk.as_ref().map(|d| match d {
                DeskWriter::Zendesk(_) => "Zendesk",
                DeskWriter::Rt(..) => "RT",
            }),
            incident_notes: self.incidents.is_some(),
            pages: self.events.is_some(),
            read_only: self.read_only,
        }
    }

    /// Why effects cannot be delivered, if they cannot: checked before a
    /// write is journalled, so nothing is saved that could never be sent.
    #[must_use]
    pub fn refuse(&self, effects: &[SourceWrite]) -> Option<String> {
        self.accepts().refuse(effects)
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
                after: Some(Duration::from_secs(7))
            }
        );
        let mut e = SourceError::new("HTTP 502");
        e.status = Some(502);
        e.maybe_applied = true;
        assert!(matches!(Outcome::from(e), Outcome::Unknown { .. }));
        let e = SourceError::new("cannot connect");
        assert!(matches!(Outcome::from(e), Outcome::Retry { .. }));
        // A 2xx that does not show the change: possibly applied.
        let e = SourceError::unproven("rt: add comment", "not JSON");
        assert!(matches!(Outcome::from(e), Outcome::Unknown { .. }));
    }

    #[test]
    fn uncertainty_is_recorded_as_check_first_and_retry_after_is_capped() {
        let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        let unknown = Outcome::Unknown {
            error: "timed out".into(),
            after: Some(Duration::from_secs(86_400)),
        }
        .settle(1, now);
        assert_eq!(unknown.state, StepState::Unknown);
        assert!(unknown.check_first);
        let at = unknown.retry_at.unwrap();
        assert!(
            at <= now + SignedDuration::from_secs(15 * 60),
            "a day-long Retry-After is capped at 15 min: {at}"
        );
        let queued = Outcome::Retry {
            error: "refused".into(),
            after: None,
        }
        .settle(1, now);
        assert_eq!(
            (queued.state, queued.check_first),
            (StepState::Queued, false)
        );
        assert!(!Outcome::Sent.settle(1, now).check_first);
    }

    #[test]
    fn writes_a_source_could_never_take_are_refused_before_the_journal() {
        let note = |ticket: &str| SourceWrite::DeskNote {
            ticket: ticket.into(),
            body: "x".into(),
            public: false,
        };
        let rt = Accepts {
            desk: Some("RT"),
            ..Accepts::default()
        };
        assert_eq!(rt.refuse(&[note("42")]), None);
        assert_eq!(
            rt.refuse(&[note("abc")]).as_deref(),
            Some("\"abc\" is not a RT ticket id (digits only)")
        );
        let read_only = Accepts {
            read_only: true,
            ..rt.clone()
        };
        assert!(
            read_only
                .refuse(&[note("42")])
                .unwrap()
                .contains("read-only")
        );
        assert_eq!(read_only.refuse(&[SourceWrite::Local]), None);
        let no_desk = Accepts::default();
        assert!(
            no_desk
                .refuse(&[note("42")])
                .unwrap()
                .contains("not configured")
        );
        let pd = Accepts {
            incident_notes: true,
            ..Accepts::default()
        };
        let incident = |id: &str| SourceWrite::IncidentNote {
            incident: id.into(),
            body: "x".into(),
        };
        assert_eq!(pd.refuse(&[incident("PABC123")]), None);
        assert!(pd.refuse(&[incident("../x")]).is_some());
    }

    #[test]
    fn note_body_carries_the_marker_after_the_text() {
        let body = note_body("障害対応中", "cc-00ff");
        assert!(body.starts_with("障害対応中\n"));
        assert!(body.ends_with("[cc-00ff]"));
    }
}
