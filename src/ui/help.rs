//! `?`: the help as `model::help` lays it out (every key from the live
//! keymap, the `:` commands, the order and filter rules), scrolled where
//! the model says, with a position and the scroll keys when it does not
//! all fit. And the handover report (`H`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use super::widgets::{self, Hints, Overlay};
use crate::model::Model;
use crate::model::action::Action;
use crate::model::help::HelpRow;

fn row(r: HelpRow) -> Line<'static> {
    match r {
        HelpRow::Heading(h) => widgets::heading(&h),
        HelpRow::Blank => Line::raw(""),
        HelpRow::Entry { keys, text, name } => {
            let mut spans = vec![
                Span::styled(format!("{:>14}  ", keys.unwrap_or_default()), theme::KEY),
                Span::raw(text),
            ];
            if let Some(name) = name {
                spans.push(Span::styled(format!("  {name}"), theme::MUTED));
            }
            Line::from(spans)
        }
    }
}

/// The help as the model laid it out, from `scroll` (kept within range by
/// `update`), with where the view is when it does not all fit.
pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, scroll: u16) {
    let keymap = &model.settings.keymap;
    let layout = model.help_layout(area.width);
    let height = u16::try_from(layout.rows + 2).unwrap_or(u16::MAX);
    let popup = widgets::centered(area, area.width, height);
    let visible = usize::from(popup.height.saturating_sub(2));
    let first = usize::from(scroll).min(layout.rows.saturating_sub(visible));
    let more = layout.rows > visible;
    // Both keys that close the help, as bound now.
    let mut title = match widgets::keys(keymap, &[Action::Help, Action::Back], " or ") {
        Some(keys) => format!(" Keys — {keys} to close "),
        None => " Keys ".to_owned(),
    };
    if more {
        let last = (first + visible).min(layout.rows);
        let arrows = match (first > 0, last < layout.rows) {
            (true, true) => "↑↓",
            (true, false) => "↑",
            _ => "↓",
        };
        title.push_str(&format!(
            "· rows {}–{last} of {} {arrows} ",
            first + 1,
            layout.rows
        ));
    }
    let mut hints = Hints::new(keymap);
    if more {
        hints = hints
            .add(&[Action::Down, Action::Up], "scroll")
            .add(&[Action::PageDown, Action::PageUp], "page")
            .add(&[Action::Top, Action::Bottom], "top/end");
    }
    let inner = Overlay::new(title).hints(&hints).frame(frame, popup);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); layout.columns.len()]).split(inner);
    let offset = u16::try_from(first).unwrap_or(u16::MAX);
    for (column, at) in layout.columns.into_iter().zip(areas.iter()) {
        let lines: Vec<Line<'static>> = column.into_iter().map(row).collect();
        frame.render_widget(Paragraph::new(lines).scroll((offset, 0)), *at);
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
