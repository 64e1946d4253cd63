//! The shift handover report: on the render fixture with a seeded journal
//! (every section, the right items, nothing from before the shift, remote
//! text defused), the `H` key, and `cre-cockpit handover` against the real
//! RT, Prometheus and Alertmanager with a seeded journal.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures::{SLOS_TOML, accounts_csv, five_customers};

use std::collections::BTreeMap;
use std::process::Command;

use cre_cockpit::core::domain::{Account, DeskUpdate, MetricsSnapshot, Priority, SourceError};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::core::writes::{SourceWrite, StepState, Target, Write, WriteKind};
use cre_cockpit::insight::slo::{BurnLevel, SloReport, SloState, WindowBurn};
use cre_cockpit::model::message::{Effect as Do, Message};
use cre_cockpit::report::handover::{self, Report};
use cre_cockpit::store::journal::Journal;
use jiff::{SignedDuration, Timestamp};

/// The text between a `## ` heading and the next one.
fn section<'a>(report: &'a str, heading: &str) -> &'a str {
    let start = report
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading:?} in\n{report}"));
    let rest = &report[start + 3..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

const SECTIONS: [&str; 7] = [
    "Active incidents",
    "Customers: band changes and falling fast",
    "Queue: SLA breaches in the next shift",
    "Escalations and annotations this shift",
    "Error budgets burning",
    "KPIs",
    "Open questions",
];

fn burning(level: BurnLevel, budget: f64, burn: f64) -> SloState {
    SloState {
        level,
        budget_remaining: Some(budget),
        error_ratio: Some(burn * 0.001),
        windows: vec![WindowBurn {
            window: "1h".into(),
            burn_rate: Some(burn),
            bad_events: Some(150.0),
            valid_events: Some(10_000.0),
        }],
        low_traffic: false,
        reason: format!("1h {burn:.1}× and 5m {burn:.1}× ≥ 14.4"),
    }
}

/// Seed a journal: what the shift did, plus one note from before it.
fn seed(journal: &mut Journal) -> Vec<Write> {
    let now = common::now();
    let at = |min: i64| now - SignedDuration::from_mins(min);
    let update = journal
        .insert(
            WriteKind::CustomerUpdate,
            &Target::Incident("PINC01".into()),
            "We are investigating elevated API errors. Next update by 09:50 UTC.",
            vec![
                SourceWrite::DeskNote {
                    ticket: "101".into(),
                    body: "…".into(),
                    public: false,
                },
                SourceWrite::DeskNote {
                    ticket: "104".into(),
                    body: "…".into(),
                    public: false,
                },
            ],
            at(30),
        )
        .unwrap();
    for step in &update.steps {
        journal
            .set_state(step.id, StepState::Sent, None, None, at(29))
            .unwrap();
    }
    let escalation = journal
        .insert(
            WriteKind::Escalate,
            &Target::Inquiry("101".into()),
            "Escalating to API engineering: 500s on /orders",
            vec![
                SourceWrite::DeskTags {
                    ticket: "101".into(),
                    tags: vec!["escalated".into()],
                },
                SourceWrite::DeskPriority {
                    ticket: "101".into(),
                    priority: "urgent".into(),
                },
            ],
            at(60),
        )
        .unwrap();
    journal
        .set_state(escalation.steps[0].id, StepState::Sent, None, None, at(59))
        .unwrap();
    journal
        .set_state(
            escalation.steps[1].id,
            StepState::Failed,
            Some("HTTP 422 Unprocessable Entity"),
            None,
            at(59),
        )
        .unwrap();
    journal
        .insert(
            WriteKind::Annotate,
            &Target::Inquiry("102".into()),
            "Asked for a HAR file\u{1b}[2J",
            vec![SourceWrite::DeskNote {
                ticket: "102".into(),
                body: "Asked for a HAR file".into(),
                public: false,
            }],
            at(5),
        )
        .unwrap();
    journal
        .insert(
            WriteKind::Annotate,
            &Target::Customer("c1".into()),
            "Call with Acme booked for Monday",
            vec![SourceWrite::Local],
            at(15),
        )
        .unwrap();
    journal
        .insert(
            WriteKind::Annotate,
            &Target::Customer("c3".into()),
            "From the previous shift",
            vec![SourceWrite::Local],
            at(9 * 60),
        )
        .unwrap();
    let mut writes = journal.since(at(8 * 60)).unwrap();
    // A teammate's note in a shared team journal: its author (another
    // cockpit's `[ui] me`, so not to be trusted as markup) is named.
    writes
        .iter_mut()
        .find(|w| w.text.starts_with("Call with Acme"))
        .unwrap()
        .author = Some("Kim\u{1b}[2J Lee".into());
    writes
}

/// The render fixture, plus an SLO burning for Acme, a hostile inquiry
/// breaching soon, and an incidents source that has just started failing.
fn model() -> cre_cockpit::model::Model {
    let mut m = common::model();
    let at = common::now() - SignedDuration::from_secs(12);
    let mut metrics = common::metrics();
    metrics.slos = vec![SloReport {
        name: "api availability".into(),
        service: "api".into(),
        target: 0.999,
        window: "30d".into(),
        global: burning(BurnLevel::Ticket, 0.62, 2.0),
        by_tenant: BTreeMap::from([
            ("acme".to_owned(), burning(BurnLevel::Page, -0.2, 30.0)),
            ("midori".to_owned(), burning(BurnLevel::Ok, 0.9, 0.1)),
        ]),
    }];
    m.update(Message::Metrics {
        vendor: Vendor::Prometheus,
        at,
        result: Ok::<MetricsSnapshot, SourceError>(metrics),
    });
    let mut hostile = common::inquiry(
        "105",
        "Export\u{1b}[2J broken\n## injected [link](http://evil) <b>",
        "Globex",
        Priority::High,
        200,
    );
    hostile.replied = true;
    let mut inquiries = common::inquiries();
    inquiries.push(hostile);
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at,
        result: Ok(DeskUpdate {
            full: true,
            changed: inquiries,
            removed: Vec::new(),
            requests: 1,
        }),
    });
    m.update(Message::Incidents {
        vendor: Vendor::Pagerduty,
        at: common::now(),
        result: Err(SourceError::new("pagerduty: HTTP 503 Service Unavailable")),
    });
    m
}

