//! The detail overlay (Enter) for an inquiry, a customer or an incident.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::inquiries::segment_short;
use super::theme;
use super::widgets::{Hints, Overlay, field, heading, sparkline};
use crate::core::domain::{Account, Incident, Inquiry};
use crate::core::text;
use crate::insight::join::CustomerRow;
use crate::model::action::Action;
use crate::model::{Loadable, Model, Target};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, target: &Target, scroll: u16) {
    let (title, lines) = match target {
        Target::Inquiry(id) => match model.data.inquiry(id) {
            Some(inquiry) => (format!(" Inquiry {id} "), inquiry_lines(model, inquiry)),
            None => (
                format!(" Inquiry {id} "),
                gone("this inquiry left the open queue"),
            ),
        },
        Target::Customer(id) => match model.data.accounts.iter().position(|a| &a.id == id) {
            Some(index) => (
                format!(" Customer {} ", model.data.accounts[index].name),
                customer_lines(model, index),
            ),
            None => (
                format!(" Customer {id} "),
                gone("this customer is no longer in the accounts file"),
            ),
        },
        Target::Incident(id) => match model.data.incidents.iter().position(|i| &i.id == id) {
            Some(index) => (format!(" Incident {id} "), incident_lines(model, index)),
            None => (
                format!(" Incident {id} "),
                gone("this incident is no longer open"),
            ),
        },
    };
    let mut lines = lines;
    // Team mode: a teammate already on it is the first thing to know.
    if let Some(words) = super::widgets::presence_words(model, &target.item()) {
        lines.insert(0, Line::from(words));
    }
    lines.extend(annotations(model, target));
    let hint = Hints::new(&model.settings.keymap)
        .add(&[Action::Back], "back")
        .add(&[Action::Down, Action::Up], "scroll")
        .add(&[Action::OpenInBrowser], "open")
        .add(&[Action::CopyLink], "copy link");
    Overlay::new(title)
        .hints(&hint)
        .wrap()
        .scroll(scroll)
        .render(frame, area, lines);
}

/// The writes about this item, with each step's delivery state.
fn annotations(model: &Model, target: &Target) -> Vec<Line<'static>> {
    let item = target.item();
    let writes: Vec<_> = model.writes_for(&item).collect();
    let mut lines = vec![
        Line::raw(""),
        heading(&format!(
            "Notes and escalations from this cockpit ({})",
            writes.len()
        )),
    ];
    if writes.is_empty() {
        let how = Hints::new(&model.settings.keymap)
            .add_with(&[Action::Annotate], "/", |k| format!("{k} to annotate"))
            .add_with(&[Action::Escalate], "/", |k| format!("{k} to escalate"));
        let text = if how.is_empty() {
            "  none yet".to_owned()
        } else {
            format!("  none yet — {}", how.join(", "))
        };
        lines.push(Line::from(Span::styled(text, theme::MUTED)));
    }
    for w in writes {
        lines.push(super::writes::write_line(model, w));
        lines.extend(super::writes::step_lines(w));
    }
    lines
}

fn gone(text: &str) -> Vec<Line<'static>> {
    vec![Line::from(Span::styled(text.to_owned(), theme::MUTED))]
}

fn customer_summary(model: &Model, account: &Account) -> String {
    let health = model
        .derived
        .customers
        .iter()
        .find(|c| model.data.accounts[c.account].id == account.id)
        .map(|c| {
            c.health.score.map_or_else(
                || format!("health — {}", c.health.band),
                |s| format!("health {s:.0} {}", c.health.band),
            )
        })
        .unwrap_or_default();
    format!(
        "{} ({}, {}) · {health}",
        account.name,
        account.segment,
        text::money(account.arr)
    )
}

