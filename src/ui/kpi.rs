//! The KPI strip under the top bar (the shift window, as much as fits) and
//! the KPI view (`K`): every KPI of every window, each n/a with its reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::theme;
use super::widgets::{self, Hints, Overlay};
use crate::core::text;
use crate::insight::kpi::{ClosedHistory, Durations, Kpi, Kpis, Rate, WindowKpis};
use crate::model::Model;
use crate::model::action::Action;

/// The first-reply SLA target a desk should meet (domain.md §4: ≥ 95 %).
const SLA_TARGET: f64 = 95.0;

fn percent(rate: &Rate) -> String {
    format!("{:.0}%", rate.percent)
}

fn pair(d: &Durations) -> String {
    format!(
        "{} p90 {}",
        text::duration(d.median()),
        text::duration(d.p90())
    )
}

/// One labelled value of the strip: `[label, value]` with the value's style.
fn segment<T>(
    label: &str,
    kpi: &Kpi<T>,
    show: impl Fn(&T) -> String,
    style: impl Fn(&T) -> Style,
) -> Vec<Span<'static>> {
    match kpi {
        Kpi::Value(v) => vec![
            Span::styled(format!("{label} "), theme::MUTED),
            Span::styled(show(v), style(v)),
        ],
        Kpi::NotAvailable(_) => vec![Span::styled(format!("{label} n/a"), theme::MUTED)],
    }
}

