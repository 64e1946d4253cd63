//! The cockpit's own picture of the world, independent of any wire format.
//!
//! Adapters (`crate::sources`) convert vendor JSON into these types at the
//! edge; everything behind them (model, join, scoring, rendering, snapshot)
//! speaks only this vocabulary. Every string here that came from a remote
//! source has already passed `crate::core::sanitize`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use crate::core::ids::{AccountId, IncidentId, InquiryId};
pub use crate::core::name::Name;

/// Desk priority, ordered from most to least urgent (`Urgent < Low` in `Ord`
/// so that an ascending sort puts the urgent ones first).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

/// Where an inquiry is in its life. Only the first four count as open.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum InquiryStatus {
    New,
    Open,
    Pending,
    Hold,
    Solved,
    Closed,
}

impl InquiryStatus {
    #[must_use]
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Solved | Self::Closed)
    }
}

/// Which SLA target a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SlaMetric {
    FirstReply,
    NextReply,
}

/// A running SLA clock: when the target breaches, and whether the target is
/// counted in business or calendar hours (the pane says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub metric: SlaMetric,
    pub due: Timestamp,
    pub business_hours: bool,
}

/// An open (or just closed) support inquiry: a Zendesk ticket or an RT ticket.
/// (`Deserialize` so a desk adapter can keep its open set in the data dir.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inquiry {
    /// The desk's id, as text (RT and Zendesk both have numeric ids, but the
    /// cockpit never does arithmetic on them).
    pub id: InquiryId,
    pub subject: String,
    pub status: InquiryStatus,
    pub priority: Priority,
    /// The desk's organisation for the requester (name, or id when the
    /// name is unknown); joined to an account through `Account::desk_org`.
    pub org: Option<Name>,
    pub requester: Option<Name>,
    pub assignee: Option<Name>,
    pub group: Option<Name>,
    pub tags: Vec<Name>,
    pub feature_area: Option<Name>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the desk itself reports the SLA target; otherwise the model
    /// computes one from the configured policy.
    pub sla: Option<SlaClock>,
    /// Whether an agent has replied publicly yet (drives first- vs next-reply).
    pub replied: bool,
    pub url: Option<String>,
    /// What kind of request it is, when the desk says (Zendesk `type`):
    /// support burden counts problems, not questions. (Defaults to unknown
    /// when read back from a file written before the field existed.)
    #[serde(default)]
    pub kind: Option<InquiryKind>,
    /// What the desk reports about the inquiry's past, for the KPIs
    /// (`crate::insight::kpi`). Absent in state saved by older builds.
    #[serde(default)]
    pub history: InquiryHistory,
    /// What the detail shows beyond the queue row, when the desk says
    /// (Zendesk: custom status, due date, channel, satisfaction).
    #[serde(default)]
    pub desk: DeskDetail,
}

/// Facts one desk reports and another may not; each `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskDetail {
    /// The desk's own name for the status when it is a custom one (Zendesk
    /// custom ticket statuses: "Waiting on engineering"); `status` holds the
    /// category the cockpit reasons with.
    pub status_label: Option<Name>,
    /// When a task is due (Zendesk `due_at`, set on tickets of type task).
    pub due_at: Option<Timestamp>,
    /// Where the inquiry came in (Zendesk `via.channel`: email, web, api…).
    pub channel: Option<Name>,
    /// The customer's rating of the support, when given.
    pub satisfaction: Option<Satisfaction>,
    /// The customer segment a desk field names (`[desk] segment_field`).
    pub segment: Option<Name>,
}

/// A customer's satisfaction rating of one inquiry (Zendesk CSAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Satisfaction {
    pub good: bool,
    /// When it was given (the rating's `updated_at`, else the inquiry's).
    pub at: Timestamp,
}

impl Inquiry {
    /// An open, normal-priority inquiry with nothing else known, created at
    /// the epoch: the starting point the unit tests vary.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn bare(id: &str) -> Self {
        Self {
            id: id.into(),
            subject: String::new(),
            status: InquiryStatus::Open,
            priority: Priority::Normal,
            org: None,
            requester: None,
            assignee: None,
            group: None,
            tags: Vec::new(),
            feature_area: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            sla: None,
            replied: false,
            url: None,
            kind: None,
            history: InquiryHistory::default(),
            desk: DeskDetail::default(),
        }
    }

    /// Escalated on the desk: a tag starting with `escalated` (the cockpit's
    /// own `escalated-NAME`, or a team's `escalated_l2`).
    #[must_use]
    pub fn is_escalated(&self) -> bool {
        self.tags.iter().any(|t| t.starts_with("escalated"))
    }
}

