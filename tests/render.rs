//! Whole-frame render tests on ratatui's TestBackend, at the wide (200×50)
//! and the smallest supported (80×24) size. Text snapshots catch layout
//! changes; the explicit assertions say what must never disappear.
#![allow(clippy::unwrap_used)]

mod common;

use common::{key, model, render, screen};
use cre_cockpit::core::domain::{SourceError, SourceKind};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::Message;
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
        vendor: Vendor::Zendesk,
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
        Vendor::Zendesk,
    )];
    let mut m = cre_cockpit::model::Model::new(settings, sources, common::now());
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
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
            cre_cockpit::core::domain::Comment {
                id: "1".into(),
                author: Some("Ren".into()),
                at: common::ago(80),
                public: true,
                body: "We get 500s".into(),
                attachments: vec![cre_cockpit::core::domain::Attachment {
                    name: "har-export.har".into(),
                    size: Some(48_213),
                    url: Some(
                        "https://acme.zendesk.com/attachments/token/x/?name=har-export.har".into(),
                    ),
                }],
            },
            cre_cockpit::core::domain::Comment {
                id: "2".into(),
                author: Some("Alex".into()),
                at: common::ago(70),
                public: false,
                body: "Linked to PINC01".into(),
                attachments: Vec::new(),
            },
        ]),
    });
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.contains("── public "), "{text}");
    assert!(text.contains("INTERNAL NOTE"), "{text}");
    assert!(text.contains("Linked to PINC01"), "{text}");
    assert!(
        text.contains("attachment har-export.har (47 KB)"),
        "attachments are listed with their size: {text}"
    );
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
    assert!(text.contains("Linked inquiries (3)"), "{text}");
    insta::assert_snapshot!("incident_detail", text);
}

fn ctrl(c: char) -> Message {
    Message::Input(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::CONTROL,
        ),
    ))
}

#[test]
fn annotate_previews_where_the_note_goes_before_saving() {
    let mut m = model();
    m.update(key('a'));
    for c in "Called ACME — 調査中".chars() {
        m.update(key(c));
    }
    let text = screen(&render(&mut m, 120, 40));
    assert!(
        text.contains("Note on inquiry 101: API returns 500 on /orders"),
        "{text}"
    );
    assert!(text.contains("Called ACME — 調査中"), "{text}");
    // Nothing is saved without the confirmation.
    assert!(m.update(ctrl('s')).is_empty());
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.contains("private note on ticket 101"), "{text}");
    assert!(text.contains("journal it and send"), "{text}");
    insta::assert_snapshot!("annotate_confirm", text);
    let effects = m.update(key('y'));
    let [cre_cockpit::model::message::Effect::Journal(request)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(request.text, "Called ACME — 調査中");
    assert_eq!(
        request.target,
        cre_cockpit::core::writes::Target::Inquiry("101".into())
    );
}

#[test]
fn escalate_shows_every_effect_and_the_context_bundle() {
    let mut m = model();
    m.settings.desk_tags = true;
    m.settings
        .escalation
        .targets
        .push(cre_cockpit::insight::escalation::EscalationTarget {
            name: "api-eng".into(),
            label: Some("API engineering".into()),
            feature_areas: vec!["api".into()],
            priority: Some("urgent".into()),
            group: None,
            tags: Vec::new(),
            routing_key_env: Some("PD_API".into()),
            severity: "critical".into(),
        });
    // Inquiry 102 (high) is second in the queue.
    m.update(key('j'));
    m.update(key('e'));
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.contains("api-eng"), "{text}");
    m.update(common::code(crossterm::event::KeyCode::Enter));
    let text = screen(&render(&mut m, 120, 40));
    for needle in [
        "set priority urgent on ticket 102",
        "add tags escalated, escalated-api-eng to ticket 102",
        "private note on ticket 102",
        "page on-call (critical, dedup key cre-cockpit/inquiry:102)",
        "Customer: 株式会社ミドリ",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    insta::assert_snapshot!("escalate_confirm", text);
    // `n` goes back to the choice; nothing was journalled.
    assert!(m.update(key('n')).is_empty());
}

