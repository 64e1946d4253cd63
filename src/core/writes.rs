//! The write vocabulary: what a write is about, the steps it makes on the
//! sources, and where each step is in its delivery. The journal
//! (`store::journal`) persists these, the outbox (`app::outbox`) delivers
//! them, the model and the UI only speak them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A note's text that cannot be journalled (empty, or over the limit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidText(pub String);

/// The longest note the cockpit accepts (Zendesk and PagerDuty both take
/// far more; this keeps a pasted log from becoming a ticket comment).
pub const MAX_NOTE_BYTES: usize = 16 * 1024;

/// What a write is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    Inquiry(String),
    Customer(String),
    Incident(String),
}

impl Target {
    /// Parse `inquiry:123`, `customer:c7`, `incident:PABC`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (kind, id) = raw
            .split_once(':')
            .ok_or_else(|| format!("{raw:?}: expected KIND:ID, e.g. inquiry:123"))?;
        let id = id.trim();
        if id.is_empty() {
            return Err(format!("{raw:?}: the id is empty"));
        }
        match kind {
            "inquiry" => Ok(Self::Inquiry(id.into())),
            "customer" => Ok(Self::Customer(id.into())),
            "incident" => Ok(Self::Incident(id.into())),
            other => Err(format!(
                "{other:?} is not one of inquiry, customer, incident"
            )),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inquiry(id) => write!(f, "inquiry:{id}"),
            Self::Customer(id) => write!(f, "customer:{id}"),
            Self::Incident(id) => write!(f, "incident:{id}"),
        }
    }
}

/// What a teammate's cockpit has open (team mode): shown on the rows so
/// two people do not answer or escalate the same thing unknowingly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The teammate's `[ui] me`.
    pub who: String,
    pub target: Target,
    pub doing: Doing,
    /// Their cockpit's last heartbeat.
    pub seen_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Doing {
    /// Reading it (a detail or incident mode).
    Viewing,
    /// A note, escalation, link or customer update on it is being written.
    Writing,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WriteKind {
    Annotate,
    Escalate,
    /// A customer update posted from incident mode.
    CustomerUpdate,
    /// An inquiry linked to (or unlinked from) an incident by hand.
    Link,
}

/// One change on a source (a "step" of a write once journalled). Named
/// apart from the model's `Effect`, which is work for the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum SourceWrite {
    /// A note on a desk ticket (private unless `public`).
    DeskNote {
        ticket: String,
        body: String,
        public: bool,
    },
    /// Tags added to a desk ticket (never replacing the existing ones).
    DeskTags { ticket: String, tags: Vec<String> },
    /// The ticket's priority set.
    DeskPriority { ticket: String, priority: String },
    /// The ticket moved to a group (Zendesk) or queue (RT).
    DeskGroup { ticket: String, group: String },
    /// A note on an incident (PagerDuty).
    IncidentNote { incident: String, body: String },
    /// The desk's problem ticket mirroring an incident, created unless it
    /// exists (Zendesk; found again by its external id).
    DeskProblem {
        incident: String,
        subject: String,
        body: String,
    },
    /// A desk ticket made an incident of the incident's problem ticket.
    DeskIncidentOf { ticket: String, incident: String },
    /// A PagerDuty Events v2 trigger; `dedup_key` makes a repeat a no-op.
    Page {
        routing_key_env: String,
        dedup_key: String,
        summary: String,
        severity: String,
        details: serde_json::Value,
    },
    /// Kept in the journal only (customers, Alertmanager alerts).
    Local,
    /// An inquiry linked to an incident by hand (`linked: false` undoes
    /// it); kept in the journal, where the join reads it.
    Link {
        inquiry: String,
        incident: String,
        linked: bool,
    },
    /// A stored step that could not be read back (a damaged row): never
    /// delivered, shown with the reason so the CRE can act on it.
    Unreadable { reason: String },
}

