//! The cockpit in an incident: a new SEV1 leads the screen (banner, tab
//! badge, cursors), incident mode is navigable, the `:` command line and
//! `?` fit the terminal, the selection survives NO_COLOR — as whole frames
//! at 200×50, 120×40 and 80×24 — and the keystroke budget of the three
//! things a CRE does first in an incident.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code, key, model, render, screen};
use cre_cockpit::core::domain::{Priority, Severity};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Overlay, Pane, Section};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

const SIZES: [(u16, u16); 3] = [(200, 50), (120, 40), (80, 24)];

fn ctrl(c: char) -> Message {
    Message::Input(crossterm::event::Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        m.update(key(c));
    }
}

/// The common model (its SEV1 already known), then a new SEV1 starts.
fn sev1_starts(m: &mut Model) {
    let mut incidents = common::incidents();
    incidents.push(common::fixtures::incident(
        "PINC02",
        "Checkout payments failing",
        Severity::Sev1,
        "api",
        common::ago(2),
    ));
    m.update(Message::Incidents {
        vendor: Vendor::Pagerduty,
        at: common::now(),
        result: Ok(incidents),
    });
}

/// A vendor whose clock runs ahead of ours sends a start in our future: the
/// banner and incident mode say "0s ago", never a negative age.
#[test]
fn an_incident_started_on_a_clock_ahead_of_ours_is_never_negative_ago() {
    let mut m = model();
    let mut incidents = common::incidents();
    incidents.push(common::fixtures::incident(
        "PINC02",
        "Checkout payments failing",
        Severity::Sev1,
        "api",
        common::now() + jiff::SignedDuration::from_secs(19),
    ));
    m.update(Message::Incidents {
        vendor: Vendor::Pagerduty,
        at: common::now(),
        result: Ok(incidents),
    });
    let banner = screen(&render(&mut m, 200, 50));
    assert!(
        banner.contains("Checkout payments failing · 0s ago"),
        "{banner}"
    );
    m.update(key('i'));
    let mode = screen(&render(&mut m, 200, 50));
    assert!(mode.contains("started 0s ago"), "{mode}");
    assert!(!banner.contains("-19s"), "{banner}");
    assert!(!mode.contains("-19s"), "{mode}");
    // The shift report says the same, not "in 19s".
    let (_, report) = cre_cockpit::report::handover::shift_report(&m);
    assert!(report.contains("(0s ago)"), "{report}");
    assert!(!report.contains("in 19s"), "{report}");
}

#[test]
fn a_new_sev1_takes_the_banner_the_tab_and_the_cursors() {
    let mut m = model();
    // The user looks at the incidents pane, at its last row, long ago.
    m.update(key('3'));
    m.update(key('G'));
    m.update(Message::Tick(
        common::now() + jiff::SignedDuration::from_mins(2),
    ));
    m.update(key('1'));
    sev1_starts(&mut m);
    assert_eq!(m.offered_incident.as_deref(), Some("PINC02"));
    let incidents = &m.panes[Pane::Incidents as usize];
    assert_eq!(incidents.selected_id.as_deref(), Some("PINC02"));
    for (w, h) in SIZES {
        let text = screen(&render(&mut m, w, h));
        assert!(
            text.contains("Checkout payments failing"),
            "{w}x{h}\n{text}"
        );
        assert!(text.contains("i incident mode"), "{w}x{h}\n{text}");
        if w < 120 {
            assert!(
                text.contains("▲Sev1 Incidents") || text.contains("▲SEV1 Incidents"),
                "{text}"
            );
        }
        insta::assert_snapshot!(format!("sev1_banner_{w}x{h}"), text);
    }
    // One key opens it.
    m.update(key('i'));
    assert!(matches!(&m.overlay, Overlay::Incident { id, .. } if id == "PINC02"));
    assert_eq!(m.offered_incident, None);
}

