//! The open-inquiries pane: the queue by time left to SLA breach.

use jiff::SignedDuration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::theme;
use crate::core::domain::{Inquiry, Segment};
use crate::core::text;
use crate::model::{Model, Pane};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    if model.panes[Pane::Inquiries as usize].order.is_empty() {
        super::empty_message(
            model,
            Pane::Inquiries,
            area,
            frame,
            "inbox zero: no open inquiries",
        );
        return;
    }
    let wide = area.width >= 120;
    let medium = area.width >= 100;
    let mut header = vec!["SLA left", "Pri", "ID", "Customer", "Subject", "Status"];
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(if wide { 24 } else { 14 }),
        Constraint::Fill(1),
        Constraint::Length(7),
    ];
    if medium {
        header.extend(["Assignee", "Age"]);
        widths.extend([Constraint::Length(14), Constraint::Length(6)]);
    }
    if wide {
        header.extend(["Area", ""]);
        widths.extend([Constraint::Length(10), Constraint::Length(3)]);
    }
    let filter = model.panes[Pane::Inquiries as usize].filter.as_str();
    let row = |i: usize| {
        let inquiry = &model.data.inquiries[i];
        let mut cells = vec![
            sla_cell(model, inquiry),
            Cell::from(Span::styled(
                inquiry.priority.to_string(),
                theme::priority(inquiry.priority),
            )),
            Cell::from(inquiry.id.to_string()),
            Cell::from(customer(model, inquiry, filter)),
            Cell::from(super::widgets::marked(
                model,
                || crate::core::writes::Target::Inquiry(inquiry.id.to_string()),
                &inquiry.subject,
                filter,
            )),
            Cell::from(inquiry.status.to_string()),
        ];
        if medium {
            cells.push(Cell::from(Span::styled(
                inquiry
                    .assignee
                    .as_deref()
                    .map(str::to_owned)
                    .unwrap_or_else(|| "unassigned".into()),
                if inquiry.assignee.is_some() {
                    theme::TEXT
                } else {
                    theme::MUTED
                },
            )));
            cells.push(Cell::from(text::duration(
                model.now.duration_since(inquiry.created_at),
            )));
        }
        if wide {
            cells.push(Cell::from(
                inquiry
                    .feature_area
                    .as_deref()
                    .map(str::to_owned)
                    .unwrap_or_default(),
            ));
            cells.push(Cell::from(markers(model, inquiry)));
        }
        Row::new(cells)
    };
    super::window_table(
        frame,
        area,
        model,
        Pane::Inquiries,
        Row::new(header),
        widths,
        row,
    );
}

/// Time left on the SLA clock: red and negative once breached, yellow
/// within the hour; `c`/`b` says calendar or business hours.
fn sla_cell(model: &Model, inquiry: &Inquiry) -> Cell<'static> {
    let Some(clock) = inquiry.sla else {
        return Cell::from(Span::styled("paused", theme::MUTED));
    };
    let left = clock.due.duration_since(model.now);
    let style = if left.is_negative() {
        theme::CRITICAL
    } else if left < SignedDuration::from_hours(1) {
        theme::WARN
    } else {
        theme::TEXT
    };
    let unit = if clock.business_hours { "b" } else { "c" };
    Cell::from(Line::from(vec![
        Span::styled(text::duration(left), style),
        Span::styled(format!(" {unit}"), theme::MUTED),
    ]))
}

#[must_use]
pub fn segment_short(segment: Segment) -> &'static str {
    match segment {
        Segment::Enterprise => "ent",
        Segment::MidMarket => "mid",
        Segment::Small => "sml",
    }
}

fn customer(model: &Model, inquiry: &Inquiry, filter: &str) -> Line<'static> {
    match model.account_of(inquiry) {
        Some(account) => {
            let mut spans = super::widgets::highlighted(&account.name, filter, theme::TEXT);
            spans.push(Span::styled(
                format!(" {}", segment_short(account.segment)),
                theme::MUTED,
            ));
            Line::from(spans)
        }
        None => Line::from(Span::styled(
            inquiry
                .org
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_else(|| "—".into()),
            theme::MUTED,
        )),
    }
}

/// Markers: `✎` annotated or escalated from here (coloured by delivery
/// state), `⇡` escalated on the desk, `⚑` linked to an incident.
fn markers(model: &Model, inquiry: &Inquiry) -> Line<'static> {
    let mut spans = Vec::new();
    let item = crate::core::writes::Target::Inquiry(inquiry.id.to_string());
    if let Some(latest) = model.writes_for(&item).next() {
        spans.push(Span::styled("✎", theme::write_state(latest.state())));
    }
    if inquiry.is_escalated() {
        spans.push(Span::raw("⇡"));
    }
    if inquiry.tags.iter().any(|t| t == "incident") {
        spans.push(Span::raw("⚑"));
    }
    Line::from(spans)
}
