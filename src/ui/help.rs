//! `?`: every bound action with its keys, from the live keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme;
use super::widgets::{self, Overlay};
use crate::model::Model;
use crate::model::action::Action;

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, scroll: u16) {
    let keymap = &model.settings.keymap;
    let mut lines = Vec::new();
    for (action, keys) in keymap.bound() {
        let keys = keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        lines.push(Line::from(vec![
            Span::styled(format!("{keys:>18}  "), theme::KEY),
            Span::styled(format!("{:<18}", action.to_string()), theme::ACCENT),
            Span::raw(action.describe()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "  Mouse: click a row to select it, click a tab to switch, wheel to scroll. Keys are rebindable in [keys] of the config.",
        theme::MUTED,
    )));
    let popup = widgets::centered(
        area,
        100,
        u16::try_from(lines.len() + 2).unwrap_or(u16::MAX),
    );
    // Both keys that close the help, as bound now.
    let title = match widgets::keys(keymap, &[Action::Help, Action::Back], " or ") {
        Some(keys) => format!(" Keys — {keys} to close "),
        None => " Keys ".to_owned(),
    };
    Overlay::new(title)
        .scroll(scroll)
        .render(frame, popup, lines);
}