#[test]
fn a_cursor_moved_within_the_minute_is_left_alone() {
    let mut m = model();
    sev1_starts(&mut m); // nothing moved yet: follows
    let mut m2 = model();
    m2.update(key('3'));
    m2.update(key('k')); // moved just now
    let before = m2.panes[Pane::Incidents as usize].selected_id.clone();
    sev1_starts(&mut m2);
    assert_eq!(m2.panes[Pane::Incidents as usize].selected_id, before);
    assert_eq!(
        m.panes[Pane::Incidents as usize].selected_id.as_deref(),
        Some("PINC02")
    );
}

#[test]
fn incident_mode_is_navigable_with_the_usual_keys() {
    for (w, h) in SIZES {
        let mut m = model();
        render(&mut m, w, h);
        m.update(key('i'));
        m.update(code(KeyCode::Tab));
        let Overlay::Incident { section, .. } = &m.overlay else {
            panic!("not in incident mode")
        };
        assert_eq!(*section, Section::Inquiries);
        m.update(key('j'));
        let text = screen(&render(&mut m, w, h));
        assert!(text.contains("▶ Linked inquiries"), "{w}x{h}\n{text}");
        insta::assert_snapshot!(format!("incident_mode_cursor_{w}x{h}"), text);
        // enter opens the inquiry under the cursor, esc comes back.
        let Overlay::Incident { rows, .. } = m.overlay.clone() else {
            unreachable!()
        };
        m.update(code(KeyCode::Enter));
        assert!(
            matches!(&m.overlay, Overlay::Detail { .. }),
            "{:?}",
            m.overlay
        );
        m.update(code(KeyCode::Esc));
        assert!(
            matches!(&m.overlay, Overlay::Incident { section: Section::Inquiries, rows: r, .. } if *r == rows),
            "{:?}",
            m.overlay
        );
    }
}

#[test]
fn linked_inquiries_are_in_urgency_order() {
    let m = model();
    let order: Vec<_> = m
        .linked_in_order(0)
        .iter()
        .map(|i| cre_cockpit::model::urgency(i, m.now))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn the_command_line_completes_fuzzily_and_runs() {
    for (w, h) in SIZES {
        let mut m = model();
        m.update(key(':'));
        typed(&mut m, "hnd");
        let completions = m.completions();
        assert_eq!(completions[0].name, "handover", "{completions:?}");
        let text = screen(&render(&mut m, w, h));
        assert!(text.contains(": hnd"), "{text}");
        insta::assert_snapshot!(format!("command_line_{w}x{h}"), text);
    }
    let mut m = model();
    m.update(key(':'));
    typed(&mut m, "sort pri");
    m.update(code(KeyCode::Enter));
    assert_eq!(m.panes[Pane::Inquiries as usize].sort, 1);
    // History: ↑ brings it back.
    m.update(key(':'));
    m.update(code(KeyCode::Up));
    assert_eq!(m.command.as_ref().unwrap().text, "sort pri");
    m.update(code(KeyCode::Esc));
    // tab completes a name typed in part.
    m.update(key(':'));
    typed(&mut m, "jour");
    m.update(code(KeyCode::Tab));
    assert_eq!(m.command.as_ref().unwrap().text, "journal");
    m.update(code(KeyCode::Enter));
    assert!(matches!(m.overlay, Overlay::Journal { .. }));
}

#[test]
fn help_fits_the_width_and_names_the_dialog_and_view_keys() {
    for (w, h) in SIZES {
        let mut m = model();
        m.update(key('?'));
        let text = screen(&render(&mut m, w, h));
        if w >= 200 {
            for needle in ["ctrl-s", "ctrl-e", "  P  ", ":note", "most urgent"] {
                assert!(text.contains(needle), "{w}x{h} lacks {needle:?}\n{text}");
            }
        }
        insta::assert_snapshot!(format!("help_{w}x{h}"), text);
    }
}

#[test]
fn no_color_keeps_the_selection_visible_by_symbol_and_reverse() {
    for (w, h) in SIZES {
        let mut m = model();
        m.settings.no_color = true;
        let terminal = render(&mut m, w, h);
        let buffer = terminal.backend().buffer();
        assert!(
            buffer
                .content
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
            "a colour survived NO_COLOR"
        );
        let text = screen(&terminal);
        let row = text
            .lines()
            .position(|l| l.contains("▶ "))
            .unwrap_or_else(|| panic!("no selection symbol at {w}x{h}\n{text}"));
        let y = u16::try_from(row).unwrap();
        let reversed = (0..w).any(|x| buffer[(x, y)].modifier.contains(Modifier::REVERSED));
        assert!(reversed, "the selected row is not in reverse video");
        insta::assert_snapshot!(format!("no_color_{w}x{h}"), text);
    }
}

#[test]
fn no_cell_has_its_foreground_equal_to_its_background() {
    let mut m = model();
    sev1_starts(&mut m);
    for (w, h) in SIZES {
        for keys in [&[][..], &['2'][..], &['3'][..], &['i'][..], &['?'][..]] {
            let mut m = m.clone();
            for k in keys {
                m.update(key(*k));
            }
            let terminal = render(&mut m, w, h);
            for cell in &terminal.backend().buffer().content {
                assert!(
                    cell.bg == Color::Reset || cell.fg != cell.bg,
                    "{:?} on {:?} at {w}x{h} after {keys:?}",
                    cell.fg,
                    cell.bg
                );
            }
        }
    }
}

#[test]
fn top_bar_chips_collapse_and_a_long_error_pushes_none_off() {
    let mut m = model();
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Err(cre_cockpit::core::domain::SourceError::new("x".repeat(300))),
    });
    for (w, h) in SIZES {
        let text = screen(&render(&mut m, w, h));
        let top = text.lines().next().unwrap();
        // Full names where they fit, else collapsed ones ("met", "acct").
        let kinds = ["✗ desk", "● met", "● inc", "● ac"];
        for kind in kinds {
            assert!(top.contains(kind), "{w}: {kind} chip fell off: {top}");
        }
    }
}

