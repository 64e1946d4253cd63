//! Support KPIs (shared/reference/domain.md §4) for the shift, the last 24
//! hours and the last 7 days: first reply time, first-reply SLA
//! achievement, reopen, escalation and one-touch resolution rates, and the
//! backlog now.
//!
//! Pure functions over the inquiries the model holds. Every KPI is either a
//! number computed from what the desk reported or [`Kpi::NotAvailable`] with
//! the reason: a desk that does not count replies (RT) gives "n/a", never a
//! zero, and a window that reaches back before the closed inquiries the
//! cockpit has seen says so instead of reporting a rate over half the data.
//!
//! Conventions (each one a choice the issue left open):
//! - Windows are rolling and end now: the shift (`[kpi] shift`, default
//!   8 h), 24 h and 7 days. Rolling windows have fixed sizes, so they
//!   compare, and they need no time zone.
//! - Duration KPIs are placed by the moment they completed (first reply),
//!   rates by solve time, volumes by creation time (domain.md §4 rules).
//! - Median and p90 are nearest-rank: each is the value of a real inquiry
//!   (`ceil(q·n)`-th smallest), never an interpolation between two.
//! - Business hours come from the SLA policy (`crate::insight::sla`): a first reply
//!   counts business time for priorities the policy counts in business
//!   hours, calendar time for the others.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::core::domain::{Inquiry, InquiryStatus, SlaMetric};
use crate::core::source::{SourceState, SourceStatus};
use crate::insight::sla::Policy;

/// `[kpi]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiConfig {
    /// Length of a shift: the first KPI window and the default span of the
    /// handover report.
    #[serde(deserialize_with = "crate::core::durations::duration")]
    pub shift: Duration,
}

impl Default for KpiConfig {
    fn default() -> Self {
        Self {
            shift: Duration::from_secs(8 * 3600),
        }
    }
}

/// Closed inquiries older than this are of no use to any window.
pub const CLOSED_KEPT: SignedDuration = SignedDuration::from_hours(8 * 24);

/// What the KPIs keep of an inquiry that closed: the fields they read
/// (status, priority, dates, reply and reopen history, tags for
/// escalations), with the text they never show dropped. Thousands of closed
/// inquiries sit in the model for the 8-day windows; their subjects, URLs
/// and desk details were most of what they cost.
#[must_use]
pub fn kept(mut inquiry: Inquiry) -> Inquiry {
    inquiry.subject = String::new();
    inquiry.url = None;
    inquiry.requester = None;
    inquiry.assignee = None;
    inquiry.group = None;
    inquiry.feature_area = None;
    inquiry.org = None;
    inquiry.desk = crate::core::domain::DeskDetail::default();
    inquiry.tags.shrink_to_fit();
    inquiry
}

/// A KPI value, or why there is none. In JSON: `{"value": …}` or
/// `{"n_a": "reason"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Kpi<T> {
    #[serde(rename = "value")]
    Value(T),
    #[serde(rename = "n_a")]
    NotAvailable(String),
}

impl<T> Kpi<T> {
    fn na(reason: impl Into<String>) -> Self {
        Self::NotAvailable(reason.into())
    }

    /// The value, if there is one.
    #[must_use]
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            Self::NotAvailable(_) => None,
        }
    }

    /// Why there is no value, if there is none.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Value(_) => None,
            Self::NotAvailable(r) => Some(r),
        }
    }
}

/// Median and p90 of some durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Durations {
    pub n: usize,
    pub median_secs: i64,
    pub p90_secs: i64,
}

impl Durations {
    /// Nearest-rank median and p90; `None` without samples.
    #[must_use]
    pub fn of(mut samples: Vec<i64>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        Some(Self {
            n: samples.len(),
            median_secs: nearest_rank(&samples, 50),
            p90_secs: nearest_rank(&samples, 90),
        })
    }

    #[must_use]
    pub fn median(&self) -> SignedDuration {
        SignedDuration::from_secs(self.median_secs)
    }

    #[must_use]
    pub fn p90(&self) -> SignedDuration {
        SignedDuration::from_secs(self.p90_secs)
    }
}

/// The `percent`-th percentile of sorted samples: the `ceil(p·n/100)`-th
/// smallest (1-based).
fn nearest_rank(sorted: &[i64], percent: usize) -> i64 {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// `count` of `of`. Only ever computed when the desk's data decides every
/// inquiry in the denominator: a rate over the part it happens to report
/// would be biased towards whatever that part is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub count: usize,
    pub of: usize,
    pub percent: f64,
}

