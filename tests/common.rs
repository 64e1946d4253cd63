//! Shared fixtures: a model filled through the same messages the pollers
//! send, at a fixed clock so rendered ages and countdowns are stable.
#![allow(dead_code, clippy::unwrap_used)]

// A path, because tests/common.rs is also a test target of its own, whose
// children would otherwise be looked up beside it.
#[path = "common/fixtures.rs"]
pub mod fixtures;
#[path = "common/proxy.rs"]
pub mod proxy;
#[path = "common/rt.rs"]
pub mod rt;
#[path = "common/tmux.rs"]
pub mod tmux;

// The fixtures most tests use, at `common::` as before.
pub use fixtures::{accounts, ago, incidents, now};

use std::collections::BTreeMap;

use cre_cockpit::core::domain::{
    DeskUpdate, Inquiry, InquiryStatus, MetricsSnapshot, Priority, SourceKind, TenantMetrics,
};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Settings, SourceState};
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn inquiry(
    id: &str,
    subject: &str,
    org: &str,
    priority: Priority,
    created_min_ago: i64,
) -> Inquiry {
    Inquiry {
        id: id.into(),
        subject: subject.into(),
        status: InquiryStatus::Open,
        priority,
        org: Some(org.into()),
        requester: Some("Ren Tanaka".into()),
        assignee: Some("Alex Kim".into()),
        group: Some("Support L2".into()),
        tags: vec!["feature_api".into()],
        feature_area: Some("api".into()),
        created_at: ago(created_min_ago),
        updated_at: ago(created_min_ago),
        sla: None,
        replied: false,
        url: Some(format!("https://desk.example/agent/tickets/{id}")),
        kind: None,
        history: Default::default(),
        desk: Default::default(),
    }
}

pub fn inquiries() -> Vec<Inquiry> {
    vec![
        inquiry(
            "101",
            "API returns 500 on /orders",
            "Acme Corp",
            Priority::Urgent,
            90,
        ),
        inquiry(
            "102",
            "ダッシュボードが表示されません",
            "株式会社ミドリ",
            Priority::High,
            30,
        ),
        inquiry(
            "103",
            "How do I export invoices?",
            "Globex",
            Priority::Low,
            600,
        ),
        inquiry("104", "SSO login loop", "Acme Corp", Priority::Normal, 20),
    ]
}

pub fn metrics() -> MetricsSnapshot {
    let tenant = |error_ratio: f64, active: f64| TenantMetrics {
        error_ratio: Some(error_ratio),
        request_rate: Some(active / 10.0),
        active_users: Some(active),
        active_users_prev: Some(active * 1.1),
        latency_p99: Some(0.3),
        ..TenantMetrics::default()
    };
    MetricsSnapshot {
        by_tenant: BTreeMap::from([
            ("acme".to_owned(), tenant(0.081, 250.0)),
            ("midori".to_owned(), tenant(0.003, 90.0)),
            ("globex".to_owned(), tenant(0.001, 15.0)),
        ]),
        error_history: BTreeMap::from([("acme".to_owned(), vec![0.001, 0.002, 0.05, 0.081])])
            .into(),
        ..MetricsSnapshot::default()
    }
}

/// A model that has received one good poll from every source.
pub fn model() -> Model {
    let settings = Settings {
        demo: true,
        ..Settings::default()
    };
    let sources = vec![
        SourceState::new(SourceKind::Desk, Vendor::Zendesk),
        SourceState::new(SourceKind::Metrics, Vendor::Prometheus),
        SourceState::new(SourceKind::Incidents, Vendor::Pagerduty),
        SourceState::new(SourceKind::Accounts, Vendor::Csv),
    ];
    let mut model = Model::new(settings, sources, now());
    let at = now() - SignedDuration::from_secs(12);
    model.update(Message::Accounts {
        file: "accounts.csv".into(),
        at,
        result: Ok(accounts()),
        rejected: Vec::new(),
    });
    model.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at,
        result: Ok(DeskUpdate {
            full: true,
            changed: inquiries(),
            removed: Vec::new(),
            requests: 1,
        }),
    });
    model.update(Message::Metrics {
        vendor: Vendor::Prometheus,
        at,
        result: Ok(metrics()),
    });
    model.update(Message::Incidents {
        vendor: Vendor::Pagerduty,
        at,
        result: Ok(incidents()),
    });
    model
}

/// Render the model at a size and return the terminal.
pub fn render(model: &mut Model, width: u16, height: u16) -> Terminal<TestBackend> {
    model.update(Message::Input(crossterm::event::Event::Resize(
        width, height,
    )));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| cre_cockpit::ui::render(f, model))
        .unwrap();
    terminal
}

/// The screen as text, one string per line.
pub fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut skip = 0;
        for x in 0..buffer.area.width {
            // A double-width character covers the next cell too.
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            out.push_str(symbol);
        }
        out.push('\n');
    }
    out
}

pub fn key(c: char) -> Message {
    Message::Input(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        ),
    ))
}

pub fn code(code: crossterm::event::KeyCode) -> Message {
    Message::Input(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE),
    ))
}

