//! Whole-frame render tests on ratatui's TestBackend, at the wide (200×50)
//! and the smallest supported (80×24) size. Text snapshots catch layout
//! changes; the explicit assertions say what must never disappear.
#![allow(clippy::unwrap_used)]

mod common;

use common::{key, model, render, screen};
use cre_cockpit::domain::{SourceError, SourceKind};
use cre_cockpit::message::Message;
use cre_cockpit::ui::theme;

#[test]
fn wide_grid_shows_all_three_panes_with_rows() {
    let mut m = model();
    let terminal = render(&mut m, 200, 50);
    let text = screen(&terminal);
    for needle in [
        "DEMO",
        "Open inquiries 4",
        "At-risk customers 3",
        "Incidents 1",
        "API returns 500 on /orders",
        "ダッシュボードが表示されません",
        "Acme Corp",
        "API error rate elevated",
        "desk zendesk 12s ago",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    insta::assert_snapshot!("wide_all_panes", text);
}

#[test]
fn small_terminal_uses_tabs_and_keeps_rows() {
    let mut m = model();
    let terminal = render(&mut m, 80, 24);
    let text = screen(&terminal);
    assert!(text.contains("1 Open inquiries (4)"), "{text}");
    assert!(text.contains("API returns 500"), "{text}");
    insta::assert_snapshot!("small_inquiries", text);

    m.update(key('2'));
    let text = screen(&render(&mut m, 80, 24));
    assert!(text.contains("IN INCIDENT"), "{text}");
    assert!(text.contains("Acme Corp"), "{text}");
    insta::assert_snapshot!("small_customers", text);

    m.update(key('3'));
    let text = screen(&render(&mut m, 80, 24));
    assert!(text.contains("API error rate elevated"), "{text}");
    insta::assert_snapshot!("small_incidents", text);
}

#[test]
fn help_lists_every_bound_action_with_its_key() {
    let mut m = model();
    m.update(key('?'));
    let text = screen(&render(&mut m, 200, 50));
    for (action, keys) in m.settings.keymap.bound() {
        assert!(text.contains(&action.to_string()), "help lacks {action}");
        assert!(
            text.contains(&keys[0].to_string()),
            "help lacks key of {action}"
        );
    }
    insta::assert_snapshot!("help_wide", text);
    let text = screen(&render(&mut m, 80, 24));
    assert!(text.contains("quit"), "{text}");
    insta::assert_snapshot!("help_small", text);
}

#[test]
fn failing_source_is_shown_not_an_empty_list() {
    let mut m = model();
    m.update(Message::Desk {
        vendor: "zendesk",
        at: common::now(),
        result: Err(SourceError::new("desk: HTTP 500 Internal Server Error")),
    });
    let text = screen(&render(&mut m, 200, 50));
    assert!(text.contains("✗ desk zendesk desk: HTTP 500"), "{text}");
    assert!(text.contains("stale"), "{text}");
    // The last good rows stay on screen.
    assert!(text.contains("API returns 500 on /orders"), "{text}");
    assert!(text.contains("failing"), "{text}");
}

#[test]
fn never_loaded_desk_says_unavailable() {
    let settings = cre_cockpit::model::Settings::default();
    let sources = vec![cre_cockpit::model::SourceState::new(
        SourceKind::Desk,
        "zendesk",
    )];
    let mut m = cre_cockpit::model::Model::new(settings, sources, common::now());
    m.update(Message::Desk {
        vendor: "zendesk",
        at: common::now(),
        result: Err(SourceError::new("desk: cannot connect")),
    });
    let text = screen(&render(&mut m, 80, 24));
    assert!(
        text.contains("zendesk unavailable: desk: cannot connect"),
        "{text}"
    );
    assert!(!text.contains("inbox zero"), "{text}");
}

#[test]
fn breached_sla_is_negative_and_red() {
    let mut m = model();
    let terminal = render(&mut m, 200, 50);
    let buffer = terminal.backend().buffer();
    // Inquiry 101 (urgent, 90 min old, 1 h target) is 30 min past SLA and
    // sorts first.
    let text = screen(&terminal);
    let line = text
        .lines()
        .find(|l| l.contains("API returns 500 on /orders"))
        .unwrap();
    assert!(line.contains("-30m c"), "{line}");
    let y = u16::try_from(
        text.lines()
            .position(|l| l.contains("API returns 500 on /orders"))
            .unwrap(),
    )
    .unwrap();
    let x = u16::try_from(line.chars().position(|c| c == '-').unwrap()).unwrap();
    assert_eq!(buffer[(x, y)].fg, theme::CRITICAL.fg.unwrap());
}

#[test]
fn inquiry_detail_shows_conversation_public_and_private() {
    let mut m = model();
    render(&mut m, 120, 40);
    m.update(common::code(crossterm::event::KeyCode::Enter));
    let id = match &m.overlay {
        cre_cockpit::model::Overlay::Detail {
            target: cre_cockpit::model::Target::Inquiry(id),
            ..
        } => id.clone(),
        other => panic!("expected inquiry detail, got {other:?}"),
    };
    m.update(Message::Comments {
        id,
        result: Ok(vec![
            cre_cockpit::domain::Comment {
                id: "1".into(),
                author: Some("Ren".into()),
                at: common::ago(80),
                public: true,
                body: "We get 500s".into(),
            },
            cre_cockpit::domain::Comment {
                id: "2".into(),
                author: Some("Alex".into()),
                at: common::ago(70),
                public: false,
                body: "Linked to PINC01".into(),
            },
        ]),
    });
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.contains("── public "), "{text}");
    assert!(text.contains("INTERNAL NOTE"), "{text}");
    assert!(text.contains("Linked to PINC01"), "{text}");
    insta::assert_snapshot!("inquiry_detail", text);
}

#[test]
fn customer_and_incident_detail_explain_themselves() {
    let mut m = model();
    render(&mut m, 160, 45);
    m.update(key('2'));
    m.update(common::code(crossterm::event::KeyCode::Enter));
    let text = screen(&render(&mut m, 160, 45));
    assert!(
        text.contains("Why this score: factors, largest points lost first"),
        "{text}"
    );
    assert!(text.contains("RED FLAG"), "{text}");
    assert!(text.contains("CRE (customer liaison)"), "{text}");
    insta::assert_snapshot!("customer_detail", text);

    m.update(common::code(crossterm::event::KeyCode::Esc));
    m.update(key('3'));
    m.update(common::code(crossterm::event::KeyCode::Enter));
    let text = screen(&render(&mut m, 160, 45));
    assert!(text.contains("Affected customers (1)"), "{text}");
    assert!(text.contains("error ratio 8.1% ≥ 2.0%"), "{text}");
    assert!(text.contains("Linked inquiries (2)"), "{text}");
    insta::assert_snapshot!("incident_detail", text);
}