// ---- keystroke budget, from launch ------------------------------------------

#[test]
fn budget_sev1_affected_customers_in_two_keys_or_fewer() {
    let mut m = model();
    sev1_starts(&mut m);
    render(&mut m, 80, 24);
    m.update(key('i')); // 1 key
    let text = screen(&render(&mut m, 80, 24));
    assert!(text.contains("Affected customers"), "{text}");
    let Overlay::Incident { section, .. } = &m.overlay else {
        panic!("not in incident mode")
    };
    assert_eq!(*section, Section::Customers);
}

#[test]
fn budget_customer_update_in_four_keys_plus_text() {
    let mut m = model();
    m.update(key('u')); // 1: incident mode + the update dialog
    m.update(code(KeyCode::Enter)); // 2: the template, in the editor
    typed(&mut m, " We are on it.");
    m.update(ctrl('s')); // 3: review every recipient's text
    let effects = m.update(key('y')); // 4: journal it
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, cre_cockpit::model::message::Effect::Journal(_))),
        "{effects:?}"
    );
}

/// The inquiry on the review page and the pages' inquiries, in order.
fn review_page(m: &Model) -> (String, Vec<String>) {
    let Some(cre_cockpit::model::Prompt::Update {
        stage: cre_cockpit::model::UpdateStage::Review { rendered, page, .. },
        ..
    }) = &m.prompt
    else {
        panic!("not reviewing an update")
    };
    let ids: Vec<String> = rendered.iter().map(|r| r.inquiry.clone()).collect();
    (ids[*page].clone(), ids)
}

