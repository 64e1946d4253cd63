//! `Model::update`: messages in, state and effects out, no IO.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code, inquiry, key, model};
use cre_cockpit::core::domain::{DeskUpdate, InquiryStatus, Priority, SourceError, SourceKind};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::{Effect, Message};
use cre_cockpit::model::{Overlay, Pane, SourceStatus, Target};
use crossterm::event::{Event, KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

fn selected_id(m: &cre_cockpit::model::Model, pane: Pane) -> Option<String> {
    m.row_id(pane, m.panes[pane as usize].selected)
}

#[test]
fn inquiries_sort_breached_first_then_time_left_then_priority() {
    let m = model();
    let order: Vec<&str> = (0..4)
        .map(|r| m.inquiry_at(r).unwrap().id.as_str())
        .collect();
    // 101 urgent breached; 102 high 3h30m left; 104 normal 7h40m; 103 low 14h.
    assert_eq!(order, ["101", "102", "104", "103"]);
}

#[test]
fn j_and_k_move_and_clamp() {
    let mut m = model();
    m.update(key('j'));
    m.update(key('j'));
    assert_eq!(selected_id(&m, Pane::Inquiries).as_deref(), Some("104"));
    for _ in 0..10 {
        m.update(key('j'));
    }
    assert_eq!(selected_id(&m, Pane::Inquiries).as_deref(), Some("103"));
    m.update(key('k'));
    assert_eq!(selected_id(&m, Pane::Inquiries).as_deref(), Some("104"));
    m.update(key('g'));
    assert_eq!(m.panes[0].selected, 0);
}

#[test]
fn selection_follows_the_item_when_new_rows_arrive() {
    let mut m = model();
    m.update(key('j'));
    assert_eq!(selected_id(&m, Pane::Inquiries).as_deref(), Some("102"));
    let urgent = inquiry("200", "Outage!", "Globex", Priority::Urgent, 120);
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Ok(DeskUpdate {
            changed: vec![urgent],
            ..DeskUpdate::default()
        }),
    });
    assert_eq!(
        m.inquiry_at(0).unwrap().id,
        "200",
        "the more breached one sorts first"
    );
    assert_eq!(
        selected_id(&m, Pane::Inquiries).as_deref(),
        Some("102"),
        "selection stays on the same inquiry"
    );
}

#[test]
fn solved_inquiries_leave_the_queue_and_full_updates_replace() {
    let mut m = model();
    let mut solved = inquiry(
        "103",
        "How do I export invoices?",
        "Globex",
        Priority::Low,
        600,
    );
    solved.status = InquiryStatus::Solved;
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Ok(DeskUpdate {
            changed: vec![solved],
            ..DeskUpdate::default()
        }),
    });
    assert_eq!(m.data.inquiries.len(), 3);
    assert!(m.data.inquiry("103").is_none());
    assert_eq!(m.panes[0].order.len(), 3);

    let only = inquiry("300", "Fresh start", "Acme Corp", Priority::Normal, 5);
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Ok(DeskUpdate {
            full: true,
            changed: vec![only],
            ..DeskUpdate::default()
        }),
    });
    assert_eq!(m.data.inquiries.len(), 1);
    assert_eq!(m.inquiry_at(0).unwrap().id, "300");
}

#[test]
fn a_failed_poll_keeps_the_last_good_data() {
    let mut m = model();
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Err(SourceError::new("desk: timed out")),
    });
    let desk = m.source(SourceKind::Desk).unwrap();
    assert_eq!(desk.status, SourceStatus::Failed);
    assert!(desk.is_stale());
    assert_eq!(desk.last_error.as_deref(), Some("desk: timed out"));
    assert_eq!(m.data.inquiries.len(), 4);
    // And recovers on the next good poll.
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Ok(DeskUpdate::default()),
    });
    assert_eq!(
        m.source(SourceKind::Desk).unwrap().status,
        SourceStatus::Ready
    );
}

