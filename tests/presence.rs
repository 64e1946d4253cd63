//! Team mode in the cockpit: what it tells teammates it has open, how a
//! teammate's presence shows on rows and in details (and when it stops
//! showing), and the question before escalating what a teammate
//! escalated within the hour. The store side is in `team_store.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ago, code, key, model, now, render, screen};
use cre_cockpit::core::writes::{Doing, Presence, Target, WriteKind};
use cre_cockpit::model::message::{Effect, Message};
use cre_cockpit::model::{Model, Prompt};
use crossterm::event::KeyCode;
use jiff::SignedDuration;

fn team_model() -> Model {
    let mut m = model();
    m.settings.team = true;
    m.settings.me = Some("Sam".into());
    m
}

fn announced(effects: &[Effect]) -> Vec<Option<(Target, Doing)>> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Announce(open) => Some(open.clone()),
            _ => None,
        })
        .collect()
}

fn teammate(who: &str, target: Target, doing: Doing) -> Presence {
    Presence {
        who: who.into(),
        target,
        doing,
        seen_at: now(),
    }
}

#[test]
fn opening_reading_and_writing_are_announced_once_each_in_team_mode() {
    let mut m = team_model();
    let opened = m.update(code(KeyCode::Enter));
    let Some((Target::Inquiry(id), Doing::Viewing)) = m.open_item() else {
        panic!("enter should open an inquiry: {:?}", m.open_item());
    };
    assert_eq!(
        announced(&opened),
        [Some((Target::Inquiry(id.clone()), Doing::Viewing))]
    );
    // Scrolling the detail changes nothing a teammate sees: no news.
    assert!(announced(&m.update(key('j'))).is_empty());
    // A note on it is writing on it.
    assert_eq!(
        announced(&m.update(key('a'))),
        [Some((Target::Inquiry(id.clone()), Doing::Writing))]
    );
    assert_eq!(
        announced(&m.update(code(KeyCode::Esc))),
        [Some((Target::Inquiry(id), Doing::Viewing))]
    );
    assert_eq!(announced(&m.update(code(KeyCode::Esc))), [None]);

    // Alone (no `[team] store`) nothing is announced.
    let mut solo = model();
    assert!(announced(&solo.update(code(KeyCode::Enter))).is_empty());
}

#[test]
fn a_teammate_shows_on_the_row_and_in_the_detail_until_their_heartbeat_is_stale() {
    let mut m = team_model();
    m.update(code(KeyCode::Enter));
    let Some((target @ Target::Inquiry(_), _)) = m.open_item() else {
        panic!("no inquiry open");
    };
    m.update(Message::Presence(vec![
        teammate("Kim\u{1b}[2J", target.clone(), Doing::Writing),
        teammate("Lee", target.clone(), Doing::Viewing),
        // One's own other cockpit is not a teammate.
        teammate("Sam", target.clone(), Doing::Viewing),
    ]));
    let detail = screen(&render(&mut m, 120, 40));
    assert!(
        detail.contains("◉ Kim[2J is writing on it · Lee is reading it"),
        "{detail}"
    );
    assert!(!detail.contains("Sam"), "{detail}");
    assert!(!detail.contains('\u{1b}'), "{detail}");

    m.update(code(KeyCode::Esc));
    let rows = screen(&render(&mut m, 200, 50));
    let row = rows
        .lines()
        .find(|l| l.contains("◉Kim"))
        .unwrap_or_else(|| panic!("no row marks Kim:\n{rows}"));
    assert!(row.contains("◉Kim[2J✎+1 "), "{row}");

    // No heartbeat for a minute (their cockpit closed, or lost the
    // database): they are no longer shown as being on it.
    m.update(Message::Tick(now() + SignedDuration::from_secs(60)));
    let rows = screen(&render(&mut m, 200, 50));
    assert!(!rows.contains('◉'), "{rows}");
}

#[test]
fn escalating_what_a_teammate_escalated_within_the_hour_asks_first() {
    let mut m = team_model();
    m.settings
        .escalation
        .targets
        .push(cre_cockpit::insight::escalation::EscalationTarget {
            name: "api-eng".into(),
            label: None,
            feature_areas: Vec::new(),
            priority: None,
            group: None,
            tags: Vec::new(),
            routing_key_env: None,
            severity: "critical".into(),
        });
    m.update(code(KeyCode::Enter));
    let Some((target, _)) = m.open_item() else {
        panic!("no inquiry open");
    };
    m.update(code(KeyCode::Esc));
    let escalation = |author: &str, minutes: i64| {
        let mut w = common::journalled(7, &[]);
        w.kind = WriteKind::Escalate;
        w.target = target.clone();
        w.author = Some(author.into());
        w.created_at = ago(minutes);
        w
    };
    let asks = |m: &Model| {
        matches!(
            &m.prompt,
            Some(Prompt::Escalate {
                teammate: Some(_),
                ..
            })
        )
    };

    m.update(Message::JournalLoaded(vec![escalation("Kim", 12)]));
    m.update(key('e'));
    assert!(asks(&m), "{:?}", m.prompt);
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.contains("Kim escalated this 12m ago"), "{text}");
    // `n` leaves it at Kim's escalation: nothing journalled, dialog gone.
    let effects = m.update(key('n'));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Journal(_))),
        "{effects:?}"
    );
    assert!(m.prompt.is_none());
    // `y` goes on to the usual choice of target, and enter to its review.
    m.update(key('e'));
    m.update(key('y'));
    assert!(!asks(&m));
    m.update(code(KeyCode::Enter));
    assert!(matches!(
        m.prompt,
        Some(Prompt::Escalate {
            confirm: Some(_),
            ..
        })
    ));
    m.update(code(KeyCode::Esc));
    m.update(code(KeyCode::Esc));

    // One's own escalation, or a teammate's from over an hour ago: no
    // question.
    for write in [escalation("Sam", 12), escalation("Kim", 61)] {
        m.update(Message::JournalLoaded(vec![write]));
        m.update(key('e'));
        assert!(!asks(&m), "{:?}", m.prompt);
        assert!(m.prompt.is_some());
        m.update(code(KeyCode::Esc));
    }
}

/// Whose read each chip shows stays on the top line: in words where the
/// chips fit in full, as `⇅` / `←Kim` / `⋯` / `⚠` where they collapse;
/// only at 80 columns, where it would cut the data's age, it gives way.
#[test]
fn the_chips_say_whose_read_it_is_at_every_width() {
    use cre_cockpit::core::domain::SourceKind;
    use cre_cockpit::core::source::FeedRole;
    let mut m = team_model();
    for (kind, role) in [
        (SourceKind::Desk, FeedRole::Leading),
        (SourceKind::Metrics, FeedRole::Following("Kim".into())),
        (SourceKind::Incidents, FeedRole::Alone("down".into())),
    ] {
        m.update(Message::Feed { kind, role });
    }
    for width in [250, 200, 120] {
        let top = screen(&render(&mut m, width, 30))
            .lines()
            .next()
            .unwrap()
            .to_owned();
        let full = top.contains("polls for the team");
        if full {
            assert!(
                top.contains("via Kim") && top.contains("team store lost"),
                "{width}: {top}"
            );
        } else {
            for mark in ["⇅", "←Kim", "⚠"] {
                assert!(top.contains(mark), "{width}: {mark} in {top}");
            }
        }
        if width == 250 {
            assert!(full, "250 columns hold the chips in full: {top}");
        }
    }
    let top = screen(&render(&mut m, 80, 24))
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(!top.contains('…'), "no age cut short: {top}");
    assert!(top.contains("desk 12s") && top.contains("met 12s"), "{top}");
}
