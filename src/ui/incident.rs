//! Incident mode: who is hit, what they are asking, when the next customer
//! update is due.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::inquiries::segment_short;
use super::theme;
use super::widgets::{Hints, Overlay};
use crate::core::text;
use crate::core::writes::{Target, WriteKind};
use crate::model::action::Action;
use crate::model::{Loadable, Model};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, id: &str, scroll: u16) {
    let keymap = &model.settings.keymap;
    // The mode covers the whole body with panels of its own; only the top
    // one is framed as an overlay, so the rest is cleared here.
    frame.render_widget(Clear, area);
    let Some(index) = model.data.incidents.iter().position(|i| i.id == id) else {
        let back = Hints::new(keymap).add_with(&[Action::Back], "/", |k| format!("{k} to go back"));
        let text = if back.is_empty() {
            format!("incident {id} is no longer open")
        } else {
            format!("incident {id} is no longer open — {}", back.join(""))
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme::MUTED)), area);
        return;
    };
    let incident = &model.data.incidents[index];
    let impact = model.derived.impacts.get(index);
    let due = model.settings.updates.next_due(incident, &model.writes);
    let left = due.duration_since(model.now);
    let countdown = if left.is_negative() {
        Span::styled(
            format!(" customer update OVERDUE by {} ", text::duration(-left)),
            theme::BADGE_INCIDENT,
        )
    } else {
        Span::styled(
            format!(" next customer update due in {} ", text::duration(left)),
            theme::BADGE_MODE,
        )
    };
    let updates = model
        .writes
        .iter()
        .filter(|w| {
            w.kind == WriteKind::CustomerUpdate && w.target == Target::Incident(id.to_owned())
        })
        .count();
    let header = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", incident.severity),
                theme::severity(incident.severity),
            ),
            Span::styled(incident.title.clone(), theme::TITLE),
        ]),
        Line::from(vec![
            Span::styled(format!("{} · ", incident.status), theme::TEXT),
            Span::styled(
                format!(
                    "started {} ago · ",
                    text::duration(model.now.duration_since(incident.started_at))
                ),
                theme::MUTED,
            ),
            Span::styled(
                format!("service {} · ", incident.service.as_deref().unwrap_or("?")),
                theme::MUTED,
            ),
            Span::styled(
                format!("responders {}", incident.responders.join(", ")),
                theme::MUTED,
            ),
        ]),
        Line::from(vec![
            countdown,
            Span::styled(
                format!(
                    "  ({} at {}; {updates} sent so far)",
                    if updates == 0 { "first notice" } else { "next" },
                    due.strftime("%H:%M UTC")
                ),
                theme::MUTED,
            ),
        ]),
    ];
    let [head, lists, timeline] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Percentage(60),
        Constraint::Min(4),
    ])
    .areas(area);
    // The keys the mode takes, in its title where the eye lands first.
    let keys = Hints::new(keymap)
        .add(&[Action::CustomerUpdate], "customer update")
        .add(&[Action::Annotate], "note")
        .add(&[Action::Escalate], "escalate")
        .add(&[Action::Back], "back");
    let title = if keys.is_empty() {
        " INCIDENT MODE ".to_owned()
    } else {
        format!(" INCIDENT MODE — {} ", keys.join(" · "))
    };
    Overlay::new(title)
        .borders(Borders::TOP)
        .render(frame, head, header);
    let narrow = area.width < 120;
    let [left_area, right_area] = if narrow {
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(lists)
    } else {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(lists)
    };

    let affected = impact.map(|i| i.affected.as_slice()).unwrap_or_default();
    let rows: Vec<Row<'static>> = affected
        .iter()
        .map(|a| {
            let account = &model.data.accounts[a.account];
            let health = model
                .derived
                .customers
                .iter()
                .find(|c| c.account == a.account)
                .map(|c| &c.health);
            Row::new(vec![
                Cell::from(Span::styled(
                    a.error_ratio.map_or_else(|| "—".into(), text::percent),
                    theme::CRITICAL,
                )),
                Cell::from(health.map_or_else(
                    || Span::raw("—"),
                    |h| {
                        Span::styled(
                            h.score.map_or_else(
                                || h.band.to_string(),
                                |s| format!("{s:.0} {}", h.band),
                            ),
                            theme::band(h.band),
                        )
                    },
                )),
                Cell::from(Span::styled(segment_short(account.segment), theme::MUTED)),
                Cell::from(text::money(account.arr)),
                Cell::from(account.name.clone()),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Length(10),
                Constraint::Length(3),
                Constraint::Length(6),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["Errors", "Health", "Seg", "ARR", "Customer"]).style(theme::HEADER))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme::BORDER)
                .title(Span::styled(
                    format!(" Affected customers {} ", affected.len()),
                    theme::HEADER,
                )),
        ),
        left_area,
    );

    let linked = impact.map(|i| i.linked.as_slice()).unwrap_or_default();
    let rows: Vec<Row<'static>> = linked
        .iter()
        .filter_map(|l| model.data.inquiry(&l.inquiry))
        .map(|inquiry| {
            let sla = inquiry.sla.map_or_else(
                || Span::styled("paused", theme::MUTED),
                |s| {
                    let left = s.due.duration_since(model.now);
                    Span::styled(
                        text::duration(left),
                        if left.is_negative() {
                            theme::CRITICAL
                        } else {
                            theme::TEXT
                        },
                    )
                },
            );
            let customer = model
                .account_of(inquiry)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            Row::new(vec![
                Cell::from(sla),
                Cell::from(Span::styled(
                    inquiry.priority.to_string(),
                    theme::priority(inquiry.priority),
                )),
                Cell::from(inquiry.id.to_string()),
                Cell::from(text::truncate(&customer, 18)),
                Cell::from(inquiry.subject.clone()),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(18),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["SLA left", "Pri", "ID", "Customer", "Subject"]).style(theme::HEADER))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme::BORDER)
                .title(Span::styled(
                    format!(" Linked inquiries {} ", linked.len()),
                    theme::HEADER,
                )),
        ),
        right_area,
    );

    // The timeline: the incident's notes and this cockpit's writes about
    // it, oldest first.
    let mut events: Vec<(Timestamp, Line<'static>)> = Vec::new();
    match model.notes.get(id) {
        Some(Loadable::Ready(notes)) => {
            for n in notes {
                events.push((
                    n.at,
                    Line::from(vec![
                        Span::styled(format!("{} ", text::stamp(model.now, n.at)), theme::MUTED),
                        Span::styled(
                            format!("{}: ", n.author.clone().unwrap_or_else(|| "note".into())),
                            theme::ACCENT,
                        ),
                        Span::raw(n.text.clone()),
                    ]),
                ));
            }
        }
        Some(Loadable::Failed(e)) => events.push((
            incident.started_at,
            Line::from(Span::styled(
                format!("notes unavailable: {e}"),
                theme::CRITICAL,
            )),
        )),
        _ => {}
    }
    for w in model.writes_for(&Target::Incident(id.to_owned())) {
        let mut line = super::writes::write_line(model, w);
        line.spans
            .insert(0, Span::styled("cockpit ", theme::ACCENT));
        events.push((w.created_at, line));
    }
    events.sort_by_key(|(at, _)| *at);
    let lines: Vec<Line<'static>> = if events.is_empty() {
        vec![Line::from(Span::styled("no notes yet", theme::MUTED))]
    } else {
        events.into_iter().map(|(_, l)| l).collect()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme::BORDER)
                    .title(Span::styled(" Timeline ", theme::HEADER)),
            ),
        timeline,
    );
}