impl Rate {
    fn of(count: usize, of: usize) -> Option<Self> {
        (of > 0).then(|| Self {
            count,
            of,
            percent: 100.0 * count as f64 / of as f64,
        })
    }
}

/// The backlog now (domain.md §4: New + Open + On-hold; Pending apart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backlog {
    pub unsolved: usize,
    pub pending: usize,
    /// `now − created` over the unsolved inquiries.
    pub age: Kpi<Durations>,
}

/// The KPIs of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowKpis {
    /// `shift`, `day` or `week`.
    pub name: &'static str,
    /// Its span as shown: `8h`, `24h`, `7d`.
    pub label: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Inquiries created in the window.
    pub created: Kpi<usize>,
    /// Inquiries solved in the window (and still solved or closed).
    pub solved: Kpi<usize>,
    /// First reply time in calendar time, by first-reply time.
    pub first_reply: Kpi<Durations>,
    /// First reply time as the SLA policy counts it: business hours where
    /// the policy counts them for the priority, calendar time otherwise.
    pub first_reply_business: Kpi<Durations>,
    /// First-reply targets met, of those decided in the window.
    pub sla_achievement: Kpi<Rate>,
    /// Solved in the window and reopened (then or before).
    pub reopen_rate: Kpi<Rate>,
    /// Solved in the window and escalated (an `escalated…` tag).
    pub escalation_rate: Kpi<Rate>,
    /// Solved in the window with fewer than two public agent replies.
    pub one_touch: Kpi<Rate>,
}

/// Every KPI at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    pub at: Timestamp,
    pub backlog: Kpi<Backlog>,
    /// Shift, 24 h, 7 days.
    pub windows: Vec<WindowKpis>,
    /// How far back the cockpit has seen every inquiry that closed;
    /// windows reaching further back have no closed-inquiry KPIs.
    pub closed_history: ClosedHistory,
    /// How first-reply targets and hours are counted, for the KPI view.
    pub method: Vec<&'static str>,
}

/// How much of the desk's closed history the cockpit holds. In JSON:
/// `"complete"`, `{"since": "…"}` or `"unknown"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedHistory {
    /// The desk has not answered yet.
    Unknown,
    /// The desk listed its whole history.
    Complete,
    /// Closures seen since this moment only.
    Since(Timestamp),
}

impl ClosedHistory {
    /// From the model's `closed_from` (`Timestamp::MIN` meaning complete).
    #[must_use]
    pub fn from_start(from: Option<Timestamp>) -> Self {
        match from {
            None => Self::Unknown,
            Some(t) if t == Timestamp::MIN => Self::Complete,
            Some(t) => Self::Since(t),
        }
    }
}

impl Kpis {
    /// The first window (the shift), if computed.
    #[must_use]
    pub fn shift(&self) -> Option<&WindowKpis> {
        self.windows.first()
    }
}

const METHOD: [&str; 5] = [
    "windows are rolling and end now; medians and p90s are nearest-rank",
    "first reply time: created → first public agent reply, placed by the reply",
    "SLA: first-reply targets met, placed by when each was decided; the desk's own target for waiting inquiries, else [sla]",
    "rates by solve date: reopened (then or earlier), escalated (an escalated… tag), one-touch (< 2 public agent replies)",
    "backlog: new, open and on-hold now; pending apart",
];

/// What the KPIs are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub open: &'a [Inquiry],
    /// Inquiries seen closed recently (see `crate::model::Data::closed`).
    pub closed: &'a [&'a Inquiry],
    pub closed_from: Option<Timestamp>,
    /// The desk's chip, `None` without a desk.
    pub desk: Option<&'a SourceState>,
    pub policy: &'a Policy,
    pub shift: Duration,
    pub now: Timestamp,
}

/// A moment as reasons show it.
fn moment(t: Timestamp, now: Timestamp) -> String {
    if now.duration_since(t) < SignedDuration::from_hours(20) {
        t.strftime("%H:%M UTC").to_string()
    } else {
        t.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }
}

