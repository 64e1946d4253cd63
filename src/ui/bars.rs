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
    let used: usize = spans.iter().map(Span::width).sum();
    let clock = model.now.strftime("%H:%M:%S UTC").to_string();
    let room = usize::from(area.width).saturating_sub(used + clock.len());
    let full: Vec<Vec<Span<'static>>> = model.sources.iter().map(|s| chip(model, s)).collect();
    let needed: usize = full
        .iter()
        .map(|c| 3 + c.iter().map(Span::width).sum::<usize>())
        .sum();
    if needed <= room {
        spans.push(Span::styled(clock, theme::TEXT));
        for chip in full {
            spans.push(Span::styled(" │ ", theme::MUTED));
            spans.extend(chip);
        }
    } else {
        // Narrow: the clock without seconds, and every chip collapsed.
        let clock = model.now.strftime("%H:%M").to_string();
        let room = usize::from(area.width).saturating_sub(used + clock.len());
        spans.push(Span::styled(clock, theme::TEXT));
        spans.extend(collapsed_chips(model, room));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The chips when they do not all fit in full. Failing chips matter most:
/// they keep their full form (vendor, reason, data age) and share whatever
/// the calm chips leave, cut in their reason. The calm chips give way
/// first: their warnings go (`check` and the detail keep them), then they
/// shrink to symbol, short kind and data age (`● met 3m`); if even that
/// does not fit, every chip gets an equal share of its short form. One long
/// error can never push another chip off the line.
fn collapsed_chips(model: &Model, width: usize) -> Vec<Span<'static>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Calm {
        Plain,
        Short,
    }
    let natural = |c: &[Span<'static>]| 1 + c.iter().map(Span::width).sum::<usize>();
    let calm_chip = |source: &SourceState, form: Calm| -> Vec<Span<'static>> {
        let mut spans: Vec<Span<'static>> = match form {
            // Symbol, name and age: the first three spans of the full chip.
            Calm::Plain => chip(model, source).into_iter().take(3).collect(),
            Calm::Short => short_chip(model, source),
        };
        spans.extend(role(model, source, true));
        spans
    };
    let failing = model
        .sources
        .iter()
        .filter(|s| s.status == SourceStatus::Failed)
        .count();
    let calm_width = |form: Calm| -> usize {
        model
            .sources
            .iter()
            .filter(|s| s.status != SourceStatus::Failed)
            .map(|s| natural(&calm_chip(s, form)))
            .sum()
    };
    let failing_natural: usize = model
        .sources
        .iter()
        .filter(|s| s.status == SourceStatus::Failed)
        .map(|s| natural(&chip(model, s)))
        .sum();
    // The least a failing chip needs to say which source fails and why.
    const FAILING_MIN: usize = 32;
    let form = if failing == 0 {
        None
    } else if calm_width(Calm::Plain) + failing_natural <= width {
        Some(Calm::Plain)
    } else if calm_width(Calm::Short) + failing * FAILING_MIN <= width {
        Some(Calm::Short)
    } else {
        None
    };
    let n = model.sources.len().max(1);
    // In the narrowest form the team roles come only if every chip keeps
    // its age whole with them: a cut age says less than no role.
    let roles_fit = model
        .sources
        .iter()
        .map(|s| {
            let mut short = short_chip(model, s);
            short.extend(role(model, s, true));
            natural(&short)
        })
        .all(|w| w <= width / n);
    let mut spans = Vec::new();
    for source in &model.sources {
        let failed = source.status == SourceStatus::Failed;
        let (mut left, chip) = match form {
            Some(form) if failed => {
                let share = ((width - calm_width(form)) / failing).saturating_sub(1);
                (share, fit_failing(chip(model, source), share))
            }
            Some(form) => {
                let calm = calm_chip(source, form);
                (natural(&calm), calm)
            }
            None => {
                let mut short = short_chip(model, source);
                if roles_fit {
                    short.extend(role(model, source, true));
                }
                ((width / n).saturating_sub(1), short)
            }
        };
        spans.push(Span::raw(" "));
        for span in chip {
            if left == 0 {
                break;
            }
            let text = text::truncate(&span.content, left);
            left = left.saturating_sub(unicode_width::UnicodeWidthStr::width(text.as_str()));
            spans.push(Span::styled(text, span.style));
        }
    }
    spans
}