#[test]
fn making_an_update_public_keeps_the_recipient_being_read_when_links_arrive() {
    let mut m = model();
    m.update(key('u'));
    m.update(code(KeyCode::Enter));
    m.update(ctrl('s'));
    m.update(code(KeyCode::Right));
    m.update(code(KeyCode::Right));
    let (reading, before) = review_page(&m);
    assert_eq!(before.iter().position(|id| *id == reading), Some(2));
    // While the private text is read, a new Acme inquiry arrives during the
    // incident and links before the page being read.
    let mut newer = common::inquiry("105", "Orders API down", "Acme Corp", Priority::Urgent, 95);
    newer.feature_area = Some("api".into());
    m.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: common::now(),
        result: Ok(cre_cockpit::core::domain::DeskUpdate {
            changed: vec![newer],
            ..Default::default()
        }),
    });
    m.update(key('P'));
    let (now_reading, after) = review_page(&m);
    assert!(after.contains(&"105".to_owned()), "{after:?}");
    assert!(
        after.iter().position(|id| *id == reading) > Some(2),
        "the new link comes before the page: {after:?}"
    );
    assert_eq!(
        now_reading, reading,
        "the same customer's text stays on screen"
    );
}

#[test]
fn budget_find_a_customer_by_fuzzy_name_in_three_keys_plus_text() {
    let mut m = model();
    m.update(key('2')); // 1
    m.update(key('/')); // 2
    typed(&mut m, "glbx");
    m.update(code(KeyCode::Enter)); // 3
    let view = &m.panes[Pane::Customers as usize];
    assert_eq!(view.order.len(), 1);
    assert_eq!(
        m.row_id(Pane::Customers, view.selected).as_deref(),
        Some("c3")
    );
}

#[test]
fn ctrl_c_quits_but_asks_over_a_draft() {
    let mut m = model();
    m.update(key('a'));
    typed(&mut m, "half a note");
    assert!(m.update(ctrl('c')).is_empty(), "quit over a draft at once");
    assert!(!m.quit);
    m.update(ctrl('c'));
    assert!(m.quit);
    // esc on a typed draft asks too.
    let mut m = model();
    m.update(key('a'));
    typed(&mut m, "x");
    m.update(code(KeyCode::Esc));
    assert!(m.prompt.is_some());
    m.update(code(KeyCode::Esc));
    assert!(m.prompt.is_none());
}

/// The ids a pane shows, in order.
fn shown(m: &Model, pane: Pane) -> Vec<String> {
    (0..m.panes[pane as usize].order.len())
        .filter_map(|row| m.row_id(pane, row))
        .collect()
}

#[test]
fn filter_field_rules_are_anded_with_the_fuzzy_words() {
    let mut m = model();
    m.run_command("filter priority>=high");
    assert_eq!(shown(&m, Pane::Inquiries), ["101", "102"]);
    m.run_command("filter acme priority >= high");
    assert_eq!(shown(&m, Pane::Inquiries), ["101"]);
    // customer= is the account's name, id or tenant.
    m.run_command("filter customer=acme status=open,pending");
    let mut ids = shown(&m, Pane::Inquiries);
    ids.sort();
    assert_eq!(ids, ["101", "104"]);
    m.run_command("filter priority<normal");
    assert_eq!(shown(&m, Pane::Inquiries), ["103"]);
    // The matched words are highlighted, the rules are not text to find.
    assert_eq!(
        cre_cockpit::model::view_highlights("acme priority>=high", "Acme Corp"),
        vec![0, 1, 2, 3]
    );

    m.update(key('2'));
    m.run_command("filter segment=enterprise");
    assert_eq!(shown(&m, Pane::Customers), ["c1"]);
    m.run_command("filter arr>=50k");
    let mut ids = shown(&m, Pane::Customers);
    ids.sort();
    assert_eq!(ids, ["c1", "c2"]);
    m.run_command("filter arr>=50k glbx");
    assert!(shown(&m, Pane::Customers).is_empty());
}