/// What only some desks say (Zendesk): due date, channel, segment field,
/// satisfaction; a line each, only when known.
fn desk_detail_lines(model: &Model, inquiry: &Inquiry) -> Vec<Line<'static>> {
    let d = &inquiry.desk;
    let mut lines = Vec::new();
    if let Some(due) = d.due_at {
        let left = due.duration_since(model.now);
        let when = if left.is_negative() {
            format!("overdue {}", text::duration(-left))
        } else {
            format!("in {}", text::duration(left))
        };
        lines.push(field(
            "due",
            format!("{} ({when})", due.strftime("%Y-%m-%d %H:%M UTC")),
        ));
    }
    if let Some(channel) = &d.channel {
        lines.push(field("channel", channel.clone()));
    }
    if let Some(segment) = &d.segment {
        lines.push(field("segment", segment.clone()));
    }
    if let Some(rating) = d.satisfaction {
        lines.push(field(
            "satisfaction",
            format!(
                "{} ({})",
                if rating.good { "good" } else { "bad" },
                rating.at.strftime("%Y-%m-%d")
            ),
        ));
    }
    lines
}

fn inquiry_lines(model: &Model, inquiry: &Inquiry) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(Span::styled(inquiry.subject.clone(), theme::TITLE)),
        Line::from(vec![
            Span::styled(format!("{:>12}  ", "priority"), theme::HEADER),
            Span::styled(
                inquiry.priority.to_string(),
                theme::priority(inquiry.priority),
            ),
            Span::raw(match &inquiry.desk.status_label {
                // A custom status: the desk's name, then the category the
                // cockpit counts it as.
                Some(label) => format!("   status {label} ({})", inquiry.status),
                None => format!("   status {}", inquiry.status),
            }),
        ]),
        field(
            "customer",
            model.account_of(inquiry).map_or_else(
                || {
                    inquiry
                        .org
                        .as_deref()
                        .map(str::to_owned)
                        .unwrap_or_else(|| "unknown".into())
                },
                |a| customer_summary(model, a),
            ),
        ),
        field(
            "requester",
            inquiry
                .requester
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_default(),
        ),
        field(
            "assignee",
            inquiry
                .assignee
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_else(|| "unassigned".into()),
        ),
        field(
            "group",
            inquiry
                .group
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_default(),
        ),
        field(
            "feature area",
            inquiry
                .feature_area
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_default(),
        ),
        field("tags", inquiry.tags.join(" ")),
        field(
            "created",
            format!(
                "{} ({})",
                inquiry.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                text::ago(model.now, inquiry.created_at)
            ),
        ),
    ];
    lines.extend(desk_detail_lines(model, inquiry));
    lines.push(match inquiry.sla {
        Some(clock) => {
            let left = clock.due.duration_since(model.now);
            let hours = if clock.business_hours {
                "business hours"
            } else {
                "calendar hours"
            };
            Line::from(vec![
                Span::styled(format!("{:>12}  ", "SLA"), theme::HEADER),
                Span::styled(
                    if left.is_negative() {
                        format!("breached {} ago", text::duration(-left))
                    } else {
                        format!("{} left", text::duration(left))
                    },
                    if left.is_negative() {
                        theme::CRITICAL
                    } else {
                        theme::TEXT
                    },
                ),
                Span::styled(format!("  {} · {hours}", clock.metric), theme::MUTED),
            ])
        }
        None => field("SLA", "paused (waiting on the customer) or no target"),
    });
    for (index, impact) in model.derived.impacts.iter().enumerate() {
        if let Some(link) = impact.linked.iter().find(|l| l.inquiry == inquiry.id) {
            let incident = &model.data.incidents[index];
            lines.push(field(
                "incident",
                format!(
                    "{} {} — [{}] {}",
                    incident.severity, incident.title, link.confidence, link.reason
                ),
            ));
        }
    }
    if let Some(url) = &inquiry.url {
        lines.push(field("link", url.clone()));
    }
    lines.push(Line::raw(""));
    lines.push(heading("Conversation"));
    match model.comments.get(inquiry.id.as_str()) {
        None | Some(Loadable::Loading) => {
            lines.push(Line::from(Span::styled("loading…", theme::MUTED)))
        }
        Some(Loadable::Failed(e)) => lines.push(Line::from(Span::styled(
            format!("could not load: {e}"),
            theme::CRITICAL,
        ))),
        Some(Loadable::Ready(comments)) if comments.is_empty() => {
            lines.push(Line::from(Span::styled("no comments", theme::MUTED)))
        }
        Some(Loadable::Ready(comments)) => {
            for c in comments {
                let (label, style) = if c.public {
                    ("public", theme::ACCENT)
                } else {
                    ("INTERNAL NOTE", theme::PRIVATE_NOTE)
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("── {label} "), style),
                    Span::styled(
                        format!(
                            "{} · {}",
                            c.author.clone().unwrap_or_else(|| "unknown".into()),
                            c.at.strftime("%Y-%m-%d %H:%M")
                        ),
                        theme::MUTED,
                    ),
                ]));
                for text in c.body.lines() {
                    lines.push(Line::from(Span::styled(
                        format!("   {text}"),
                        if c.public {
                            theme::TEXT
                        } else {
                            theme::PRIVATE_NOTE
                        },
                    )));
                }
                // Listed, never fetched: the link opens in the browser.
                for a in &c.attachments {
                    let size = a.size.map(|b| format!(" ({})", text::bytes(b)));
                    lines.push(Line::from(vec![
                        Span::styled(
                            format!("   attachment {}{}", a.name, size.unwrap_or_default()),
                            theme::ACCENT,
                        ),
                        Span::styled(
                            a.url
                                .as_deref()
                                .map(|u| format!("  {u}"))
                                .unwrap_or_default(),
                            theme::MUTED,
                        ),
                    ]));
                }
            }
        }
    }
    lines
}