/// A failing chip cut to `width` in its reason, so that the source's name
/// and how old its data is (the last span) stay readable.
fn fit_failing(mut chip: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = chip.iter().map(Span::width).sum();
    let over = total.saturating_sub(width);
    // The reason is the longest span after the symbol and the name.
    if over > 0
        && let Some(reason) = chip.iter_mut().skip(2).max_by_key(|s| s.width())
    {
        let keep = reason.width().saturating_sub(over).max(1);
        reason.content = text::truncate(&reason.content, keep).into();
    }
    chip
}

/// A chip in few columns: symbol, kind, data age, then (if room) why it
/// fails. The kind says which pane it feeds; the vendor is in the full chip.
fn short_chip(model: &Model, source: &SourceState) -> Vec<Span<'static>> {
    let age = source.last_ok.map_or_else(
        || "no data".to_owned(),
        |t| text::ago(model.now, t).trim_end_matches(" ago").to_owned(),
    );
    let kind = match source.kind {
        crate::core::domain::SourceKind::Desk => "desk",
        crate::core::domain::SourceKind::Metrics => "met",
        crate::core::domain::SourceKind::Incidents => "inc",
        crate::core::domain::SourceKind::Accounts => "acct",
    };
    match source.status {
        SourceStatus::Loading => vec![
            Span::styled("◌ ", theme::MUTED),
            Span::styled(format!("{kind} "), theme::TEXT),
            Span::styled("loading", theme::MUTED),
        ],
        SourceStatus::Ready => vec![
            Span::styled("● ", theme::OK),
            Span::styled(format!("{kind} "), theme::TEXT),
            Span::styled(age, theme::MUTED),
        ],
        SourceStatus::Failed => vec![
            Span::styled("✗ ", theme::CRITICAL),
            Span::styled(format!("{kind} "), theme::TEXT),
            Span::styled(age, theme::CRITICAL),
            Span::raw(" "),
            Span::styled(
                source.last_error.clone().unwrap_or_default(),
                theme::CRITICAL,
            ),
        ],
    }
}

/// The open SEV1/SEV2 that started since the user last looked, across the
/// KPI line: what, since when, and the one key that opens it. `false` when
/// there is none (the KPI line is drawn instead).
pub fn banner(frame: &mut Frame<'_>, area: Rect, model: &Model) -> bool {
    let Some(incident) = model
        .offered_incident
        .as_deref()
        .and_then(|id| model.data.incidents.iter().find(|i| i.id == id))
        .filter(|i| i.is_open())
    else {
        return false;
    };
    let key = model
        .settings
        .keymap
        .first_key(Action::IncidentMode)
        .map(|k| format!("  {k} incident mode"))
        .unwrap_or_default();
    let dismiss = model
        .settings
        .keymap
        .first_key(Action::Back)
        .map(|k| format!(" · {k} dismiss"))
        .unwrap_or_default();
    let affected = model
        .data
        .incidents
        .iter()
        .position(|i| i.id == incident.id)
        .and_then(|i| model.derived.impacts.get(i))
        .map_or(0, |x| x.affected.len());
    let text = format!(
        " ▲ {} {} · {} · {affected} customers hit ·{key}{dismiss} ",
        incident.severity,
        incident.title,
        // A vendor clock slightly ahead of ours reads "0s ago", not "-19s".
        text::ago(model.now, incident.started_at),
    );
    let width = usize::from(area.width);
    let text = format!("{:<width$}", text::truncate(&text, width));
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(text, theme::BADGE_INCIDENT))),
        area,
    );
    true
}

/// Team mode: whose read a chip shows. In words on a full chip
/// (`⇅ polls for the team`, `via Kim`, …); in a few columns on a collapsed
/// one (`short`): `⇅` this cockpit polls for the team, `←Kim` read from
/// Kim's poll, `⋯` waiting for the team's poller, `⚠` polling alone (the
/// store is lost).
fn role(model: &Model, source: &SourceState, short: bool) -> Option<Span<'static>> {
    use crate::core::source::FeedRole;
    let (_, role) = model.feed_roles.iter().find(|(k, _)| *k == source.kind)?;
    let words =
        |short_form: &str, long_form: &str| if short { short_form } else { long_form }.to_owned();
    Some(match role {
        FeedRole::Leading => Span::styled(words(" ⇅", " ⇅ polls for the team"), theme::MUTED),
        FeedRole::Following(who) => {
            let who = crate::core::sanitize::text(who);
            let text = if short {
                format!(" ←{}", text::truncate(&who, 8))
            } else {
                format!(" via {}", text::truncate(&who, 16))
            };
            Span::styled(text, theme::MUTED)
        }
        FeedRole::Waiting => {
            Span::styled(words(" ⋯", " waiting for the team's poller"), theme::MUTED)
        }
        FeedRole::Alone(_) => Span::styled(
            words(" ⚠", " ⚠ team store lost: polling itself"),
            theme::WARN,
        ),
    })
}

