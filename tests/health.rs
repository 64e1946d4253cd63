//! The health score through its real code: domain.md §2.5's worked example,
//! and properties that must hold for any customer.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use cre_cockpit::core::domain::{Account, Segment, TenantMetrics};
use cre_cockpit::insight::health::{
    self, Band, FactorId, HealthConfig, Inputs, RedFlag, Support, YellowCap,
};
use jiff::civil::{Date, date};
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;

fn today() -> Date {
    date(2026, 11, 21)
}

/// Acme renewing on 2027-09-01, with no NPS: each test sets the survey data
/// it scores.
fn account() -> Account {
    Account {
        renewal_date: Some(date(2027, 9, 1)),
        nps: None,
        ..fixtures::account("c1", "Acme", "acme", Segment::Enterprise, 400, 120_000.0)
    }
}

#[test]
fn the_worked_example_of_domain_md_is_reproduced_exactly() {
    // Raw measurements chosen to give the example's sub-scores:
    // F1 0.78× (32), F2 39% of seats (0), F3 4 of 8 features (50),
    // F4 6.5 weighted problems (0), F5 one breach (67), F6 60% budget and no
    // incident (100), F7 NPS 8 (60), F8 champion unchanged (100).
    let mut a = account();
    a.key_features = Some(8);
    a.nps = Some(8);
    let metrics = TenantMetrics {
        active_users: Some(156.0),
        features_used: Some(4.0),
        error_budget_remaining: Some(0.6),
        error_ratio: Some(0.0004),
        ..TenantMetrics::default()
    };
    let mut history = vec![180.0; 30];
    history[30 - 29] = 200.0; // 28 days before the last sample
    history[29] = 156.0;
    let inputs = Inputs {
        account: &a,
        metrics: Some(&metrics),
        active_history: &history,
        support: Support {
            burden: 6.5,
            problems: 4,
            breaches: 1,
            ..Support::default()
        },
        open_major_incidents: 0,
        major_incidents_30d: 0,
        today: today(),
    };
    let h = health::score(&inputs, &HealthConfig::default());

    let expected = [
        (FactorId::UsageTrend, 32.0, 6.4, 13.6),
        (FactorId::SeatUtilisation, 0.0, 0.0, 15.0),
        (FactorId::FeatureAdoption, 50.0, 5.0, 5.0),
        (FactorId::SupportBurden, 0.0, 0.0, 15.0),
        (FactorId::SupportExperience, 66.7, 6.7, 3.3),
        (FactorId::Reliability, 100.0, 15.0, 0.0),
        (FactorId::Voice, 60.0, 6.0, 4.0),
        (FactorId::Relationship, 100.0, 5.0, 0.0),
    ];
    for (id, sub, contribution, lost) in expected {
        let f = h.factor(id).unwrap();
        let round1 = |x: f64| (x * 10.0).round() / 10.0;
        assert_eq!(round1(f.sub_score), sub, "{} sub-score", id.code());
        assert_eq!(
            round1(f.weight * f.sub_score / 100.0),
            contribution,
            "{} contribution",
            id.code()
        );
        assert_eq!(round1(f.points_lost), lost, "{} points lost", id.code());
    }
    assert_eq!(format!("{:.1}", h.score.unwrap()), "44.1");
    assert_eq!(h.band, Band::Red);
    assert_eq!(h.coverage, 1.0);
    let top: Vec<&str> = h.factors.iter().take(3).map(|f| f.code()).collect();
    assert_eq!(top, ["F2", "F4", "F1"]);
    assert!(h.red_flags.is_empty());
    // Reliability is fine, so the next action is not SRE-led.
    assert_eq!(h.top_driver().unwrap().id, FactorId::SeatUtilisation);
    let evidence = h.factor(FactorId::UsageTrend).unwrap().evidence.to_string();
    assert!(
        evidence.starts_with("0.78× active users vs 28 d ago"),
        "{evidence}"
    );
}

