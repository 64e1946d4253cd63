//! The explainable health score (shared/reference/domain.md §2).
//!
//! Each factor maps one raw measurement to a 0–100 sub-score, linearly between
//! a "poor" and a "good" threshold so that small changes move the score a
//! little rather than flipping it. Factors without data drop out and the
//! weights of the rest are renormalised; `coverage` says how much of the model
//! had data. Red flags override the band, because a customer in an outage is
//! at risk whatever their usage looks like.
//!
//! Scoring is arithmetic only: evidence is kept as numbers ([`Evidence`]) and
//! turned into words when shown, so scoring 10k customers costs no string
//! formatting.

mod config;
mod evidence;
mod trend;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Serialize, Serializer};

pub use self::config::HealthConfig;
pub use self::evidence::{Evidence, Pulse, RedFlag, YellowCap};
pub use self::trend::{
    Arrow, Baseline, Changes, DayScore, Shift, Trend, changes, trend, trend_from,
};
use crate::core::domain::{Account, InquiryKind, Priority, Satisfaction, TenantMetrics};

/// Green ≥ 76, Yellow 51–75, Red ≤ 50 (Gainsight's default ranges).
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
    strum::Display,
    strum::EnumString,
)]
pub enum Band {
    Red,
    Yellow,
    Green,
}

/// The eight factors of domain.md §2.2, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactorId {
    UsageTrend,
    SeatUtilisation,
    FeatureAdoption,
    SupportBurden,
    SupportExperience,
    Reliability,
    Voice,
    Relationship,
}

impl FactorId {
    pub const ALL: [Self; 8] = [
        Self::UsageTrend,
        Self::SeatUtilisation,
        Self::FeatureAdoption,
        Self::SupportBurden,
        Self::SupportExperience,
        Self::Reliability,
        Self::Voice,
        Self::Relationship,
    ];

    /// `F1` … `F8`.
    #[must_use]
    pub fn code(self) -> &'static str {
        ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8"][self as usize]
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::UsageTrend => "Usage trend",
            Self::SeatUtilisation => "Seat utilisation",
            Self::FeatureAdoption => "Feature adoption",
            Self::SupportBurden => "Support burden",
            Self::SupportExperience => "Support experience",
            Self::Reliability => "Reliability",
            Self::Voice => "Voice",
            Self::Relationship => "Relationship",
        }
    }

    /// Position in [`FactorId::ALL`] (and in `HealthConfig::weights`).
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Serialize for FactorId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Good / Concerning / Poor, from the same thresholds as the sub-score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
pub enum Label {
    Good,
    Concerning,
    Poor,
}

/// One factor's contribution, with the evidence a CRE can check.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub id: FactorId,
    /// The raw value and its thresholds.
    pub evidence: Evidence,
    pub sub_score: f64,
    pub weight: f64,
    /// `weight × (100 − sub_score) / Σ weights with data`.
    pub points_lost: f64,
}

impl Factor {
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.id.code()
    }

    #[must_use]
    pub fn name(&self) -> &'static str {
        self.id.name()
    }

    /// At the good threshold or better is Good, at the poor one or worse
    /// Poor: exactly where the linear sub-score saturates.
    #[must_use]
    pub fn label(&self) -> Label {
        if self.sub_score >= 100.0 {
            Label::Good
        } else if self.sub_score <= 0.0 {
            Label::Poor
        } else {
            Label::Concerning
        }
    }
}

impl Serialize for Factor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Factor", 7)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("label", &self.label())?;
        st.serialize_field("evidence", &self.evidence.to_string())?;
        st.serialize_field("sub_score", &self.sub_score)?;
        st.serialize_field("weight", &self.weight)?;
        st.serialize_field("points_lost", &self.points_lost)?;
        st.end()
    }
}