#[test]
fn the_report_has_every_section_with_the_right_items() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let writes = seed(&mut journal);
    let m = model();
    let from = common::now() - SignedDuration::from_hours(8);
    let report = handover::render(&Report {
        model: &m,
        writes: &writes,
        journal: Ok("the journal at test.db"),
        from,
        next_shift: SignedDuration::from_hours(8),
    });

    assert!(
        report.starts_with("# Shift handover — 2026-11-21 02:00 UTC to 10:00 UTC\n"),
        "{report}"
    );
    assert!(
        report.contains("live handover (a SEV1/SEV2 incident is open)"),
        "{report}"
    );
    // Each section in order, each naming its source.
    let mut last = 0;
    for heading in SECTIONS {
        let at = report.find(&format!("\n## {heading}\n")).unwrap();
        assert!(at > last, "{heading} out of order");
        last = at;
        assert!(
            section(&report, heading).contains("_Source: "),
            "{heading} does not say where its data came from"
        );
    }

    let incidents = section(&report, "Active incidents");
    assert!(
        incidents.contains("_Source: incidents pagerduty, FAILING (pagerduty: HTTP 503 Service Unavailable); data from 12s ago;"),
        "{incidents}"
    );
    assert!(
        incidents.contains("### SEV1 PINC01 — API error rate elevated"),
        "{incidents}"
    );
    assert!(
        incidents
            .contains("  - Acme Corp (enterprise, high-touch), error ratio 8.1% — tenant acme"),
        "{incidents}"
    );
    assert!(
        incidents.contains("- Linked inquiries (3): #101, #104, #102"),
        "{incidents}"
    );
    // The update 30 minutes ago, delivered on both tickets; 20 minutes
    // later the next one was due.
    assert!(
        incidents.contains(
            "- Customer communication: 1 update(s); the latest at 09:30 UTC (30m ago): \"We are investigating elevated API errors. Next update by 09:50 UTC.\" — 2 sent"
        ),
        "{incidents}"
    );
    assert!(
        incidents.contains("- Next customer update due: 09:50 UTC — OVERDUE by 10m"),
        "{incidents}"
    );

    let customers = section(&report, "Customers: band changes and falling fast");
    assert!(
        customers
            .contains("Customers FALLING-FAST (Δ7 ≤ −10, Δ30 ≤ −15, or band worse within 7 days"),
        "{customers}"
    );
    assert!(
        customers.contains("- Acme Corp (enterprise, high-touch) — IN INCIDENT"),
        "{customers}"
    );
    assert!(
        !customers.contains("Globex"),
        "Globex is Green: {customers}"
    );

    let queue = section(&report, "Queue: SLA breaches in the next shift");
    let (coming, breached) = queue.split_once("Already past SLA").unwrap();
    // Due before 18:00: the hostile 105 (high, next reply 4 h after its
    // last update 200 minutes ago: 10:40), 102 (high, 13:30), 104 (normal,
    // 17:40); 103 (low) is due tomorrow.
    assert!(
        coming.contains("Will breach before 2026-11-21 18:00 UTC (3):"),
        "{coming}"
    );
    let lines: Vec<&str> = coming.lines().filter(|l| l.starts_with("- #")).collect();
    assert_eq!(
        lines,
        [
            "- #105 high · Globex · Export\\[2J broken ## injected \\[link\\](http://evil) \\<b\\> — due 10:40 UTC (in 40m) (next reply, calendar hours) · Alex Kim",
            "- #102 high · 株式会社ミドリ · ダッシュボードが表示されません — due 13:30 UTC (in 3h30m) (first reply, calendar hours) · Alex Kim",
            "- #104 normal · Acme Corp · SSO login loop — due 17:40 UTC (in 7h40m) (first reply, calendar hours) · Alex Kim",
        ]
    );
    assert!(!queue.contains("#103"), "{queue}");
    // 101 (urgent, 1 h target, 90 minutes old) is 30 minutes late.
    assert!(breached.contains("(1):"), "{breached}");
    assert!(
        breached.contains(
            "- #101 urgent · Acme Corp · API returns 500 on /orders — breached 30m ago (first reply, calendar hours) · Alex Kim"
        ),
        "{breached}"
    );
    assert!(
        queue.contains("Backlog now: 5 unsolved (new, open, on-hold), 0 pending"),
        "{queue}"
    );

    let writes_section = section(&report, "Escalations and annotations this shift");
    assert!(
        writes_section.contains("_Source: the journal at test.db: writes since 02:00 UTC"),
        "{writes_section}"
    );
    let escalation = "- 09:00 UTC · escalate · inquiry:101 · \"Escalating to API engineering: 500s on /orders\" — failed\n  - add tags escalated to ticket 101: sent\n  - set priority urgent on ticket 101: failed (HTTP 422 Unprocessable Entity)\n";
    assert!(writes_section.contains(escalation), "{writes_section}");
    assert!(
        writes_section.contains(
            "- 09:45 UTC · annotate · customer:c1 · \"Call with Acme booked for Monday\" — local · by Kim\\[2J Lee\n"
        ),
        "{writes_section}"
    );
    assert!(
        writes_section.contains(
            "- 09:55 UTC · annotate · inquiry:102 · \"Asked for a HAR file\\[2J\" — queued"
        ),
        "{writes_section}"
    );
    assert!(
        !writes_section.contains("previous shift"),
        "{writes_section}"
    );
    assert!(
        writes_section.contains("Customer updates posted this shift: 1"),
        "{writes_section}"
    );

    let budgets = section(&report, "Error budgets burning");
    assert!(
        budgets.contains("- api availability (service api, 99.9% over 30d): ticket-level burn, 2.0× over 1h; 62.0% of the budget left"),
        "{budgets}"
    );
    assert!(
        budgets.contains(
            "  - tenant acme (Acme Corp): PAGE-level burn, 30.0× over 1h; budget EXHAUSTED (-20.0%)"
        ),
        "{budgets}"
    );
    assert!(!budgets.contains("midori"), "midori is fine: {budgets}");

    let kpis = section(&report, "KPIs");
    assert!(kpis.contains("| KPI | shift 8h | 7d |"), "{kpis}");
    assert!(
        kpis.contains("| First-reply SLA met | n/a: closed inquiries known only since 09:59 UTC"),
        "{kpis}"
    );

    let questions = section(&report, "Open questions");
    assert!(
        questions.contains("- Failed: write 2 (escalate inquiry:101, 09:00 UTC) — 1 sent, 1 failed, last error: HTTP 422 Unprocessable Entity. Retry or redo it by hand."),
        "{questions}"
    );
    assert!(
        questions
            .contains("- Not delivered yet: write 3 (annotate inquiry:102, 09:55 UTC) — 1 queued."),
        "{questions}"
    );
    assert!(
        questions.contains("- Source failing: incidents pagerduty — pagerduty: HTTP 503 Service Unavailable; sections above use its data from 12s ago."),
        "{questions}"
    );

    // Nothing remote reaches the terminal raw.
    assert!(!report.contains('\u{1b}'), "an escape sequence got through");
    assert!(
        !report.lines().any(|l| l.starts_with("## injected")),
        "a subject became a heading"
    );
}