#[test]
fn read_only_refuses_writes_on_screen() {
    let mut m = model();
    m.settings.read_only = true;
    m.update(key('a'));
    assert!(m.prompt.is_none());
    let text = screen(&render(&mut m, 200, 50));
    assert!(text.contains("read-only: writes are turned off"), "{text}");
    assert!(text.contains("READ-ONLY"), "{text}");
}

#[test]
fn incident_mode_answers_who_what_and_when() {
    let mut m = model();
    m.update(key('i'));
    for (w, h) in [(200, 50), (80, 24)] {
        let text = screen(&render(&mut m, w, h));
        assert!(text.contains("INCIDENT"), "{text}");
        assert!(text.contains("API error rate elevated"), "{text}");
        assert!(text.contains("Affected customers 1"), "{text}");
        assert!(text.contains("Linked inquiries 3"), "{text}");
        // Started 100 min ago, first notice due after 5: overdue.
        assert!(text.contains("customer update OVERDUE by 1h35m"), "{text}");
        insta::assert_snapshot!(format!("incident_mode_{w}x{h}"), text);
    }
}

#[test]
fn a_customer_update_goes_to_every_linked_inquiry_and_resets_the_countdown() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let ctrl = |c: char| {
        Message::Input(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )))
    };
    let mut m = model();
    m.update(key('i'));
    m.update(key('u'));
    // Enter opens the template in the editor, placeholders and all.
    m.update(common::code(KeyCode::Enter));
    let text = screen(&render(&mut m, 160, 45));
    assert!(
        text.contains("Hello {customer}, we are investigating"),
        "{text}"
    );
    // Typed text lands in the update; ctrl-s renders it per recipient.
    m.update(common::code(KeyCode::End));
    for c in " Thanks.".chars() {
        m.update(key(c));
    }
    m.update(ctrl('s'));
    let text = screen(&render(&mut m, 160, 45));
    assert!(text.contains("Recipient 1 of 3: inquiry 101"), "{text}");
    assert!(
        text.contains("as a private note on each of the 3 linked inquiries"),
        "{text}"
    );
    assert!(
        !text.contains("{customer}"),
        "rendered, not the template: {text}"
    );
    assert!(text.contains("Thanks."), "{text}");
    // Page to the second recipient's own text.
    m.update(common::code(KeyCode::Right));
    let text = screen(&render(&mut m, 160, 45));
    assert!(text.contains("Recipient 2 of 3: inquiry 104"), "{text}");
    // Public needs P, then y twice.
    m.update(key('P'));
    assert!(
        m.update(key('y')).is_empty(),
        "the first y only confirms the switch"
    );
    let text = screen(&render(&mut m, 160, 45));
    assert!(
        text.contains("PUBLIC REPLY on 3 inquiries: confirmed"),
        "{text}"
    );
    let effects = m.update(key('y'));
    let [cre_cockpit::model::message::Effect::Journal(request)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        request.kind,
        cre_cockpit::core::writes::WriteKind::CustomerUpdate
    );
    let public: Vec<(String, bool, String)> = request
        .effects
        .iter()
        .filter_map(|e| match e {
            cre_cockpit::core::writes::SourceWrite::DeskNote {
                ticket,
                public,
                body,
            } => Some((ticket.clone(), *public, body.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(public.len(), 3);
    for (ticket, public, body) in &public {
        assert!(public, "{ticket}");
        assert!(body.starts_with("Hello "), "{ticket}: {body}");
        assert!(body.ends_with("Thanks."), "{ticket}: {body}");
        assert!(
            !body.contains('{'),
            "{ticket}: every placeholder filled: {body}"
        );
        assert!(
            !body.contains("API error rate elevated"),
            "no internal title: {body}"
        );
    }
    // The journal keeps the template as edited.
    assert!(
        request
            .text
            .starts_with("Hello {customer}, we are investigating"),
        "{}",
        request.text
    );

    // Once journalled, the next update is due one interval after it.
    let write = cre_cockpit::core::writes::Write {
        id: 9,
        created_at: common::now(),
        kind: request.kind,
        target: request.target.clone(),
        text: request.text.clone(),
        author: None,
        steps: Vec::new(),
    };
    m.update(Message::Journalled(Ok(write)));
    let text = screen(&render(&mut m, 160, 45));
    assert!(text.contains("next customer update due in 20m"), "{text}");
}

/// The hints in overlays are read from the live keymap: after a rebind
/// they name the new key, and never the default one that no longer works.
#[test]
fn overlay_hints_name_the_rebound_key() {
    use cre_cockpit::model::action::Action;
    use cre_cockpit::model::keymap::Keymap;
    let mut m = model();
    m.settings.keymap = Keymap::from_config(&std::collections::BTreeMap::from([
        (Action::Back, vec!["z".to_owned()]),
        (Action::Escalate, vec!["X".to_owned()]),
        (Action::Down, vec!["n".to_owned()]),
    ]))
    .unwrap();

    // The detail overlay's bottom line.
    m.update(common::code(crossterm::event::KeyCode::Enter));
    let text = screen(&render(&mut m, 120, 40));
    let hint = text
        .lines()
        .find(|l| l.contains(" back · "))
        .unwrap_or_else(|| panic!("no hint line in\n{text}"));
    assert!(hint.contains(" z back · n/k scroll "), "{hint}");
    assert!(!hint.contains("esc back"), "{hint}");
    assert!(!hint.contains("j/k"), "{hint}");
    assert!(
        text.contains("none yet — a to annotate, X to escalate"),
        "{text}"
    );

    // The rebound back key closes it, as the hint says.
    m.update(key('z'));
    assert!(matches!(m.overlay, cre_cockpit::model::Overlay::None));

    // Incident mode's title and the help's title.
    m.update(key('i'));
    let text = screen(&render(&mut m, 200, 50));
    assert!(
        text.contains(
            "INCIDENT MODE — u customer update · tab section · enter open · a note · X escalate · z back"
        ),
        "{text}"
    );
    assert!(!text.contains("e escalate"), "{text}");
    assert!(!text.contains("esc back"), "{text}");
    m.update(key('z'));
    m.update(key('?'));
    let text = screen(&render(&mut m, 200, 50));
    assert!(text.contains("Keys — ? or z to close"), "{text}");
    assert!(!text.contains("or esc to close"), "{text}");
}

#[test]
fn inquiry_detail_shows_custom_status_due_date_channel_plan_and_rating() {
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
    let inquiry = m
        .data
        .inquiries
        .iter_mut()
        .find(|i| i.id == id)
        .expect("the open inquiry");
    inquiry.desk = cre_cockpit::core::domain::DeskDetail {
        status_label: Some("Waiting on engineering".into()),
        due_at: Some(common::ago(-120)),
        channel: Some("email".into()),
        satisfaction: Some(cre_cockpit::core::domain::Satisfaction {
            good: false,
            at: "2026-11-20T09:00:00Z".parse().unwrap(),
        }),
        segment: Some("Enterprise".into()),
    };
    let status = inquiry.status;
    let text = screen(&render(&mut m, 120, 40));
    assert!(
        text.contains(&format!("status Waiting on engineering ({status})")),
        "{text}"
    );
    assert!(text.contains("due"), "{text}");
    assert!(text.contains("(in 2h00m)"), "{text}");
    assert!(
        text.contains("channel  email") || text.contains("email"),
        "{text}"
    );
    assert!(text.contains("Enterprise"), "{text}");
    assert!(text.contains("bad (2026-11-20)"), "{text}");
}

/// In a team's shared journal `J` names whose each write is, so the
/// on-call engineer sees the CRE already called; one's own writes (`[ui]
/// me`) go without, and a hostile author cannot reach the terminal.
#[test]
fn the_journal_names_a_teammates_write_and_not_ones_own() {
    use cre_cockpit::core::writes::StepState;
    let mut m = model();
    m.settings.me = Some("Sam".into());
    let mut theirs = common::journalled(2, &[StepState::Sent]);
    theirs.text = "called Acme's CTO".into();
    theirs.author = Some("Kim\u{1b}[2J Lee".into());
    let mut mine = common::journalled(1, &[StepState::Queued]);
    mine.author = Some("Sam".into());
    m.update(Message::JournalLoaded(vec![theirs, mine]));
    m.update(key('J'));
    let text = screen(&render(&mut m, 120, 40));
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{text}"))
            .to_string()
    };
    assert!(line("called Acme's CTO").contains("by Kim"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!line("called the customer").contains(" by "), "{text}");
}
