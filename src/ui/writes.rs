//! The write dialogs (annotate, escalate), the journal view, and how a
//! write's delivery state looks wherever it is shown.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::theme;
use super::widgets::{self, Hints, Overlay};
use crate::core::writes::{SourceWrite, StepState, Write};
use crate::core::{sanitize, text};
use crate::insight::updates::Rendered;
use crate::model::action::Action;
use crate::model::{Model, Prompt, UpdateStage, Visibility};

/// A write in one line: time, kind, target, first line of text, state.
#[must_use]
pub fn write_line(model: &Model, write: &Write) -> Line<'static> {
    let state = write.state();
    let first = write.text.lines().next().unwrap_or_default();
    let mut spans = vec![
        Span::styled(
            format!("{} ", write.created_at.strftime("%m-%d %H:%M")),
            theme::MUTED,
        ),
        Span::styled(format!("{:<8} ", write.kind.to_string()), theme::ACCENT),
        Span::styled(
            format!("{:<8} ", state.to_string()),
            theme::write_state(state),
        ),
        Span::raw(text::truncate(first, 80)),
    ];
    // A teammate's write (a shared team journal) says whose it is; one's
    // own (`[ui] me`) goes without.
    if let Some(author) = write
        .author
        .as_deref()
        .filter(|a| model.settings.me.as_deref() != Some(*a))
    {
        spans.push(Span::styled(
            format!("  by {}", text::truncate(&sanitize::text(author), 24)),
            theme::ACCENT,
        ));
    }
    spans.push(Span::styled(
        format!("  {}", text::ago(model.now, write.created_at)),
        theme::MUTED,
    ));
    if let Some(error) = write
        .steps
        .iter()
        .find_map(|s| s.last_error.as_deref())
        .filter(|_| state != StepState::Sent)
    {
        spans.push(Span::styled(
            format!("  ({error})"),
            theme::write_state(state),
        ));
    }
    Line::from(spans)
}

/// Per-step lines under a write (detail view, journal view).
#[must_use]
pub fn step_lines(write: &Write) -> Vec<Line<'static>> {
    write
        .steps
        .iter()
        .map(|s| {
            Line::from(vec![
                Span::raw("      "),
                Span::styled(
                    format!("{:<8} ", s.state.to_string()),
                    theme::write_state(s.state),
                ),
                Span::raw(s.effect.describe()),
                Span::styled(
                    match (&s.owner, s.state) {
                        (Some(owner), StepState::Sending) => format!("  (by {owner})"),
                        _ => String::new(),
                    },
                    theme::MUTED,
                ),
                Span::styled(
                    s.last_error
                        .as_deref()
                        .map(|e| format!("  {e}"))
                        .unwrap_or_default(),
                    theme::MUTED,
                ),
            ])
        })
        .collect()
}

/// `J`: every recent write, the selected one marked (`▶`, so it shows
/// without colour too) and kept in view; `x` asks before cancelling it.
pub fn journal(frame: &mut Frame<'_>, area: Rect, model: &Model, selected: usize, confirm: bool) {
    let keymap = &model.settings.keymap;
    let mut lines = Vec::new();
    if model.writes.is_empty() {
        let how = Hints::new(keymap)
            .add_with(&[Action::Annotate], "/", |k| format!("{k} (annotate)"))
            .add_with(&[Action::Escalate], "/", |k| format!("{k} (escalate)"));
        let text = if how.is_empty() {
            "No writes yet.".to_owned()
        } else {
            format!("No writes yet: {} put them here.", how.join(" and "))
        };
        lines.push(Line::from(Span::styled(text, theme::MUTED)));
    }
    let mut selected_line = 0;
    for (i, w) in model.writes.iter().enumerate() {
        let mut line = write_line(model, w);
        let mark = if i == selected { "▶ " } else { "  " };
        line.spans.insert(
            0,
            Span::styled(format!("{mark}{:<18} ", w.target.to_string()), theme::TEXT),
        );
        if i == selected {
            selected_line = lines.len();
            line = line.style(theme::SELECTED);
        }
        lines.push(line);
        lines.extend(step_lines(w));
    }
    if confirm && let Some(w) = model.writes.get(selected) {
        let question = Line::from(vec![
            Span::styled(
                format!(" Cancel write {} ({} {})? ", w.id, w.kind, w.target),
                theme::CRITICAL,
            ),
            Span::styled(" y ", theme::BADGE_MODE),
            Span::raw(" cancel it  "),
            Span::styled(" any other key ", theme::KEY),
            Span::raw(" keep it"),
        ]);
        lines.insert(selected_line, question);
    }
    let hint = Hints::new(keymap)
        .add(&[Action::Back], "back")
        .add(&[Action::Down, Action::Up], "select")
        .add(&[Action::CancelWrite], "cancel write");
    // Keep the selected write (and the question above it) on screen.
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let scroll = (selected_line + 2).saturating_sub(visible);
    Overlay::new(format!(" Journal — {} writes ", model.writes.len()))
        .hints(&hint)
        .scroll(u16::try_from(scroll).unwrap_or(u16::MAX))
        .render(frame, area, lines);
}

