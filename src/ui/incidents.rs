//! The incidents pane: what is burning, and how many customers and
//! inquiries it touches.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::theme;
use crate::core::text;
use crate::model::{Model, Pane};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    if model.panes[Pane::Incidents as usize].order.is_empty() {
        super::empty_message(model, Pane::Incidents, area, frame, "no open incidents");
        return;
    }
    let wide = area.width >= 90;
    // In a narrow pane the status shrinks to its first letters, so the
    // title (what the incident is) keeps the room.
    let status_width: u16 = if area.width >= 70 { 12 } else { 4 };
    let mut header = vec!["Sev", "Status", "Age", "Title", "Cust", "Inq", "Update"];
    let mut widths = vec![
        Constraint::Length(4),
        Constraint::Length(status_width),
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(7),
    ];
    if wide {
        header.extend(["Service", "Responders"]);
        widths.extend([Constraint::Length(10), Constraint::Length(16)]);
    }
    let row = |i: usize| {
        let incident = &model.data.incidents[i];
        let impact = model.derived.impacts.get(i);
        let count = |n: usize| {
            Cell::from(Span::styled(
                n.to_string(),
                if n > 0 { theme::WARN } else { theme::MUTED },
            ))
        };
        let mut cells = vec![
            Cell::from(Span::styled(
                incident.severity.to_string(),
                theme::severity(incident.severity),
            )),
            Cell::from(Span::styled(
                incident
                    .status
                    .to_string()
                    .chars()
                    .take(usize::from(status_width))
                    .collect::<String>(),
                theme::incident_status(incident.status),
            )),
            Cell::from(text::duration(
                model
                    .now
                    .duration_since(incident.started_at)
                    .max(jiff::SignedDuration::ZERO),
            )),
            Cell::from(super::widgets::marked(
                model,
                || crate::core::writes::Target::Incident(incident.id.to_string()),
                &incident.title,
                &model.panes[Pane::Incidents as usize].filter,
            )),
            count(impact.map_or(0, |x| x.affected.len())),
            count(impact.map_or(0, |x| {
                x.linked.iter().filter(|l| l.confidence.counts()).count()
            })),
            update_due(model, incident),
        ];
        if wide {
            cells.push(Cell::from(incident.service.clone().unwrap_or_default()));
            cells.push(Cell::from(incident.responders.join(", ")));
        }
        Row::new(cells)
    };
    super::window_table(
        frame,
        area,
        model,
        Pane::Incidents,
        Row::new(header),
        widths,
        row,
    );
}

/// The next customer update's countdown, for incidents with an update
/// cadence (`UpdatesConfig::next_due`): red and negative once overdue.
fn update_due(model: &Model, incident: &crate::core::domain::Incident) -> Cell<'static> {
    let Some(due) = model.settings.updates.next_due(incident, &model.writes) else {
        return Cell::from(Span::styled("—", theme::MUTED));
    };
    let left = due.duration_since(model.now);
    Cell::from(Span::styled(
        text::duration(left),
        if left.is_negative() {
            theme::CRITICAL
        } else {
            theme::WARN
        },
    ))
}
