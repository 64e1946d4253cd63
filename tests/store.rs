//! The local store on a real SQLite file: migrations, WAL, and history that
//! survives closing and reopening — and a model that gets its trend back
//! from it after a restart.
#![allow(clippy::unwrap_used)]

mod common;

use cre_cockpit::core::domain::Severity;
use cre_cockpit::insight::health::{Band, DayScore};
use cre_cockpit::insight::history::Persist;
use cre_cockpit::insight::history::{IncidentSeen, Trigger};
use cre_cockpit::model::message::{Effect, Message};
use cre_cockpit::store::{self, Store, StoreError};
use jiff::civil::{Date, date};
use jiff::{Timestamp, ToSpan};

fn day_score(day: Date, score: f64) -> DayScore {
    DayScore {
        day,
        score,
        band: if score <= 50.0 {
            Band::Red
        } else {
            Band::Green
        },
        coverage: 0.85,
        sub_scores: [
            Some(32.0),
            Some(0.0),
            None,
            Some(score),
            Some(66.5),
            Some(100.0),
            None,
            Some(100.0),
        ],
    }
}

fn now() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

#[test]
fn a_fresh_database_is_migrated_to_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.version().unwrap(), store::latest_version());
    assert_eq!(store::journal_mode(&store).as_deref(), Some("wal"));
    for table in ["health_score", "action_trigger", "incident_seen"] {
        assert!(store::has_table(&store, table), "{table}");
    }
    assert!(dir.path().join(store::FILE).exists());
    drop(store);
    // Reopening runs no migration twice.
    let again = Store::open_in(dir.path()).unwrap();
    assert_eq!(again.version().unwrap(), store::latest_version());
}

#[test]
fn a_database_from_a_newer_build_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(store::FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade cre-cockpit"), "{err}");
}

#[test]
fn scores_triggers_and_incidents_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let today = date(2026, 11, 21);
    let since: Timestamp = "2026-11-18T08:00:00Z".parse().unwrap();
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        store
            .save(
                &Persist {
                    scores: vec![
                        (
                            "c1".into(),
                            day_score(today.checked_sub(30.days()).unwrap(), 70.0),
                        ),
                        (
                            "c1".into(),
                            day_score(today.checked_sub(7.days()).unwrap(), 60.0),
                        ),
                        ("c2".into(), day_score(today, 90.0)),
                    ],
                    triggers: vec![(
                        "c1".into(),
                        Trigger {
                            code: "F4".into(),
                            since,
                        },
                    )],
                    incidents: vec![IncidentSeen {
                        incident: "PINC01".into(),
                        account: "c1".into(),
                        severity: Severity::Sev1,
                        started_at: since,
                    }],
                },
                now(),
            )
            .unwrap();
        // The same day saved again replaces the score, not adds one.
        store
            .save(
                &Persist {
                    scores: vec![("c2".into(), day_score(today, 88.5))],
                    triggers: vec![(
                        "c1".into(),
                        Trigger {
                            code: "F4".into(),
                            since,
                        },
                    )],
                    incidents: Vec::new(),
                },
                now(),
            )
            .unwrap();
    }
    let store = Store::open_in(dir.path()).unwrap();
    let loaded = store.load(today).unwrap();
    let c1: Vec<&DayScore> = loaded
        .scores
        .iter()
        .filter(|(a, _)| a == "c1")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(c1.len(), 2);
    assert_eq!(
        *c1[0],
        day_score(today.checked_sub(30.days()).unwrap(), 70.0)
    );
    let c2: Vec<f64> = loaded
        .scores
        .iter()
        .filter(|(a, _)| a == "c2")
        .map(|(_, d)| d.score)
        .collect();
    assert_eq!(c2, [88.5]);
    assert_eq!(loaded.triggers.len(), 1);
    assert_eq!(loaded.triggers[0].1.since, since);
    assert_eq!(loaded.incidents.len(), 1);
    assert_eq!(loaded.incidents[0].severity, Severity::Sev1);
}

#[test]
fn triggers_are_replaced_and_old_incidents_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let trigger = |d: &str| Trigger {
        code: d.into(),
        since: now(),
    };
    store
        .save(
            &Persist {
                triggers: vec![("c1".into(), trigger("F1"))],
                incidents: vec![IncidentSeen {
                    incident: "OLD".into(),
                    account: "c1".into(),
                    severity: Severity::Sev2,
                    started_at: "2026-09-01T00:00:00Z".parse().unwrap(),
                }],
                ..Persist::default()
            },
            now(),
        )
        .unwrap();
    store
        .save(
            &Persist {
                triggers: vec![("c2".into(), trigger("F7"))],
                ..Persist::default()
            },
            now(),
        )
        .unwrap();
    let loaded = store.load(date(2026, 11, 21)).unwrap();
    assert_eq!(loaded.triggers.len(), 1);
    assert_eq!(loaded.triggers[0].0, "c2");
    assert!(loaded.incidents.is_empty(), "older than 30 days");
}