fn signed(x: f64) -> String {
    if x.round() == 0.0 {
        "±0".to_owned()
    } else {
        format!("{x:+.0}").replace('-', "−")
    }
}

/// `H = 47 (Red) ↓ Δ7 −12 Δ30 −18  FALLING-FAST  coverage 100%`.
fn health_header(row: &CustomerRow) -> Line<'static> {
    let (h, t) = (&row.health, &row.trend);
    let mut spans = vec![
        Span::styled(
            h.score
                .map_or_else(|| "H = — ".to_owned(), |s| format!("H = {s:.1} ")),
            theme::band(h.band),
        ),
        Span::styled(format!("({}) ", h.band), theme::band(h.band)),
        super::customers::trend_span(t),
    ];
    spans.push(Span::raw(format!(
        " Δ7 {}  Δ30 {}",
        t.delta7.map_or_else(|| "—".to_owned(), signed),
        t.delta30.map_or_else(|| "—".to_owned(), signed)
    )));
    if t.falling_fast {
        spans.push(Span::styled("  FALLING-FAST", theme::CRITICAL));
    }
    if h.in_incident {
        spans.push(Span::styled("  IN INCIDENT", theme::CRITICAL));
    }
    spans.push(Span::styled(
        format!("  coverage {:.0}%", h.coverage * 100.0),
        if h.low_confidence {
            theme::WARN
        } else {
            theme::MUTED
        },
    ));
    if h.low_confidence {
        spans.push(Span::styled(" (low confidence)", theme::WARN));
    }
    Line::from(spans)
}

/// Why the customer sits where it does in the queue, every multiplier shown.
fn attention_line(row: &CustomerRow) -> Line<'static> {
    let a = &row.attention;
    let renewal = match row.renewal_days {
        Some(d) => format!("renews in {d} d"),
        None => "no renewal date".to_owned(),
    };
    let order = if row.health.in_incident {
        "first: in incident; then "
    } else if !row.health.red_flags.is_empty() {
        "first: red flag; then "
    } else {
        ""
    };
    field(
        "attention",
        format!(
            "{order}{:.1} = (100 − H) {:.1} × renewal {:.2} ({renewal}) × trend {:.1}{} × value {:.2}",
            a.priority,
            a.base,
            a.m_renewal,
            a.m_trend,
            if row.trend.falling_fast {
                " (FALLING-FAST)"
            } else {
                ""
            },
            a.m_value,
        ),
    )
}