/// The address of a real test server, from the variable its
/// `scripts/services/*.sh start` exported.
///
/// Every test that calls this is marked `#[ignore = "needs …"]`, so a plain
/// `cargo test` reports it as ignored with that reason instead of passing
/// without running; `scripts/test.sh` starts the servers and runs the
/// ignored tests too. Asked for without its server, such a test fails here:
/// it never returns early as if it had passed. (The `Option` is kept so the
/// callers' `let Some(..) else` reads as before; it is always `Some`.)
pub fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => panic!(
            "{var} is not set: this test needs a real server; run scripts/test.sh, which starts \
             them (scripts/services/*.sh) and runs every test"
        ),
    }
}

/// Journal a private desk note on a ticket; returns the write's id.
pub fn journal_note(
    journal: &cre_cockpit::app::outbox::SharedJournal,
    ticket: &str,
    text: &str,
) -> i64 {
    use cre_cockpit::core::writes::{SourceWrite, Target, WriteKind};
    let effects = vec![SourceWrite::DeskNote {
        ticket: ticket.into(),
        body: text.into(),
        public: false,
    }];
    journal
        .lock()
        .unwrap()
        .insert(
            WriteKind::Annotate,
            &Target::Inquiry(ticket.into()),
            text,
            effects,
            Timestamp::now(),
        )
        .unwrap()
        .id
}

/// A journalled write's overall delivery state.
pub fn write_state(
    journal: &cre_cockpit::app::outbox::SharedJournal,
    id: i64,
) -> cre_cockpit::core::writes::StepState {
    journal.lock().unwrap().write(id).unwrap().unwrap().state()
}

/// A ticket's comments as the simulator's Zendesk serves them.
pub async fn sim_comments(
    base_url: &str,
    login: &str,
    token: &str,
    ticket: &str,
) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base_url}/api/v2/tickets/{ticket}/comments"))
        .basic_auth(login, Some(token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A journalled note on inquiry 101 with one desk step per state.
pub fn journalled(
    id: i64,
    states: &[cre_cockpit::core::writes::StepState],
) -> cre_cockpit::core::writes::Write {
    use cre_cockpit::core::writes::{SourceWrite, Step, Target as WriteTarget, Write, WriteKind};
    Write {
        id,
        created_at: now(),
        kind: WriteKind::Annotate,
        target: WriteTarget::Inquiry("101".into()),
        text: "called the customer".into(),
        author: None,
        steps: states
            .iter()
            .enumerate()
            .map(|(i, state)| Step {
                id: id * 10 + i as i64,
                write_id: id,
                effect: SourceWrite::DeskNote {
                    ticket: "101".into(),
                    body: "called the customer".into(),
                    public: false,
                },
                item: "desk:101".into(),
                marker: "cc-00".into(),
                state: *state,
                attempts: 1,
                next_attempt_at: now(),
                last_error: None,
                sent_at: None,
                check_first: false,
                owner: None,
                lease_until: None,
            })
            .collect(),
    }
}

/// A schema of its own in the test PostgreSQL (`scripts/services/postgres.sh`),
/// so tests run in parallel; panics when the server's variable is missing.
pub fn pg_target(test: &str) -> cre_cockpit::store::journal::TeamTarget {
    let url = service("CRE_COCKPIT_POSTGRES").unwrap();
    let schema = format!(
        "t_{}_{}_{:06x}",
        test.chars().take(30).collect::<String>(),
        std::process::id(),
        rand::random::<u32>() & 0xff_ffff
    );
    cre_cockpit::store::journal::TeamTarget::new(&url, None, &schema).unwrap()
}

/// Run SQL on a team schema outside the journal (to damage rows, move
/// leases), on a plain thread: the sync client must not block an async one.
pub fn pg_exec(target: &cre_cockpit::store::journal::TeamTarget, sql: &str) -> u64 {
    let (config, schema, sql) = (target.config.clone(), target.schema.clone(), sql.to_owned());
    std::thread::spawn(move || {
        let mut c = config.connect(postgres::NoTls).unwrap();
        c.batch_execute(&format!("SET search_path TO \"{schema}\""))
            .unwrap();
        c.execute(sql.as_str(), &[]).unwrap()
    })
    .join()
    .unwrap()
}

/// Writers that deliver to the simulator's Zendesk at `url` (the
/// simulator's test account), with a short timeout.
pub fn zendesk_writers(url: &str) -> cre_cockpit::app::outbox::Writers {
    use cre_cockpit::app::outbox::{DeskWriter, Writers};
    use cre_cockpit::config::{DeskConfig, DeskKind};
    use cre_cockpit::sources::http::{self, Secret};
    let config = DeskConfig {
        email: Some("cre@example.com".into()),
        timeout: Some(std::time::Duration::from_secs(5)),
        ..DeskConfig::new(DeskKind::Zendesk, url.into())
    };
    let zendesk =
        cre_cockpit::sources::zendesk::Zendesk::new(http::client(), &config, Secret::new("t0ken"))
            .unwrap();
    Writers {
        desk: Some(DeskWriter::Zendesk(zendesk)),
        ..Writers::default()
    }
}

/// Open tickets of the simulator's Zendesk (ids).
pub async fn sim_open_tickets(base: &str) -> Vec<String> {
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{base}/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=100"
        ))
        .basic_auth("cre@example.com/token", Some("t0ken"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| matches!(t["status"].as_str(), Some("new" | "open" | "pending")))
        .map(|t| t["id"].to_string())
        .collect()
}