/// The desk's classification of an inquiry (Zendesk's ticket `type`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum InquiryKind {
    Problem,
    Incident,
    Question,
    Task,
}

/// What a desk reports about an inquiry's history. Each field is `None`
/// when the desk does not report it, which the KPIs must tell apart from
/// zero: RT, for one, counts neither replies nor reopens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InquiryHistory {
    /// When the first public agent reply was posted (Zendesk ticket metrics:
    /// created + `reply_time_in_minutes.calendar`).
    pub first_reply_at: Option<Timestamp>,
    /// When the inquiry was last solved (Zendesk `solved_at`, RT `Resolved`).
    pub solved_at: Option<Timestamp>,
    /// Public agent replies so far (Zendesk `replies`).
    pub replies: Option<u32>,
    /// How often it was reopened after being solved (Zendesk `reopens`).
    pub reopens: Option<u32>,
}

/// One entry of an inquiry's conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    pub id: String,
    pub author: Option<String>,
    pub at: Timestamp,
    /// Public replies reach the customer; private ones are internal notes.
    pub public: bool,
    pub body: String,
    /// Files attached to the comment, listed but never fetched: opening one
    /// is the agent's choice, in the browser.
    pub attachments: Vec<Attachment>,
}

/// A file attached to a comment, as the desk describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: String,
    /// Bytes, when the desk says.
    pub size: Option<u64>,
    /// Where the desk serves it (only web links are kept).
    pub url: Option<String>,
}

/// A change set from the desk: the poller sends only what changed since its
/// cursor, so a quiet poll is an empty update (and costs no re-sort).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeskUpdate {
    /// True when this update replaces everything the model knew (first load,
    /// or a cursor the desk no longer honoured).
    pub full: bool,
    /// New or changed inquiries (including ones that just closed).
    pub changed: Vec<Inquiry>,
    /// Ids the desk deleted.
    pub removed: Vec<String>,
    /// Requests this poll made, for the "one request when nothing changed" bar.
    pub requests: u32,
}

impl DeskUpdate {
    /// Whether the update changes what is known of the queue (most polls
    /// do not): what the model re-derives and the resume state records.
    #[must_use]
    pub fn changes_anything(&self) -> bool {
        self.full || !self.changed.is_empty() || !self.removed.is_empty()
    }
}

/// Customer segment, from the accounts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Segment {
    Enterprise,
    MidMarket,
    Small,
}

/// Touch model for the account, from the accounts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Tier {
    High,
    Low,
    TechTouch,
}

/// One customer as the CRM knows it: the join key between desk, metrics and
/// incidents. Read from the accounts file, never from a remote API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    /// Zendesk organisation id or name, or RT custom-field value.
    pub desk_org: String,
    /// The metrics/alert label value.
    pub tenant: String,
    pub segment: Segment,
    pub seats: u32,
    pub arr: f64,
    pub renewal_date: Option<Date>,
    pub owner: String,
    pub tier: Tier,
    pub nps: Option<u8>,
    pub csat: Option<f64>,
    pub pulse: Option<String>,
    pub champion_changed: Option<Date>,
    /// Key features this customer is entitled to (the optional
    /// `key_features` column); feature adoption is measured against it.
    pub key_features: Option<u32>,
    /// Columns the cockpit does not know, kept as written (header → value)
    /// so nothing the CRM exported is lost; nothing scores on them.
    pub extra: BTreeMap<String, String>,
}

/// Per-tenant metric values at one instant. `None` means the query returned
/// no series for the tenant (which is not the same as zero).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantMetrics {
    pub error_ratio: Option<f64>,
    pub request_rate: Option<f64>,
    pub active_users: Option<f64>,
    /// Active users a week ago, for the usage trend.
    pub active_users_prev: Option<f64>,
    pub latency_p99: Option<f64>,
    /// Distinct key features used in the last 28 days (the `feature_usage`
    /// query); adoption is this over the key features entitled.
    pub features_used: Option<f64>,
    /// The tenant's worst error-budget remaining over its SLOs' windows, as a
    /// fraction of the budget (1 = untouched, ≤ 0 = exhausted).
    pub error_budget_remaining: Option<f64>,
}