fn customer_lines(model: &Model, index: usize) -> Vec<Line<'static>> {
    let account = &model.data.accounts[index];
    let Some(row) = model.derived.customers.iter().find(|c| c.account == index) else {
        return gone("not scored yet");
    };
    let h = &row.health;
    let mut lines = vec![health_header(row)];
    lines.push(field(
        "segment",
        format!(
            "{} · {} seats · tier {}",
            account.segment, account.seats, account.tier
        ),
    ));
    lines.push(field("ARR", text::money(account.arr)));
    lines.push(field(
        "renewal",
        match (row.renewal_days, account.renewal_date) {
            (Some(d), Some(date)) => format!("in {d} days ({date})"),
            _ => "unknown".into(),
        },
    ));
    lines.push(field("owner", account.owner.clone()));
    lines.push(field("tenant", account.tenant.clone()));
    for flag in &h.red_flags {
        lines.push(Line::from(Span::styled(
            format!("{:>12}  {flag}", "RED FLAG"),
            theme::CRITICAL,
        )));
    }
    let capped = if h.red_flags.is_empty() {
        "band capped at Yellow"
    } else {
        "would cap the band at Yellow"
    };
    for cap in &h.yellow_caps {
        lines.push(Line::from(Span::styled(
            format!("{:>12}  {cap} ({capped})", "CAP"),
            theme::WARN,
        )));
    }
    if let Some(top) = h.top_driver() {
        let why = if h.red_flags.first().is_some_and(|f| f.factor() == top.id) {
            " (the red flag's factor)"
        } else {
            " (most points lost)"
        };
        lines.push(field(
            "top driver",
            format!("{} {}{why}: {}", top.code(), top.name(), top.evidence),
        ));
    }
    match &row.next_action {
        Some(a) => {
            let (due, style) = super::customers::due_text(model, a.due);
            let deadline = match a.due {
                crate::insight::join::Due::At(at) => {
                    format!(" (by {})", at.strftime("%a %Y-%m-%d %H:%M UTC"))
                }
                _ => String::new(),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{:>12}  ", "next action"), theme::HEADER),
                Span::styled(format!("{due}{deadline} "), style),
                Span::styled(format!("{} ", a.who), theme::ACCENT),
                Span::raw(a.what.clone()),
            ]));
            lines.push(field(
                "why",
                format!(
                    "driver: {} · since {}",
                    a.driver,
                    a.since.strftime("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        None => lines.push(field("next action", "none: keep the usual cadence")),
    }
    lines.push(attention_line(row));

    lines.push(Line::raw(""));
    lines.push(heading(
        "Why this score: factors, largest points lost first",
    ));
    lines.push(Line::from(Span::styled(
        format!(
            "  {:<22} {:>5} {:>6} {:>6}  {:<10} evidence",
            "factor", "score", "weight", "lost", "label"
        ),
        theme::HEADER,
    )));
    for f in &h.factors {
        lines.push(Line::raw(format!(
            "  {:<22} {:>5.0} {:>6.0} {:>6.1}  {:<10} {}",
            format!("{} {}", f.code(), f.name()),
            f.sub_score,
            f.weight,
            f.points_lost,
            f.label().to_string(),
            f.evidence
        )));
    }
    let missing: Vec<String> = crate::insight::health::FactorId::ALL
        .iter()
        .filter(|id| h.factor(**id).is_none())
        .map(|id| format!("{} {}", id.code(), id.name()))
        .collect();
    if !missing.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "  no data (dropped, weights renormalised): {}",
                missing.join(", ")
            ),
            theme::MUTED,
        )));
    }

    lines.push(Line::raw(""));
    let today = model.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let baseline = model.data.history.baseline(&account.id, today);
    lines.extend(what_changed(&crate::insight::health::changes(h, &baseline)));

    lines.push(Line::raw(""));
    lines.push(heading("Metrics"));
    lines.extend(metric_lines(model, account));

    lines.push(Line::raw(""));
    lines.push(heading(&format!("Open inquiries ({})", row.open_inquiries)));
    for inquiry in model
        .data
        .inquiries
        .iter()
        .filter(|i| model.derived.account_of(i) == Some(index))
    {
        let breached = inquiry.sla.is_some_and(|c| c.due <= model.now);
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<7} ", inquiry.id), theme::MUTED),
            Span::styled(
                format!("{:<7}", inquiry.priority.to_string()),
                theme::priority(inquiry.priority),
            ),
            Span::styled(
                if breached { "past SLA " } else { "" }.to_owned(),
                theme::CRITICAL,
            ),
            Span::raw(inquiry.subject.clone()),
        ]));
    }
    let closed = model
        .data
        .history
        .closed()
        .iter()
        .filter(|c| {
            c.org
                .as_ref()
                .is_some_and(|o| model.derived.org_index.get(&o.to_lowercase()) == Some(&index))
        })
        .count();
    lines.push(Line::from(Span::styled(
        format!("  and {closed} closed in the last 90 days (counted in support burden)"),
        theme::MUTED,
    )));
    lines.push(Line::raw(""));
    lines.push(heading(&format!("Incidents ({})", row.incidents.len())));
    for &i in &row.incidents {
        let incident = &model.data.incidents[i];
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {} ", incident.severity),
                theme::severity(incident.severity),
            ),
            Span::raw(format!("{} ", incident.title)),
            Span::styled(
                format!(
                    "{} · started {}",
                    incident.status,
                    text::ago(model.now, incident.started_at)
                ),
                theme::MUTED,
            ),
        ]));
    }
    // The journal's notes and escalations follow (`annotations`).
    lines
}