#[test]
fn without_a_journal_the_report_says_so_instead_of_none() {
    let m = model();
    let report = handover::render(&Report {
        model: &m,
        writes: &[],
        journal: Err("journal /x/journal.db: unable to open database file"),
        from: common::now() - SignedDuration::from_hours(8),
        next_shift: SignedDuration::from_hours(8),
    });
    let writes = section(&report, "Escalations and annotations this shift");
    assert!(
        writes.contains(
            "the journal is unavailable: journal /x/journal.db: unable to open database file"
        ),
        "{writes}"
    );
    assert!(!writes.contains("None this shift"), "{writes}");
    assert!(
        section(&report, "Open questions").contains("- The journal is unavailable"),
        "{report}"
    );
}

#[test]
fn the_h_key_hands_the_report_to_the_app_which_says_where_it_went() {
    let mut m = model();
    let effects = m.update(common::key('H'));
    let [Do::Handover] = effects.as_slice() else {
        panic!("expected one Handover, got {effects:?}")
    };
    // The app renders the report from the model as it is when asked.
    let (file_name, markdown) = &handover::shift_report(&m);
    assert_eq!(file_name, "handover-20261121T1000Z.md");
    for heading in SECTIONS {
        assert!(markdown.contains(&format!("\n## {heading}\n")), "{heading}");
    }
    let dir = tempfile::tempdir().unwrap();
    let said = handover::save(dir.path(), file_name, markdown);
    let path = dir.path().join("handovers").join(file_name);
    assert_eq!(
        said,
        format!("handover report written to {}", path.display())
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), *markdown);
    // A data dir that cannot hold it: the footer says so.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "").unwrap();
    assert!(handover::save(&blocked, file_name, markdown).contains("NOT written"));
}