/// One configured metrics query and the tenants its answer had series for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryAnswer {
    /// The signal it feeds (`error_ratio`, `active_users`, …).
    pub signal: String,
    /// The PromQL as configured.
    pub query: String,
    pub tenants: Vec<String>,
}

/// Everything one metrics poll produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    pub by_tenant: BTreeMap<String, TenantMetrics>,
    /// Error ratio sparkline per tenant (oldest first; the last week's
    /// whole hours, the newest the last full hour before the poll). Shared
    /// with the adapter, which keeps it between polls.
    pub error_history: std::sync::Arc<BTreeMap<String, Vec<f64>>>,
    /// Active users sparkline per tenant (oldest first; the last 30 UTC
    /// midnights).
    pub active_users_history: std::sync::Arc<BTreeMap<String, Vec<f64>>>,
    /// Warnings the metrics backend attached to its answers.
    pub warnings: Vec<String>,
    /// Each configured per-tenant query and the tenants it answered for:
    /// how `check` and the chip tell "no series" (a wrong query or label)
    /// from "nothing to report".
    pub queries: Vec<QueryAnswer>,
    /// What each configured SLO measured (the source's part).
    #[serde(skip)]
    pub slo_counts: Vec<crate::core::slo::SloCounts>,
    /// Each configured SLO, evaluated globally and per tenant
    /// (`insight::slo::judge` fills this from `slo_counts`).
    pub slos: Vec<crate::core::slo::SloReport>,
}

/// Incident severity, SEV1 the worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::Display,
)]
pub enum Severity {
    #[strum(serialize = "SEV1")]
    Sev1,
    #[strum(serialize = "SEV2")]
    Sev2,
    #[strum(serialize = "SEV3")]
    Sev3,
    #[strum(serialize = "SEV4")]
    Sev4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IncidentStatus {
    Triggered,
    Acknowledged,
    Resolved,
    /// An alert firing in Alertmanager.
    Firing,
    /// Silenced or inhibited in Alertmanager.
    Suppressed,
    /// Not declared anywhere: the cockpit saw a page-level SLO burn with no
    /// open incident on that service.
    Detected,
}

impl IncidentStatus {
    /// Still going: anything but resolved or silenced.
    #[must_use]
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Suppressed)
    }
}

/// An incident or alert group as the cockpit shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub status: IncidentStatus,
    pub severity: Severity,
    pub service: Option<String>,
    pub started_at: Timestamp,
    pub responders: Vec<String>,
    /// Tenants the source itself names (alert labels, incident fields).
    pub tenants: Vec<String>,
    pub url: Option<String>,
    /// Notes on the incident, oldest first.
    pub notes: Vec<IncidentNote>,
    /// When the source says it ended (PagerDuty `resolved_at`); `None`
    /// while open or when the source does not say.
    pub resolved_at: Option<Timestamp>,
    /// Source-specific facts for the detail view (PagerDuty urgency,
    /// priority and escalation level; Alertmanager labels and alert counts).
    pub details: BTreeMap<String, String>,
}

impl Incident {
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentNote {
    pub at: Timestamp,
    pub author: Option<String>,
    pub text: String,
}

/// The four kinds of source the cockpit polls.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    strum::Display,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SourceKind {
    Desk,
    Metrics,
    Incidents,
    Accounts,
}

/// A failed poll, as the chip and the log show it. The text never contains a
/// credential: adapters build it from status lines and sanitised bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    pub message: String,
    /// How long the source asked us to stay away (429 `Retry-After`, or a
    /// rate-limit reset), so the poller can back off instead of hammering.
    pub retry_after: Option<std::time::Duration>,
    /// The HTTP status when the server answered with an error (so an
    /// adapter can tell "cursor refused" from "server down").
    pub status: Option<u16>,
    /// Whether the request may have taken effect despite the error (a
    /// timeout or broken connection after sending, a 5xx): a write must then
    /// be checked before it is sent again.
    pub maybe_applied: bool,
}

impl SourceError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry_after: None,
            status: None,
            maybe_applied: false,
        }
    }

    /// The source answered "success" in a way that does not prove the
    /// change (an HTML page, an empty body, an object in place of the
    /// vendor's answer): it may have been applied, so it must be checked
    /// before it is sent again.
    pub fn unproven(what: &str, detail: &str) -> Self {
        let mut e = Self::new(format!(
            "{what}: the answer does not show the change ({detail}); checking before any resend"
        ));
        e.maybe_applied = true;
        e
    }

    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    #[must_use]
    pub fn with_retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }
}