/// "What changed" over 30 days: each factor's share of ΔH.
fn what_changed(t: &crate::insight::health::Changes) -> Vec<Line<'static>> {
    let Some(since) = t.since else {
        return vec![
            heading("What changed (30 days)"),
            Line::from(Span::styled(
                "  no earlier daily score kept yet: the trend builds from today's score on",
                theme::MUTED,
            )),
        ];
    };
    let mut lines = vec![heading(&format!("What changed since {since}"))];
    if t.shifts.is_empty() && t.renormalisation.is_none() {
        lines.push(Line::from(Span::styled(
            "  no factor moved the score by 2 points or more",
            theme::MUTED,
        )));
    }
    for shift in &t.shifts {
        lines.push(Line::from(vec![
            Span::raw(format!(
                "  {:<22} {:>3.0} → {:<3.0} ",
                format!("{} {}", shift.factor.code(), shift.factor.name()),
                shift.from,
                shift.to
            )),
            Span::styled(
                format!("{:+.1} points", shift.points).replace('-', "−"),
                if shift.points < 0.0 {
                    theme::WARN
                } else {
                    theme::OK
                },
            ),
        ]));
    }
    if let Some(r) = t.renormalisation {
        lines.push(Line::from(Span::styled(
            format!("  {r:+.1} points from factors gaining or losing data (weights renormalised)")
                .replace('-', "−"),
            theme::MUTED,
        )));
    }
    lines
}