fn preview(effects: &[SourceWrite]) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled("This will:", theme::HEADER))];
    for e in effects {
        let style = if matches!(
            e,
            SourceWrite::Page { .. } | SourceWrite::DeskNote { public: true, .. }
        ) {
            theme::CRITICAL
        } else {
            theme::TEXT
        };
        lines.push(Line::from(vec![
            Span::raw("  • "),
            Span::styled(e.describe(), style),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" y ", theme::BADGE_MODE),
        Span::raw(" journal it and send  "),
        Span::styled(" n ", theme::KEY),
        Span::raw(" back"),
    ]));
    lines
}

/// The open dialog, centred over the body. Its keys (y, n, j/k, enter,
/// esc, P) are named literally: a dialog reads them directly
/// (model/prompt.rs), not through the rebindable keymap.
pub fn prompt(frame: &mut Frame<'_>, area: Rect, model: &Model, prompt: &Prompt) {
    let popup = widgets::centered(area, 100, 22);
    let (title, error, saving) = match prompt {
        Prompt::Annotate {
            about,
            error,
            saving,
            ..
        } => (format!(" Note on {about} "), error, saving),
        Prompt::Escalate {
            about,
            error,
            saving,
            ..
        } => (format!(" Escalate {about} "), error, saving),
        Prompt::Update {
            incident,
            error,
            saving,
            ..
        } => (
            format!(" Customer update for incident {incident} "),
            error,
            saving,
        ),
        Prompt::Link {
            about,
            error,
            saving,
            ..
        } => (format!(" Link {about} "), error, saving),
    };
    // The title names what is written about, which can be long: cut it
    // visibly (with an ellipsis) rather than at the border.
    let title = text::truncate(&title, usize::from(popup.width) - 2);
    let inner = Overlay::new(title).frame(frame, popup);
    let [body, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    let status_line = if *saving {
        Line::from(Span::styled("saving to the journal…", theme::WARN))
    } else if let Some(e) = error {
        Line::from(Span::styled(e.clone(), theme::CRITICAL))
    } else {
        Line::raw("")
    };
    frame.render_widget(Paragraph::new(status_line), status);
    match prompt {
        Prompt::Annotate {
            editor,
            confirm: None,
            ..
        } => frame.render_widget(&**editor, body),
        Prompt::Annotate {
            editor,
            confirm: Some(effects),
            ..
        } => {
            let mut lines: Vec<Line<'static>> = editor
                .lines()
                .iter()
                .take(6)
                .map(|l| Line::from(Span::styled(l.clone(), theme::MUTED)))
                .collect();
            lines.push(Line::raw(""));
            lines.extend(preview(effects));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        }
        Prompt::Escalate {
            teammate: Some(teammate),
            ..
        } => {
            let lines = vec![
                Line::from(Span::styled(sanitize::text(teammate), theme::WARN)),
                Line::raw("Escalating it again pages the same people a second time."),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" y ", theme::BADGE_MODE),
                    Span::raw(" escalate anyway  "),
                    Span::styled(" n ", theme::KEY),
                    Span::raw(" leave it"),
                ]),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        }
        Prompt::Escalate {
            options,
            selected,
            confirm: None,
            ..
        } => {
            let mut lines = vec![Line::from(Span::styled(
                "Escalate to (j/k, enter to review, esc to cancel):",
                theme::HEADER,
            ))];
            for (i, name) in options.iter().enumerate() {
                let style = if i == *selected {
                    theme::SELECTED
                } else {
                    theme::TEXT
                };
                lines.push(Line::from(Span::styled(format!("  {name}"), style)));
            }
            frame.render_widget(Paragraph::new(lines), body);
        }
        Prompt::Escalate {
            confirm: Some(effects),
            text,
            ..
        } => {
            let mut lines = preview(effects);
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled(
                "Context sent with it:",
                theme::HEADER,
            )));
            lines.extend(
                text.lines()
                    .map(|l| Line::from(Span::styled(format!("  {l}"), theme::MUTED))),
            );
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        }
        Prompt::Link {
            options, selected, ..
        } => {
            let mut lines = vec![Line::from(Span::styled(
                "To which incident (j/k, enter links it or removes its link, esc to cancel):",
                theme::HEADER,
            ))];
            for (i, option) in options.iter().enumerate() {
                let mark = if i == *selected { "▶ " } else { "  " };
                let style = if i == *selected {
                    theme::SELECTED
                } else {
                    theme::TEXT
                };
                let now = match option.current {
                    Some(confidence) => format!("  linked ({confidence}): enter unlinks"),
                    None => "  not linked".to_owned(),
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{mark}{}", text::truncate(&option.label, 70)),
                        style,
                    ),
                    Span::styled(now, theme::MUTED),
                ]));
            }
            if model.settings.mirror_links {
                lines.push(Line::raw(""));
                lines.push(Line::from(Span::styled(
                    "Linking also mirrors it on Zendesk ([desk] mirror_links): the incident's problem ticket is created (or reused) and this ticket becomes an incident of it.",
                    theme::WARN,
                )));
            }
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        }
        Prompt::Update {
            template,
            stage: UpdateStage::Pick,
            ..
        } => {
            let mut lines = vec![Line::from(Span::styled(
                "Which update (j/k, enter to edit it, esc to cancel):",
                theme::HEADER,
            ))];
            for (i, (name, text)) in model.settings.updates.names().into_iter().enumerate() {
                let style = if i == *template {
                    theme::SELECTED
                } else {
                    theme::TEXT
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {name:<14}"), style),
                    Span::styled(text::truncate(text, 70), theme::MUTED),
                ]));
            }
            frame.render_widget(Paragraph::new(lines), body);
        }
        Prompt::Update {
            stage: UpdateStage::Edit { editor },
            ..
        } => {
            let [help, edit] =
                Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(body);
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(Span::styled(
                        "Edit the update. Each customer gets their own copy: {customer} {their_impact} {service} {next_update} {status_page}",
                        theme::MUTED,
                    )),
                    Line::from(Span::styled(
                        "ctrl-s: review each customer's text · ctrl-e: $EDITOR · esc: back",
                        theme::MUTED,
                    )),
                ])
                .wrap(Wrap { trim: false }),
                help,
            );
            frame.render_widget(&**editor, edit);
        }
        Prompt::Update {
            stage:
                UpdateStage::Review {
                    rendered,
                    page,
                    effects,
                    ..
                },
            visibility,
            ..
        } => {
            // The question (where it goes, y/n) is pinned to the bottom:
            // at 80×24 a long text must not push it off the dialog.
            let mut lines = review_lines(rendered, *page, effects, *visibility);
            let ask = lines.split_off(lines.len().saturating_sub(3));
            let [text_area, ask_area] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(4)]).areas(body);
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
            frame.render_widget(Paragraph::new(ask).wrap(Wrap { trim: false }), ask_area);
        }
    }
}

