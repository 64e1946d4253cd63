//! `?`: every bound action with its keys, from the live keymap, the keys
//! of the dialogs and of the user's saved views, the `:` commands and the
//! rule of the default order — in as many columns as the terminal's width
//! holds, lines wrapped rather than cut. And the handover report (`H`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::theme;
use super::widgets::{self, Hints, Overlay};
use crate::model::Model;
use crate::model::action::Action;

/// Columns narrower than this wrap too much to read.
const COLUMN_MIN: u16 = 64;

/// Keys that dialogs take directly (not rebindable: they are the dialog's
/// own vocabulary, and are named in each dialog too).
const DIALOG_KEYS: &[(&str, &str)] = &[
    ("ctrl-s", "note / update editor: review what will be sent"),
    ("ctrl-e", "note / update editor: edit in $EDITOR"),
    ("y", "confirm the write shown (public replies ask twice)"),
    ("n", "back to the text from a confirmation"),
    ("P", "update review: send as a public reply instead"),
    ("← →", "update review: previous / next recipient"),
    ("esc", "dialog: back; on typed text asks before discarding"),
    ("ctrl-c", "quit (asks first while a write is being edited)"),
];

fn entry(keys: &str, what: &str, name: Option<&str>) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!("{keys:>14}  "), theme::KEY),
        Span::raw(what.to_owned()),
    ];
    if let Some(name) = name {
        spans.push(Span::styled(format!("  :{name}"), theme::MUTED));
    }
    Line::from(spans)
}

/// The help's lines, in reading order.
fn lines(model: &Model) -> Vec<Line<'static>> {
    let keymap = &model.settings.keymap;
    let mut lines = vec![widgets::heading("  Keys (rebindable in [keys])")];
    for (action, keys) in keymap.bound() {
        let keys = keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        lines.push(entry(&keys, action.describe(), Some(action.as_ref())));
    }
    lines.push(Line::raw(""));
    lines.push(widgets::heading("  In dialogs"));
    for (key, what) in DIALOG_KEYS {
        lines.push(entry(key, what, None));
    }
    let own: Vec<Line<'static>> = model
        .settings
        .views
        .iter()
        .filter_map(|v| {
            let key = v.key?;
            Some(entry(&key.to_string(), &format!("view: {}", v.name), None))
        })
        .collect();
    if !own.is_empty() {
        lines.push(Line::raw(""));
        lines.push(widgets::heading("  Your views ([[views]])"));
        lines.extend(own);
    }
    lines.push(Line::raw(""));
    lines.push(widgets::heading(
        "  Commands (: then a name; tab completes, fuzzy)",
    ));
    for (name, args, what) in crate::model::command::COMMANDS {
        lines.push(entry(&format!(":{name} {args}"), what, None));
    }
    lines.push(Line::raw(""));
    lines.push(widgets::heading("  Order"));
    lines.push(Line::from(vec![
        Span::styled(format!("{:>14}  ", "most urgent"), theme::KEY),
        Span::raw(crate::model::URGENCY_RULE),
    ]));
    lines.push(Line::from(vec![
        Span::styled(format!("{:>14}  ", "filter /"), theme::KEY),
        Span::raw("fuzzy; several words must all match; case and accents ignored"),
    ]));
    lines.push(Line::from(vec![
        Span::styled(format!("{:>14}  ", "mouse"), theme::KEY),
        Span::raw(if model.mouse {
            "on: click a row or tab, wheel scrolls (:mouse off, [ui] mouse)"
        } else {
            "off: the terminal selects text (:mouse on, [ui] mouse)"
        }),
    ]));
    lines
}

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, scroll: u16) {
    let keymap = &model.settings.keymap;
    let lines = lines(model);
    // As many columns as fit; the lines split between them by the height
    // they take once wrapped, so no column runs past the others.
    let columns = usize::from((area.width.saturating_sub(2) / COLUMN_MIN).clamp(1, 3));
    let column_width = usize::from(area.width.saturating_sub(2)) / columns;
    let rows = |l: &Line<'_>| l.width().max(1).div_ceil(column_width.max(1));
    let total: usize = lines.iter().map(rows).sum();
    let target = total.div_ceil(columns);
    let mut chunks: Vec<Vec<Line<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for line in lines {
        let h = rows(&line);
        if used + h > target && chunks.len() < columns && used > 0 {
            chunks.push(Vec::new());
            used = 0;
        }
        used += h;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(line);
        }
    }
    let tallest = chunks
        .iter()
        .map(|c| c.iter().map(rows).sum::<usize>())
        .max()
        .unwrap_or(0);
    let height = u16::try_from(tallest + 2).unwrap_or(u16::MAX);
    let popup = widgets::centered(area, area.width, height);
    // Both keys that close the help, as bound now.
    let title = match widgets::keys(keymap, &[Action::Help, Action::Back], " or ") {
        Some(keys) => format!(" Keys — {keys} to close "),
        None => " Keys ".to_owned(),
    };
    let hints = Hints::new(keymap).add(&[Action::Down, Action::Up], "scroll");
    let inner = Overlay::new(title).hints(&hints).frame(frame, popup);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(inner);
    for (chunk, column) in chunks.into_iter().zip(areas.iter()) {
        frame.render_widget(
            Paragraph::new(chunk)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            *column,
        );
    }
}

/// The handover report just written, to read (and scroll) in place.
pub fn handover(frame: &mut Frame<'_>, area: Rect, model: &Model, scroll: u16) {
    let keymap = &model.settings.keymap;
    let text = model
        .handover
        .as_deref()
        .unwrap_or("no handover written yet");
    let lines: Vec<Line<'static>> = text
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                widgets::heading(l)
            } else {
                Line::raw(l.to_owned())
            }
        })
        .collect();
    let hints = Hints::new(keymap)
        .add(&[Action::Down, Action::Up], "scroll")
        .add(&[Action::PageDown, Action::PageUp], "page")
        .add(&[Action::Back], "close");
    Overlay::new(" Shift handover ")
        .hints(&hints)
        .wrap()
        .scroll(scroll)
        .render(frame, area, lines);
}