#[test]
fn enter_opens_detail_and_asks_for_the_conversation() {
    let mut m = model();
    let effects = m.update(code(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::LoadComments("101".into())]);
    assert_eq!(
        m.overlay,
        Overlay::Detail {
            target: Target::Inquiry("101".into()),
            scroll: 0
        }
    );
    m.update(key('j'));
    assert_eq!(
        m.overlay,
        Overlay::Detail {
            target: Target::Inquiry("101".into()),
            scroll: 1
        },
        "j scrolls the detail"
    );
    m.update(code(KeyCode::Esc));
    assert_eq!(m.overlay, Overlay::None);

    m.update(key('3'));
    assert_eq!(
        m.update(code(KeyCode::Enter)),
        vec![Effect::LoadNotes("PINC01".into())]
    );
}

#[test]
fn filter_narrows_live_and_esc_clears() {
    let mut m = model();
    m.update(key('/'));
    for c in "acme".chars() {
        m.update(key(c));
    }
    assert_eq!(m.panes[0].order.len(), 2, "matches the customer name");
    m.update(code(KeyCode::Enter));
    assert!(m.filter_input.is_none());
    assert_eq!(m.panes[0].filter, "acme");
    // Keys act normally again once the prompt is closed.
    m.update(key('j'));
    assert_eq!(m.panes[0].selected, 1);
    m.update(code(KeyCode::Esc));
    assert_eq!(m.panes[0].order.len(), 4);

    m.update(key('/'));
    for c in "ダッシュ".chars() {
        m.update(key(c));
    }
    assert_eq!(m.panes[0].order.len(), 1, "Japanese subjects match too");
    m.update(code(KeyCode::Esc));
    assert!(m.panes[0].filter.is_empty());
}

#[test]
fn sort_cycles_through_the_panes_modes() {
    let mut m = model();
    m.update(key('s'));
    assert_eq!(m.panes[0].sort, 1);
    let priorities: Vec<Priority> = (0..4).map(|r| m.inquiry_at(r).unwrap().priority).collect();
    assert_eq!(
        priorities,
        [
            Priority::Urgent,
            Priority::High,
            Priority::Normal,
            Priority::Low
        ]
    );
    m.update(key('s'));
    assert_eq!(m.inquiry_at(0).unwrap().id, "104", "newest first");
    assert!(m.status.as_ref().unwrap().0.contains("newest"));
}

#[test]
fn focus_keys_and_tab_cycle() {
    let mut m = model();
    m.update(code(KeyCode::Tab));
    assert_eq!(m.focus, Pane::Customers);
    m.update(Message::Input(Event::Key(crossterm::event::KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    ))));
    assert_eq!(m.focus, Pane::Inquiries);
    m.update(key('3'));
    assert_eq!(m.focus, Pane::Incidents);
}

#[test]
fn refresh_quit_and_open_produce_effects() {
    let mut m = model();
    assert_eq!(m.update(key('r')), vec![Effect::Refresh]);
    assert_eq!(
        m.update(key('o')),
        vec![Effect::OpenUrl(
            "https://desk.example/agent/tickets/101".into()
        )]
    );
    assert_eq!(
        m.update(key('y')),
        vec![Effect::Copy(
            "https://desk.example/agent/tickets/101".into()
        )]
    );
    m.update(key('2'));
    assert_eq!(m.update(key('o')), vec![], "customers have no link");
    assert_eq!(m.update(key('q')), vec![Effect::Quit]);
    assert!(m.quit);
}