#[test]
fn a_bad_filter_rule_says_why_in_the_footer() {
    let mut m = model();
    // :filter with a bad value is not applied, and says so.
    m.run_command("filter priority>=hihg");
    assert_eq!(shown(&m, Pane::Inquiries).len(), 4);
    let (said, _) = m.status.clone().unwrap();
    assert!(said.contains("unknown priority \"hihg\""), "{said}");
    assert!(said.contains("not applied"), "{said}");
    m.run_command("filter colour=red");
    let (said, _) = m.status.clone().unwrap();
    assert!(said.contains("unknown field \"colour\""), "{said}");
    // Typed into `/`, the footer names the fault while the words still
    // filter; enter keeps it in the footer.
    m.update(key('2'));
    m.update(key('/'));
    typed(&mut m, "acme owner>dana");
    let text = screen(&render(&mut m, 120, 40));
    let footer = text.lines().last().unwrap();
    assert!(footer.contains("owner takes =, !=, ~ or !~"), "{footer}");
    assert_eq!(shown(&m, Pane::Customers), ["c1"]);
    m.update(code(KeyCode::Enter));
    let (said, _) = m.status.clone().unwrap();
    assert!(said.contains("filter owner>dana"), "{said}");
}

#[test]
fn typing_and_backspacing_a_filter_shows_what_the_whole_filter_shows() {
    // A keystroke that narrows the words reuses what the previous words
    // kept, and backspace returns to them: every step must show what the
    // same text shows when filtered from scratch.
    let fresh = |text: &str| {
        let mut m = model();
        m.run_command(&format!("filter {text}"));
        shown(&m, Pane::Inquiries)
    };
    let text = "ac o !sso";
    let mut m = model();
    m.update(key('/'));
    let check = |m: &Model| {
        let step = m.panes[Pane::Inquiries as usize].filter.clone();
        assert_eq!(shown(m, Pane::Inquiries), fresh(&step), "after {step:?}");
    };
    for c in text.chars() {
        m.update(key(c));
        check(&m);
    }
    for _ in text.chars() {
        m.update(code(KeyCode::Backspace));
        check(&m);
    }
    assert_eq!(shown(&m, Pane::Inquiries).len(), 4);
    assert_eq!(fresh("ac o !sso"), ["101"]);
    assert_eq!(fresh("ac"), ["101", "104"]);
    // A negated word keeps the rows where no field contains it.
    let mut left = fresh("!acme");
    left.sort();
    assert_eq!(left, ["102", "103"]);
}

#[test]
fn a_in_incident_mode_annotates_what_the_cursor_is_on() {
    use cre_cockpit::core::writes::Target as WriteTarget;
    use cre_cockpit::model::Prompt;
    let mut m = model();
    render(&mut m, 120, 40);
    let about = |m: &Model| match &m.prompt {
        Some(Prompt::Annotate { target, about, .. }) => (target.clone(), about.clone()),
        other => panic!("no note dialog: {other:?}"),
    };
    m.update(key('i'));
    let Overlay::Incident { id, .. } = m.overlay.clone() else {
        panic!("not in incident mode")
    };
    // Customers have focus first: the note is about the first of them.
    let first = m.incident_cursor().unwrap();
    m.update(key('a'));
    let (target, said) = about(&m);
    let cre_cockpit::model::Target::Customer(account) = first else {
        panic!("{first:?}")
    };
    assert_eq!(target, WriteTarget::Customer(account.clone()));
    assert!(said.starts_with("customer "), "{said}");
    let text = screen(&render(&mut m, 120, 40));
    assert!(
        text.contains(&said),
        "the dialog names what the note is about\n{text}"
    );
    m.update(code(KeyCode::Esc));
    // The inquiries section, second row.
    m.update(code(KeyCode::Tab));
    m.update(key('j'));
    let index = m.data.incidents.iter().position(|i| i.id == id).unwrap();
    let second = m.linked_in_order(index)[1].id.to_string();
    m.update(key('a'));
    let (target, said) = about(&m);
    assert_eq!(target, WriteTarget::Inquiry(second.clone()));
    assert!(said.starts_with(&format!("inquiry {second}: ")), "{said}");
    m.update(code(KeyCode::Esc));
    // The timeline: the incident itself.
    m.update(code(KeyCode::Tab));
    m.update(key('a'));
    let (target, said) = about(&m);
    assert_eq!(target, WriteTarget::Incident(id.clone()));
    assert!(said.starts_with(&format!("incident {id}: ")), "{said}");
}