fn span_label(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs % 86_400 == 0 && secs >= 2 * 86_400 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

/// Counters for one window while inquiries are walked once.
#[derive(Debug, Default)]
struct Acc {
    created: usize,
    solved: usize,
    frt: Vec<i64>,
    frt_business: Vec<i64>,
    sla_met: usize,
    sla_decided: usize,
    sla_unknown: usize,
    reopen_base: usize,
    reopened: usize,
    reopen_unknown: usize,
    escalated: usize,
    one_touch: usize,
    one_touch_unknown: usize,
}

/// Compute every KPI.
#[must_use]
pub fn compute(inputs: &Inputs<'_>) -> Kpis {
    let now = inputs.now;
    let shift = SignedDuration::try_from(inputs.shift).unwrap_or(SignedDuration::from_hours(8));
    let spans = [
        ("shift", shift),
        ("day", SignedDuration::from_hours(24)),
        ("week", SignedDuration::from_hours(7 * 24)),
    ];
    // Without data every KPI says why.
    let missing = match (inputs.desk, inputs.closed_from) {
        (None, _) => Some("no desk configured".to_owned()),
        (Some(desk), None) => Some(match (&desk.status, &desk.last_error) {
            (SourceStatus::Failed, Some(e)) => format!("the desk has not answered: {e}"),
            _ => "waiting for the desk's first answer".to_owned(),
        }),
        (Some(_), Some(_)) => None,
    };
    if let Some(reason) = missing {
        return Kpis {
            at: now,
            backlog: Kpi::na(reason.clone()),
            windows: spans
                .iter()
                .map(|&(name, span)| WindowKpis {
                    name,
                    label: span_label(span),
                    from: now - span,
                    to: now,
                    created: Kpi::na(reason.clone()),
                    solved: Kpi::na(reason.clone()),
                    first_reply: Kpi::na(reason.clone()),
                    first_reply_business: Kpi::na(reason.clone()),
                    sla_achievement: Kpi::na(reason.clone()),
                    reopen_rate: Kpi::na(reason.clone()),
                    escalation_rate: Kpi::na(reason.clone()),
                    one_touch: Kpi::na(reason.clone()),
                })
                .collect(),
            closed_history: ClosedHistory::Unknown,
            method: METHOD.to_vec(),
        };
    }
    let closed_from = inputs.closed_from.unwrap_or(now);
    let windows: Vec<(Timestamp, Timestamp)> =
        spans.iter().map(|&(_, span)| (now - span, now)).collect();
    let earliest = windows.iter().map(|w| w.0).min().unwrap_or(now);
    let mut acc: Vec<Acc> = windows.iter().map(|_| Acc::default()).collect();
    let each = |t: Timestamp, acc: &mut Vec<Acc>, f: &dyn Fn(&mut Acc)| {
        for (w, a) in windows.iter().zip(acc.iter_mut()) {
            if t >= w.0 && t < w.1 {
                f(a);
            }
        }
    };

    let mut reports_first_reply = false;
    let mut reports_replies = false;
    let mut reports_reopens = false;
    let mut has_tags = false;
    let all = inputs.open.iter().chain(inputs.closed.iter().copied());
    for inquiry in all {
        let history = &inquiry.history;
        let open = inquiry.status.is_open();
        reports_first_reply |= history.first_reply_at.is_some();
        reports_replies |= history.replies.is_some();
        reports_reopens |= history.reopens.is_some();
        has_tags |= !inquiry.tags.is_empty();
        if inquiry.created_at >= earliest {
            each(inquiry.created_at, &mut acc, &|a| a.created += 1);
        }

        // First reply time, and the first-reply target it met or missed
        // (decided by the reply or by the deadline, whichever came first,
        // so never after the reply: older replies decide nothing here).
        if let Some(reply) = history.first_reply_at {
            if reply >= earliest {
                let calendar = reply
                    .duration_since(inquiry.created_at)
                    .max(SignedDuration::ZERO);
                let business = inputs
                    .policy
                    .elapsed(inquiry.priority, inquiry.created_at, reply);
                each(reply, &mut acc, &|a| {
                    a.frt.push(calendar.as_secs());
                    a.frt_business.push(business.as_secs());
                });
                if let Some(due) = inputs
                    .policy
                    .first_reply_due(inquiry.priority, inquiry.created_at)
                {
                    let met = reply <= due;
                    each(reply.min(due), &mut acc, &|a| {
                        a.sla_decided += 1;
                        a.sla_met += usize::from(met);
                    });
                }
            }
        } else if inquiry.replied {
            // Answered, but the desk does not say when: the target's outcome
            // is unknown, and so is when it was decided — somewhere between
            // creation and the deadline. Every window that span touches
            // cannot claim a complete count.
            if let Some(due) = inputs
                .policy
                .first_reply_due(inquiry.priority, inquiry.created_at)
                .filter(|d| *d >= earliest)
            {
                for (w, a) in windows.iter().zip(acc.iter_mut()) {
                    if inquiry.created_at < w.1 && due >= w.0 {
                        a.sla_unknown += 1;
                    }
                }
            }
        } else if open
            && let Some(clock) = inquiry
                .sla
                .filter(|c| c.metric == SlaMetric::FirstReply && c.due <= now)
        {
            // Still waiting for a first reply past its running clock
            // (pending and on-hold inquiries have none: paused).
            each(clock.due, &mut acc, &|a| a.sla_decided += 1);
        }

        // Solve-date rates.
        let solved_at = history
            .solved_at
            .or_else(|| (!open).then_some(inquiry.updated_at));
        let Some(solved_at) = solved_at.filter(|s| *s >= earliest) else {
            continue;
        };
        if open {
            // Solved in the window and open again since.
            each(solved_at, &mut acc, &|a| {
                a.reopen_base += 1;
                a.reopened += 1;
            });
            continue;
        }
        let escalated = inquiry.is_escalated();
        let reopens = history.reopens;
        let replies = history.replies;
        each(solved_at, &mut acc, &|a| {
            a.solved += 1;
            a.escalated += usize::from(escalated);
            match reopens {
                Some(n) => {
                    a.reopen_base += 1;
                    a.reopened += usize::from(n > 0);
                }
                None => a.reopen_unknown += 1,
            }
            match replies {
                Some(n) => a.one_touch += usize::from(n < 2),
                None => a.one_touch_unknown += 1,
            }
        });
    }

    let windows = spans
        .iter()
        .zip(windows)
        .zip(acc)
        .map(|((&(name, span), (from, to)), a)| {
            let gap = (closed_from > from).then(|| {
                format!(
                    "closed inquiries known only since {} (the desk listed no earlier ones)",
                    moment(closed_from, now)
                )
            });
            let durations = |samples: Vec<i64>| match Durations::of(samples) {
                Some(d) => Kpi::Value(d),
                None if reports_first_reply => Kpi::na("no first replies in this window"),
                None => Kpi::na("the desk reports no first-reply times"),
            };
            let first_reply_business = if inputs.policy.calendar().is_none() {
                Kpi::na("no business hours configured ([sla.business_hours])")
            } else {
                gated(&gap, durations(a.frt_business))
            };
            let sla = if a.sla_unknown > 0 {
                Kpi::na(format!(
                    "first-reply time unknown for {} answered inquiries (the desk does not report it)",
                    a.sla_unknown
                ))
            } else {
                Rate::of(a.sla_met, a.sla_decided).map_or_else(
                    || Kpi::na("no first-reply target met or missed in this window"),
                    Kpi::Value,
                )
            };
            let solved_rate = |count: usize, of: usize, unknown: usize, data: bool, what: &str| {
                if !data {
                    return Kpi::na(format!("the desk does not report {what}"));
                }
                if unknown > 0 {
                    return Kpi::na(format!(
                        "{what} unknown for {unknown} of the {} inquiries solved in this window",
                        of + unknown
                    ));
                }
                Rate::of(count, of)
                    .map_or_else(|| Kpi::na("no inquiries solved in this window"), Kpi::Value)
            };
            let one_touch = solved_rate(
                a.one_touch,
                a.solved - a.one_touch_unknown,
                a.one_touch_unknown,
                reports_replies,
                "reply counts",
            );
            let reopen_rate = solved_rate(
                a.reopened,
                a.reopen_base,
                a.reopen_unknown,
                reports_reopens,
                "reopen counts",
            );
            let escalation_rate = if has_tags {
                solved_rate(a.escalated, a.solved, 0, true, "tags")
            } else {
                Kpi::na("no inquiry carries tags, so escalations cannot be seen")
            };
            WindowKpis {
                name,
                label: span_label(span),
                from,
                to,
                created: gated(&gap, Kpi::Value(a.created)),
                solved: gated(&gap, Kpi::Value(a.solved)),
                first_reply: gated(&gap, durations(a.frt)),
                first_reply_business,
                sla_achievement: gated(&gap, sla),
                reopen_rate: gated(&gap, reopen_rate),
                escalation_rate: gated(&gap, escalation_rate),
                one_touch: gated(&gap, one_touch),
            }
        })
        .collect();

    Kpis {
        at: now,
        backlog: Kpi::Value(backlog(inputs.open, now)),
        windows,
        closed_history: ClosedHistory::from_start(inputs.closed_from),
        method: METHOD.to_vec(),
    }
}

/// A KPI that needs closed inquiries the cockpit has not seen: n/a.
fn gated<T>(gap: &Option<String>, value: Kpi<T>) -> Kpi<T> {
    match gap {
        Some(reason) => Kpi::na(reason.clone()),
        None => value,
    }
}

fn backlog(open: &[Inquiry], now: Timestamp) -> Backlog {
    let mut ages = Vec::new();
    let mut pending = 0;
    for inquiry in open {
        match inquiry.status {
            InquiryStatus::New | InquiryStatus::Open | InquiryStatus::Hold => ages.push(
                now.duration_since(inquiry.created_at)
                    .max(SignedDuration::ZERO)
                    .as_secs(),
            ),
            InquiryStatus::Pending => pending += 1,
            InquiryStatus::Solved | InquiryStatus::Closed => {}
        }
    }
    Backlog {
        unsolved: ages.len(),
        pending,
        age: Durations::of(ages).map_or_else(|| Kpi::na("the backlog is empty"), Kpi::Value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_real_values() {
        let d = Durations::of(vec![40, 10, 30, 20]).unwrap();
        // Median of four: the 2nd smallest; p90: the 4th.
        assert_eq!((d.n, d.median_secs, d.p90_secs), (4, 20, 40));
        let ten: Vec<i64> = (1..=10).collect();
        let d = Durations::of(ten).unwrap();
        assert_eq!((d.median_secs, d.p90_secs), (5, 9));
        let one = Durations::of(vec![7]).unwrap();
        assert_eq!((one.median_secs, one.p90_secs), (7, 7));
        assert_eq!(Durations::of(Vec::new()), None);
    }

    #[test]
    fn a_closed_inquiry_kept_for_the_kpis_counts_as_the_whole_one() {
        use crate::core::domain::{InquiryHistory, InquiryStatus};
        let now: Timestamp = "2026-12-03T12:00:00Z".parse().unwrap();
        let mut full = Inquiry::bare("7");
        full.status = InquiryStatus::Solved;
        full.subject = "Export fails".into();
        full.url = Some("https://desk.example/7".into());
        full.org = Some("Acme".into());
        full.assignee = Some("Alex".into());
        full.tags = vec!["escalated_l2".into()];
        full.created_at = now - SignedDuration::from_hours(5);
        full.updated_at = now - SignedDuration::from_hours(1);
        full.history = InquiryHistory {
            first_reply_at: Some(now - SignedDuration::from_hours(4)),
            solved_at: Some(now - SignedDuration::from_hours(1)),
            replies: Some(1),
            reopens: Some(0),
        };
        let kept = kept(full.clone());
        assert!(kept.subject.is_empty() && kept.url.is_none() && kept.org.is_none());
        let policy = Policy::default();
        let mut desk = SourceState::new(
            crate::core::domain::SourceKind::Desk,
            crate::core::source::Vendor::Zendesk,
        );
        desk.succeeded(now, None);
        let kpis = |closed: &Inquiry| {
            compute(&Inputs {
                open: &[],
                closed: &[closed],
                closed_from: Some(Timestamp::MIN),
                desk: Some(&desk),
                policy: &policy,
                shift: Duration::from_secs(8 * 3600),
                now,
            })
        };
        let (whole, compact) = (kpis(&full), kpis(&kept));
        assert_eq!(whole, compact);
        // The inquiry counted: one solved, escalated, one-touch.
        assert_eq!(compact.windows[0].solved, Kpi::Value(1));
        assert!(matches!(
            compact.windows[0].escalation_rate,
            Kpi::Value(Rate {
                count: 1,
                of: 1,
                ..
            })
        ));
    }

    #[test]
    fn spans_read_the_way_people_say_them() {
        assert_eq!(span_label(SignedDuration::from_hours(8)), "8h");
        assert_eq!(span_label(SignedDuration::from_hours(24)), "24h");
        assert_eq!(span_label(SignedDuration::from_hours(168)), "7d");
        assert_eq!(span_label(SignedDuration::from_mins(90)), "90m");
    }
}