#[test]
fn mouse_click_selects_row_and_focuses_pane() {
    let mut m = model();
    m.update(Message::Input(Event::Resize(200, 50)));
    let areas =
        cre_cockpit::model::layout::areas(ratatui::layout::Rect::new(0, 0, 200, 50), m.focus);
    let incidents = areas.panes[Pane::Incidents as usize].unwrap();
    let customers = areas.panes[Pane::Customers as usize].unwrap();
    let click = |column, row| {
        Message::Input(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }))
    };
    m.update(click(customers.x + 3, customers.y + 4));
    assert_eq!(m.focus, Pane::Customers);
    assert_eq!(m.panes[Pane::Customers as usize].selected, 2);
    m.update(click(incidents.x + 3, incidents.y + 2));
    assert_eq!(m.focus, Pane::Incidents);
    let scroll = Message::Input(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 5,
        row: 5,
        modifiers: KeyModifiers::NONE,
    }));
    m.update(scroll);
    assert_eq!(
        m.panes[Pane::Inquiries as usize].selected,
        3,
        "wheel scrolls the pane under the pointer"
    );
}

#[test]
fn help_opens_and_swallows_navigation() {
    let mut m = model();
    m.update(key('?'));
    assert_eq!(m.overlay, Overlay::Help { scroll: 0 });
    m.update(key('2'));
    assert_eq!(m.focus, Pane::Inquiries, "keys behind the help do nothing");
    m.update(key('?'));
    assert_eq!(m.overlay, Overlay::None);
}

#[test]
fn incident_join_links_hurt_customers_and_new_inquiries() {
    use cre_cockpit::insight::join::Confidence;
    let m = model();
    let impact = &m.derived.impacts[0];
    let names: Vec<&str> = impact
        .affected
        .iter()
        .map(|a| m.data.accounts[a.account].name.as_str())
        .collect();
    assert_eq!(names, ["Acme Corp"], "only the tenant above 2% errors");
    let linked: Vec<(&str, Confidence)> = impact
        .linked
        .iter()
        .map(|l| (l.inquiry.as_str(), l.confidence))
        .collect();
    // Acme's inquiries since the incident began, then another customer's
    // API inquiry that came in during it (feature area api = its service).
    assert_eq!(
        linked,
        [
            ("101", Confidence::Customer),
            ("104", Confidence::Customer),
            ("102", Confidence::AreaTime)
        ]
    );
    // The hurt customer tops the at-risk queue, flagged IN INCIDENT.
    let top = &m.derived.customers[0];
    assert_eq!(m.data.accounts[top.account].id, "c1");
    assert!(top.health.in_incident);
    let action = top.next_action.as_ref().unwrap();
    assert_eq!(action.driver, "IN INCIDENT");
    // The deadline is anchored to the incident, so it comes closer as time
    // passes instead of moving with the clock.
    let started = m.data.incidents[0].started_at;
    assert_eq!(
        action.due,
        cre_cockpit::insight::join::Due::At(started + jiff::SignedDuration::from_mins(15))
    );
}

#[test]
fn next_action_deadlines_do_not_move_with_the_clock() {
    let mut m = model();
    let due_of = |m: &cre_cockpit::model::Model, id: &str| {
        let row = m
            .derived
            .customers
            .iter()
            .find(|c| m.data.accounts[c.account].id == id)
            .unwrap();
        row.next_action.as_ref().map(|a| a.due)
    };
    let before = due_of(&m, "c1");
    m.update(Message::Tick(
        common::now() + jiff::SignedDuration::from_mins(90),
    ));
    assert_eq!(due_of(&m, "c1"), before);
}

#[test]
fn clock_ticks_move_sla_and_clear_status() {
    let mut m = model();
    m.update(key('r'));
    assert!(m.status.is_some());
    m.update(Message::Tick(
        common::now() + jiff::SignedDuration::from_secs(10),
    ));
    assert!(
        m.status.is_none(),
        "status messages fade after a few seconds"
    );
    assert_eq!(m.now, common::now() + jiff::SignedDuration::from_secs(10));
}

fn notifications(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some(format!("{}: {}", n.title, n.body)),
            _ => None,
        })
        .collect()
}

