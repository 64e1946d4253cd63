//! Incidents in the model: the jump between an incident and its customers
//! and inquiries, and detected incidents from SLO burns.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::{key, now};
use cre_cockpit::core::domain::{IncidentStatus, MetricsSnapshot};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::insight::slo::{BurnLevel, SloReport, SloState, WindowBurn};
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Pane};

fn shown(model: &Model, pane: Pane) -> Vec<String> {
    (0..model.panes[pane as usize].order.len())
        .map(|row| model.row_id(pane, row).unwrap())
        .collect()
}

#[test]
fn the_jump_key_narrows_to_an_incidents_customers_and_inquiries_and_comes_back() {
    let mut model = common::model();
    let impact = &model.derived.impacts[0];
    let customers: Vec<String> = impact
        .affected
        .iter()
        .map(|a| model.data.accounts[a.account].id.to_string())
        .collect();
    let inquiries: Vec<String> = impact.linked.iter().map(|l| l.inquiry.clone()).collect();
    assert!(
        !customers.is_empty() && !inquiries.is_empty(),
        "the fixture links some"
    );
    assert!(shown(&model, Pane::Customers).len() > customers.len());

    model.update(key('3'));
    model.update(key('L'));
    assert_eq!(model.focus, Pane::Customers);
    assert_eq!(model.scope.as_deref(), Some("PINC01"));
    assert_eq!(shown(&model, Pane::Customers), customers);
    let mut linked = shown(&model, Pane::Inquiries);
    linked.sort();
    let mut want = inquiries.clone();
    want.sort();
    assert_eq!(linked, want);

    // A filter still works inside the scope, and esc clears the filter first.
    model.update(key('/'));
    model.update(key('z'));
    model.update(key('z'));
    assert!(shown(&model, Pane::Customers).is_empty());

    model.update(common::code(crossterm::event::KeyCode::Enter));
    model.update(common::code(crossterm::event::KeyCode::Esc));
    assert_eq!(shown(&model, Pane::Customers), customers);

    model.update(key('L'));
    assert_eq!(model.focus, Pane::Incidents);
    assert_eq!(model.scope, None);
    assert_eq!(
        model.row_id(
            Pane::Incidents,
            model.panes[Pane::Incidents as usize].selected
        ),
        Some("PINC01".into())
    );
    assert!(shown(&model, Pane::Customers).len() > customers.len());
}

fn page_burn(tenant: &str, service: &str) -> MetricsSnapshot {
    let state = SloState {
        level: BurnLevel::Page,
        budget_remaining: Some(0.4),
        error_ratio: Some(0.02),
        windows: vec![WindowBurn {
            window: "1h".into(),
            burn_rate: Some(20.0),
            bad_events: Some(1440.0),
            valid_events: Some(72_000.0),
        }],
        low_traffic: false,
        reason: "1h 20.0× and 5m 20.0× ≥ 14.4".into(),
    };
    MetricsSnapshot {
        slos: vec![SloReport {
            name: service.into(),
            service: service.into(),
            target: 0.999,
            window: "30d".into(),
            global: SloState::default(),
            by_tenant: BTreeMap::from([(tenant.to_owned(), state)]),
        }],
        ..common::metrics()
    }
}

#[test]
fn a_page_burn_without_an_incident_is_detected_until_one_is_declared() {
    let mut model = common::model();
    model.update(Message::Metrics {
        vendor: Vendor::Prometheus,
        at: now(),
        result: Ok(page_burn("midori", "exports")),
    });
    let detected: Vec<_> = model
        .data
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.status == IncidentStatus::Detected)
        .collect();
    assert_eq!(detected.len(), 1);
    let (index, incident) = detected[0];
    assert_eq!(incident.service.as_deref(), Some("exports"));
    let affected = &model.derived.impacts[index].affected;
    assert_eq!(affected.len(), 1);
    assert_eq!(model.data.accounts[affected[0].account].tenant, "midori");
    assert!(
        affected[0]
            .reason
            .contains("burning SLO exports 20.0× over 1h"),
        "{}",
        affected[0].reason
    );

    // A burn on a service with an open incident links to that incident.
    model.update(Message::Metrics {
        vendor: Vendor::Prometheus,
        at: now(),
        result: Ok(page_burn("midori", "api")),
    });
    assert!(
        model
            .data
            .incidents
            .iter()
            .all(|i| i.status != IncidentStatus::Detected)
    );
    let api = &model.derived.impacts[0].affected;
    assert!(
        api.iter()
            .any(|a| model.data.accounts[a.account].tenant == "midori"
                && a.reason.contains("burning SLO api")),
        "{api:?}"
    );
}