/// The customer's support history as the factors need it, aggregated by
/// the join from open inquiries, recently closed ones and desk events.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Support {
    /// Severity-weighted problem inquiries created in the last 90 days.
    pub burden: f64,
    /// How many inquiries that weight came from.
    pub problems: u32,
    /// SLA targets missed in the last 30 days (open ones past due, and
    /// ones answered late).
    pub breaches: u32,
    /// Inquiries reopened in the last 30 days.
    pub reopens: u32,
    /// When the earliest urgent/high open inquiry breached its SLA.
    pub urgent_past_sla: Option<Timestamp>,
    /// An open inquiry records cancellation or non-renewal intent.
    pub cancellation: bool,
    /// Satisfaction ratings the desk recorded in the last 90 days.
    pub ratings_good: u32,
    pub ratings_bad: u32,
}

impl Support {
    /// Count a desk satisfaction rating given since `from` (90 days back).
    pub fn add_rating(&mut self, rating: Option<Satisfaction>, from: Timestamp) {
        match rating.filter(|r| r.at >= from) {
            Some(r) if r.good => self.ratings_good += 1,
            Some(_) => self.ratings_bad += 1,
            None => {}
        }
    }

    /// Count one inquiry created within the 90-day window (`problem`: see
    /// [`is_problem`]).
    pub fn add_created(&mut self, priority: Priority, problem: bool) {
        if problem {
            self.burden += burden_weight(priority);
            self.problems += 1;
        }
    }
}

/// Severity weight of an inquiry for support burden (F4).
#[must_use]
pub fn burden_weight(priority: Priority) -> f64 {
    match priority {
        Priority::Urgent => 3.0,
        Priority::High => 2.0,
        Priority::Normal => 1.0,
        Priority::Low => 0.5,
    }
}

/// Whether an inquiry counts towards support burden: asking how to do
/// something is engagement, not a defect. Desks that do not classify
/// (no `kind`) can still tag questions.
#[must_use]
pub fn is_problem(kind: Option<InquiryKind>, tags: &[crate::core::domain::Name]) -> bool {
    match kind {
        Some(InquiryKind::Question) => false,
        Some(_) => true,
        None => !tags.iter().any(|t| t == "question"),
    }
}

/// Tags that record cancellation or non-renewal intent on an inquiry.
#[must_use]
pub fn is_cancellation_tag(tag: &str) -> bool {
    matches!(
        tag,
        "cancellation" | "churn_risk" | "non_renewal" | "downgrade"
    )
}

/// Everything the score needs to know about one customer right now.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub account: &'a Account,
    pub metrics: Option<&'a TenantMetrics>,
    /// Daily active users, oldest first (up to 30 days), if fetched.
    pub active_history: &'a [f64],
    pub support: Support,
    /// Open SEV1/SEV2 incidents affecting this customer now.
    pub open_major_incidents: u32,
    /// SEV1/SEV2 incidents that affected this customer in the last 30 days
    /// (the open ones included).
    pub major_incidents_30d: u32,
    pub today: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// `None` when no factor had data.
    pub score: Option<f64>,
    pub band: Band,
    /// Share of the model's weight that had data (0–1).
    pub coverage: f64,
    /// Coverage below the configured minimum: read the score with care.
    pub low_confidence: bool,
    /// Factors with data, largest points lost first.
    pub factors: Vec<Factor>,
    /// Conditions that force the band to Red, worst first.
    pub red_flags: Vec<RedFlag>,
    /// Conditions that cap the band at Yellow.
    pub yellow_caps: Vec<YellowCap>,
    pub in_incident: bool,
}

impl Health {
    /// The factor that explains this customer's state best: the one behind
    /// the first red flag (an outage is about reliability whatever else is
    /// weak), else the one that loses the most points.
    #[must_use]
    pub fn top_driver(&self) -> Option<&Factor> {
        if let Some(flag) = self.red_flags.first()
            && let Some(f) = self.factors.iter().find(|f| f.id == flag.factor())
        {
            return Some(f);
        }
        self.factors.first().filter(|f| f.points_lost > 0.0)
    }

    /// Sub-scores by factor (F1 first), `None` where the factor had no data.
    #[must_use]
    pub fn sub_scores(&self) -> [Option<f64>; 8] {
        let mut out = [None; 8];
        for f in &self.factors {
            out[f.id.index()] = Some(f.sub_score);
        }
        out
    }

