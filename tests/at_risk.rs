//! The at-risk queue end to end: the simulator over real HTTP, through the
//! real adapters, into the real model — the scripted incident must put the
//! customers it hurts at the top, Red, explained by reliability, with a CRE
//! action due within 15 minutes of the incident's start.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cre_cockpit::app::wiring::Sources;
use cre_cockpit::core::source::Vendor;
use cre_cockpit::insight::health::{Band, FactorId};
use cre_cockpit::insight::join::Due;
use cre_cockpit::model::action::Action;
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Overlay, Settings};
use cre_cockpit::simulator::{SimOptions, Simulator};
use jiff::{SignedDuration, Timestamp};

#[tokio::test]
async fn a_tenant_hit_by_the_incident_is_in_incident_red_with_a_cre_action_due_in_15_minutes() {
    // At 60× the incident starts after about a second of wall time.
    let sim = Simulator::start(SimOptions {
        speed: 60.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, secrets) =
        cre_cockpit::cli::demo::config(&sim, dir.path(), Duration::from_millis(300)).unwrap();
    let mut model = Model::new(Settings::default(), Vec::new(), Timestamp::now());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        model.update(Message::Tick(Timestamp::now()));
        let sources = Sources::build(
            &config,
            secrets.clone(),
            &cre_cockpit::sources::http::client(),
        )
        .unwrap();
        for message in sources.poll_once().await {
            model.update(message);
        }
        if model
            .derived
            .customers
            .first()
            .is_some_and(|c| c.health.in_incident)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no customer in incident after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let hit: Vec<_> = model
        .derived
        .customers
        .iter()
        .take_while(|c| c.health.in_incident)
        .collect();
    assert!(!hit.is_empty());
    for row in &hit {
        let name = &model.data.accounts[row.account].name;
        assert_eq!(row.health.band, Band::Red, "{name}");
        assert_eq!(
            row.health.top_driver().map(|f| f.id),
            Some(FactorId::Reliability),
            "{name}: {:?}",
            row.health.factors
        );
        let f6 = row.health.factor(FactorId::Reliability).unwrap();
        assert!(
            f6.evidence.to_string().contains("SEV1/2"),
            "{name}: {}",
            f6.evidence
        );
        let action = row.next_action.as_ref().unwrap();
        assert!(action.who.contains("CRE"), "{name}: {action:?}");
        assert_eq!(action.driver, "IN INCIDENT");
        let incident = &model.data.incidents[row.incidents[0]];
        let Due::At(due) = action.due else {
            panic!("{name}: the liaison action has a deadline: {action:?}")
        };
        let after_start = due.duration_since(incident.started_at);
        assert!(
            after_start > SignedDuration::ZERO && after_start <= SignedDuration::from_mins(15),
            "{name}: due {after_start:?} after the incident began"
        );
    }
    // Everyone else comes after them, in attention order.
    let rest: Vec<f64> = model.derived.customers[hit.len()..]
        .iter()
        .filter(|c| c.health.red_flags.is_empty())
        .map(|c| c.attention.priority)
        .collect();
    assert!(rest.windows(2).all(|w| w[0] >= w[1]), "{rest:?}");

    // snapshot --json tells the same story.
    let json = cre_cockpit::report::snapshot::to_json(&model);
    let first = &json["customers"][0];
    assert_eq!(first["in_incident"], true);
    assert_eq!(first["band"], "Red");
    assert_eq!(first["top_driver"], "F6");
    assert!(
        first["health"]
            .as_f64()
            .is_some_and(|h| (0.0..=100.0).contains(&h))
    );
    assert!(first["coverage"].as_f64().is_some());
    assert!(first["trend"].get("arrow").is_some());
    let drivers = first["drivers"].as_array().unwrap();
    assert!(
        drivers
            .iter()
            .all(|d| d["evidence"].is_string() && d["points_lost"].is_f64())
    );
    assert_eq!(first["next_action"]["driver"], "IN INCIDENT");

    // The voice of the customer has the incident's wave in it.
    model.apply(Action::VoiceOfCustomer);
    assert!(matches!(model.overlay, Overlay::Voc { .. }));
    assert!(!model.derived.voc.is_empty());
    assert!(
        model
            .derived
            .voc
            .iter()
            .all(|g| g.arr > 0.0 && !g.customers.is_empty())
    );
    sim.shutdown().await;
}

/// The support factors read inquiries that have left the queue: a solved
/// inquiry still counts towards burden, and one that comes back is a reopen.
#[test]
fn closed_inquiries_stay_in_the_support_history() {
    use cre_cockpit::core::domain::{DeskUpdate, InquiryStatus};

    let mut model = common::model();
    let acme = |m: &Model| {
        m.derived
            .customers
            .iter()
            .find(|c| m.data.accounts[c.account].id == "c1")
            .unwrap()
            .health
            .clone()
    };
    let burden = |h: &cre_cockpit::insight::health::Health| {
        h.factor(FactorId::SupportBurden)
            .unwrap()
            .evidence
            .to_string()
    };
    let before = acme(&model);
    assert!(
        burden(&before).contains("from 2 inquiries"),
        "{}",
        burden(&before)
    );

    let desk = |changed| Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Ok(DeskUpdate {
            full: false,
            changed,
            removed: Vec::new(),
            requests: 1,
        }),
    };
    // 104 (normal) is solved: it leaves the queue, not the burden.
    let mut solved = common::inquiries()[3].clone();
    solved.status = InquiryStatus::Solved;
    solved.updated_at = common::now();
    model.update(desk(vec![solved.clone()]));
    assert!(model.data.inquiry("104").is_none());
    let after = acme(&model);
    assert!(
        burden(&after).contains("from 2 inquiries"),
        "{}",
        burden(&after)
    );
    assert_eq!(model.data.history.closed().len(), 1);

    // It comes back open: a reopen in support experience.
    let mut reopened = solved;
    reopened.status = InquiryStatus::Open;
    model.update(desk(vec![reopened]));
    let h = acme(&model);
    let f5 = h
        .factor(FactorId::SupportExperience)
        .unwrap()
        .evidence
        .to_string();
    assert!(f5.contains("1 reopen "), "{f5}");
    assert!(model.data.history.closed().is_empty());
}