/// One recipient's exact text (a page per linked inquiry), where it goes,
/// and how to confirm.
fn review_lines(
    rendered: &[Rendered],
    page: usize,
    effects: &[SourceWrite],
    visibility: Visibility,
) -> Vec<Line<'static>> {
    let n = rendered.len();
    let Some(r) = rendered.get(page) else {
        return vec![Line::raw("nobody to send to")];
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(
                "Recipient {} of {n}: inquiry {} — {}",
                page + 1,
                r.inquiry,
                r.customer
            ),
            theme::HEADER,
        ),
        Span::styled("   ←/→ page", theme::MUTED),
    ])];
    lines.push(Line::raw(""));
    lines.extend(r.body.lines().map(|l| Line::from(format!("  {l}"))));
    lines.push(Line::raw(""));
    let record = effects
        .iter()
        .find(|e| matches!(e, SourceWrite::IncidentNote { .. }))
        .map_or_else(String::new, |e| format!(", and a {}", e.describe()));
    lines.push(match visibility {
        Visibility::Private => Line::from(vec![
            Span::raw(format!(
                "as a private note on each of the {n} linked inquiries{record}.  "
            )),
            Span::styled("P", theme::KEY),
            Span::raw(" send as a public reply instead"),
        ]),
        Visibility::Public {
            confirmed_once: false,
        } => Line::from(Span::styled(
            format!(
                "as a PUBLIC REPLY to the customers on {n} inquiries — each reads the text above for them. y once more to confirm."
            ),
            theme::CRITICAL,
        )),
        Visibility::Public {
            confirmed_once: true,
        } => Line::from(Span::styled(
            format!("PUBLIC REPLY on {n} inquiries: confirmed. y sends it."),
            theme::CRITICAL,
        )),
    });
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" y ", theme::BADGE_MODE),
        Span::raw(" journal it and send  "),
        Span::styled(" n ", theme::KEY),
        Span::raw(" back to the text"),
    ]));
    lines
}
