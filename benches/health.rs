//! Scoring 10k customers (target ≤ 5 ms, product.md §7): every factor with
//! data, a 30-day usage history, the trend against 40 days of stored scores
//! (through the once-a-day baselines), and the attention multipliers — the
//! per-customer work of the at-risk queue. A second figure times the whole join for the same portfolio
//! (support aggregation, incident impact, next action and sort) for context.
#![allow(clippy::unwrap_used)]

// The tests' fixtures: the same file, not a copy.
#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::hint::black_box;

use cre_cockpit::core::domain::{Account, MetricsSnapshot, Segment, TenantMetrics, Tier};
use cre_cockpit::insight::health::{self, Band, DayScore, HealthConfig, Inputs, Support};
use cre_cockpit::insight::history::History;
use cre_cockpit::insight::join;
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::ToSpan;
use jiff::civil::date;

const CUSTOMERS: usize = 10_000;

struct Portfolio {
    accounts: Vec<Account>,
    metrics: MetricsSnapshot,
    supports: Vec<Support>,
    history: History,
}

#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn portfolio() -> Portfolio {
    let today = date(2026, 11, 21);
    let segments = [Segment::Enterprise, Segment::MidMarket, Segment::Small];
    let accounts: Vec<Account> = (0..CUSTOMERS)
        .map(|i| Account {
            segment: segments[i % 3],
            seats: 50 + (i as u32 % 900),
            arr: 10_000.0 + (i as f64) * 37.0,
            renewal_date: Some(today.checked_add(((i % 400) as i64).days()).unwrap()),
            tier: [Tier::High, Tier::Low, Tier::TechTouch][i % 3],
            nps: Some((i % 11) as u8),
            csat: Some(0.7 + (i % 30) as f64 / 100.0),
            pulse: Some(["healthy", "concerning", "poor"][i % 3].into()),
            champion_changed: (i % 7 == 0)
                .then(|| today.checked_sub(((i % 120) as i64).days()).unwrap()),
            key_features: Some(8),
            ..fixtures::numbered_account(i)
        })
        .collect();
    let mut metrics = MetricsSnapshot::default();
    for (i, a) in accounts.iter().enumerate() {
        let active = f64::from(a.seats) * (0.3 + (i % 60) as f64 / 100.0);
        metrics.by_tenant.insert(
            a.tenant.clone(),
            TenantMetrics {
                error_ratio: Some((i % 50) as f64 / 2000.0),
                active_users: Some(active),
                active_users_prev: Some(active * 1.05),
                features_used: Some((i % 9) as f64),
                error_budget_remaining: Some(1.0 - (i % 40) as f64 / 30.0),
                ..TenantMetrics::default()
            },
        );
        std::sync::Arc::make_mut(&mut metrics.active_users_history).insert(
            a.tenant.clone(),
            (0..31)
                .map(|d| active * (1.2 - f64::from(d) / 100.0))
                .collect(),
        );
    }
    let supports = (0..CUSTOMERS)
        .map(|i| Support {
            burden: (i % 12) as f64 * 0.75,
            problems: (i % 12) as u32,
            breaches: (i % 4) as u32,
            reopens: (i % 3) as u32,
            ..Support::default()
        })
        .collect();
    let mut history = History::default();
    for (i, a) in accounts.iter().enumerate() {
        for days in 1..=40 {
            history.record_score(
                &a.id,
                DayScore {
                    day: today.checked_sub((days as i64).days()).unwrap(),
                    score: 40.0 + ((i + days) % 50) as f64,
                    band: Band::Yellow,
                    coverage: 1.0,
                    sub_scores: [Some(50.0); 8],
                },
            );
        }
    }
    history.refresh_baselines(today);
    Portfolio {
        accounts,
        metrics,
        supports,
        history,
    }
}

fn benches(c: &mut Criterion) {
    let p = portfolio();
    let cfg = HealthConfig::default();
    let today = date(2026, 11, 21);
    let median = 200_000.0;
    // The join's look-ups (tenant → metrics, account → baseline) are made
    // once here: they are the join's cost, timed by the second benchmark.
    let prepared: Vec<(Inputs<'_>, std::borrow::Cow<'_, health::Baseline>)> = p
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            (
                Inputs {
                    account: a,
                    metrics: p.metrics.by_tenant.get(&a.tenant),
                    active_history: p
                        .metrics
                        .active_users_history
                        .get(&a.tenant)
                        .map_or(&[][..], Vec::as_slice),
                    support: p.supports[i],
                    open_major_incidents: 0,
                    major_incidents_30d: u32::from(i % 5 == 0),
                    today,
                },
                p.history.baseline(&a.id, today),
            )
        })
        .collect();
    c.bench_function("score 10k customers (factors, trend, attention)", |b| {
        b.iter(|| {
            let mut red = 0;
            for (inputs, baseline) in &prepared {
                let h = health::score(inputs, &cfg);
                let t = health::trend_from(&h, baseline, &cfg);
                let a = inputs.account;
                let att = health::attention(
                    &h,
                    health::renewal_days(a, today),
                    t.falling_fast,
                    a.arr,
                    median,
                    &cfg,
                );
                red += usize::from(h.band == Band::Red) + usize::from(att.priority > 50.0);
            }
            black_box(red)
        });
    });
    let now = fixtures::now();
    c.bench_function("derive 10k customers (whole join, no inquiries)", |b| {
        b.iter(|| {
            black_box(join::derive(&join::Sources {
                accounts: &p.accounts,
                inquiries: &[],
                metrics: &p.metrics,
                incidents: &[],
                impact_error_ratio: join::DEFAULT_IMPACT_ERROR_RATIO,
                now,
                history: &p.history,
                health: &cfg,
                metrics_stale: false,
                service_tenants: &std::collections::BTreeMap::new(),
                service_areas: &std::collections::BTreeMap::new(),
                manual_links: &[],
            }))
        });
    });
}

criterion_group!(health_benches, benches);
criterion_main!(health_benches);