    /// The factor, if it had data.
    #[must_use]
    pub fn factor(&self, id: FactorId) -> Option<&Factor> {
        self.factors.iter().find(|f| f.id == id)
    }
}

/// Higher is better: 0 at/below `poor`, 100 at/above `good`.
#[must_use]
pub fn higher_better(x: f64, poor: f64, good: f64) -> f64 {
    100.0 * ((x - poor) / (good - poor)).clamp(0.0, 1.0)
}

/// Lower is better: 0 at/above `poor`, 100 at/below `good`.
#[must_use]
pub fn lower_better(x: f64, poor: f64, good: f64) -> f64 {
    100.0 * ((poor - x) / (poor - good)).clamp(0.0, 1.0)
}

/// Whole days from `from` to `to` (negative when `to` is earlier). Civil
/// dates have no time zone, so every day is 24 hours long here; this avoids
/// calendar spans, which cost more than the rest of a customer's score.
fn days_between(from: Date, to: Date) -> i32 {
    i32::try_from(from.duration_until(to).as_hours() / 24).unwrap_or(i32::MAX)
}

/// Days from `today` until the account renews (negative once past).
#[must_use]
pub fn renewal_days(account: &Account, today: Date) -> Option<i32> {
    account.renewal_date.map(|d| days_between(today, d))
}