/// One source chip: state symbol, name, data age, and the error if any
/// (and in team mode whose read it is).
fn chip(model: &Model, source: &SourceState) -> Vec<Span<'static>> {
    let mut spans = state_spans(model, source);
    spans.extend(role(model, source, false));
    spans
}

fn state_spans(model: &Model, source: &SourceState) -> Vec<Span<'static>> {
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
                Span::styled(error, theme::CRITICAL),
                Span::styled(stale, theme::CRITICAL),
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
            // The incidents tab names the worst open SEV1/SEV2 first, so a
            // major incident is seen from any tab (and without colour).
            let badge = match pane {
                Pane::Incidents => model
                    .data
                    .incidents
                    .iter()
                    .filter(|x| x.is_open() && x.severity <= crate::core::domain::Severity::Sev2)
                    .map(|x| x.severity)
                    .min()
                    .map(|s| format!("▲{s} "))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let label = format!(
                " {} {badge}{} ({}) ",
                i + 1,
                pane.title(),
                model.panes[*pane as usize].order.len()
            );
            let major = !badge.is_empty();
            let label = format!("{:<third$}", text::truncate(&label, third));
            Span::styled(
                label,
                if *pane == model.focus {
                    theme::BADGE_MODE
                } else if major {
                    theme::CRITICAL
                } else {
                    theme::MUTED
                },
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn footer(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let line = if let Some(command) = &model.command {
        Line::from(vec![
            Span::styled(" : ", theme::KEY),
            Span::styled(format!("{}▏", command.text), theme::TEXT),
            Span::styled(
                "  tab complete · ↑↓ history · enter run · esc close",
                theme::MUTED,
            ),
        ])
    } else if let Some(text) = &model.filter_input {
        let hint = match &model.panes[model.focus as usize].filter_error {
            Some(error) => Span::styled(format!("  {error}"), theme::CRITICAL),
            None => Span::styled(
                "  fuzzy words and rules (priority>=high), AND-ed · enter keep · esc clear",
                theme::MUTED,
            ),
        };
        Line::from(vec![
            Span::styled(" / ", theme::KEY),
            Span::styled(format!("{text}▏"), theme::TEXT),
            hint,
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

/// The command line's completions, above the footer: name (with its
/// argument), what it does; the one `tab` takes is marked.
pub fn completions(frame: &mut Frame<'_>, body: Rect, model: &Model) {
    use ratatui::widgets::{Block, Borders, Clear};
    let Some(command) = &model.command else {
        return;
    };
    let all = model.completions();
    if all.is_empty() {
        return;
    }
    let rows = all
        .len()
        .min(usize::from(body.height.saturating_sub(2)).min(10));
    let selected = command.selected % all.len();
    // Keep the highlighted one in the window.
    let first = selected.saturating_sub(rows.saturating_sub(1));
    let name_width = all
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    let lines: Vec<Line<'static>> = all
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, c)| {
            let mark = if i == selected { "▶ " } else { "  " };
            let style = if i == selected {
                theme::SELECTED
            } else {
                theme::TEXT
            };
            Line::from(vec![
                Span::styled(
                    format!("{mark}{:<name_width$}", text::truncate(&c.name, name_width)),
                    style,
                ),
                Span::styled(format!("  {}", c.help), theme::MUTED),
            ])
        })
        .collect();
    let height = u16::try_from(rows + 2).unwrap_or(3);
    let width = body.width.min(90);
    let area = Rect::new(
        body.x,
        body.y + body.height.saturating_sub(height),
        width,
        height,
    );
    let more = all.len().saturating_sub(first + rows);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::BORDER_FOCUSED)
        .title(Span::styled(
            format!(" {} commands ", all.len()),
            theme::TITLE,
        ));
    if more > 0 {
        block = block.title_bottom(Span::styled(format!(" ↓ {more} more "), theme::MUTED));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
