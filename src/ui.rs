//! Rendering: a pure function of the model. Nothing here changes state or
//! does IO; what is drawn depends only on `&Model` and the frame size.

mod bars;
mod customers;
mod detail;
mod help;
mod incident;
mod incidents;
mod inquiries;
mod kpi;
mod slo;
pub mod theme;
mod voc;
mod widgets;
pub mod writes;

// Still reachable as `ui::centered`: it is part of the library's public API.
pub use widgets::centered;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use crate::core::text;
use crate::model::layout;
use crate::model::{Model, Overlay, Pane, SourceStatus};

/// Draw the whole screen.
pub fn render(frame: &mut Frame<'_>, model: &Model) {
    let areas = layout::areas(frame.area(), model.focus);
    bars::top(frame, areas.top_bar, model);
    // A new SEV1/SEV2 takes the KPI line until it is looked at: the one
    // place every layout has, so nothing else moves.
    if !bars::banner(frame, areas.kpi_strip, model) {
        kpi::strip(frame, areas.kpi_strip, model);
    }
    if let Some(tabs) = areas.tabs {
        bars::tabs(frame, tabs, model);
    }
    for pane in Pane::ALL {
        if let Some(area) = areas.panes[pane as usize] {
            match pane {
                Pane::Inquiries => inquiries::render(frame, area, model),
                Pane::Customers => customers::render(frame, area, model),
                Pane::Incidents => incidents::render(frame, area, model),
            }
        }
    }
    match &model.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => help::render(frame, areas.body, model, *scroll),
        Overlay::Detail { target, scroll } => {
            detail::render(frame, areas.body, model, target, *scroll)
        }
        Overlay::Voc { scroll } => voc::render(frame, areas.body, model, *scroll),
        Overlay::Journal { selected, confirm } => {
            writes::journal(frame, areas.body, model, *selected, *confirm);
        }
        Overlay::Incident {
            id,
            section,
            rows,
            scroll,
        } => incident::render(frame, areas.body, model, id, *section, *rows, *scroll),
        Overlay::Handover { scroll } => help::handover(frame, areas.body, model, *scroll),
        Overlay::Kpi { scroll } => kpi::view(frame, areas.body, model, *scroll),
    }
    if let Some(prompt) = &model.prompt {
        writes::prompt(frame, areas.body, model, prompt);
    }
    if model.command.is_some() {
        bars::completions(frame, areas.body, model);
    }
    bars::footer(frame, areas.footer, model);
    if model.settings.no_color {
        strip_colour(frame);
    }
}

/// `NO_COLOR`: every cell keeps its text and attributes (bold, reverse)
/// but loses its colours. Done on the finished frame so that no widget can
/// forget it; the selection stays visible through its symbol and reverse
/// video.
fn strip_colour(frame: &mut Frame<'_>) {
    use ratatui::style::Color;
    for cell in &mut frame.buffer_mut().content {
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
    }
}

/// The symbol before the selected row of the focused list. It carries the
/// selection where colour cannot (`NO_COLOR`, monochrome terminals).
pub const SELECTION_SYMBOL: &str = "▶ ";

/// The frame around a pane: title with row count, filter and sort, and —
/// when its source is failing — the reason, so an error never passes for an
/// empty list.
fn pane_block(model: &Model, pane: Pane) -> Block<'static> {
    let total = model.total(pane);
    let view = &model.panes[pane as usize];
    let focused = model.focus == pane;
    let mut title = vec![
        Span::styled(
            format!(" {} ", pane.title()),
            if focused { theme::TITLE } else { theme::HEADER },
        ),
        Span::styled(format!("{}", view.order.len()), theme::TEXT),
    ];
    if view.order.len() != total {
        title.push(Span::styled(format!("/{total}"), theme::MUTED));
    }
    if pane == Pane::Inquiries
        && model.view != crate::model::views::ALL
        && let Some(saved) = model.settings.views.get(model.view)
    {
        title.push(Span::styled(
            format!("  view {}", saved.name),
            theme::ACCENT,
        ));
    }
    if !view.filter.is_empty() {
        title.push(Span::styled(
            format!("  filter \"{}\"", view.filter),
            theme::WARN,
        ));
    }
    if let Some(id) = model.scope.as_deref().filter(|_| pane != Pane::Incidents) {
        title.push(Span::styled(format!("  incident {id}"), theme::WARN));
    }
    let sort = pane.sorts()[view.sort % pane.sorts().len()];
    title.push(Span::styled(format!("  by {sort} "), theme::MUTED));
    // "Most urgent" is a rule, not a feeling: say it where the order shows.
    if sort == crate::model::SortMode::SlaUrgency && model.size.0 >= 120 {
        title.push(Span::styled(
            format!("({}) ", crate::model::URGENCY_RULE),
            theme::MUTED,
        ));
    }
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme::BORDER_FOCUSED
        } else {
            theme::BORDER
        })
        .title(Line::from(title));
    if let Some(problem) = source_problem(model, pane) {
        block = block.title_bottom(Line::from(Span::styled(
            format!(" {problem} "),
            theme::CRITICAL,
        )));
    }
    block
}