/// The model's own round trip: scores it asks to persist come back after
/// a "restart" and give it a trend.
#[test]
fn the_model_persists_through_effects_and_gets_its_trend_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Handle::new(Store::open_in(dir.path()).unwrap());
    let today = common::now().to_zoned(jiff::tz::TimeZone::UTC).date();

    let mut model = common::model();
    let before = customer(&model, "c2").trend;
    assert_eq!(before.delta7, None, "no history loaded yet");
    let score = customer(&model, "c2").health.score.unwrap();

    // A week and a month ago, the customer scored much better.
    let mut seed = Persist::default();
    for (days, then) in [(30, score + 20.0), (7, score + 12.0)] {
        let mut d = day_score(today.checked_sub(days.days()).unwrap(), then);
        d.band = Band::Green;
        seed.scores.push(("c2".into(), d));
    }
    store.save(&seed, common::now()).unwrap();

    let effects = model.update(Message::Stored(
        store.load(today).map_err(|e| e.to_string()),
    ));
    let row = customer(&model, "c2");
    assert_eq!(row.health.score, Some(score));
    assert_eq!(row.trend.delta7, Some(-12.0));
    assert_eq!(row.trend.delta30, Some(-20.0));
    assert_eq!(
        row.trend.arrow,
        Some(cre_cockpit::insight::health::Arrow::Down)
    );
    assert!(row.trend.falling_fast);
    assert_eq!(row.attention.m_trend, 1.3);
    // Loading completed the picture, so today's scores are due a save.
    let batch = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Persist(b) => Some(b),
            _ => None,
        })
        .expect("a persist effect once history is loaded");
    assert_eq!(batch.scores.len(), model.data.accounts.len());
    store.save(&batch, common::now()).unwrap();
    // A later update within the save interval asks for nothing more.
    let effects = model.update(Message::Tick(
        common::now() + jiff::SignedDuration::from_mins(2),
    ));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Persist(_))));

    // "Restart": today's saved score is the newest history entry.
    let loaded = store.load(today).unwrap();
    let saved_today = loaded
        .scores
        .iter()
        .find(|(a, d)| a == "c2" && d.day == today)
        .unwrap();
    assert_eq!(saved_today.1.score, score);
    assert!(!loaded.triggers.is_empty(), "next-action triggers kept");
}

fn customer<'a>(
    model: &'a cre_cockpit::model::Model,
    id: &str,
) -> &'a cre_cockpit::insight::join::CustomerRow {
    model
        .derived
        .customers
        .iter()
        .find(|c| model.data.accounts[c.account].id == id)
        .unwrap()
}

/// Triggers saved by label before migration 3 come back as their codes, so
/// an upgrade does not restart any next-action deadline.
#[test]
fn trigger_labels_saved_before_codes_are_migrated_to_codes() {
    let dir = tempfile::tempdir().unwrap();
    let since = now();
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        let trigger = |label: &str| Trigger {
            code: label.into(),
            since,
        };
        store
            .save(
                &Persist {
                    triggers: vec![
                        ("c1".into(), trigger("F4 Support burden")),
                        ("c2".into(), trigger("IN INCIDENT")),
                        ("c3".into(), trigger("renewal ≤90 d, not Green")),
                    ],
                    ..Persist::default()
                },
                now(),
            )
            .unwrap();
    }
    // Wind the schema back to before the codes, as an older build left it.
    let conn = rusqlite::Connection::open(dir.path().join(store::FILE)).unwrap();
    conn.execute_batch(
        "ALTER TABLE steps DROP COLUMN check_first;
         ALTER TABLE steps DROP COLUMN owner;
         ALTER TABLE steps DROP COLUMN lease_until;
         DROP TABLE journal_seq;
         ALTER TABLE writes DROP COLUMN author;",
    )
    .unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    drop(conn);
    let store = Store::open_in(dir.path()).unwrap();
    let mut codes: Vec<(String, String)> = store
        .load(since.to_zoned(jiff::tz::TimeZone::UTC).date())
        .unwrap()
        .triggers
        .into_iter()
        .map(|(a, t)| {
            assert_eq!(t.since, since, "the deadline keeps its start");
            (a, t.code)
        })
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("c1".to_string(), "F4".to_string()),
            ("c2".into(), "in-incident".into()),
            ("c3".into(), "renewal-at-risk".into()),
        ]
    );
}
