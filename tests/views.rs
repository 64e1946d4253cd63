//! Saved views of the inquiries pane, through `Model::update` as the keys
//! drive them, with views from config.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inquiry, key, now};
use cre_cockpit::config::Config;
use cre_cockpit::core::domain::{DeskUpdate, Priority, SlaClock, SlaMetric};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Pane};
use jiff::SignedDuration;

const CONFIG: &str = r#"
[ui]
me = "Alex Kim"

[[views]]
name = "enterprise urgent"
filter = "segment = enterprise and priority >= high"
key = "alt-1"

[[views]]
name = "billing"
filter = 'area = billing or tag ~ invoice'
"#;

/// The common fixtures plus an unassigned, an escalated and a billing one,
/// with settings from `CONFIG`.
fn model() -> Model {
    let config = Config::parse(CONFIG).unwrap();
    let mut m = Model::new(config.settings(false), Vec::new(), now());
    m.update(Message::Accounts {
        file: "accounts.csv".into(),
        at: now(),
        result: Ok(common::accounts()),
        rejected: Vec::new(),
    });
    let mut unassigned = inquiry("105", "Nobody took this", "Globex", Priority::Normal, 10);
    unassigned.assignee = None;
    let mut escalated = inquiry("106", "Escalated to L2", "Globex", Priority::Low, 5);
    escalated.tags = vec!["escalated_l2".into()];
    escalated.assignee = Some("Sam Agent".into());
    let mut billing = inquiry("107", "Invoice wrong", "株式会社ミドリ", Priority::Low, 5);
    billing.feature_area = Some("billing".into());
    billing.assignee = Some("Sam Agent".into());
    // A desk SLA far away, so it is not "breaching".
    billing.sla = Some(SlaClock {
        metric: SlaMetric::FirstReply,
        due: now() + SignedDuration::from_hours(30),
        business_hours: false,
    });
    let mut changed = common::inquiries();
    changed.extend([unassigned, escalated, billing]);
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: now(),
        result: Ok(DeskUpdate {
            full: true,
            changed,
            removed: Vec::new(),
            requests: 1,
        }),
    });
    m
}

fn shown(m: &Model) -> Vec<String> {
    let mut ids: Vec<String> = (0..m.panes[Pane::Inquiries as usize].order.len())
        .map(|r| m.inquiry_at(r).unwrap().id.to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn built_in_views_are_one_key_away() {
    let mut m = model();
    assert_eq!(shown(&m).len(), 7, "all open by default");
    m.update(key('U'));
    assert_eq!(shown(&m), ["105"]);
    m.update(key('M'));
    assert_eq!(
        shown(&m),
        ["101", "102", "103", "104"],
        "assigned to [ui] me"
    );
    m.update(key('E'));
    assert_eq!(shown(&m), ["106"]);
    m.update(key('B'));
    // 101 is breached (urgent, 90 min old); 105/106 are 5–10 min old
    // normal/low tickets, far from breaching; 102 (high, 30 min old) has
    // 3h30m left.
    assert_eq!(shown(&m), ["101"]);
    m.update(key('O'));
    assert_eq!(shown(&m).len(), 7);
}

#[test]
fn config_views_filter_by_expression_and_cycle_with_v() {
    let mut m = model();
    let alt_1 = Message::Input(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('1'),
            crossterm::event::KeyModifiers::ALT,
        ),
    ));
    m.update(alt_1);
    // Acme Corp is the enterprise account; 101 urgent, 104 normal.
    assert_eq!(shown(&m), ["101"]);
    assert!(m.status.as_ref().unwrap().0.contains("enterprise urgent"));
    // v cycles on: the "billing" view, then back to all open.
    m.update(key('v'));
    assert_eq!(shown(&m), ["107"]);
    m.update(key('v'));
    assert_eq!(shown(&m).len(), 7);
    // The text filter narrows within the view.
    m.update(key('M'));
    m.update(key('/'));
    for c in "sso".chars() {
        m.update(key(c));
    }
    assert_eq!(shown(&m), ["104"]);
}

#[test]
fn a_view_follows_new_data() {
    let mut m = model();
    m.update(key('U'));
    let mut fresh = inquiry("108", "Just in", "Globex", Priority::High, 1);
    fresh.assignee = None;
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: now(),
        result: Ok(DeskUpdate {
            changed: vec![fresh],
            ..DeskUpdate::default()
        }),
    });
    assert_eq!(shown(&m), ["105", "108"]);
}

#[test]
fn the_pane_title_names_the_view() {
    let mut m = model();
    m.update(key('E'));
    let terminal = common::render(&mut m, 160, 40);
    let screen = common::screen(&terminal);
    assert!(
        screen.contains("Open inquiries 1/7  view escalated"),
        "{screen}"
    );
}

#[test]
fn mine_without_me_says_how_to_fix_it() {
    let mut m = common::model();
    m.update(key('M'));
    assert!(shown(&m).is_empty());
    assert!(m.status.as_ref().unwrap().0.contains("[ui] me"));
}

#[test]
fn bad_views_name_file_line_and_key() {
    let text = "[[views]]\nname = \"a\"\nfilter = \"tag = vip\"\n\n[[views]]\nname = \"b\"\nfilter = \"priority = hihg\"\n";
    let err = Config::parse(text).unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (7, "views[1].filter"));
    assert!(err.message.contains("unknown priority"), "{}", err.message);
    let clash = "[[views]]\nname = \"a\"\nfilter = \"tag = vip\"\nkey = \"q\"\n";
    let err = Config::parse(clash).unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (4, "views[0].key"));
    assert!(err.message.contains("quit"), "{}", err.message);
}
