//! Render and re-order cost with a large queue loaded (100k inquiries, 10k
//! customers): a full 200×50 frame (target ≤ 2 ms), filtering / re-sorting
//! them (target ≤ 10 ms each), the join a metrics poll costs, and the idle
//! 1 Hz tick. The data goes in through `Model::update`, as it does in the
//! app.
#![allow(clippy::unwrap_used)]

// The tests' fixtures: the same file, not a copy.
#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::hint::black_box;

use cre_cockpit::core::domain::{
    Account, DeskUpdate, Incident, Inquiry, InquiryStatus, MetricsSnapshot, Priority, Segment,
    Severity, SourceKind, TenantMetrics,
};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Settings, SourceState};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use jiff::SignedDuration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const INQUIRIES: usize = 100_000;
const CUSTOMERS: usize = 10_000;

fn loaded_model() -> Model {
    let now = fixtures::now();
    let segments = [Segment::Enterprise, Segment::MidMarket, Segment::Small];
    let accounts: Vec<Account> = (0..CUSTOMERS)
        .map(|i| Account {
            segment: segments[i % 3],
            seats: 50 + (i as u32 % 500),
            arr: 10_000.0 + (i as f64) * 100.0,
            renewal_date: Some(jiff::civil::date(2027, 1, 1)),
            nps: Some((i % 11) as u8),
            ..fixtures::numbered_account(i)
        })
        .collect();
    let priorities = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Normal,
        Priority::Low,
    ];
    let subjects = [
        "API returns 500",
        "ログインできません",
        "Export stuck at 99%",
        "Fehler bei der Abrechnung",
        "SSO loop",
    ];
    let inquiries: Vec<Inquiry> = (0..INQUIRIES)
        .map(|i| Inquiry {
            id: (100_000 + i).to_string().into(),
            subject: format!("{} #{i}", subjects[i % subjects.len()]),
            status: if i % 7 == 0 {
                InquiryStatus::New
            } else {
                InquiryStatus::Open
            },
            priority: priorities[i % priorities.len()],
            org: Some(format!("Org {}", i % CUSTOMERS).into()),
            requester: Some("Ren".into()),
            assignee: (i % 3 != 0).then(|| "Alex Kim".into()),
            group: None,
            tags: vec!["feature_api".into()],
            feature_area: Some("api".into()),
            created_at: now - SignedDuration::from_secs((i as i64 * 37) % (14 * 86_400)),
            updated_at: now,
            sla: None,
            replied: i % 2 == 0,
            url: None,
            kind: None,
            history: Default::default(),
            desk: Default::default(),
        })
        .collect();
    let metrics = MetricsSnapshot {
        by_tenant: (0..CUSTOMERS)
            .map(|i| {
                (
                    format!("t{i}"),
                    TenantMetrics {
                        error_ratio: Some((i % 50) as f64 / 1000.0),
                        active_users: Some(40.0),
                        active_users_prev: Some(45.0),
                        ..TenantMetrics::default()
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
        ..MetricsSnapshot::default()
    };
    let incidents = vec![Incident {
        responders: vec!["Sam".into()],
        ..fixtures::incident(
            "P1",
            "API error rate elevated",
            Severity::Sev1,
            "api",
            now - SignedDuration::from_hours(1),
        )
    }];
    let sources = [
        SourceKind::Desk,
        SourceKind::Metrics,
        SourceKind::Incidents,
        SourceKind::Accounts,
    ]
    .map(|k| SourceState::new(k, Vendor::Csv))
    .to_vec();
    let mut model = Model::new(
        Settings {
            demo: true,
            ..Settings::default()
        },
        sources,
        now,
    );
    model.update(Message::Input(Event::Resize(200, 50)));
    model.update(Message::Accounts {
        file: "accounts.csv".into(),
        at: now,
        result: Ok(accounts),
        rejected: Vec::new(),
    });
    model.update(Message::Desk {
        vendor: Vendor::Csv,
        at: now,
        result: Ok(DeskUpdate {
            full: true,
            changed: inquiries,
            removed: Vec::new(),
            requests: 1,
        }),
    });
    model.update(Message::Metrics {
        vendor: Vendor::Csv,
        at: now,
        result: Ok(metrics),
    });
    model.update(Message::Incidents {
        vendor: Vendor::Csv,
        at: now,
        result: Ok(incidents),
    });
    assert_eq!(model.panes[0].order.len(), INQUIRIES);
    model
}

fn key(c: char) -> Message {
    Message::Input(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn benches(c: &mut Criterion) {
    let mut model = loaded_model();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("render 200x50 frame, 100k inquiries", |b| {
        b.iter(|| {
            terminal
                .draw(|f| cre_cockpit::ui::render(f, black_box(&model)))
                .unwrap();
        });
    });
    // What the terminal sanitiser costs when every cell changed (a full
    // redraw after a resize or a view switch): the same frame written to a
    // plain backend and through `SafeBackend`.
    let frame = terminal.backend().buffer().clone();
    let cells = || {
        frame
            .content
            .iter()
            .enumerate()
            .map(|(i, cell)| ((i % 200) as u16, (i / 200) as u16, cell))
    };
    let mut plain = TestBackend::new(200, 50);
    c.bench_function("write a full 200x50 frame, plain backend", |b| {
        b.iter(|| ratatui::backend::Backend::draw(&mut plain, black_box(cells())).unwrap());
    });
    let mut safe = cre_cockpit::app::terminal::SafeBackend(TestBackend::new(200, 50));
    c.bench_function("write a full 200x50 frame through SafeBackend", |b| {
        b.iter(|| ratatui::backend::Backend::draw(&mut safe, black_box(cells())).unwrap());
    });
    c.bench_function("filter 100k inquiries (type one character)", |b| {
        model.update(key('/'));
        model.update(key('a'));
        // Alternate between "a" and "ap" so each iteration is one keystroke
        // that really re-filters.
        let mut narrow = true;
        b.iter(|| {
            if narrow {
                model.update(key('p'));
            } else {
                model.update(Message::Input(Event::Key(KeyEvent::new(
                    KeyCode::Backspace,
                    KeyModifiers::NONE,
                ))));
            }
            narrow = !narrow;
        });
        model.update(Message::Input(Event::Key(KeyEvent::new(
            KeyCode::Esc,
            KeyModifiers::NONE,
        ))));
    });
    // The same with nothing to reuse: each iteration is a new query
    // (`:filter`) matched against every row. Twenty two-letter words, more
    // than the pane remembers, none narrowing another.
    c.bench_function("filter 100k inquiries (a new query, every row)", |b| {
        let words = [
            "ap", "pa", "ex", "sl", "er", "ro", "ss", "lo", "fe", "ab", "ch", "rt", "in", "st",
            "99", "50", "ku", "al", "ki", "ne",
        ];
        let mut at = 0;
        b.iter(|| {
            at = (at + 1) % words.len();
            model.run_command(&format!("filter {}", words[at]))
        });
        model.run_command("filter");
    });
    c.bench_function("re-sort 100k inquiries (s)", |b| {
        b.iter(|| model.update(key('s')))
    });
    // The join at 10k customers: what every metrics poll costs the model
    // (health, links and orders re-derived over 100k inquiries).
    let metrics = model.data.metrics.clone();
    let now = model.now;
    c.bench_function(
        "fold a metrics poll: join 10k customers, 100k inquiries",
        |b| {
            b.iter(|| {
                model.update(Message::Metrics {
                    vendor: Vendor::Csv,
                    at: now,
                    result: Ok(black_box(metrics.clone())),
                })
            });
        },
    );
    // A quiet desk poll that still brings a couple of updated inquiries
    // (the simulator's background, a customer replying): the schedule of
    // SLA warnings, the join and the KPIs are redone over everything.
    let mut two: Vec<Inquiry> = model.data.inquiries[..2].to_vec();
    c.bench_function(
        "fold a desk poll with 2 changed inquiries (100k held)",
        |b| {
            b.iter(|| {
                for inquiry in &mut two {
                    inquiry.replied = !inquiry.replied;
                }
                model.update(Message::Desk {
                    vendor: Vendor::Csv,
                    at: now,
                    result: Ok(DeskUpdate {
                        full: false,
                        changed: black_box(two.clone()),
                        removed: Vec::new(),
                        requests: 1,
                    }),
                })
            });
        },
    );
    // The usual day: no major incident, a minor one open on a service no
    // inquiry is about, and every tenant's errors well below the impact
    // threshold (as the simulator's are between incidents).
    let mut quiet = metrics.clone();
    for m in quiet.by_tenant.values_mut() {
        m.error_ratio = m.error_ratio.map(|r| r / 100.0);
    }
    model.update(Message::Incidents {
        vendor: Vendor::Csv,
        at: now,
        result: Ok(vec![fixtures::incident(
            "PQUIET7",
            "Billing invoices delayed for some tenants",
            Severity::Sev3,
            "billing",
            now - SignedDuration::from_hours(30),
        )]),
    });
    c.bench_function(
        "fold a metrics poll, a minor incident open (10k customers, 100k inquiries)",
        |b| {
            b.iter(|| {
                model.update(Message::Metrics {
                    vendor: Vendor::Csv,
                    at: now,
                    result: Ok(black_box(quiet.clone())),
                })
            });
        },
    );
    // The idle tick: nothing due, so it compares clocks and nothing more.
    let second = now + SignedDuration::from_secs(1);
    c.bench_function("idle tick (nothing due)", |b| {
        b.iter(|| model.update(Message::Tick(black_box(second))));
    });
    // Once a minute the tick re-derives what moves with the clock (SLA
    // clocks, renewal distances, KPIs): each iteration is a minute later.
    let mut minute = now;
    c.bench_function("the once-a-minute tick (re-derive)", |b| {
        b.iter(|| {
            minute += SignedDuration::from_mins(1);
            model.update(Message::Tick(black_box(minute)))
        });
    });
}

criterion_group! {
    name = render;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(render);