/// The strip: the shift's KPIs in order of importance, whole segments only,
/// as many as fit.
pub fn strip(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let kpis = &model.kpis;
    let Some(shift) = kpis.shift() else {
        return;
    };
    let mut spans = vec![Span::styled(format!(" KPI {}", shift.label), theme::HEADER)];
    // Everything n/a for one reason (no desk, desk down): say it once.
    if let Some(reason) = kpis.backlog.reason()
        && shift.first_reply.reason() == Some(reason)
    {
        spans.push(Span::styled(format!(" n/a: {reason}"), theme::MUTED));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    let segments = [
        segment(
            "SLA",
            &shift.sla_achievement,
            |r| format!("{} ({}/{})", percent(r), r.count, r.of),
            |r| theme::sla(r.percent, SLA_TARGET),
        ),
        segment("first reply", &shift.first_reply, pair, |_| theme::TEXT),
        segment(
            "backlog",
            &kpis.backlog,
            |b| match b.age.value() {
                Some(age) => format!("{} age p90 {}", b.unsolved, text::duration(age.p90())),
                None => b.unsolved.to_string(),
            },
            |_| theme::TEXT,
        ),
        segment("reopen", &shift.reopen_rate, percent, |_| theme::TEXT),
        segment("escalated", &shift.escalation_rate, percent, |_| {
            theme::TEXT
        }),
        segment("one-touch", &shift.one_touch, percent, |_| theme::TEXT),
    ];
    let mut used: usize = spans.iter().map(|s| s.content.width()).sum();
    let room = usize::from(area.width);
    let mut unexplained = false;
    for segment in segments {
        let width: usize = 2 + segment.iter().map(|s| s.content.width()).sum::<usize>();
        if used + width > room {
            break;
        }
        used += width;
        unexplained |= segment.iter().any(|s| s.content.ends_with("n/a"));
        spans.push(Span::raw("  "));
        spans.extend(segment);
    }
    // An n/a is never left unexplained: the view gives every reason.
    if unexplained && let Some(key) = model.settings.keymap.first_key(Action::KpiView) {
        let hint = format!("  ({key}: why n/a)");
        if used + hint.width() <= room {
            spans.push(Span::styled(hint, theme::MUTED));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A cell of the view: the value, or `n/a [k]` pointing at reason `k`.
fn cell<T>(kpi: &Kpi<T>, show: impl Fn(&T) -> String, reasons: &mut Vec<String>) -> String {
    match kpi {
        Kpi::Value(v) => show(v),
        Kpi::NotAvailable(reason) => {
            let k = reasons.iter().position(|r| r == reason).unwrap_or_else(|| {
                reasons.push(reason.clone());
                reasons.len() - 1
            });
            format!("n/a [{}]", k + 1)
        }
    }
}

fn rate_cell(rate: &Rate) -> String {
    format!("{} ({}/{})", percent(rate), rate.count, rate.of)
}

fn durations_cell(d: &Durations) -> String {
    format!(
        "{} / {}",
        text::duration(d.median()),
        text::duration(d.p90())
    )
}

type Row<'a> = (
    &'static str,
    Box<dyn Fn(&WindowKpis, &mut Vec<String>) -> String + 'a>,
);

fn rows<'a>() -> Vec<Row<'a>> {
    vec![
        (
            "First reply p50 / p90",
            Box::new(|w, r| cell(&w.first_reply, durations_cell, r)),
        ),
        (
            "  in business hours",
            Box::new(|w, r| cell(&w.first_reply_business, durations_cell, r)),
        ),
        (
            "First-reply SLA met",
            Box::new(|w, r| cell(&w.sla_achievement, rate_cell, r)),
        ),
        (
            "Reopen rate",
            Box::new(|w, r| cell(&w.reopen_rate, rate_cell, r)),
        ),
        (
            "Escalation rate",
            Box::new(|w, r| cell(&w.escalation_rate, rate_cell, r)),
        ),
        (
            "One-touch resolution",
            Box::new(|w, r| cell(&w.one_touch, rate_cell, r)),
        ),
        (
            "Created",
            Box::new(|w, r| cell(&w.created, ToString::to_string, r)),
        ),
        (
            "Solved",
            Box::new(|w, r| cell(&w.solved, ToString::to_string, r)),
        ),
    ]
}

fn pad(text: &str, width: usize) -> String {
    let text = text::truncate(text, width);
    let fill = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(fill))
}

/// The lines of the KPI view, for a given inner width.
fn view_lines(model: &Model, width: usize) -> Vec<Line<'static>> {
    let kpis: &Kpis = &model.kpis;
    let label_width = 22;
    let column =
        ((width.saturating_sub(label_width + 1)) / kpis.windows.len().max(1)).clamp(10, 30);
    let mut reasons: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    let mut header = vec![Span::raw(pad("", label_width))];
    for w in &kpis.windows {
        let title = match w.name {
            "shift" => format!("shift {}", w.label),
            _ => w.label.clone(),
        };
        header.push(Span::styled(pad(&title, column), theme::HEADER));
    }
    lines.push(Line::from(header));
    for (label, show) in rows() {
        let mut spans = vec![Span::styled(pad(label, label_width), theme::ACCENT)];
        for w in &kpis.windows {
            let text = show(w, &mut reasons);
            let style = if text.starts_with("n/a") {
                theme::MUTED
            } else {
                theme::TEXT
            };
            spans.push(Span::styled(pad(&text, column), style));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    let backlog = cell(
        &kpis.backlog,
        |b| {
            let age = b.age.value().map_or_else(
                || "no age: the backlog is empty".to_owned(),
                |a| {
                    format!(
                        "age p50 {}, p90 {}",
                        text::duration(a.median()),
                        text::duration(a.p90())
                    )
                },
            );
            format!(
                "{} unsolved (new, open, on-hold), {} pending · {age}",
                b.unsolved, b.pending
            )
        },
        &mut reasons,
    );
    lines.push(Line::from(vec![
        Span::styled(pad("Backlog now", label_width), theme::ACCENT),
        Span::raw(backlog),
    ]));
    if !reasons.is_empty() {
        lines.push(Line::raw(""));
        for (k, reason) in reasons.iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(format!(" [{}] ", k + 1), theme::MUTED),
                Span::styled(format!("n/a: {reason}"), theme::TEXT),
            ]));
        }
    }
    lines.push(Line::raw(""));
    let source = model
        .source(crate::core::domain::SourceKind::Desk)
        .map_or_else(
            || "no desk configured".to_owned(),
            |s| {
                let age = s
                    .last_ok
                    .map_or_else(|| "no data yet".to_owned(), |t| text::ago(model.now, t));
                format!("desk {} ({age})", s.vendor)
            },
        );
    let history = match kpis.closed_history {
        ClosedHistory::Unknown => "unknown yet".to_owned(),
        ClosedHistory::Complete => "complete".to_owned(),
        ClosedHistory::Since(t) => format!("since {}", t.strftime("%Y-%m-%d %H:%M UTC")),
    };
    lines.push(Line::from(Span::styled(
        format!(" From: {source}; closed-inquiry history {history}."),
        theme::MUTED,
    )));
    for m in &kpis.method {
        lines.push(Line::from(Span::styled(format!(" · {m}"), theme::MUTED)));
    }
    lines
}

/// `K`: the KPI view over the body.
pub fn view(frame: &mut Frame<'_>, area: Rect, model: &Model, scroll: u16) {
    let lines = view_lines(model, usize::from(area.width.saturating_sub(2)));
    let keymap = &model.settings.keymap;
    let at = model.kpis.at.strftime("%H:%M UTC");
    // Both keys that close the view, as bound now.
    let title = match widgets::keys(keymap, &[Action::KpiView, Action::Back], " or ") {
        Some(keys) => format!(" KPIs at {at} — {keys} to close "),
        None => format!(" KPIs at {at} "),
    };
    let hint = Hints::new(keymap).add(&[Action::Down, Action::Up], "scroll");
    // Long reasons wrap rather than lose their end at 80 columns.
    Overlay::new(title)
        .hints(&hint)
        .wrap()
        .scroll(scroll)
        .render(frame, area, lines);
}