/// Raw inputs for one customer; `None` means the source had no data.
#[derive(Debug, Clone)]
struct Raw {
    active: Option<f64>,
    previous: Option<f64>,
    seats: u32,
    features_used: Option<f64>,
    key_features: Option<u32>,
    burden: f64,
    breaches: u32,
    reopens: u32,
    budget: Option<f64>,
    error_ratio: Option<f64>,
    majors_30d: u32,
    nps: Option<u8>,
    csat: Option<f64>,
    champion_days: Option<i64>,
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        (
            proptest::option::of(0.0..5_000.0f64),
            proptest::option::of(0.0..5_000.0f64),
            0u32..3_000,
            proptest::option::of(0.0..20.0f64),
            proptest::option::of(1u32..20),
        ),
        (0.0..30.0f64, 0u32..8, 0u32..8),
        (
            proptest::option::of(-1.0..1.0f64),
            proptest::option::of(0.0..0.5f64),
            0u32..5,
        ),
        (
            proptest::option::of(0u8..=10),
            proptest::option::of(0.0..=1.0f64),
            proptest::option::of(0i64..200),
        ),
    )
        .prop_map(
            |(
                (active, previous, seats, features_used, key_features),
                (burden, breaches, reopens),
                (budget, error_ratio, majors_30d),
                (nps, csat, champion_days),
            )| Raw {
                active,
                previous,
                seats,
                features_used,
                key_features,
                burden,
                breaches,
                reopens,
                budget,
                error_ratio,
                majors_30d,
                nps,
                csat,
                champion_days,
            },
        )
}

/// What the scoring code gets for `raw`, plus red-flag inputs.
struct Built {
    account: Account,
    metrics: TenantMetrics,
}

fn build(raw: &Raw) -> Built {
    let mut account = account();
    account.seats = raw.seats;
    account.key_features = raw.key_features;
    account.nps = raw.nps;
    account.csat = raw.csat;
    account.champion_changed = raw
        .champion_days
        .map(|d| today().checked_sub(d.days()).unwrap());
    Built {
        account,
        metrics: TenantMetrics {
            active_users: raw.active,
            active_users_prev: raw.previous,
            features_used: raw.features_used,
            error_budget_remaining: raw.budget,
            error_ratio: raw.error_ratio,
            ..TenantMetrics::default()
        },
    }
}

fn score_of(raw: &Raw, open_majors: u32, support: Support) -> health::Health {
    let built = build(raw);
    let support = Support {
        burden: raw.burden,
        breaches: raw.breaches,
        reopens: raw.reopens,
        ..support
    };
    health::score(
        &Inputs {
            account: &built.account,
            metrics: Some(&built.metrics),
            active_history: &[],
            support,
            open_major_incidents: open_majors,
            major_incidents_30d: raw.majors_30d.max(open_majors),
            today: today(),
        },
        &HealthConfig::default(),
    )
}

/// A raw input made better for one factor, data availability unchanged.
fn improve(raw: &Raw, factor: usize, amount: f64) -> Raw {
    let mut r = raw.clone();
    match factor {
        // More active users now: better trend and utilisation.
        0 | 1 => r.active = r.active.map(|a| a + amount * 100.0),
        2 => r.features_used = r.features_used.map(|f| f + amount),
        3 => r.burden = (r.burden - amount).max(0.0),
        4 => r.breaches = r.breaches.saturating_sub(1),
        5 => {
            r.budget = r.budget.map(|b| b + amount / 10.0);
            r.error_ratio = r.error_ratio.map(|e| (e - amount / 100.0).max(0.0));
            r.majors_30d = r.majors_30d.saturating_sub(1);
        }
        6 => r.nps = r.nps.map(|n| (n + 2).min(10)),
        _ => r.champion_days = r.champion_days.map(|d| d + 100),
    }
    r
}

/// The same input with one factor's data gone.
fn drop_factor(raw: &Raw, factor: usize) -> Option<Raw> {
    let mut r = raw.clone();
    match factor {
        0 => r.previous = None,
        2 => r.features_used = None,
        5 => {
            r.budget = None;
            r.error_ratio = None;
            r.majors_30d = 0;
        }
        6 => {
            r.nps = None;
            r.csat = None;
        }
        _ => return None,
    }
    Some(r)
}