/// Why a pane's data may be missing or old, in words.
fn source_problem(model: &Model, pane: Pane) -> Option<String> {
    use crate::core::domain::SourceKind;
    let kinds: &[SourceKind] = match pane {
        Pane::Inquiries => &[SourceKind::Desk],
        Pane::Customers => &[SourceKind::Accounts, SourceKind::Metrics, SourceKind::Desk],
        Pane::Incidents => &[SourceKind::Incidents],
    };
    kinds
        .iter()
        .filter_map(|k| model.source(*k))
        .find(|s| s.status == SourceStatus::Failed)
        .map(|s| {
            // The age comes before the error: a narrow pane cuts the end of
            // the line, and "these rows are old" must survive the cut.
            let age = s.last_ok.map_or_else(
                || "no data yet".to_owned(),
                |t| format!("showing data from {}", text::ago(model.now, t)),
            );
            format!(
                "{} {} failing, {age}: {}",
                s.kind,
                s.vendor,
                s.last_error.as_deref().unwrap_or("?")
            )
        })
}

/// A message where a pane has no rows, saying why.
fn empty_message(model: &Model, pane: Pane, area: Rect, frame: &mut Frame<'_>, what: &str) {
    use crate::core::domain::SourceKind;
    let kind = match pane {
        Pane::Inquiries => SourceKind::Desk,
        Pane::Customers => SourceKind::Accounts,
        Pane::Incidents => SourceKind::Incidents,
    };
    let (text, style) = match model.source(kind) {
        None => (format!("no {kind} source configured"), theme::MUTED),
        Some(s) if s.status == SourceStatus::Loading => {
            (format!("loading from {}…", s.vendor), theme::MUTED)
        }
        Some(s) if s.status == SourceStatus::Failed && s.last_ok.is_none() => (
            format!(
                "{} unavailable: {}",
                s.vendor,
                s.last_error.as_deref().unwrap_or("?")
            ),
            theme::CRITICAL,
        ),
        Some(_) if !model.panes[pane as usize].filter.is_empty() => {
            ("nothing matches the filter".to_owned(), theme::MUTED)
        }
        Some(_) => (what.to_owned(), theme::OK),
    };
    frame.render_widget(
        Paragraph::new(Span::styled(text, style)).block(pane_block(model, pane)),
        area,
    );
}

/// Draw a table showing only the visible window of a pane's rows.
fn window_table<'a>(
    frame: &mut Frame<'_>,
    area: Rect,
    model: &Model,
    pane: Pane,
    header: Row<'a>,
    widths: Vec<ratatui::layout::Constraint>,
    row: impl Fn(usize) -> Row<'a>,
) {
    let view = &model.panes[pane as usize];
    let visible = usize::from(area.height.saturating_sub(layout::PANE_CHROME));
    let end = (view.offset + visible).min(view.order.len());
    let rows: Vec<Row<'a>> = view.order[view.offset.min(end)..end]
        .iter()
        .map(|&i| row(i))
        .collect();
    let table = Table::new(rows, widths)
        .header(header.style(theme::HEADER))
        .block(pane_block(model, pane))
        .column_spacing(1)
        // The symbol's column is kept on every row so that columns do not
        // shift when the focus moves.
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always)
        .highlight_symbol(if model.focus == pane && model.overlay == Overlay::None {
            SELECTION_SYMBOL
        } else {
            "  "
        })
        .row_highlight_style(if model.focus == pane {
            theme::SELECTED
        } else {
            Style::new()
        });
    let mut state =
        TableState::default().with_selected(Some(view.selected.saturating_sub(view.offset)));
    frame.render_stateful_widget(table, area, &mut state);
}