fn metric_lines(model: &Model, account: &Account) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let metrics = &model.data.metrics;
    if let Some(m) = metrics.by_tenant.get(&account.tenant) {
        lines.push(field(
            "error ratio",
            m.error_ratio
                .map_or_else(|| "no data".into(), text::percent),
        ));
        lines.push(field(
            "active users",
            m.active_users.map_or_else(
                || "no data".into(),
                |u| {
                    format!(
                        "{u:.0} (7 d ago: {})",
                        m.active_users_prev
                            .map_or_else(|| "—".into(), |p| format!("{p:.0}"))
                    )
                },
            ),
        ));
        lines.push(field(
            "requests/s",
            m.request_rate
                .map_or_else(|| "no data".into(), |r| format!("{r:.1}")),
        ));
        if let Some(b) = m.error_budget_remaining {
            lines.push(field("error budget", format!("{:.0}% left", b * 100.0)));
        }
    } else {
        lines.push(Line::from(Span::styled(
            "  no metrics for this tenant",
            theme::MUTED,
        )));
    }
    if let Some(series) = metrics
        .error_history
        .get(&account.tenant)
        .filter(|s| !s.is_empty())
    {
        let max = series.iter().copied().fold(0.0_f64, f64::max);
        lines.push(field(
            "errors 7 d",
            format!("{}  max {}", sparkline(series), text::percent(max)),
        ));
    }
    match metrics
        .active_users_history
        .get(&account.tenant)
        .filter(|s| !s.is_empty())
    {
        Some(series) => {
            let (min, max) = series
                .iter()
                .fold((f64::MAX, 0.0_f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            lines.push(field(
                "users 30 d",
                format!("{}  {min:.0}–{max:.0}", sparkline(series)),
            ));
        }
        None => lines.push(field(
            "users 30 d",
            "no daily history from the metrics source",
        )),
    }
    // The tenant's SLOs: budget left and burn-rate state.
    lines.extend(super::slo::customer_lines(model, &account.tenant));
    lines
}

fn incident_lines(model: &Model, index: usize) -> Vec<Line<'static>> {
    let incident: &Incident = &model.data.incidents[index];
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", incident.severity),
                theme::severity(incident.severity),
            ),
            Span::styled(incident.title.clone(), theme::TITLE),
        ]),
        field("status", incident.status.to_string()),
        field("service", incident.service.clone().unwrap_or_default()),
        field(
            "started",
            format!(
                "{} ({})",
                incident.started_at.strftime("%Y-%m-%d %H:%M UTC"),
                text::ago(model.now, incident.started_at)
            ),
        ),
        field("responders", incident.responders.join(", ")),
    ];
    if let Some(resolved) = incident.resolved_at {
        lines.push(field(
            "resolved",
            format!(
                "{} ({})",
                resolved.strftime("%Y-%m-%d %H:%M UTC"),
                text::ago(model.now, resolved)
            ),
        ));
    }
    for (name, value) in &incident.details {
        lines.push(field(name, value.clone()));
    }
    if let Some(url) = &incident.url {
        lines.push(field("link", url.clone()));
    }
    let impact = model.derived.impacts.get(index);
    lines.push(Line::raw(""));
    lines.push(heading(&format!(
        "Affected customers ({})",
        impact.map_or(0, |i| i.affected.len())
    )));
    for a in impact.map(|i| i.affected.as_slice()).unwrap_or_default() {
        let account = &model.data.accounts[a.account];
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "  {:>6} ",
                    a.error_ratio.map_or_else(|| "—".into(), text::percent)
                ),
                theme::CRITICAL,
            ),
            Span::raw(format!("{} ", account.name)),
            Span::styled(
                format!(
                    "{} · {}  ",
                    segment_short(account.segment),
                    text::money(account.arr)
                ),
                theme::MUTED,
            ),
            Span::styled(a.reason.clone(), theme::MUTED),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(heading(&format!(
        "Linked inquiries ({})",
        impact.map_or(0, |i| i.linked.len())
    )));
    for l in impact.map(|i| i.linked.as_slice()).unwrap_or_default() {
        let subject = model
            .data
            .inquiry(&l.inquiry)
            .map(|i| i.subject.clone())
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<7} ", l.inquiry), theme::MUTED),
            Span::styled(format!("[{}] ", l.confidence), theme::ACCENT),
            Span::raw(format!("{subject}  ")),
            Span::styled(l.reason.clone(), theme::MUTED),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(heading("Notes"));
    match model.notes.get(incident.id.as_str()) {
        None | Some(Loadable::Loading) => {
            lines.push(Line::from(Span::styled("loading…", theme::MUTED)))
        }
        Some(Loadable::Failed(e)) => lines.push(Line::from(Span::styled(
            format!("could not load: {e}"),
            theme::CRITICAL,
        ))),
        Some(Loadable::Ready(notes)) if notes.is_empty() => {
            lines.push(Line::from(Span::styled("no notes", theme::MUTED)))
        }
        Some(Loadable::Ready(notes)) => {
            for n in notes {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {} ", text::stamp(model.now, n.at)), theme::MUTED),
                    Span::styled(
                        format!("{}: ", n.author.clone().unwrap_or_else(|| "unknown".into())),
                        theme::ACCENT,
                    ),
                    Span::raw(n.text.clone()),
                ]));
            }
        }
    }
    lines
}