#[test]
fn notifications_ring_once_for_what_becomes_true_after_start() {
    // The fixture's SEV1 and its Red customer were already there at start:
    // they are the baseline, not news.
    let mut m = model();
    let mut incidents = common::incidents();
    assert!(
        notifications(&m.update(Message::Incidents {
            vendor: Vendor::Pagerduty,
            at: common::now(),
            result: Ok(incidents.clone())
        }))
        .is_empty()
    );

    // A new SEV2 starts: one notification, and only once.
    let mut second = incidents[0].clone();
    second.id = "PINC02".into();
    second.title = "Webhooks delayed".into();
    second.severity = cre_cockpit::core::domain::Severity::Sev2;
    incidents.push(second);
    let shown = notifications(&m.update(Message::Incidents {
        vendor: Vendor::Pagerduty,
        at: common::now(),
        result: Ok(incidents.clone()),
    }));
    assert_eq!(shown, ["SEV2 incident: Webhooks delayed"]);
    assert!(
        notifications(&m.update(Message::Incidents {
            vendor: Vendor::Pagerduty,
            at: common::now(),
            result: Ok(incidents)
        }))
        .is_empty()
    );

    // Inquiry 102 (3h30m left) comes within 15 minutes of breaching.
    let later = common::now() + jiff::SignedDuration::from_mins(3 * 60 + 20);
    let shown = notifications(&m.update(Message::Tick(later)));
    assert_eq!(
        shown,
        ["SLA breach in 10 min: 102 ダッシュボードが表示されません"]
    );
    assert!(
        notifications(&m.update(Message::Tick(later + jiff::SignedDuration::from_secs(30))))
            .is_empty()
    );
}

#[test]
fn notifications_can_be_turned_off() {
    let mut m = model();
    m.settings.notify = cre_cockpit::insight::notify::NotifyConfig {
        bell: false,
        desktop: cre_cockpit::insight::notify::Desktop::Off,
    };
    let later = common::now() + jiff::SignedDuration::from_mins(3 * 60 + 20);
    assert!(notifications(&m.update(Message::Tick(later))).is_empty());
}

#[test]
fn a_detected_burn_pages_the_on_call_sre_now() {
    let mut m = model();
    let mut incidents = common::incidents();
    incidents[0].status = cre_cockpit::core::domain::IncidentStatus::Detected;
    incidents[0].severity = cre_cockpit::core::domain::Severity::Sev2;
    // Linked to the detected row (the join links burning tenants; naming
    // the tenant is the shortest way to link it here).
    incidents[0].tenants = vec!["acme".into()];
    m.update(Message::Incidents {
        vendor: Vendor::Pagerduty,
        at: common::now(),
        result: Ok(incidents),
    });
    let acme = m
        .derived
        .customers
        .iter()
        .find(|c| m.data.accounts[c.account].id == "c1")
        .unwrap();
    let action = acme.next_action.as_ref().unwrap();
    assert_eq!(action.who, "CRE → on-call SRE");
    assert_eq!(action.due, cre_cockpit::insight::join::Due::Now);
}

fn journalled(
    id: i64,
    states: &[cre_cockpit::core::writes::StepState],
) -> cre_cockpit::core::writes::Write {
    use cre_cockpit::core::writes::{SourceWrite, Step, Target as WriteTarget, Write, WriteKind};
    Write {
        id,
        created_at: common::now(),
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
                next_attempt_at: common::now(),
                last_error: None,
                sent_at: None,
                check_first: false,
                owner: None,
                lease_until: None,
            })
            .collect(),
    }
}

#[test]
fn the_journal_cancels_only_a_write_that_cannot_have_arrived_and_asks_first() {
    use cre_cockpit::core::writes::StepState;
    let mut m = model();
    m.update(Message::JournalLoaded(vec![
        journalled(2, &[StepState::Sending]),
        journalled(1, &[StepState::Queued]),
    ]));
    m.update(key('J'));
    // Write 2 is being sent: refused with the reason, nothing asked.
    assert!(m.update(key('x')).is_empty());
    assert!(
        m.status.as_ref().unwrap().0.contains("cannot be cancelled"),
        "{:?}",
        m.status
    );
    assert!(matches!(m.overlay, Overlay::Journal { confirm: false, .. }));
    // Write 1 is queued: x asks, any other key keeps it.
    m.update(key('j'));
    m.update(key('x'));
    assert!(matches!(
        m.overlay,
        Overlay::Journal {
            selected: 1,
            confirm: true
        }
    ));
    assert!(m.update(key('n')).is_empty());
    assert!(m.status.as_ref().unwrap().0.contains("kept"));
    m.update(key('x'));
    assert_eq!(m.update(key('y')), vec![Effect::CancelWrite(1)]);
    assert!(matches!(m.overlay, Overlay::Journal { confirm: false, .. }));
}

