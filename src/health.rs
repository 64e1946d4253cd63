//! The explainable health score (shared/reference/domain.md §2).
//!
//! Each factor maps one raw measurement to a 0–100 sub-score, linearly between
//! a "poor" and a "good" threshold so that small changes move the score a
//! little rather than flipping it. Factors without data drop out and the
//! weights of the rest are renormalised; `coverage` says how much of the model
//! had data. Red flags override the band, because a customer in an outage is
//! at risk whatever their usage looks like.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::{Account, Inquiry, Priority, TenantMetrics};

/// Green ≥ 76, Yellow 51–75, Red ≤ 50 (Gainsight's default ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::Display)]
pub enum Band {
    Red,
    Yellow,
    Green,
}

/// One factor's contribution, with the evidence a CRE can check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    pub code: &'static str,
    pub name: &'static str,
    /// The raw value and its thresholds, e.g. "38% of seats active (poor <50%)".
    pub evidence: String,
    pub sub_score: f64,
    pub weight: f64,
    /// `weight × (100 − sub_score) / Σ weights with data`.
    pub points_lost: f64,
}

/// Everything the score needs to know about one customer right now.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub account: &'a Account,
    pub metrics: Option<&'a TenantMetrics>,
    /// The customer's inquiries the desk has reported (open and recent).
    pub inquiries: &'a [&'a Inquiry],
    /// How many of those are open and past their SLA.
    pub breached: usize,
    /// Whether any urgent/high open inquiry is past its SLA.
    pub urgent_breached: bool,
    /// Open SEV1/SEV2 incidents affecting this customer.
    pub major_incidents: usize,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// `None` when no factor had data.
    pub score: Option<f64>,
    pub band: Band,
    /// Share of the model's weight that had data (0–1); < 0.6 is low confidence.
    pub coverage: f64,
    /// Factors with data, largest points lost first.
    pub factors: Vec<Factor>,
    /// Conditions that forced the band to Red, in words.
    pub red_flags: Vec<String>,
    pub in_incident: bool,
}

const TOTAL_WEIGHT: f64 = 100.0;

/// Higher is better: 0 at/below `poor`, 100 at/above `good`.
fn higher_better(x: f64, poor: f64, good: f64) -> f64 {
    100.0 * ((x - poor) / (good - poor)).clamp(0.0, 1.0)
}

