//! The cost of the SLO and incident work on a metrics poll: evaluating the
//! burn-rate rules for 10k tenants, and folding a poll with two SLOs over
//! 1,000 customers into a model with 20 open incidents (detected incidents
//! and the incident join included), as `Model::update` does in the app.
#![allow(clippy::unwrap_used)]

// The tests' fixtures: the same file, not a copy.
#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::hint::black_box;
use std::time::Duration;

use cre_cockpit::core::domain::{
    Account, Incident, IncidentStatus, MetricsSnapshot, Severity, SourceKind, TenantMetrics,
};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::insight::slo::{self, Counts, Objective, SloReport};
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Settings, SourceState};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::SignedDuration;

const TENANTS: usize = 10_000;
const CUSTOMERS: usize = 1_000;

fn objective() -> Objective {
    Objective {
        target: 0.999,
        window: Duration::from_secs(30 * 86_400),
        min_bad_events: slo::DEFAULT_MIN_BAD_EVENTS,
    }
}

/// Counts for tenant `i`: most healthy, every fifth burning fast.
fn counts(i: usize) -> impl Fn(Duration) -> Option<Counts> {
    let ratio = if i.is_multiple_of(5) {
        0.02
    } else {
        0.0002 * (i % 7) as f64
    };
    move |w| {
        let valid = 100.0 * w.as_secs_f64();
        Some(Counts {
            good: valid * (1.0 - ratio),
            valid,
        })
    }
}

fn report(service: &str) -> SloReport {
    let o = objective();
    SloReport {
        name: service.into(),
        service: service.into(),
        target: o.target,
        window: "30d".into(),
        global: slo::evaluate(&o, counts(1)),
        by_tenant: (0..CUSTOMERS)
            .map(|i| (format!("t{i}"), slo::evaluate(&o, counts(i))))
            .collect(),
    }
}

fn model() -> Model {
    let now = fixtures::now();
    let accounts: Vec<Account> = (0..CUSTOMERS).map(fixtures::numbered_account).collect();
    let services = ["api", "exports", "sso", "billing"];
    let incidents: Vec<Incident> = (0..20)
        .map(|i| Incident {
            tenants: vec![format!("t{}", i * 7)],
            ..fixtures::incident(
                &format!("P{i}"),
                &format!("incident {i}"),
                Severity::Sev2,
                services[i % services.len()],
                now - SignedDuration::from_mins(10 * i as i64),
            )
        })
        .collect();
    let sources = vec![
        SourceState::new(SourceKind::Metrics, Vendor::Prometheus),
        SourceState::new(SourceKind::Incidents, Vendor::Alertmanager),
        SourceState::new(SourceKind::Accounts, Vendor::Csv),
    ];
    let mut model = Model::new(Settings::default(), sources, now);
    model.update(Message::Accounts {
        file: "accounts.csv".into(),
        at: now,
        result: Ok(accounts),
        rejected: Vec::new(),
    });
    model.update(Message::Incidents {
        vendor: Vendor::Alertmanager,
        at: now,
        result: Ok(incidents),
    });
    model
}

fn snapshot() -> MetricsSnapshot {
    MetricsSnapshot {
        by_tenant: (0..CUSTOMERS)
            .map(|i| {
                (
                    format!("t{i}"),
                    TenantMetrics {
                        error_ratio: Some(if i.is_multiple_of(5) { 0.02 } else { 0.001 }),
                        ..TenantMetrics::default()
                    },
                )
            })
            .collect(),
        // "checkout" has no incident: its page-level burns are detected.
        slos: vec![report("api"), report("checkout")],
        ..MetricsSnapshot::default()
    }
}

fn benches(c: &mut Criterion) {
    let o = objective();
    c.bench_function("slo evaluate 10k tenants", |b| {
        b.iter(|| {
            for i in 0..TENANTS {
                black_box(slo::evaluate(&o, counts(i)));
            }
        })
    });
    let mut model = model();
    let now = model.now;
    c.bench_function(
        "metrics poll with 2 SLOs into 1k customers, 20 incidents",
        |b| {
            b.iter_batched(
                snapshot,
                |snapshot| {
                    model.update(Message::Metrics {
                        vendor: Vendor::Prometheus,
                        at: now,
                        result: Ok(snapshot),
                    });
                },
                BatchSize::LargeInput,
            )
        },
    );
    assert!(
        model
            .data
            .incidents
            .iter()
            .any(|i| i.status == IncidentStatus::Detected),
        "the bench exercises detected incidents"
    );
}

criterion_group!(incidents, benches);
criterion_main!(incidents);