// ---- against the real servers -------------------------------------------------

/// `cre-cockpit handover` with RT as the desk, Prometheus (seeded SLO
/// burns) and Alertmanager (seeded alerts), and a journal seeded with this
/// shift's writes about those very items.
#[ignore = "needs RT, Prometheus, Alertmanager (scripts/test.sh starts it)"]
#[tokio::test]
async fn handover_against_real_rt_prometheus_and_alertmanager() {
    let (Some(rt), Some(token), Some(prom), Some(am)) = (
        common::service("CRE_COCKPIT_RT_URL"),
        common::service("CRE_COCKPIT_RT_TOKEN"),
        common::service("CRE_COCKPIT_PROMETHEUS"),
        common::service("CRE_COCKPIT_ALERTMANAGER"),
    ) else {
        return;
    };
    let rest = common::rt::Rest::new(&rt, &token);
    let queue = rest.queue("handover").await;
    let urgent = rest
        .ticket(&queue, "Checkout returns 500", 95, "acme")
        .await;
    let hostile = rest
        .ticket(
            &queue,
            "Export\u{1b}]52;c;cHduZWQ=\u{7} fails [click](http://evil)",
            80,
            "globex",
        )
        .await;
    let later = rest
        .ticket(&queue, "How do I rotate keys?", 10, "initech")
        .await;

    // The seeded customers, named in RT's Customer field by their tenant.
    let customers: Vec<Account> = five_customers()
        .into_iter()
        .map(|a| Account {
            desk_org: a.tenant.clone(),
            ..a
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.csv"), accounts_csv(&customers)).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[desk]\nkind = \"rt\"\nurl = \"{rt}\"\ntoken_env = \"TEST_RT_TOKEN\"\n\
             queue = \"{queue}\"\ncustomer_field = \"Customer\"\n\n\
             [metrics]\nkind = \"prometheus\"\nurl = \"{prom}\"\n\n\
             [incidents]\nkind = \"alertmanager\"\nurl = \"{am}\"\n\n\
             [accounts]\nfile = \"accounts.csv\"\n\n\
             [service_tenants]\ndb = [\"umbrella\"]\n{SLOS_TOML}"
        ),
    )
    .unwrap();

    // The shift's writes, journalled where the cockpit keeps them.
    let data = dir.path().join("data");
    let now = Timestamp::now();
    let at = |min: i64| now - SignedDuration::from_mins(min);
    {
        let mut journal = Journal::open(&data.join("cockpit.db")).unwrap();
        let update = journal
            .insert(
                WriteKind::CustomerUpdate,
                &Target::Incident("HighErrorRate/api".into()),
                "We are investigating elevated API errors.",
                vec![SourceWrite::DeskNote {
                    ticket: urgent.clone(),
                    body: "…".into(),
                    public: false,
                }],
                at(10),
            )
            .unwrap();
        journal
            .set_state(update.steps[0].id, StepState::Sent, None, None, at(9))
            .unwrap();
        let escalation = journal
            .insert(
                WriteKind::Escalate,
                &Target::Inquiry(urgent.clone()),
                "Checkout 500s: API engineering",
                vec![SourceWrite::DeskPriority {
                    ticket: urgent.clone(),
                    priority: "urgent".into(),
                }],
                at(40),
            )
            .unwrap();
        journal
            .set_state(
                escalation.steps[0].id,
                StepState::Failed,
                Some("HTTP 403 Forbidden"),
                None,
                at(39),
            )
            .unwrap();
        journal
            .insert(
                WriteKind::Annotate,
                &Target::Customer("c5".into()),
                "Soylent asked about SSO errors by phone",
                vec![SourceWrite::Local],
                at(20),
            )
            .unwrap();
        journal
            .insert(
                WriteKind::Annotate,
                &Target::Customer("c3".into()),
                "Noted on the shift before",
                vec![SourceWrite::Local],
                at(9 * 60),
            )
            .unwrap();
    }

    let out = dir.path().join("handover.md");
    let run = Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "handover",
            "--since",
            "8h",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("HOME", dir.path())
        .env("CRE_COCKPIT_DATA", &data)
        .env("TEST_RT_TOKEN", &token)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("wrote {}", out.display())
    );
    let report = std::fs::read_to_string(&out).unwrap();
    assert!(!report.contains(&token), "the token leaked into the report");
    assert!(!report.contains('\u{1b}') && !report.contains('\u{7}'));
    for heading in SECTIONS {
        assert!(
            section(&report, heading).contains("_Source: "),
            "{heading} does not say where its data came from"
        );
    }

    let incidents = section(&report, "Active incidents");
    assert!(
        incidents.contains("_Source: incidents alertmanager, data "),
        "{incidents}"
    );
    let api = incidents
        .split("\n### ")
        .find(|b| b.starts_with("SEV1 HighErrorRate/api — "))
        .unwrap_or_else(|| panic!("no SEV1 api block in {incidents}"));
    for customer in ["Umbrella", "Initech", "Globex", "Acme Corp"] {
        assert!(
            api.contains(&format!("  - {customer} (")),
            "{customer}: {api}"
        );
    }
    assert!(
        api.contains(&format!("#{urgent}")),
        "the urgent acme ticket is linked: {api}"
    );
    assert!(
        api.contains("1 update(s); the latest at") && api.contains("— 1 sent"),
        "{api}"
    );
    let due = api
        .lines()
        .find(|l| l.starts_with("- Next customer update due: "))
        .unwrap();
    assert!(due.contains("— in 9m") || due.contains("— in 10m"), "{due}");
    // The silenced alert is not active; the detected SSO burn is.
    assert!(!incidents.contains("LatencyP99High"), "{incidents}");
    let sso = incidents
        .split("\n### ")
        .find(|b| b.contains("slo:sso logins"))
        .unwrap_or_else(|| panic!("no detected sso incident in {incidents}"));
    // Detected by this very poll: its first notice is due in 5 minutes.
    assert!(sso.contains("State: detected · service sso"), "{sso}");
    assert!(sso.contains("  - Soylent (small), error ratio "), "{sso}");
    assert!(sso.contains("no customer update posted yet"), "{sso}");
    assert!(sso.contains("— in 5m"), "{sso}");
    // The disk alert began hours before the seed and has had no update.
    let db = incidents
        .split("\n### ")
        .find(|b| b.starts_with("SEV4 DiskAlmostFull/db"))
        .unwrap_or_else(|| panic!("no db block in {incidents}"));
    assert!(db.contains("  - Umbrella (small)"), "{db}");
    // A SEV4 with no update posted has no customer-update cadence: the
    // report agrees with the pane's "—" instead of calling it overdue.
    assert!(db.contains("Next customer update: none due"), "{db}");
    assert!(!db.contains("OVERDUE"), "{db}");

    let customers = section(&report, "Customers: band changes and falling fast");
    assert!(
        customers.contains("- Acme Corp (enterprise, high-touch) — IN INCIDENT"),
        "{customers}"
    );

    let queue = section(&report, "Queue: SLA breaches in the next shift");
    assert!(queue.contains("_Source: desk rt, data "), "{queue}");
    let coming = queue.split("Already past SLA").next().unwrap();
    assert!(
        coming.contains(&format!(
            "- #{urgent} urgent · Acme Corp · Checkout returns 500 — due "
        )),
        "{coming}"
    );
    assert!(
        coming.contains(&format!(
            "- #{hostile} high · Globex · Export\\]52;c;cHduZWQ= fails \\[click\\](http://evil) — due "
        )),
        "{coming}"
    );
    assert!(
        !queue.contains(&format!("#{later} ")),
        "low: due tomorrow: {queue}"
    );

    let writes = section(&report, "Escalations and annotations this shift");
    assert!(
        writes.contains(&format!(
            "_Source: the journal at {}",
            data.join("cockpit.db").display()
        )),
        "{writes}"
    );
    assert!(
        writes.contains(&format!(
            "escalate · inquiry:{urgent} · \"Checkout 500s: API engineering\" — failed"
        )),
        "{writes}"
    );
    assert!(
        writes.contains(&format!(
            "  - set priority urgent on ticket {urgent}: failed (HTTP 403 Forbidden)"
        )),
        "{writes}"
    );
    assert!(
        writes.contains(
            "annotate · customer:c5 · \"Soylent asked about SSO errors by phone\" — local"
        ),
        "{writes}"
    );
    assert!(!writes.contains("shift before"), "{writes}");

    let budgets = section(&report, "Error budgets burning");
    assert!(
        budgets.contains("_Source: metrics prometheus, data "),
        "{budgets}"
    );
    assert!(
        budgets.contains("  - tenant initech (Initech): PAGE-level burn, 30.0× over 1h"),
        "{budgets}"
    );
    assert!(
        budgets.contains("- sso logins (service sso, 99.5% over 30d)"),
        "{budgets}"
    );
    assert!(
        budgets.contains("  - tenant soylent (Soylent): "),
        "{budgets}"
    );

    // RT lists no closed history on a first read: the closed-inquiry KPIs
    // say so rather than report zero.
    let kpis = section(&report, "KPIs");
    assert!(
        kpis.contains("| One-touch resolution | n/a: closed inquiries known only since"),
        "{kpis}"
    );

    let questions = section(&report, "Open questions");
    assert!(
        questions.contains(&format!("- Failed: write 2 (escalate inquiry:{urgent}, ")),
        "{questions}"
    );
    assert!(!questions.contains("Source failing"), "{questions}");
}