/// Days since a date, if it is not in the future.
fn days_since(day: Date, today: Date) -> Option<i32> {
    Some(days_between(day, today)).filter(|d| *d >= 0)
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn count(n: u32) -> f64 {
    f64::from(n)
}

/// The value a daily series had `days` before its last sample.
fn days_before_last(series: &[f64], days: usize) -> Option<f64> {
    series
        .len()
        .checked_sub(days + 1)
        .and_then(|i| series.get(i))
        .copied()
}

fn usage_trend(inputs: &Inputs<'_>, cfg: &HealthConfig) -> Option<(f64, Evidence)> {
    let c = &cfg.usage_trend;
    let history = inputs.active_history;
    let current = inputs
        .metrics
        .and_then(|m| m.active_users)
        .or_else(|| history.last().copied())?;
    // domain.md compares 28 days with the previous 28: active users are a
    // 28-day count, so that is today's value against the one 28 days ago.
    // Without that much history, fall back to the value a week ago.
    let (previous, days) = match days_before_last(history, 28) {
        Some(p) => (p, 28),
        None => (inputs.metrics.and_then(|m| m.active_users_prev)?, 7),
    };
    // NaN fails this too.
    if previous
        .partial_cmp(&c.min_previous)
        .is_none_or(std::cmp::Ordering::is_lt)
    {
        return None;
    }
    let ratio = current / previous;
    Some((
        higher_better(ratio, c.poor, c.good),
        Evidence::UsageTrend {
            ratio,
            current,
            previous,
            days,
            poor: c.poor,
            good: c.good,
        },
    ))
}

fn seat_utilisation(inputs: &Inputs<'_>, cfg: &HealthConfig) -> Option<(f64, Evidence)> {
    let c = &cfg.seat_utilisation;
    let active = inputs.metrics.and_then(|m| m.active_users)?;
    let seats = inputs.account.seats;
    if seats == 0 {
        return None;
    }
    let utilisation = active / f64::from(seats);
    Some((
        higher_better(utilisation, c.poor, c.good),
        Evidence::SeatUtilisation {
            utilisation,
            active,
            seats,
            poor: c.poor,
            good: c.good,
        },
    ))
}

fn feature_adoption(inputs: &Inputs<'_>, cfg: &HealthConfig) -> Option<(f64, Evidence)> {
    let c = &cfg.feature_adoption;
    let used = inputs.metrics.and_then(|m| m.features_used)?;
    let entitled = inputs.account.key_features.or(cfg.key_features)?;
    if entitled == 0 {
        return None;
    }
    let adoption = used / f64::from(entitled);
    Some((
        higher_better(adoption, c.poor, c.good),
        Evidence::FeatureAdoption {
            used,
            entitled,
            poor: c.poor,
            good: c.good,
        },
    ))
}

fn support_burden(inputs: &Inputs<'_>, cfg: &HealthConfig) -> (f64, Evidence) {
    let c = &cfg.support_burden;
    let seats = inputs.account.seats;
    let per_100_seats = seats > c.per_100_seats_above;
    let value = if per_100_seats {
        inputs.support.burden * 100.0 / f64::from(seats)
    } else {
        inputs.support.burden
    };
    (
        lower_better(value, c.poor, c.good),
        Evidence::SupportBurden {
            value,
            problems: inputs.support.problems,
            per_100_seats,
            poor: c.poor,
            good: c.good,
        },
    )
}

fn support_experience(inputs: &Inputs<'_>, cfg: &HealthConfig) -> (f64, Evidence) {
    let c = &cfg.support_experience;
    let s = &inputs.support;
    let events = s.breaches + s.reopens;
    (
        lower_better(count(events), c.poor, c.good),
        Evidence::SupportExperience {
            breaches: s.breaches,
            reopens: s.reopens,
            poor: c.poor,
        },
    )
}

fn reliability(inputs: &Inputs<'_>, cfg: &HealthConfig) -> Option<(f64, Evidence)> {
    let c = &cfg.reliability;
    let budget = inputs.metrics.and_then(|m| m.error_budget_remaining);
    // Without an SLO there is no budget; the current error ratio stands in
    // (and the evidence says so) rather than dropping reliability entirely.
    let error_ratio = inputs.metrics.and_then(|m| m.error_ratio);
    let incidents = inputs.major_incidents_30d.max(inputs.open_major_incidents);
    let incident_part = lower_better(count(incidents), c.incidents_poor, c.incidents_good);
    let sub_score = match (budget, error_ratio) {
        (Some(b), _) => {
            let budget_part = higher_better(b, c.budget_poor, c.budget_good);
            c.budget_share * budget_part + (1.0 - c.budget_share) * incident_part
        }
        (None, Some(e)) => {
            let budget_part = lower_better(e, c.error_ratio_poor, c.error_ratio_good);
            c.budget_share * budget_part + (1.0 - c.budget_share) * incident_part
        }
        // No metrics for the tenant, but incidents hit it: that much is
        // known about its reliability.
        (None, None) if incidents > 0 => incident_part,
        (None, None) => return None,
    };
    Some((
        sub_score,
        Evidence::Reliability {
            budget,
            error_ratio: if budget.is_none() { error_ratio } else { None },
            incidents_30d: incidents,
            budget_good: c.budget_good,
            error_ratio_poor: c.error_ratio_poor,
            incidents_poor: c.incidents_poor,
        },
    ))
}

fn voice(account: &Account, support: &Support, cfg: &HealthConfig) -> Option<(f64, Evidence)> {
    let c = &cfg.voice;
    let pulse = account.pulse.as_deref().and_then(Pulse::parse);
    // The desk's own ratings are per inquiry and recent, so they stand for
    // CSAT when there are any; the accounts file's figure otherwise.
    let rated = support.ratings_good + support.ratings_bad;
    let desk_ratings = (rated > 0).then_some((support.ratings_good, support.ratings_bad));
    let csat = desk_ratings
        .map(|(good, _)| f64::from(good) / f64::from(rated))
        .or(account.csat);
    let items = [
        account.nps.map(|n| match n {
            9..=10 => 100.0,
            7..=8 => 60.0,
            _ => 0.0,
        }),
        csat.map(|v| higher_better(v, c.csat_poor, c.csat_good)),
        pulse.map(Pulse::score),
    ];
    let (sum, n) = items
        .iter()
        .flatten()
        .fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
    (n > 0.0).then(|| {
        (
            sum / n,
            Evidence::Voice {
                nps: account.nps,
                csat,
                desk_ratings,
                pulse,
            },
        )
    })
}

fn relationship(account: &Account, today: Date, cfg: &HealthConfig) -> (f64, Evidence) {
    let c = &cfg.relationship;
    let days = account
        .champion_changed
        .and_then(|d| days_since(d, today))
        .filter(|d| *d <= c.champion_days);
    (
        if days.is_some() { 0.0 } else { 100.0 },
        Evidence::Relationship {
            champion_changed_days: days,
            window: c.champion_days,
        },
    )
}

/// Score one customer.
#[must_use]
pub fn score(inputs: &Inputs<'_>, cfg: &HealthConfig) -> Health {
    let weights = cfg.weights();
    let account = inputs.account;
    let computed: [Option<(f64, Evidence)>; 8] = [
        usage_trend(inputs, cfg),
        seat_utilisation(inputs, cfg),
        feature_adoption(inputs, cfg),
        Some(support_burden(inputs, cfg)),
        Some(support_experience(inputs, cfg)),
        reliability(inputs, cfg),
        voice(account, &inputs.support, cfg),
        Some(relationship(account, inputs.today, cfg)),
    ];
    let mut factors: Vec<Factor> = Vec::with_capacity(8);
    for (id, (value, weight)) in FactorId::ALL.iter().zip(computed.into_iter().zip(weights)) {
        // A factor weighted 0 is switched off, not "perfect".
        if let Some((sub_score, evidence)) = value.filter(|_| weight > 0.0) {
            factors.push(Factor {
                id: *id,
                evidence,
                sub_score,
                weight,
                points_lost: 0.0,
            });
        }
    }
    let weight_with_data: f64 = factors.iter().map(|f| f.weight).sum();
    let score = (weight_with_data > 0.0)
        .then(|| factors.iter().map(|f| f.weight * f.sub_score).sum::<f64>() / weight_with_data);
    for f in &mut factors {
        f.points_lost = f.weight * (100.0 - f.sub_score) / weight_with_data;
    }
    // Stable: equal losses keep F1…F8 order.
    factors.sort_by(|a, b| b.points_lost.total_cmp(&a.points_lost));

    let red_flags = red_flags(inputs);
    let yellow_caps = yellow_caps(inputs);
    let mut band = match score.map(f64::round) {
        Some(h) if h >= cfg.green_from => Band::Green,
        Some(h) if h <= cfg.red_to => Band::Red,
        _ => Band::Yellow,
    };
    if !red_flags.is_empty() {
        band = Band::Red;
    } else if !yellow_caps.is_empty() {
        band = band.min(Band::Yellow);
    }
    let total: f64 = weights.iter().sum();
    let coverage = if total > 0.0 {
        weight_with_data / total
    } else {
        0.0
    };
    Health {
        score,
        band,
        coverage,
        low_confidence: coverage < cfg.low_coverage,
        factors,
        in_incident: inputs.open_major_incidents > 0,
        red_flags,
        yellow_caps,
    }
}

/// domain.md §2.3: signals that justify action on their own.
fn red_flags(inputs: &Inputs<'_>) -> Vec<RedFlag> {
    let mut flags = Vec::new();
    if inputs.open_major_incidents > 0 {
        flags.push(RedFlag::InIncident {
            incidents: inputs.open_major_incidents,
        });
    }
    if let Some(remaining) = inputs
        .metrics
        .and_then(|m| m.error_budget_remaining)
        .filter(|b| *b <= 0.0)
    {
        flags.push(RedFlag::BudgetExhausted { remaining });
    }
    if let Some(since) = inputs.support.urgent_past_sla {
        flags.push(RedFlag::UrgentPastSla { since });
    }
    if inputs.support.cancellation {
        flags.push(RedFlag::CancellationIntent);
    }
    flags
}

/// domain.md §2.3: conditions that keep a customer out of Green.
fn yellow_caps(inputs: &Inputs<'_>) -> Vec<YellowCap> {
    let mut caps = Vec::new();
    let account = inputs.account;
    if let Some(days) = account
        .champion_changed
        .and_then(|d| days_since(d, inputs.today))
        .filter(|d| *d <= 30)
        && let Some(renewal) = renewal_days(account, inputs.today).filter(|d| (0..=180).contains(d))
    {
        caps.push(YellowCap::ChampionLeftBeforeRenewal {
            days,
            renewal_days: renewal,
        });
    }
    // No activity for 14 days on an account that had some before.
    let h = inputs.active_history;
    if h.len() > 14 {
        let (before, recent) = h.split_at(h.len() - 14);
        if recent.iter().all(|v| *v <= 0.0) && before.iter().any(|v| *v > 0.0) {
            caps.push(YellowCap::Inactive { days: 14 });
        }
    }
    caps
}

/// Why a customer sits where it does in the attention queue:
/// `priority = (100 − H) × m_renewal × m_trend × m_value` (domain.md §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Attention {
    pub priority: f64,
    /// `100 − H` (50 when there is no score).
    pub base: f64,
    pub m_renewal: f64,
    pub m_trend: f64,
    pub m_value: f64,
}

