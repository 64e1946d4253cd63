//! The voice-of-the-customer overlay: feature area × segment, with the
//! customers and ARR each group stands for.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::inquiries::segment_short;
use super::theme;
use super::widgets::{Hints, Overlay};
use crate::core::text;
use crate::model::Model;
use crate::model::action::Action;

/// How many customers a group names before "+N more".
const NAMES: usize = 4;

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, scroll: u16) {
    let groups = &model.derived.voc;
    let mut lines = vec![
        Line::from(Span::styled(
            "Open inquiries and those created in the last 30 days, by feature area and segment; \
             ranked by impact = Σ ARR × severity × (2 if the customer is not Green)",
            theme::MUTED,
        )),
        Line::from(Span::styled(
            format!(
                "{:<22} {:<4} {:>5} {:>6} {:>5} {:>7} {:>8} {:>8}  customers",
                "feature area", "seg", "open", "recent", "cust", "at risk", "ARR", "impact"
            ),
            theme::HEADER,
        )),
    ];
    if groups.is_empty() {
        lines.push(Line::from(Span::styled(
            "no inquiries from known customers",
            theme::MUTED,
        )));
    }
    let accounts = &model.data.accounts;
    for g in groups {
        let mut names: Vec<String> = g
            .customers
            .iter()
            .take(NAMES)
            .map(|&a| accounts[a].name.clone())
            .collect();
        if g.customers.len() > NAMES {
            names.push(format!("+{} more", g.customers.len() - NAMES));
        }
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<22} {:<4} {:>5} {:>6} {:>5} ",
                g.feature_area,
                segment_short(g.segment),
                g.open,
                g.recent,
                g.customers.len()
            )),
            Span::styled(
                format!("{:>7} ", g.at_risk),
                if g.at_risk > 0 {
                    theme::WARN
                } else {
                    theme::MUTED
                },
            ),
            Span::raw(format!(
                "{:>8} {:>8}  ",
                text::money(g.arr),
                text::money(g.impact)
            )),
            Span::styled(names.join(", "), theme::MUTED),
        ]));
    }
    let hint = Hints::new(&model.settings.keymap)
        .add(&[Action::Back], "back")
        .add(&[Action::Down, Action::Up], "scroll");
    Overlay::new(" Voice of the customer ")
        .hints(&hint)
        .scroll(scroll)
        .render(frame, area, lines);
}