fn run(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn handover_without_config_reports_on_the_demo() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["handover", "--since", "12h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.starts_with("# Shift handover — "), "{report}");
    assert!(report.contains("DEMO data from the built-in simulator"));
    for heading in SECTIONS {
        assert!(section(&report, heading).contains("_Source: "), "{heading}");
    }
    // --since sets both the span looked back and the next shift ahead.
    let header = report.lines().next().unwrap();
    let (from, _) = header
        .trim_start_matches("# Shift handover — ")
        .split_once(" to ")
        .unwrap();
    let from: Timestamp = format!("{}:00Z", from.trim_end_matches(" UTC").replace(' ', "T"))
        .parse()
        .unwrap();
    let to = from + SignedDuration::from_hours(12);
    assert_eq!(
        header,
        format!(
            "# Shift handover — {} to {}",
            from.strftime("%Y-%m-%d %H:%M UTC"),
            to.strftime("%H:%M UTC")
        )
    );
    let queue = section(&report, "Queue: SLA breaches in the next shift");
    assert!(
        queue.contains(&format!(
            "Will breach before {} (",
            (to + SignedDuration::from_hours(12)).strftime("%Y-%m-%d %H:%M UTC")
        )),
        "{queue}"
    );
    // The demo keeps its own journal, in the (empty) home's data dir.
    assert!(
        report.contains(&format!(
            "the journal at {}",
            home.path()
                .join(".local/share/cre-cockpit/demo/cockpit.db")
                .display()
        )),
        "{report}"
    );
}

#[test]
fn a_bad_span_is_refused_before_anything_is_polled() {
    let home = tempfile::tempdir().unwrap();
    for bad in ["soon", "-8h", "0s"] {
        let out = run(home.path(), &["handover", &format!("--since={bad}")]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("--since {bad:?}: write a positive duration")),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}
