//! Per-source state for the chips: loading, ready, or failed with the last
//! good data kept (so an error never looks like an empty queue).

use jiff::Timestamp;
use serde::Serialize;

use crate::core::domain::SourceKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SourceStatus {
    /// No answer yet.
    Loading,
    /// The last poll succeeded.
    Ready,
    /// The last poll failed; data shown (if any) is from `last_ok`.
    Failed,
}

/// In team mode, who polls a shared source (the desk, incidents): shown on
/// its chip, so a CRE knows whether the data is their own read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRole {
    /// This cockpit polls it for the whole team.
    Leading,
    /// A teammate's cockpit polls it; this one reads the team store.
    Following(String),
    /// Nobody has published yet (the leader's first poll is under way).
    Waiting,
    /// The team store cannot be reached: this cockpit polls for itself.
    Alone(String),
}

/// Which product a source is: shown on its chip, in `check` and in the
/// handover, and matched when an error message starts with it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Vendor {
    Zendesk,
    Rt,
    Prometheus,
    Pagerduty,
    Alertmanager,
    /// The accounts file, when it is a CSV export.
    Csv,
    /// The accounts file, in any other form.
    File,
}

impl Vendor {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceState {
    pub kind: SourceKind,
    pub vendor: Vendor,
    pub status: SourceStatus,
    /// When data last arrived.
    pub last_ok: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// A short note about the last good poll ("3 changed").
    pub detail: Option<String>,
    pub polls: u64,
    pub failures: u64,
    /// How much of this source's data joined to a customer, once both it
    /// and the accounts have answered (`insight::coverage`).
    pub coverage: Option<Coverage>,
    /// Why the data is not a complete read of the source, when it is not
    /// (`snapshot` stopped waiting; the source failed).
    pub partial: Option<String>,
}

/// How well a source's data joins to the accounts: a ready source whose
/// rows match no customer is a misconfiguration, not an empty desk, and
/// must look different.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// One line: "41/53 inquiries matched to an account".
    pub summary: String,
    /// What looks misconfigured, each naming the setting that fixes it.
    pub warnings: Vec<String>,
}

impl SourceState {
    #[must_use]
    pub fn new(kind: SourceKind, vendor: Vendor) -> Self {
        Self {
            kind,
            vendor,
            status: SourceStatus::Loading,
            last_ok: None,
            last_error: None,
            last_error_at: None,
            detail: None,
            polls: 0,
            failures: 0,
            coverage: None,
            partial: None,
        }
    }

    pub fn succeeded(&mut self, at: Timestamp, detail: Option<String>) {
        self.status = SourceStatus::Ready;
        self.last_ok = Some(at);
        self.detail = detail;
        self.polls += 1;
    }

    pub fn failed(&mut self, at: Timestamp, error: String) {
        self.status = SourceStatus::Failed;
        self.last_error = Some(error);
        self.last_error_at = Some(at);
        self.polls += 1;
        self.failures += 1;
    }

    /// Whether the data on screen is older than the latest attempt.
    #[must_use]
    pub fn is_stale(&self) -> bool {
        self.status == SourceStatus::Failed && self.last_ok.is_some()
    }
}
