//! The at-risk customers pane: health with band colour, why, and what to do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{inquiries::segment_short, theme};
use crate::core::text;
use crate::insight::health::{Arrow, Trend};
use crate::insight::join::{CustomerRow, Due};
use crate::model::{Model, Pane};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    if model.panes[Pane::Customers as usize].order.is_empty() {
        super::empty_message(
            model,
            Pane::Customers,
            area,
            frame,
            "no customers in the accounts file",
        );
        return;
    }
    let wide = area.width >= 110;
    let mut header = vec!["Health", "Customer", "Seg", "ARR", "Renews"];
    let mut widths = vec![
        Constraint::Length(13),
        Constraint::Length(if wide { 22 } else { 16 }),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    if wide {
        // The driver column is as wide as the widest driver on screen (up
        // to 40): the next action, the column a CRE acts on, takes the rest.
        let view = &model.panes[Pane::Customers as usize];
        let visible = usize::from(
            area.height
                .saturating_sub(crate::model::layout::PANE_CHROME),
        );
        let driver_width = view
            .order
            .iter()
            .skip(view.offset)
            .take(visible)
            .map(|&i| driver(&model.derived.customers[i]).width())
            .max()
            .unwrap_or(10)
            .clamp(10, 40);
        header.extend(["Top driver", "Next action"]);
        widths.extend([
            Constraint::Length(u16::try_from(driver_width).unwrap_or(40)),
            Constraint::Fill(1),
        ]);
    } else {
        header.push("Next action");
        widths.push(Constraint::Fill(1));
    }
    let row = |i: usize| {
        let row = &model.derived.customers[i];
        let account = &model.data.accounts[row.account];
        let mut cells = vec![
            health_cell(row),
            Cell::from(super::widgets::marked(
                model,
                || crate::core::writes::Target::Customer(account.id.to_string()),
                &account.name,
                &model.panes[Pane::Customers as usize].filter,
            )),
            Cell::from(Span::styled(segment_short(account.segment), theme::MUTED)),
            Cell::from(text::money(account.arr)),
            renewal_cell(row),
        ];
        if wide {
            cells.push(Cell::from(driver(row)));
        }
        cells.push(Cell::from(action(model, row)));
        Row::new(cells)
    };
    super::window_table(
        frame,
        area,
        model,
        Pane::Customers,
        Row::new(header),
        widths,
        row,
    );
}

/// `47 Red    ↓` or `IN INCIDENT`: the score, band colour and Δ7 trend
/// arrow (`·` until a score from a week ago is kept; red when falling
/// fast), and `?` when coverage is low.
fn health_cell(row: &CustomerRow) -> Cell<'static> {
    let health = &row.health;
    if health.in_incident {
        return Cell::from(Span::styled("IN INCIDENT", theme::CRITICAL));
    }
    let score = health
        .score
        .map_or_else(|| "  —".to_owned(), |s| format!("{s:>3.0}"));
    let mut spans = vec![Span::styled(
        format!("{score} {:<6} ", health.band.to_string()),
        theme::band(health.band),
    )];
    spans.push(trend_span(&row.trend));
    if health.low_confidence {
        spans.push(Span::styled("?", theme::MUTED));
    }
    Cell::from(Line::from(spans))
}

/// The trend arrow alone, styled by direction.
#[must_use]
pub fn trend_span(trend: &Trend) -> Span<'static> {
    match trend.arrow {
        _ if trend.falling_fast => Span::styled(
            trend.arrow.unwrap_or(Arrow::Down).to_string(),
            theme::CRITICAL,
        ),
        Some(Arrow::Up) => Span::styled("↑", theme::OK),
        Some(Arrow::Down) => Span::styled("↓", theme::WARN),
        Some(Arrow::Same) => Span::styled("=", theme::MUTED),
        None => Span::styled("·", theme::MUTED),
    }
}

fn renewal_cell(row: &CustomerRow) -> Cell<'static> {
    match row.renewal_days {
        Some(d) if d < 0 => Cell::from(Span::styled("lapsed", theme::CRITICAL)),
        Some(d) => Cell::from(Span::styled(
            format!("{d}d"),
            if d <= 90 { theme::WARN } else { theme::TEXT },
        )),
        None => Cell::from(Span::styled("—", theme::MUTED)),
    }
}

fn driver(row: &CustomerRow) -> Line<'static> {
    if let Some(flag) = row.health.red_flags.first() {
        return Line::from(Span::styled(flag.to_string(), theme::CRITICAL));
    }
    match row.health.top_driver().filter(|f| f.points_lost >= 2.0) {
        // The pane shows the measurement; its thresholds are in the detail.
        Some(f) => {
            let evidence = f.evidence.to_string();
            let short = evidence.split(" (").next().unwrap_or(&evidence);
            Line::from(vec![
                Span::raw(format!("{}: ", f.name())),
                Span::styled(short.to_owned(), theme::MUTED),
            ])
        }
        None => Line::from(Span::styled("no driver", theme::MUTED)),
    }
}

fn action(model: &Model, row: &CustomerRow) -> Line<'static> {
    match &row.next_action {
        Some(a) => {
            let (due, style) = due_text(model, a.due);
            // When and who first: the text is what gets cut in a narrow pane.
            Line::from(vec![
                Span::styled(format!("{due} "), style),
                Span::styled(format!("{}: ", a.who), theme::ACCENT),
                Span::raw(a.what.clone()),
            ])
        }
        None => Line::from(Span::styled("keep the usual cadence", theme::MUTED)),
    }
}

/// `overdue 12m` (red), `in 40m`, `now`, or an action window like `≤2d`.
#[must_use]
pub fn due_text(model: &Model, due: Due) -> (String, Style) {
    match due {
        Due::Now => ("now".into(), theme::WARN),
        Due::At(at) => {
            let left = at.duration_since(model.now);
            if left.is_negative() {
                (
                    format!("overdue {}", text::duration(-left)),
                    theme::CRITICAL,
                )
            } else {
                (format!("in {}", text::duration(left)), theme::WARN)
            }
        }
        Due::WithinHours(h) if h % 24 == 0 => (format!("≤{}d", h / 24), theme::MUTED),
        Due::WithinHours(h) => (format!("≤{h}h"), theme::MUTED),
        Due::NextCycle => ("next cycle".into(), theme::MUTED),
    }
}
