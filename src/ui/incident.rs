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
use crate::model::{Loadable, Model, Section};

#[allow(clippy::too_many_arguments)]
pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    model: &Model,
    id: &str,
    section: Section,
    cursor: [usize; 2],
    scroll: u16,
) {
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
    let left = due.map(|due| due.duration_since(model.now));
    let countdown = match left {
        Some(left) if left.is_negative() => Span::styled(
            format!(" customer update OVERDUE by {} ", text::duration(-left)),
            theme::BADGE_INCIDENT,
        ),
        Some(left) => Span::styled(
            format!(" next customer update due in {} ", text::duration(left)),
            theme::BADGE_MODE,
        ),
        None => Span::styled(
            format!(
                " no customer-update cadence for a {} with none posted ",
                incident.severity
            ),
            theme::MUTED,
        ),
    };
    let updates = model
        .writes
        .iter()
        .filter(|w| {
            w.kind == WriteKind::CustomerUpdate && w.target == Target::Incident(id.to_owned())
        })
        .count();
    let header = vec![
        Line::from(
            [
                Span::styled(
                    format!("{} ", incident.severity),
                    theme::severity(incident.severity),
                ),
                Span::styled(incident.title.clone(), theme::TITLE),
            ]
            .into_iter()
            .chain(super::widgets::presence_words(
                model,
                &Target::Incident(id.to_owned()),
            ))
            .collect::<Vec<_>>(),
        ),
        Line::from(vec![
            Span::styled(format!("{} · ", incident.status), theme::TEXT),
            Span::styled(
                format!("started {} · ", text::ago(model.now, incident.started_at)),
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
                match due {
                    Some(due) => format!(
                        "  ({} at {}; {updates} sent so far)",
                        if updates == 0 { "first notice" } else { "next" },
                        due.strftime("%H:%M UTC")
                    ),
                    None => String::new(),
                },
                theme::MUTED,
            ),
        ]),
    ];
    // Below 120×30 one section at a time, under a strip naming all three:
    // three panels in 21 lines would show three rows each.
    let compact = area.width < 120 || area.height < 30;
    let [head, strip, lists, timeline] = if compact {
        let [head, strip, rest] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(area);
        let (lists, timeline) = if section == Section::Timeline {
            (Rect::default(), rest)
        } else {
            (rest, Rect::default())
        };
        [head, strip, lists, timeline]
    } else {
        let [head, lists, timeline] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Percentage(60),
            Constraint::Min(4),
        ])
        .areas(area);
        [head, Rect::default(), lists, timeline]
    };
    // The keys the mode takes, in its title where the eye lands first.
    let keys = Hints::new(keymap)
        .add(&[Action::CustomerUpdate], "customer update")
        .add(&[Action::NextPane], "section")
        .add(&[Action::Detail], "open")
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
    let affected = impact.map(|i| i.affected.as_slice()).unwrap_or_default();
    let linked = model.linked_in_order(index);
    let [left_area, right_area] = if compact {
        let strip_text: Vec<Span<'static>> = Section::ALL
            .iter()
            .flat_map(|s| {
                let n = match s {
                    Section::Customers => affected.len().to_string(),
                    Section::Inquiries => linked.len().to_string(),
                    Section::Timeline => String::new(),
                };
                let label = format!(" {} {n} ", s.title());
                if *s == section {
                    [
                        Span::styled("▶", theme::KEY),
                        Span::styled(label, theme::BADGE_MODE),
                    ]
                } else {
                    [Span::raw(" "), Span::styled(label, theme::MUTED)]
                }
            })
            .chain(
                Hints::new(keymap)
                    .add(&[Action::NextPane, Action::PrevPane], "section")
                    .add(&[Action::Down, Action::Up], "move")
                    .parts()
                    .into_iter()
                    .map(|h| Span::styled(format!("  {h}"), theme::MUTED)),
            )
            .collect();
        frame.render_widget(Paragraph::new(Line::from(strip_text)), strip);
        match section {
            Section::Customers => [lists, Rect::default()],
            _ => [Rect::default(), lists],
        }
    } else {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(lists)
    };

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
    section_table(
        frame,
        left_area,
        model,
        Row::new(["Errors", "Health", "Seg", "ARR", "Customer"]),
        &[
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(6),
            Constraint::Fill(1),
        ],
        rows,
        (Section::Customers, section, cursor[0]),
    );

    let rows: Vec<Row<'static>> = linked
        .iter()
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
    section_table(
        frame,
        right_area,
        model,
        Row::new(["SLA left", "Pri", "ID", "Customer", "Subject"]),
        &[
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(18),
            Constraint::Fill(1),
        ],
        rows,
        (Section::Inquiries, section, cursor[1]),
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
    if timeline.area() == 0 {
        return;
    }
    let focused = section == Section::Timeline;
    let total = lines.len();
    let mut block = section_block(Section::Timeline, focused, total);
    let visible = usize::from(timeline.height.saturating_sub(2));
    let scroll = scroll.min(u16::try_from(total.saturating_sub(visible)).unwrap_or(u16::MAX));
    if let Some(hint) = scroll_hint(usize::from(scroll), visible, total) {
        block = block.title_bottom(Span::styled(hint, theme::MUTED));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        timeline,
    );
}