fn delivery(write: i64, step: i64, state: cre_cockpit::core::writes::StepState) -> Message {
    Message::Delivery(cre_cockpit::core::writes::Delivery {
        write_id: write,
        step_id: step,
        state,
        error: (state == cre_cockpit::core::writes::StepState::Failed)
            .then(|| "422 ticket is closed".to_owned()),
    })
}

fn footer_says(m: &Model) -> String {
    m.status.clone().map(|(s, _)| s).unwrap_or_default()
}

#[test]
fn queued_for_delivery_gives_way_to_what_became_of_the_write() {
    use cre_cockpit::core::writes::StepState::{Failed, Queued, Sent};
    let mut m = model();
    m.update(Message::Journalled(Ok(common::journalled(
        7,
        &[Queued, Queued],
    ))));
    assert!(
        footer_says(&m).contains("queued for delivery"),
        "{}",
        footer_says(&m)
    );
    // One of two steps sent: still on its way.
    m.update(delivery(7, 70, Sent));
    assert!(
        footer_says(&m).contains("queued for delivery"),
        "{}",
        footer_says(&m)
    );
    m.update(delivery(7, 71, Sent));
    assert_eq!(footer_says(&m), "write 7 delivered: 2 step(s) sent");
    let text = screen(&render(&mut m, 120, 40));
    assert!(!text.contains("queued for delivery"), "{text}");

    // A failure says so in its place.
    m.update(Message::Journalled(Ok(common::journalled(8, &[Queued]))));
    m.update(delivery(8, 80, Failed));
    assert_eq!(footer_says(&m), "write 8 failed: 422 ticket is closed");

    // A message said since is not overwritten by a quiet delivery.
    m.update(Message::Journalled(Ok(common::journalled(9, &[Queued]))));
    m.update(key('s'));
    let sorted = footer_says(&m);
    m.update(delivery(9, 90, Sent));
    assert_eq!(footer_says(&m), sorted);
}

#[test]
fn footer_messages_expire_on_the_clock() {
    let mut m = model();
    m.update(key('s'));
    let said_at = m.now;
    assert!(m.status.is_some());
    m.update(Message::Tick(
        said_at + cre_cockpit::model::STATUS_FOR - jiff::SignedDuration::from_secs(1),
    ));
    assert!(m.status.is_some(), "gone before its time");
    // Render alone never expires it: only the clock, in update.
    render(&mut m, 120, 40);
    assert!(m.status.is_some());
    m.update(Message::Tick(said_at + cre_cockpit::model::STATUS_FOR));
    assert_eq!(m.status, None);
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.lines().last().unwrap().contains("q quit"), "{text}");
}

fn help_scroll(m: &Model) -> u16 {
    match m.overlay {
        Overlay::Help { scroll } => scroll,
        ref other => panic!("help closed: {other:?}"),
    }
}

#[test]
fn help_scrolls_where_it_does_not_fit() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut m = model();
        render(&mut m, w, h);
        m.update(key('?'));
        let text = screen(&render(&mut m, w, h));
        assert!(text.contains("· rows 1–"), "{w}x{h}: no position\n{text}");
        for hint in ["j/k scroll", "page", "g/G top/end"] {
            assert!(text.contains(hint), "{w}x{h}: no {hint:?}\n{text}");
        }
        let max = m.help_max_scroll();
        assert!(max > 0, "{w}x{h}: everything fits, nothing to test");
        // G: the end, where the last line (the mouse setting) shows.
        m.update(key('G'));
        assert_eq!(help_scroll(&m), max);
        let text = screen(&render(&mut m, w, h));
        assert!(text.contains("wheel scrolls"), "{w}x{h}\n{text}");
        assert!(text.contains(" ↑ "), "{w}x{h}\n{text}");
        insta::assert_snapshot!(format!("help_scrolled_{w}x{h}"), text);
        // Never past the end; k, a page, g go back.
        m.update(key('j'));
        assert_eq!(help_scroll(&m), max);
        m.update(key('k'));
        assert_eq!(help_scroll(&m), max - 1);
        m.update(code(KeyCode::PageUp));
        m.update(key('g'));
        assert_eq!(help_scroll(&m), 0);
        m.update(code(KeyCode::PageDown));
        let page = help_scroll(&m);
        assert!(page > 1 && page <= max, "{w}x{h}: a page is {page}");
        m.update(code(KeyCode::Esc));
        assert_eq!(m.overlay, Overlay::None);
    }
    // At 200×50 it fits in three columns: no scroll hint.
    let mut m = model();
    render(&mut m, 200, 50);
    m.update(key('?'));
    assert_eq!(m.help_max_scroll(), 0);
    let text = screen(&render(&mut m, 200, 50));
    assert!(!text.contains("· rows"), "{text}");
}