/// `l` on an inquiry: pick an open incident, enter journals the link; once
/// journalled the join counts the inquiry as linked by hand, and `l` again
/// offers to remove it.
#[test]
fn l_links_the_selected_inquiry_to_an_incident_by_hand() {
    use cre_cockpit::core::writes::{SourceWrite, Write};
    use cre_cockpit::insight::join::Confidence;
    use cre_cockpit::model::{Prompt, WriteRequest};
    let mut m = model();
    m.update(key('G'));
    let inquiry = selected_id(&m, Pane::Inquiries).unwrap();
    m.update(key('l'));
    let Some(Prompt::Link { options, .. }) = &m.prompt else {
        panic!("no link dialog: {:?}", m.status)
    };
    let index = options
        .iter()
        .position(|o| o.current.is_none())
        .expect("an incident it is not linked to");
    let incident = options[index].incident.clone();
    for _ in 0..index {
        m.update(key('j'));
    }
    let effects = m.update(code(KeyCode::Enter));
    let [
        Effect::Journal(WriteRequest {
            kind,
            target,
            text,
            effects,
        }),
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert_eq!(
        effects.as_slice(),
        [SourceWrite::Link {
            inquiry: inquiry.clone(),
            incident: incident.clone(),
            linked: true
        }]
    );
    // The journal answers; the join follows.
    let mut write = Write {
        kind: *kind,
        target: target.clone(),
        text: text.clone(),
        ..journalled(9, &[cre_cockpit::core::writes::StepState::Local])
    };
    write.steps[0].effect = effects[0].clone();
    m.update(Message::Journalled(Ok(write)));
    assert!(m.prompt.is_none());
    let index = m
        .data
        .incidents
        .iter()
        .position(|i| i.id == incident.as_str())
        .unwrap();
    let link = m.derived.impacts[index]
        .linked
        .iter()
        .find(|l| l.inquiry == inquiry)
        .expect("linked by hand");
    assert_eq!(link.confidence, Confidence::Manual);
    assert!(
        link.reason.contains("linked to incident"),
        "{}",
        link.reason
    );
    m.update(key('l'));
    let Some(Prompt::Link { options, .. }) = &m.prompt else {
        panic!()
    };
    let option = options.iter().find(|o| o.incident == incident).unwrap();
    assert_eq!(
        option.current,
        Some(Confidence::Manual),
        "enter would unlink"
    );
}

/// A row's write marker comes from an index of the writes by item: it must
/// follow the journal as it loads and as new writes are saved.
#[test]
fn writes_about_an_item_follow_the_journal_newest_first() {
    use cre_cockpit::core::writes::Target as WriteTarget;
    let mut m = model();
    let about = |m: &cre_cockpit::model::Model, id: &str| -> Vec<i64> {
        m.writes_for(&WriteTarget::Inquiry(id.into()))
            .map(|w| w.id)
            .collect()
    };
    let mut other = journalled(2, &[]);
    other.target = WriteTarget::Inquiry("102".into());
    m.update(Message::JournalLoaded(vec![other, journalled(1, &[])]));
    assert_eq!(about(&m, "101"), [1]);
    assert_eq!(about(&m, "102"), [2]);
    m.update(Message::Journalled(Ok(journalled(3, &[]))));
    assert_eq!(about(&m, "101"), [3, 1], "the new write first");
    assert_eq!(about(&m, "102"), [2]);
    assert!(about(&m, "103").is_empty());
}