impl SourceWrite {
    /// Kept in the journal only: nothing to deliver.
    #[must_use]
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local | Self::Link { .. })
    }

    /// The remote item this effect changes, so the outbox can keep the
    /// effects on one item in order.
    #[must_use]
    pub fn item(&self) -> String {
        match self {
            Self::DeskNote { ticket, .. }
            | Self::DeskTags { ticket, .. }
            | Self::DeskPriority { ticket, .. }
            | Self::DeskGroup { ticket, .. }
            | Self::DeskIncidentOf { ticket, .. } => {
                format!("desk:{ticket}")
            }
            Self::DeskProblem { incident, .. } => format!("problem:{incident}"),
            Self::IncidentNote { incident, .. } => format!("incident:{incident}"),
            Self::Page { dedup_key, .. } => format!("page:{dedup_key}"),
            Self::Local | Self::Link { .. } => "local".into(),
            Self::Unreadable { .. } => "unreadable".into(),
        }
    }

    /// One line for previews and the journal view.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::DeskNote {
                ticket,
                public: false,
                ..
            } => format!("private note on ticket {ticket}"),
            Self::DeskNote {
                ticket,
                public: true,
                ..
            } => format!("PUBLIC reply on ticket {ticket}"),
            Self::DeskTags { ticket, tags } => {
                format!("add tags {} to ticket {ticket}", tags.join(", "))
            }
            Self::DeskPriority { ticket, priority } => {
                format!("set priority {priority} on ticket {ticket}")
            }
            Self::DeskGroup { ticket, group } => format!("move ticket {ticket} to {group}"),
            Self::IncidentNote { incident, .. } => format!("note on incident {incident}"),
            Self::DeskProblem { incident, .. } => {
                format!("create (or reuse) the desk's problem ticket for incident {incident}")
            }
            Self::DeskIncidentOf { ticket, incident } => {
                format!("make ticket {ticket} an incident of incident {incident}'s problem ticket")
            }
            Self::Page {
                dedup_key,
                severity,
                ..
            } => format!("page on-call ({severity}, dedup key {dedup_key})"),
            Self::Local => "kept in the local journal".into(),
            Self::Link {
                inquiry,
                incident,
                linked: true,
            } => format!("link inquiry {inquiry} to incident {incident} (kept in the journal)"),
            Self::Link {
                inquiry,
                incident,
                linked: false,
            } => format!("unlink inquiry {inquiry} from incident {incident} (kept in the journal)"),
            Self::Unreadable { reason } => format!("unreadable stored step ({reason})"),
        }
    }
}

/// Where a step is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StepState {
    /// Waiting for (re)delivery.
    Queued,
    /// Claimed by a deliverer (`owner`, until `lease_until`) and being
    /// checked or sent. Found with an expired lease, it is as good as
    /// `unknown`: its owner may have died after the request went out.
    Sending,
    /// Sent, but whether it arrived is unknown: checked before any resend.
    Unknown,
    Sent,
    /// Will not be retried; `last_error` says why.
    Failed,
    /// Journal-only, nothing to deliver.
    Local,
    /// The stored row cannot be read; `last_error` says why. Never sent.
    Unreadable,
    /// Withdrawn by the CRE before it was delivered.
    Cancelled,
}

impl StepState {
    #[must_use]
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::Unknown)
    }

    /// Needs a person: it will not be delivered by waiting.
    #[must_use]
    pub fn needs_attention(self) -> bool {
        matches!(self, Self::Failed | Self::Unreadable)
    }
}

/// A step as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub id: i64,
    pub write_id: i64,
    pub effect: SourceWrite,
    pub item: String,
    /// A unique token carried in notes, to recognise our own note when
    /// checking whether an unknown send arrived.
    pub marker: String,
    pub state: StepState,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    /// An earlier attempt may have been applied: ask the source before
    /// sending again. Sticky: only a check that succeeds clears it.
    pub check_first: bool,
    /// The deliverer holding the step while it is `sending`, and until when.
    pub owner: Option<String>,
    pub lease_until: Option<Timestamp>,
}