#[test]
fn the_mouse_setting_drives_the_terminal_switch() {
    use cre_cockpit::model::message::Effect;
    use cre_cockpit::model::{Settings, SourceState};
    // `[ui] mouse = false` reaches the model the terminal loop reads.
    let m = Model::new(
        Settings {
            mouse: false,
            ..Settings::default()
        },
        Vec::<SourceState>::new(),
        common::now(),
    );
    assert!(!m.mouse);
    let mut m = model();
    assert!(m.mouse, "on by default");
    // `:mouse off` / `:mouse on` / `:mouse` (toggle) ask the terminal.
    assert_eq!(m.run_command("mouse off"), [Effect::Mouse(false)]);
    assert!(!m.mouse);
    let m2 = &mut m;
    m2.update(key('?'));
    let text = screen(&render(m2, 200, 50));
    assert!(text.contains("off: the terminal selects text"), "{text}");
    m.update(code(KeyCode::Esc));
    m.update(key(':'));
    typed(&mut m, "mouse on");
    assert_eq!(m.update(code(KeyCode::Enter)), [Effect::Mouse(true)]);
    assert!(m.mouse);
    assert_eq!(m.run_command("mouse"), [Effect::Mouse(false)]);
}

#[test]
fn the_handover_opens_scrolls_and_closes() {
    use cre_cockpit::model::message::Effect;
    let mut m = model();
    render(&mut m, 120, 40);
    let effects = m.update(key('H'));
    assert!(effects.contains(&Effect::Handover), "{effects:?}");
    // The app writes the report from the model and answers with it.
    let (file, markdown) = cre_cockpit::report::handover::shift_report(&m);
    let mut report = markdown.clone();
    for i in 1..=40 {
        report.push_str(&format!("\n- filler line {i} to need scrolling"));
    }
    m.update(Message::HandoverWritten {
        report,
        said: format!("handover written to {file}"),
    });
    assert_eq!(m.overlay, Overlay::Handover { scroll: 0 });
    let text = screen(&render(&mut m, 120, 40));
    assert!(text.contains("Shift handover"), "{text}");
    assert!(text.contains("j/k scroll"), "{text}");
    let first = markdown.lines().next().unwrap().trim().to_owned();
    assert!(text.contains(&first), "{text}");
    insta::assert_snapshot!("handover_overlay_120x40", text);
    m.update(key('j'));
    assert_eq!(m.overlay, Overlay::Handover { scroll: 1 });
    let text = screen(&render(&mut m, 120, 40));
    assert!(!text.contains(&first), "{text}");
    m.update(code(KeyCode::PageDown));
    assert_eq!(m.overlay, Overlay::Handover { scroll: 11 });
    m.update(code(KeyCode::PageUp));
    m.update(key('k'));
    assert_eq!(m.overlay, Overlay::Handover { scroll: 0 });
    m.update(code(KeyCode::Esc));
    assert_eq!(m.overlay, Overlay::None);
    // H again while it is open closes it too.
    m.update(Message::HandoverWritten {
        report: markdown,
        said: String::new(),
    });
    m.update(key('H'));
    assert_eq!(m.overlay, Overlay::None);
}