/// A metrics source that has not answered for over a week no longer
/// scores customers on its last numbers (domain.md §2.5, freshness).
#[test]
fn week_old_metrics_drop_out_of_the_score() {
    let mut model = common::model();
    let has_usage = |m: &Model| {
        m.derived
            .customers
            .iter()
            .all(|c| c.health.factor(FactorId::SeatUtilisation).is_some())
    };
    assert!(has_usage(&model));
    // The metrics poll keeps failing for eight days.
    let later = common::now() + SignedDuration::from_hours(8 * 24);
    model.update(Message::Metrics {
        vendor: Vendor::Prometheus,
        at: later,
        result: Err(cre_cockpit::core::domain::SourceError::new(
            "connection refused",
        )),
    });
    model.update(Message::Tick(later));
    assert!(model.derived.customers.iter().all(|c| {
        c.health.factor(FactorId::SeatUtilisation).is_none()
            && c.health.factor(FactorId::UsageTrend).is_none()
    }));
    // The last good data is still there for the metrics pane and chip.
    assert!(!model.data.metrics.by_tenant.is_empty());
}

#[test]
fn an_unreadable_store_is_said_not_fatal() {
    let mut model = common::model();
    let effects = model.update(Message::Stored(Err("cockpit.db: disk I/O error".into())));
    assert!(effects.is_empty(), "nothing is saved without the history");
    let (status, _) = model.status.clone().unwrap();
    assert!(status.contains("health history unavailable"), "{status}");
    assert!(!model.derived.customers.is_empty());
}

/// The running app saves the day's scores through its effect runner: the
/// model asks (no IO in `update`), the loop writes to the store.
#[tokio::test]
async fn the_event_loop_saves_scores_to_the_store() {
    use cre_cockpit::app::{self, Runtime};
    use cre_cockpit::store::{self, Store};
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, secrets) =
        cre_cockpit::cli::demo::config(&sim, dir.path(), Duration::from_millis(300)).unwrap();
    let sources = Sources::build(&config, secrets, &cre_cockpit::sources::http::client()).unwrap();
    let model = Model::new(Settings::default(), sources.states(), Timestamp::now());
    let (tx, rx) = mpsc::unbounded_channel();
    let (handle, stored) = store::open_and_load(dir.path(), Timestamp::now());
    tx.send(cre_cockpit::model::message::Message::Stored(stored))
        .unwrap();
    let cancel = CancellationToken::new();
    let pollers = sources.spawn(&tx, &cancel);
    let runtime = Runtime {
        store: handle,
        ..Runtime::new(tx, rx, pollers, cancel.clone())
    };
    let (_keys, input) = futures::channel::mpsc::unbounded();
    let looping = tokio::spawn(async move {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        app::run(&mut terminal, model, input, runtime)
            .await
            .unwrap()
    });
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let saved = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // WAL lets a second connection read while the app writes.
        let loaded = Store::open_in(dir.path()).unwrap().load(today).unwrap();
        if !loaded.scores.is_empty() {
            break loaded;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing saved in 20 s"
        );
    };
    cancel.cancel();
    let model = looping.await.unwrap();
    assert_eq!(saved.scores.len(), model.data.accounts.len());
    assert!(saved.scores.iter().all(|(_, d)| d.day == today));
    assert!(!saved.triggers.is_empty());
    sim.shutdown().await;
}