proptest! {
    #[test]
    fn health_stays_within_0_and_100(raw in raw()) {
        let h = score_of(&raw, 0, Support::default());
        let s = h.score.unwrap();
        prop_assert!((0.0..=100.0).contains(&s), "{s}");
        prop_assert!((0.0..=1.0).contains(&h.coverage));
        let lost: f64 = h.factors.iter().map(|f| f.points_lost).sum();
        prop_assert!((100.0 - s - lost).abs() < 1e-6, "points lost add up to 100 − H");
    }

    #[test]
    fn improving_any_factor_never_lowers_health(
        raw in raw(),
        factor in 0usize..8,
        amount in 0.0..10.0f64,
    ) {
        let before = score_of(&raw, 0, Support::default());
        let better = improve(&raw, factor, amount);
        let after = score_of(&better, 0, Support::default());
        // Same factors with data, so the weights are the same.
        prop_assume!(before.sub_scores().map(|s| s.is_some()) == after.sub_scores().map(|s| s.is_some()));
        prop_assert!(
            after.score.unwrap() >= before.score.unwrap() - 1e-9,
            "{:?} → {:?}", before.score, after.score
        );
    }

    #[test]
    fn dropping_a_factor_renormalises_the_rest(raw in raw(), factor in 0usize..8) {
        let Some(dropped) = drop_factor(&raw, factor) else { return Ok(()) };
        let full = score_of(&raw, 0, Support::default());
        let id = FactorId::ALL[factor];
        prop_assume!(full.factor(id).is_some());
        let without = score_of(&dropped, 0, Support::default());
        prop_assert!(without.factor(id).is_none());
        // H without the factor is the weighted mean of the others.
        let rest: Vec<_> = full.factors.iter().filter(|f| f.id != id).collect();
        let w: f64 = rest.iter().map(|f| f.weight).sum();
        let expected = rest.iter().map(|f| f.weight * f.sub_score).sum::<f64>() / w;
        prop_assert!((without.score.unwrap() - expected).abs() < 1e-9);
        let gone = full.factor(id).unwrap().weight / 100.0;
        prop_assert!((full.coverage - without.coverage - gone).abs() < 1e-9);
        for f in &without.factors {
            prop_assert!((f.points_lost - f.weight * (100.0 - f.sub_score) / w).abs() < 1e-9);
        }
    }

    #[test]
    fn red_flags_always_force_red(raw in raw(), which in 0usize..4) {
        let (majors, support, mut raw) = match which {
            0 => (1, Support::default(), raw),
            1 => (0, Support { urgent_past_sla: Some(Timestamp::UNIX_EPOCH), ..Support::default() }, raw),
            2 => (0, Support { cancellation: true, ..Support::default() }, raw),
            _ => (0, Support::default(), Raw { budget: Some(-0.01), ..raw }),
        };
        // Even the best customer otherwise.
        raw.burden = 0.0;
        raw.breaches = 0;
        raw.reopens = 0;
        let h = score_of(&raw, majors, support);
        prop_assert_eq!(h.band, Band::Red);
        prop_assert!(!h.red_flags.is_empty());
        if which == 0 {
            prop_assert!(h.in_incident);
            prop_assert_eq!(h.top_driver().map(|f| f.id), Some(FactorId::Reliability));
        }
    }

    #[test]
    fn champion_loss_before_renewal_caps_at_yellow(raw in raw(), days in 0i64..=30) {
        let raw = Raw { champion_days: Some(days), budget: raw.budget.map(f64::abs), ..raw };
        let h = score_of(&raw, 0, Support::default());
        prop_assume!(h.red_flags.is_empty());
        // Renewal on 2027-09-01 is > 180 days away: no cap yet.
        let mut built = build(&raw);
        built.account.renewal_date = Some(today().checked_add(100.days()).unwrap());
        let capped = health::score(
            &Inputs {
                account: &built.account,
                metrics: Some(&built.metrics),
                active_history: &[],
                support: Support { burden: raw.burden, breaches: raw.breaches, reopens: raw.reopens, ..Support::default() },
                open_major_incidents: 0,
                major_incidents_30d: raw.majors_30d,
                today: today(),
            },
            &HealthConfig::default(),
        );
        prop_assert!(capped.band <= Band::Yellow);
        let is_cap = matches!(capped.yellow_caps.first(), Some(YellowCap::ChampionLeftBeforeRenewal { .. }));
        prop_assert!(is_cap);
        prop_assert_eq!(capped.score, h.score, "caps change the band, not H");
    }
}

#[test]
fn budget_exhausted_flag_reports_what_is_left() {
    let raw = Raw {
        active: Some(100.0),
        previous: Some(100.0),
        seats: 100,
        features_used: None,
        key_features: None,
        burden: 0.0,
        breaches: 0,
        reopens: 0,
        budget: Some(-0.25),
        error_ratio: None,
        majors_30d: 0,
        nps: Some(10),
        csat: None,
        champion_days: None,
    };
    let h = score_of(&raw, 0, Support::default());
    assert_eq!(h.red_flags, [RedFlag::BudgetExhausted { remaining: -0.25 }]);
    assert_eq!(
        h.red_flags[0].to_string(),
        "error budget exhausted (-25% left)"
    );
}
