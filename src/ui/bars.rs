//! The top bar (mode, badges, clock, source chips), the tab strip and the
//! footer (key hints from the keymap, status messages, the filter prompt).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::core::text;
use crate::model::action::Action;
use crate::model::{Model, Pane, SourceState, SourceStatus};

pub fn top(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let mut spans = vec![
        Span::styled(" cre-cockpit ", theme::TITLE),
        if matches!(model.overlay, crate::model::Overlay::Incident { .. }) {
            Span::styled(" INCIDENT ", theme::BADGE_INCIDENT)
        } else {
            Span::styled(" SHIFT ", theme::BADGE_MODE)
        },
        Span::raw(" "),
    ];
    if model.settings.demo {
        spans.push(Span::styled(" DEMO ", theme::BADGE_DEMO));
        spans.push(Span::raw(" "));
    }
    if model.settings.read_only {
        spans.push(Span::styled(" READ-ONLY ", theme::BADGE_READ_ONLY));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        model.now.strftime("%H:%M:%S UTC").to_string(),
        theme::TEXT,
    ));
    for source in &model.sources {
        spans.push(Span::styled(" │ ", theme::MUTED));
        spans.extend(chip(model, source));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// One source chip: state symbol, name, data age, and the error if any.
fn chip(model: &Model, source: &SourceState) -> Vec<Span<'static>> {
    let name = format!("{} {} ", source.kind, source.vendor);
    match source.status {
        SourceStatus::Loading => vec![
            Span::styled("◌ ", theme::MUTED),
            Span::styled(name, theme::TEXT),
            Span::styled("loading", theme::MUTED),
        ],
        SourceStatus::Ready => {
            let age = source
                .last_ok
                .map(|t| text::ago(model.now, t))
                .unwrap_or_default();
            let mut spans = vec![
                Span::styled("● ", theme::OK),
                Span::styled(name, theme::TEXT),
                Span::styled(age, theme::MUTED),
            ];
            // Partial answers (server warnings, NaN, a failed SLO query)
            // must not look like a clean poll.
            let warnings = model.data.metrics.warnings.len();
            if source.kind == crate::core::domain::SourceKind::Metrics && warnings > 0 {
                spans.push(Span::styled(
                    format!(
                        " ⚠ {warnings} warning{}",
                        if warnings == 1 { "" } else { "s" }
                    ),
                    theme::WARN,
                ));
            }
            // A poll that joined badly (no inquiry matched, a query with
            // no series) is not a clean one either: say how much joined.
            if let Some(coverage) = source.coverage.as_ref().filter(|c| !c.warnings.is_empty()) {
                spans.push(Span::styled(
                    format!(" ⚠ {}", coverage.summary),
                    theme::WARN,
                ));
            }
            spans
        }
        SourceStatus::Failed => {
            // The chip already names the vendor; its error need not repeat
            // it, which leaves the 60 characters for what went wrong.
            let error = source.last_error.as_deref().unwrap_or("failed");
            let error = error
                .strip_prefix(source.vendor.as_str())
                .and_then(|e| e.strip_prefix(": "))
                .unwrap_or(error);
            let error = text::truncate(error, 60);
            let stale = source.last_ok.map_or_else(
                || " (no data)".to_owned(),
                |t| format!(" (stale, {})", text::ago(model.now, t)),
            );
            vec![
                Span::styled("✗ ", theme::CRITICAL),
                Span::styled(name, theme::TEXT),
                Span::styled(format!("{error}{stale}"), theme::CRITICAL),
            ]
        }
    }
}

pub fn tabs(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let third = usize::from(area.width / 3);
    let spans: Vec<Span<'static>> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, pane)| {
            let label = format!(
                " {} {} ({}) ",
                i + 1,
                pane.title(),
                model.panes[*pane as usize].order.len()
            );
            let label = format!("{:<third$}", text::truncate(&label, third));
            Span::styled(
                label,
                if *pane == model.focus {
                    theme::BADGE_MODE
                } else {
                    theme::MUTED
                },
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn footer(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let line = if let Some(text) = &model.filter_input {
        Line::from(vec![
            Span::styled(" / ", theme::KEY),
            Span::styled(format!("{text}▏"), theme::TEXT),
            Span::styled("  enter keep · esc clear", theme::MUTED),
        ])
    } else if let Some((text, _)) = &model.status {
        Line::from(Span::styled(format!(" {text}"), theme::WARN))
    } else {
        hints(model)
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `key label` pairs for the actions worth a hint, drawn from the keymap.
fn hints(model: &Model) -> Line<'static> {
    let keymap = &model.settings.keymap;
    let mut spans = vec![Span::raw(" ")];
    for (action, _) in keymap.bound() {
        let Some(label) = action.hint() else { continue };
        let Some(key) = keymap.first_key(action) else {
            continue;
        };
        spans.push(Span::styled(key, theme::KEY));
        spans.push(Span::styled(format!(" {label}  "), theme::MUTED));
    }
    if let Some(key) = keymap.first_key(Action::FocusInquiries) {
        spans.push(Span::styled(format!("{key}-3"), theme::KEY));
        spans.push(Span::styled(" panes", theme::MUTED));
    }
    Line::from(spans)
}