/// A section's frame: focused in the accent colour, its title marked
/// with the selection symbol so the focus also shows without colour.
fn section_block(section: Section, focused: bool, count: usize) -> Block<'static> {
    let title = if focused {
        format!(
            "{}{} {count} ",
            crate::ui::SELECTION_SYMBOL,
            section.title()
        )
    } else {
        format!(" {} {count} ", section.title())
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme::BORDER_FOCUSED
        } else {
            theme::BORDER
        })
        .title(Span::styled(
            title,
            if focused { theme::TITLE } else { theme::HEADER },
        ))
}

/// `↑ 3 · ↓ 12 more` when rows are off the window, for the bottom border.
fn scroll_hint(offset: usize, visible: usize, total: usize) -> Option<String> {
    let below = total.saturating_sub(offset + visible);
    match (offset, below) {
        (0, 0) => None,
        (0, b) => Some(format!(" ↓ {b} more ")),
        (a, 0) => Some(format!(" ↑ {a} above ")),
        (a, b) => Some(format!(" ↑ {a} above · ↓ {b} more ")),
    }
}

/// One list section of incident mode: the window of rows around its
/// cursor, the cursor marked when the section has the focus, and a hint
/// of the rows above and below.
#[allow(clippy::needless_pass_by_value)]
fn section_table(
    frame: &mut Frame<'_>,
    area: Rect,
    model: &Model,
    header: Row<'static>,
    widths: &[Constraint],
    rows: Vec<Row<'static>>,
    (this, focus, cursor): (Section, Section, usize),
) {
    if area.area() == 0 {
        return;
    }
    let _ = model;
    let focused = this == focus;
    let total = rows.len();
    let cursor = cursor.min(total.saturating_sub(1));
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let offset = cursor.saturating_sub(visible - 1);
    let mut block = section_block(this, focused, total);
    if let Some(hint) = scroll_hint(offset, visible, total) {
        block = block.title_bottom(Span::styled(hint, theme::MUTED));
    }
    let window: Vec<Row<'static>> = rows.into_iter().skip(offset).take(visible).collect();
    let table = Table::new(window, widths.to_vec())
        .header(header.style(theme::HEADER))
        .block(block)
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always)
        .highlight_symbol(if focused {
            crate::ui::SELECTION_SYMBOL
        } else {
            "  "
        })
        .row_highlight_style(if focused {
            theme::SELECTED
        } else {
            ratatui::style::Style::new()
        });
    let mut state = ratatui::widgets::TableState::default()
        .with_selected((total > 0).then_some(cursor - offset));
    frame.render_stateful_widget(table, area, &mut state);
}