/// The attention multipliers for one customer. `median_arr` is the
/// portfolio's median, used only when the value multiplier is on.
#[must_use]
pub fn attention(
    health: &Health,
    renewal_days: Option<i32>,
    falling_fast: bool,
    arr: f64,
    median_arr: f64,
    cfg: &HealthConfig,
) -> Attention {
    let m_renewal = match renewal_days {
        Some(d) if d <= 90 => cfg.renewal_90d,
        Some(d) if d <= 180 => cfg.renewal_180d,
        _ => 1.0,
    };
    let m_trend = if falling_fast {
        cfg.falling_fast_multiplier
    } else {
        1.0
    };
    let m_value = if cfg.value_multiplier && arr > 0.0 && median_arr > 0.0 {
        (1.0 + (arr / median_arr).log10()).clamp(0.7, 1.5)
    } else {
        1.0
    };
    let base = 100.0 - health.score.unwrap_or(50.0);
    Attention {
        priority: base * m_renewal * m_trend * m_value,
        base,
        m_renewal,
        m_trend,
        m_value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::{Segment, Tier};

    fn account() -> Account {
        Account {
            id: "c1".into(),
            name: "Acme".into(),
            desk_org: "Acme".into(),
            tenant: "acme".into(),
            segment: Segment::Enterprise,
            seats: 100,
            arr: 1.0,
            renewal_date: None,
            owner: "Ana".into(),
            tier: Tier::High,
            nps: None,
            csat: None,
            pulse: None,
            champion_changed: None,
            key_features: None,
            extra: std::collections::BTreeMap::new(),
        }
    }

    fn inputs<'a>(account: &'a Account, metrics: Option<&'a TenantMetrics>) -> Inputs<'a> {
        Inputs {
            account,
            metrics,
            active_history: &[],
            support: Support::default(),
            open_major_incidents: 0,
            major_incidents_30d: 0,
            today: jiff::civil::date(2026, 11, 21),
        }
    }

    #[test]
    fn sub_scores_are_linear_between_thresholds() {
        assert!((higher_better(0.65, 0.5, 0.8) - 50.0).abs() < 1e-9);
        assert!((lower_better(3.5, 5.0, 2.0) - 50.0).abs() < 1e-9);
        assert!((higher_better(2.0, 0.5, 0.8) - 100.0).abs() < 1e-9);
        assert!(lower_better(9.0, 5.0, 2.0).abs() < 1e-9);
    }

    #[test]
    fn desk_ratings_are_the_csat_of_the_voice_factor_with_their_evidence() {
        let mut a = account();
        a.csat = Some(0.99);
        let cfg = HealthConfig::default();
        let voice_of = |support: Support| {
            let mut i = inputs(&a, None);
            i.support = support;
            score(&i, &cfg)
                .factors
                .into_iter()
                .find(|f| f.id == FactorId::Voice)
        };
        // 17 good, 3 bad: 85%, halfway between poor (80%) and good (95%).
        let from_desk = voice_of(Support {
            ratings_good: 17,
            ratings_bad: 3,
            ..Support::default()
        })
        .expect("voice has data");
        assert!(
            (from_desk.sub_score - 100.0 / 3.0).abs() < 1e-6,
            "{}",
            from_desk.sub_score
        );
        let evidence = from_desk.evidence.to_string();
        assert!(
            evidence.contains("CSAT 85% (17 good / 3 bad desk ratings in 90 d)"),
            "{evidence}"
        );
        // No desk ratings: the accounts file's CSAT.
        let from_file = voice_of(Support::default()).expect("voice has data");
        assert!((from_file.sub_score - 100.0).abs() < 1e-9);
        assert!(from_file.evidence.to_string().contains("CSAT 99%"));
    }

    #[test]
    fn only_ratings_of_the_last_90_days_count() {
        let from: jiff::Timestamp = "2026-08-23T00:00:00Z".parse().unwrap();
        let mut s = Support::default();
        let at = |t: &str| t.parse().unwrap();
        s.add_rating(
            Some(Satisfaction {
                good: false,
                at: at("2026-08-22T23:59:00Z"),
            }),
            from,
        );
        s.add_rating(
            Some(Satisfaction {
                good: false,
                at: at("2026-10-01T00:00:00Z"),
            }),
            from,
        );
        s.add_rating(
            Some(Satisfaction {
                good: true,
                at: at("2026-11-20T00:00:00Z"),
            }),
            from,
        );
        s.add_rating(None, from);
        assert_eq!((s.ratings_good, s.ratings_bad), (1, 1));
    }

    #[test]
    fn missing_factors_renormalise_and_lower_coverage() {
        let a = account();
        let h = score(&inputs(&a, None), &HealthConfig::default());
        // Only F4, F5 and F8 have data, all perfect.
        assert_eq!(h.score, Some(100.0));
        assert!((h.coverage - 0.30).abs() < 1e-9);
        assert!(h.low_confidence);
        assert_eq!(h.band, Band::Green);
    }

    #[test]
    fn low_utilisation_is_the_top_driver() {
        let a = account();
        let m = TenantMetrics {
            active_users: Some(30.0),
            active_users_prev: Some(31.0),
            error_ratio: Some(0.0005),
            ..TenantMetrics::default()
        };
        let h = score(&inputs(&a, Some(&m)), &HealthConfig::default());
        assert_eq!(h.factors[0].id, FactorId::SeatUtilisation);
        assert_eq!(h.top_driver().unwrap().id, FactorId::SeatUtilisation);
        let evidence = h.factors[0].evidence.to_string();
        assert!(evidence.contains("30% of seats active"), "{evidence}");
        // F1, F2, F4, F5, F6 and F8 have data (weight 80); F2 loses all 15.
        assert!((h.score.unwrap() - 100.0 * 65.0 / 80.0).abs() < 1e-6);
        assert!((h.coverage - 0.80).abs() < 1e-9);
    }

    #[test]
    fn usage_trend_prefers_28_days_of_history() {
        let a = account();
        let m = TenantMetrics {
            active_users: Some(60.0),
            active_users_prev: Some(60.0),
            ..TenantMetrics::default()
        };
        // 30 daily samples: 100 users 28 days before the last one.
        let mut history = vec![100.0; 30];
        history[29] = 60.0;
        let mut i = inputs(&a, Some(&m));
        i.active_history = &history;
        let h = score(&i, &HealthConfig::default());
        let f1 = h.factor(FactorId::UsageTrend).unwrap();
        assert_eq!(f1.sub_score, 0.0, "0.60 is below poor 0.70");
        assert!(f1.evidence.to_string().contains("28 d"), "{}", f1.evidence);
        // Without history: the week-old value, unchanged, is Good.
        let h = score(&inputs(&a, Some(&m)), &HealthConfig::default());
        let f1 = h.factor(FactorId::UsageTrend).unwrap();
        assert_eq!(f1.sub_score, 100.0);
        assert!(f1.evidence.to_string().contains("7 d"), "{}", f1.evidence);
    }

    #[test]
    fn budget_replaces_the_error_ratio_stand_in() {
        let a = account();
        let stand_in = TenantMetrics {
            error_ratio: Some(0.05),
            ..TenantMetrics::default()
        };
        let h = score(&inputs(&a, Some(&stand_in)), &HealthConfig::default());
        let f6 = h.factor(FactorId::Reliability).unwrap();
        assert!((f6.sub_score - 30.0).abs() < 1e-9);
        assert!(
            f6.evidence.to_string().contains("stand-in"),
            "{}",
            f6.evidence
        );
        let budget = TenantMetrics {
            error_ratio: Some(0.05),
            error_budget_remaining: Some(0.25),
            ..TenantMetrics::default()
        };
        let h = score(&inputs(&a, Some(&budget)), &HealthConfig::default());
        let f6 = h.factor(FactorId::Reliability).unwrap();
        assert!((f6.sub_score - (0.7 * 50.0 + 30.0)).abs() < 1e-9);
        assert!(!f6.evidence.to_string().contains("stand-in"));
        assert!(h.red_flags.is_empty());
    }

    #[test]
    fn exhausted_budget_is_a_red_flag_driven_by_reliability() {
        let a = account();
        let m = TenantMetrics {
            error_budget_remaining: Some(-0.2),
            active_users: Some(100.0),
            ..TenantMetrics::default()
        };
        let h = score(&inputs(&a, Some(&m)), &HealthConfig::default());
        assert_eq!(h.band, Band::Red);
        assert_eq!(h.red_flags, [RedFlag::BudgetExhausted { remaining: -0.2 }]);
        assert_eq!(h.top_driver().unwrap().id, FactorId::Reliability);
    }

    #[test]
    fn incident_forces_red_whatever_the_score() {
        let a = account();
        let mut i = inputs(&a, None);
        i.open_major_incidents = 1;
        let h = score(&i, &HealthConfig::default());
        assert_eq!(h.band, Band::Red);
        assert!(h.in_incident);
        assert_eq!(h.red_flags.len(), 1);
    }

    #[test]
    fn champion_left_before_renewal_caps_at_yellow() {
        let mut a = account();
        a.champion_changed = Some(jiff::civil::date(2026, 11, 1));
        a.renewal_date = Some(jiff::civil::date(2027, 3, 1));
        a.nps = Some(10);
        let h = score(&inputs(&a, None), &HealthConfig::default());
        assert!(h.score.unwrap() > 76.0, "{:?}", h.score);
        assert_eq!(h.band, Band::Yellow);
        assert_eq!(h.yellow_caps.len(), 1);
    }

    #[test]
    fn questions_do_not_count_as_burden() {
        assert!(!is_problem(Some(InquiryKind::Question), &[]));
        assert!(!is_problem(None, &["question".into()]));
        assert!(is_problem(Some(InquiryKind::Problem), &["question".into()]));
        let mut s = Support::default();
        s.add_created(Priority::Urgent, false);
        assert_eq!((s.burden, s.problems), (0.0, 0));
        s.add_created(Priority::Urgent, true);
        s.add_created(Priority::Low, true);
        assert_eq!((s.burden, s.problems), (3.5, 2));
    }

    #[test]
    fn renewal_and_falling_fast_raise_attention() {
        let mut a = account();
        a.nps = Some(3);
        let cfg = HealthConfig::default();
        let h = score(&inputs(&a, None), &cfg);
        assert!(h.score.unwrap() < 100.0);
        let far = attention(&h, Some(400), false, 1.0, 1.0, &cfg).priority;
        let soon = attention(&h, Some(30), false, 1.0, 1.0, &cfg);
        assert!((soon.priority - 1.5 * far).abs() < 1e-9);
        assert_eq!(soon.m_renewal, 1.5);
        assert!(
            (attention(&h, Some(120), false, 1.0, 1.0, &cfg).priority - 1.25 * far).abs() < 1e-9
        );
        let falling = attention(&h, Some(400), true, 1.0, 1.0, &cfg);
        assert!((falling.priority - 1.3 * far).abs() < 1e-9);
        // The value multiplier is off unless configured.
        assert_eq!(attention(&h, None, false, 1e9, 1.0, &cfg).m_value, 1.0);
        let on = HealthConfig {
            value_multiplier: true,
            ..HealthConfig::default()
        };
        assert_eq!(attention(&h, None, false, 1e9, 1.0, &on).m_value, 1.5);
        assert_eq!(attention(&h, None, false, 1.0, 1e9, &on).m_value, 0.7);
    }
}
