//! The SLO vocabulary both sides of the edge share: the windows an SLO is
//! measured over (from the multiwindow, multi-burn-rate rules), the event
//! counts the metrics source fetches for them, and the shape of a verdict.
//! Deciding what the counts mean is `insight::slo`'s job.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How loud a burn is. Ordered: `Ok < Ticket < Page`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BurnLevel {
    /// No alerting window pair fires (or there is no traffic to judge).
    #[default]
    Ok,
    /// A slow burn: someone should look within a day.
    Ticket,
    /// A fast burn: someone should look now.
    Page,
}

/// One multiwindow rule: fire when the burn rate over both the long and the
/// short window is at least the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub level: BurnLevel,
    pub long: Duration,
    pub short: Duration,
    /// Fraction of the whole budget that burning at the threshold for the
    /// long window consumes; the threshold follows from it and the SLO
    /// window (`b = f × T / w`), so a 28-day SLO gets proportionate numbers.
    pub budget_spent: f64,
}

pub(crate) const fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

pub(crate) const fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// The SRE Workbook's recommended rules. For a 30-day SLO the thresholds
/// are 14.4 (1 h / 5 m), 6 (6 h / 30 m) and 1 (3 d / 6 h).
pub const RULES: [Rule; 3] = [
    Rule {
        level: BurnLevel::Page,
        long: hours(1),
        short: minutes(5),
        budget_spent: 0.02,
    },
    Rule {
        level: BurnLevel::Page,
        long: hours(6),
        short: minutes(30),
        budget_spent: 0.05,
    },
    Rule {
        level: BurnLevel::Ticket,
        long: hours(72),
        short: hours(6),
        budget_spent: 0.10,
    },
];

/// Pages need at least this many bad events in the long window unless the
/// SLO says otherwise (domain.md §3.3).
pub const DEFAULT_MIN_BAD_EVENTS: f64 = 10.0;

impl Rule {
    /// The burn rate at which this rule fires for an SLO over `slo_window`.
    #[must_use]
    pub fn threshold(&self, slo_window: Duration) -> f64 {
        self.budget_spent * slo_window.as_secs_f64() / self.long.as_secs_f64()
    }
}

/// Every window the rules and the budget need, shortest first: the counts
/// the adapter must fetch for one SLO.
#[must_use]
pub fn windows(slo_window: Duration) -> Vec<Duration> {
    let mut all: Vec<Duration> = RULES
        .iter()
        .flat_map(|r| [r.long, r.short])
        .chain([slo_window])
        .collect();
    all.sort();
    all.dedup();
    all
}

/// A window the way PromQL writes it: `5m`, `6h`, `30d`.
#[must_use]
pub fn promql_duration(window: Duration) -> String {
    let s = window.as_secs();
    if s > 0 && s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Good and valid events in one window.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub good: f64,
    pub valid: f64,
}

impl Counts {
    /// Bad events (valid minus good, never negative: counter resets and
    /// rounding can make good exceed valid by a hair).
    #[must_use]
    pub fn bad(&self) -> f64 {
        (self.valid - self.good).max(0.0)
    }

    /// Bad over valid; `None` without traffic.
    #[must_use]
    pub fn error_ratio(&self) -> Option<f64> {
        (self.valid > 0.0).then(|| self.bad() / self.valid)
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.good += other.good;
        self.valid += other.valid;
    }
}

/// The burn over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowBurn {
    /// `"1h"`, `"5m"`.
    pub window: String,
    pub burn_rate: Option<f64>,
    pub bad_events: Option<f64>,
    pub valid_events: Option<f64>,
}

/// An SLO's state for one scope (the whole service, or one tenant).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SloState {
    pub level: BurnLevel,
    /// Budget left over the SLO window (see [`budget_remaining`]).
    pub budget_remaining: Option<f64>,
    /// Error ratio over the SLO window.
    pub error_ratio: Option<f64>,
    /// Burn per window, shortest first.
    pub windows: Vec<WindowBurn>,
    /// A page that the low-traffic guard held back to a ticket.
    pub low_traffic: bool,
    /// Why the level is what it is ("1h 20.0× and 5m 20.0× ≥ 14.4").
    pub reason: String,
}

impl SloState {
    /// The burn rate over one window, if it had traffic.
    #[must_use]
    pub fn burn(&self, window: &str) -> Option<f64> {
        self.windows
            .iter()
            .find(|w| w.window == window)
            .and_then(|w| w.burn_rate)
    }
}

/// One SLO evaluated everywhere it applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloReport {
    pub name: String,
    pub service: String,
    pub target: f64,
    /// The SLO window as PromQL writes it (`"30d"`).
    pub window: String,
    /// Summed over every series the queries returned.
    pub global: SloState,
    pub by_tenant: BTreeMap<String, SloState>,
}

/// The counts of one window, summed over every series and per tenant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WindowCounts {
    pub global: Option<Counts>,
    pub by_tenant: BTreeMap<String, Counts>,
}

/// What the metrics source measured for one configured SLO: its promise
/// and the counts of every window it has (windows are kept between polls
/// and shared, hence the `Arc`). `insight::slo::judge` turns this into an
/// [`SloReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloCounts {
    pub name: String,
    pub service: String,
    pub target: f64,
    pub window: Duration,
    pub min_bad_events: f64,
    /// As (window, counts) pairs when serialised (a team's shared metrics
    /// poll): JSON keys must be strings.
    #[serde(with = "window_pairs")]
    pub windows: BTreeMap<Duration, Arc<WindowCounts>>,
}

mod window_pairs {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::WindowCounts;

    pub fn serialize<S: Serializer>(
        windows: &BTreeMap<Duration, Arc<WindowCounts>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(windows)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Duration, Arc<WindowCounts>>, D::Error> {
        Ok(Vec::<(Duration, Arc<WindowCounts>)>::deserialize(d)?
            .into_iter()
            .collect())
    }
}