/// Lower is better: 0 at/above `poor`, 100 at/below `good`.
fn lower_better(x: f64, poor: f64, good: f64) -> f64 {
    100.0 * ((poor - x) / (poor - good)).clamp(0.0, 1.0)
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Severity weight of an inquiry for support burden (F4).
fn burden_weight(priority: Priority) -> f64 {
    match priority {
        Priority::Urgent => 3.0,
        Priority::High => 2.0,
        Priority::Normal => 1.0,
        Priority::Low => 0.5,
    }
}

/// Score one customer.
#[must_use]
pub fn score(inputs: &Inputs<'_>) -> Health {
    let mut factors: Vec<Factor> = Vec::with_capacity(8);
    let mut push = |code, name, weight, sub_score: f64, evidence: String| {
        factors.push(Factor {
            code,
            name,
            evidence,
            sub_score,
            weight,
            points_lost: 0.0,
        });
    };
    let metrics = inputs.metrics;
    let active = metrics.and_then(|m| m.active_users);

    // F1 usage trend: active users now vs a week ago (domain.md uses 28-day
    // windows; the poll asks Prometheus for the value 7 days back).
    if let (Some(now), Some(prev)) = (active, metrics.and_then(|m| m.active_users_prev))
        && prev >= 20.0
    {
        let ratio = now / prev;
        push(
            "F1",
            "Usage trend",
            20.0,
            higher_better(ratio, 0.70, 0.95),
            format!("{ratio:.2}× active users vs 7 d ago (poor ≤0.70, good ≥0.95)"),
        );
    }
    // F2 seat utilisation.
    if let Some(now) = active
        && inputs.account.seats > 0
    {
        let util = now / f64::from(inputs.account.seats);
        push(
            "F2",
            "Seat utilisation",
            15.0,
            higher_better(util, 0.50, 0.80),
            format!("{} of seats active (poor <50%, good ≥80%)", pct(util)),
        );
    }
    // F3 feature adoption needs a feature-usage query: no data yet, drops out.

    // F4 support burden: severity-weighted problem inquiries in 90 days;
    // questions are excluded because asking is not a defect.
    let cutoff = inputs.now - SignedDuration::from_hours(90 * 24);
    let burden: f64 = inputs
        .inquiries
        .iter()
        .filter(|i| i.created_at >= cutoff && !i.tags.iter().any(|t| t == "question"))
        .map(|i| burden_weight(i.priority))
        .sum();
    push(
        "F4",
        "Support burden",
        15.0,
        lower_better(burden, 5.0, 2.0),
        format!("{burden:.1} weighted inquiries/90 d (poor ≥5, good ≤2)"),
    );
    // F5 support experience: SLA breaches on open inquiries.
    #[allow(clippy::cast_precision_loss)]
    let breached = inputs.breached as f64;
    push(
        "F5",
        "Support experience",
        10.0,
        lower_better(breached, 3.0, 0.0),
        format!("{} open past SLA (poor ≥3)", inputs.breached),
    );
    // F6 reliability as the customer experiences it: the current error
    // ratio stands in for the 30-day budget until SLOs are configured.
    if let Some(err) = metrics.and_then(|m| m.error_ratio) {
        #[allow(clippy::cast_precision_loss)]
        let incidents = inputs.major_incidents as f64;
        let sub = 0.7 * lower_better(err, 0.01, 0.001) + 0.3 * lower_better(incidents, 2.0, 0.0);
        push(
            "F6",
            "Reliability",
            15.0,
            sub,
            format!(
                "error ratio {:.2}% (poor ≥1%), {} SEV1/2 open",
                err * 100.0,
                inputs.major_incidents
            ),
        );
    }
    // F7 voice: mean of NPS, CSAT and pulse, whichever exist.
    let account = inputs.account;
    let mut voice = Vec::new();
    if let Some(nps) = account.nps {
        voice.push(match nps {
            9..=10 => 100.0,
            7..=8 => 60.0,
            _ => 0.0,
        });
    }
    if let Some(csat) = account.csat {
        voice.push(higher_better(csat, 0.80, 0.95));
    }
    if let Some(pulse) = &account.pulse {
        match pulse.to_ascii_lowercase().as_str() {
            "healthy" | "good" => voice.push(100.0),
            "concerning" => voice.push(50.0),
            "poor" => voice.push(0.0),
            _ => {}
        }
    }
    if !voice.is_empty() {
        #[allow(clippy::cast_precision_loss)]
        let mean = voice.iter().sum::<f64>() / voice.len() as f64;
        let evidence = [
            account.nps.map(|n| format!("NPS {n}")),
            account.csat.map(|c| format!("CSAT {}", pct(c))),
            account.pulse.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        push("F7", "Voice", 10.0, mean, evidence);
    }
    // F8 relationship: a champion change within 90 days.
    let today = inputs.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let champion_days = account
        .champion_changed
        .and_then(|d| d.until(today).ok())
        .map(|s| s.get_days());
    if let Some(days) = champion_days.filter(|d| (0..=90).contains(d)) {
        push(
            "F8",
            "Relationship",
            5.0,
            0.0,
            format!("champion changed {days} d ago"),
        );
    } else {
        push(
            "F8",
            "Relationship",
            5.0,
            100.0,
            "champion unchanged in 90 d".into(),
        );
    }

    let weight_with_data: f64 = factors.iter().map(|f| f.weight).sum();
    let score = (weight_with_data > 0.0)
        .then(|| factors.iter().map(|f| f.weight * f.sub_score).sum::<f64>() / weight_with_data);
    for f in &mut factors {
        f.points_lost = f.weight * (100.0 - f.sub_score) / weight_with_data;
    }
    factors.sort_by(|a, b| b.points_lost.total_cmp(&a.points_lost));

    let mut red_flags = Vec::new();
    let in_incident = inputs.major_incidents > 0;
    if in_incident {
        red_flags.push("in an open SEV1/SEV2 incident".to_owned());
    }
    if inputs.urgent_breached {
        red_flags.push("urgent/high inquiry past SLA".to_owned());
    }
    if inputs.inquiries.iter().any(|i| {
        i.status.is_open()
            && i.tags
                .iter()
                .any(|t| t == "cancellation" || t == "churn_risk")
    }) {
        red_flags.push("cancellation intent recorded".to_owned());
    }
    let mut band = match score {
        Some(h) if h >= 75.5 => Band::Green,
        Some(h) if h > 50.5 => Band::Yellow,
        Some(_) => Band::Red,
        None => Band::Yellow,
    };
    if !red_flags.is_empty() {
        band = Band::Red;
    } else if champion_days.is_some_and(|d| d <= 30)
        && renewal_days(account, inputs.now).is_some_and(|d| d <= 180)
    {
        band = band.min(Band::Yellow);
    }
    Health {
        score,
        band,
        coverage: weight_with_data / TOTAL_WEIGHT,
        factors,
        red_flags,
        in_incident,
    }
}

/// Days until the account renews (negative once past).
#[must_use]
pub fn renewal_days(account: &Account, now: Timestamp) -> Option<i32> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    account
        .renewal_date
        .and_then(|d| today.until(d).ok())
        .map(|s| s.get_days())
}

/// The attention-queue priority `(100 − H) × m_renewal` (domain.md §2.4);
/// the trend multiplier joins once daily scores are kept.
#[must_use]
pub fn attention(health: &Health, renewal_days: Option<i32>) -> f64 {
    let m_renewal = match renewal_days {
        Some(d) if d <= 90 => 1.5,
        Some(d) if d <= 180 => 1.25,
        _ => 1.0,
    };
    (100.0 - health.score.unwrap_or(50.0)) * m_renewal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Segment, Tier};

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
        }
    }

    fn inputs<'a>(account: &'a Account, metrics: Option<&'a TenantMetrics>) -> Inputs<'a> {
        Inputs {
            account,
            metrics,
            inquiries: &[],
            breached: 0,
            urgent_breached: false,
            major_incidents: 0,
            now: Timestamp::UNIX_EPOCH,
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
    fn missing_factors_renormalise_and_lower_coverage() {
        let a = account();
        let h = score(&inputs(&a, None));
        // Only F4, F5 and F8 have data, all perfect.
        assert_eq!(h.score, Some(100.0));
        assert!((h.coverage - 0.30).abs() < 1e-9);
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
        let h = score(&inputs(&a, Some(&m)));
        assert_eq!(h.factors[0].code, "F2");
        assert!(
            h.factors[0].evidence.contains("30% of seats active"),
            "{}",
            h.factors[0].evidence
        );
        // F1, F2, F4, F5, F6 and F8 have data (weight 80); F2 loses all 15.
        assert!((h.score.unwrap() - 100.0 * 65.0 / 80.0).abs() < 1e-6);
        assert!((h.coverage - 0.80).abs() < 1e-9);
    }

    #[test]
    fn incident_forces_red_whatever_the_score() {
        let a = account();
        let mut i = inputs(&a, None);
        i.major_incidents = 1;
        let h = score(&i);
        assert_eq!(h.band, Band::Red);
        assert!(h.in_incident);
        assert_eq!(h.red_flags.len(), 1);
    }

    #[test]
    fn renewal_soon_raises_attention() {
        let mut a = account();
        a.nps = Some(3);
        let h = score(&inputs(&a, None));
        assert!(h.score.unwrap() < 100.0);
        let far = attention(&h, Some(400));
        assert!((attention(&h, Some(30)) - 1.5 * far).abs() < 1e-9);
        assert!((attention(&h, Some(120)) - 1.25 * far).abs() < 1e-9);
    }
}