/// A write with its steps, for the journal view and the handover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Write {
    pub id: i64,
    pub created_at: Timestamp,
    pub kind: WriteKind,
    pub target: Target,
    pub text: String,
    /// Who wrote it (`[ui] me`), when known.
    pub author: Option<String>,
    pub steps: Vec<Step>,
}

impl Write {
    /// The write's overall state: failed (or unreadable) if any step needs
    /// a person, pending while any is pending, cancelled if any was
    /// withdrawn, else sent (or local).
    #[must_use]
    pub fn state(&self) -> StepState {
        let states = self.steps.iter().map(|s| s.state);
        if let Some(stuck) = states.clone().find(|s| s.needs_attention()) {
            stuck
        } else if let Some(pending) = states.clone().find(|s| s.is_pending()) {
            pending
        } else if states.clone().any(|s| s == StepState::Cancelled) {
            StepState::Cancelled
        } else if states.clone().all(|s| s == StepState::Local) {
            StepState::Local
        } else {
            StepState::Sent
        }
    }

    /// Whether the CRE may withdraw it: something is still undelivered and
    /// nothing of it may have reached the source yet.
    #[must_use]
    pub fn cancellable(&self) -> bool {
        let open = |s: &&Step| {
            matches!(
                s.state,
                StepState::Queued | StepState::Failed | StepState::Unreadable
            )
        };
        self.steps.iter().any(|s| open(&s))
            && self.steps.iter().all(|s| open(&s) || !s.state.is_pending())
    }
}

/// Validate a note's text: not empty, not oversized; kept byte for byte.
pub fn check_text(text: &str) -> Result<(), InvalidText> {
    if text.trim().is_empty() {
        return Err(InvalidText("the note is empty".into()));
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(InvalidText(format!(
            "the note is {} bytes; the limit is {MAX_NOTE_BYTES} bytes ({} KiB)",
            text.len(),
            MAX_NOTE_BYTES / 1024
        )));
    }
    Ok(())
}

/// What a note on `target` does: a private desk note for an inquiry, an
/// incident note where the incident source takes notes (PagerDuty), and
/// otherwise (customers, Alertmanager alerts) the journal only.
#[must_use]
pub fn note_effects(target: &Target, text: &str, incident_notes: bool) -> Vec<SourceWrite> {
    match target {
        Target::Inquiry(id) => vec![SourceWrite::DeskNote {
            ticket: id.clone(),
            body: text.to_owned(),
            public: false,
        }],
        Target::Incident(id) if incident_notes => vec![SourceWrite::IncidentNote {
            incident: id.clone(),
            body: text.to_owned(),
        }],
        Target::Incident(_) | Target::Customer(_) => vec![SourceWrite::Local],
    }
}

/// What linking `inquiry` to `incident` by hand does: the journal's record,
/// and with `mirror` (Zendesk, `[desk] mirror_links`) the desk's problem
/// ticket for the incident (created once, reused after) and the inquiry
/// made an incident of it. Unlinking is recorded only: the desk's grouping
/// is left for its agents to undo.
#[must_use]
pub fn link_effects(
    inquiry: &str,
    incident: &str,
    title: Option<&str>,
    linked: bool,
    mirror: bool,
) -> Vec<SourceWrite> {
    let mut effects = vec![SourceWrite::Link {
        inquiry: inquiry.to_owned(),
        incident: incident.to_owned(),
        linked,
    }];
    if linked && mirror {
        effects.push(SourceWrite::DeskProblem {
            incident: incident.to_owned(),
            subject: match title {
                Some(title) => format!("Incident {incident}: {title}"),
                None => format!("Incident {incident}"),
            },
            body: format!(
                "Problem ticket for incident {incident}, kept by cre-cockpit: the tickets linked to it are customer inquiries about this incident."
            ),
        });
        effects.push(SourceWrite::DeskIncidentOf {
            ticket: inquiry.to_owned(),
            incident: incident.to_owned(),
        });
    }
    effects
}

/// A step's state changed; the UI shows it on the row and in the detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub write_id: i64,
    pub step_id: i64,
    pub state: StepState,
    pub error: Option<String>,
}
