//! The shift handover report (shared/reference/domain.md §6): a markdown
//! file the outgoing CRE hands over and the incoming one reads, often with
//! `cat` in a terminal.
//!
//! Everything here is a pure function of a polled model and the journal's
//! writes. Each section names the source its items came from and how old
//! that source's data is, so a reader can tell "nothing to report" from
//! "nothing known". Remote text (subjects, titles, names, errors) goes
//! through [`md`]: control characters are stripped (the file ends up in
//! terminals) and markdown syntax is escaped (a ticket subject must not
//! turn into a heading or a link).

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};

use crate::core::domain::{Account, Incident, Inquiry, Severity, SourceKind, Tier};
use crate::core::text;
use crate::core::writes::{StepState, Target, Write, WriteKind};
use crate::insight::health::Band;
use crate::insight::kpi::{Durations, Kpi, Rate};
use crate::insight::slo::{BurnLevel, SloState};
use crate::model::{Model, SourceStatus};

/// Data older than this is called stale in the open questions.
const STALE: SignedDuration = SignedDuration::from_mins(10);

/// Longest list per section before "… and N more".
const MAX_ITEMS: usize = 30;

/// Budget left below which an SLO is listed (domain.md §6.5).
const LOW_BUDGET: f64 = 0.25;

/// What a report is made from.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// A model that has polled every source.
    pub model: &'a Model,
    /// Journal writes from at least the shift's start (older ones are used
    /// for the update cadence of incidents that began earlier).
    pub writes: &'a [Write],
    /// Where the writes came from ("the journal at …"), or why there are
    /// none.
    pub journal: Result<&'a str, &'a str>,
    /// The start of the shift being handed over; it ends at `model.now`.
    pub from: Timestamp,
    /// How far ahead the next shift reaches (for SLA breaches to come).
    pub next_shift: SignedDuration,
}

/// The report's file name for a moment: `handover-20261121T1000Z.md`.
#[must_use]
pub fn file_name(now: Timestamp) -> String {
    format!("handover-{}.md", now.strftime("%Y%m%dT%H%MZ"))
}

/// Remote text made safe for a markdown file read in terminals: one line,
/// no control or bidi characters, link, HTML and table syntax escaped, at most
/// `max` characters.
#[must_use]
pub fn md(text: &str, max: usize) -> String {
    let clean = text::truncate(&crate::core::sanitize::text(text), max);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        // What can make text into a link, HTML, a code span swallowing what
        // follows, or a table cell boundary. Emphasis and `#` (never at the
        // start of a line here) only style, and escaping them would litter
        // names like `acme_corp` with backslashes.
        if matches!(c, '\\' | '`' | '[' | ']' | '<' | '>' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hhmm(t: Timestamp) -> String {
    t.strftime("%H:%M UTC").to_string()
}

fn day_hhmm(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `in 12m` / `12m ago`.
fn relative(now: Timestamp, t: Timestamp) -> String {
    let d = t.duration_since(now);
    if d.is_positive() {
        format!("in {}", text::duration(d))
    } else {
        format!("{} ago", text::duration(-d))
    }
}

/// "desk zendesk, data 12s old" — or why there is no fresh data.
fn source(model: &Model, kind: SourceKind) -> String {
    let Some(s) = model.source(kind) else {
        return format!("no {kind} source configured");
    };
    let age = |t: Timestamp| text::duration(model.now.duration_since(t).max(SignedDuration::ZERO));
    let name = format!("{kind} {}", s.vendor);
    match (s.status, s.last_ok) {
        (SourceStatus::Loading, _) => format!("{name}, no answer yet"),
        (SourceStatus::Ready, Some(t)) => format!("{name}, data {} old", age(t)),
        (SourceStatus::Ready, None) => format!("{name}, data of unknown age"),
        (SourceStatus::Failed, last) => format!(
            "{name}, FAILING ({}); {}",
            md(s.last_error.as_deref().unwrap_or("unknown error"), 160),
            last.map_or_else(
                || "no data".to_owned(),
                |t| format!("data from {} ago", age(t))
            )
        ),
    }
}

/// Step states of a write, counted: "2 sent, 1 failed (HTTP 422)".
fn delivery(write: &Write) -> String {
    let mut counts: Vec<(StepState, usize)> = Vec::new();
    for step in &write.steps {
        match counts.iter_mut().find(|(s, _)| *s == step.state) {
            Some((_, n)) => *n += 1,
            None => counts.push((step.state, 1)),
        }
    }
    let mut parts: Vec<String> = counts
        .iter()
        .map(|(state, n)| match state {
            StepState::Local => "kept in the journal only".to_owned(),
            state => format!("{n} {state}"),
        })
        .collect();
    if let Some(error) = write
        .steps
        .iter()
        .filter(|s| s.state != StepState::Sent)
        .find_map(|s| s.last_error.as_deref())
    {
        parts.push(format!("last error: {}", md(error, 160)));
    }
    parts.join(", ")
}

fn first_line(text: &str) -> String {
    md(text.lines().next().unwrap_or_default(), 120)
}

fn account_label(account: &Account) -> String {
    let touch = if account.tier == Tier::High {
        ", high-touch"
    } else {
        ""
    };
    format!("{} ({}{touch})", md(&account.name, 80), account.segment)
}

fn more(out: &mut String, total: usize) {
    if total > MAX_ITEMS {
        let _ = writeln!(out, "- … and {} more", total - MAX_ITEMS);
    }
}

/// The whole report.
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    header(&mut out, report);
    incidents(&mut out, report);
    customers(&mut out, report);
    queue(&mut out, report);
    writes(&mut out, report);
    budgets(&mut out, report);
    kpis(&mut out, report);
    questions(&mut out, report);
    out
}

fn header(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let _ = writeln!(
        out,
        "# Shift handover — {} to {}\n",
        day_hhmm(r.from),
        hhmm(m.now)
    );
    let demo = if m.settings.demo {
        " — DEMO data from the built-in simulator"
    } else {
        ""
    };
    let _ = writeln!(out, "- Generated {} by cre-cockpit{demo}", day_hhmm(m.now));
    let me = m
        .settings
        .me
        .as_deref()
        .map_or_else(|| "_____".to_owned(), |n| md(n, 60));
    let _ = writeln!(out, "- Outgoing: {me} · Incoming: _____");
    let _ = writeln!(
        out,
        "- Incoming accepts ownership at __:__ UTC: _____ (required before sign-off)"
    );
    // domain.md §6 rules: a live handover whenever a SEV1/2 is open; written
    // only is fine when none is and no SLA breach is due within 2 hours.
    let major = m
        .data
        .incidents
        .iter()
        .any(|i| i.is_open() && i.severity <= Severity::Sev2);
    let soon = m.now + SignedDuration::from_hours(2);
    let breach_soon = m
        .data
        .inquiries
        .iter()
        .any(|i| i.sla.is_some_and(|c| c.due <= soon));
    let mode = if major {
        "written report plus a live handover (a SEV1/SEV2 incident is open)"
    } else if breach_soon {
        "written report plus a live handover (an SLA breach is due within 2 hours)"
    } else {
        "written report only is fine (no SEV1/SEV2 open, no SLA breach due within 2 hours)"
    };
    let _ = writeln!(out, "- Handover: {mode}\n");
}

fn incidents(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let u = &m.settings.updates;
    let journal = r.journal.unwrap_or("no journal");
    let _ = writeln!(out, "## Active incidents\n");
    let _ = writeln!(
        out,
        "_Source: {}; affected customers and linked inquiries from the join ({}; {}); customer updates from {journal}; update cadence from [incident_updates]: first notice {}, then every {}._\n",
        source(m, SourceKind::Incidents),
        source(m, SourceKind::Metrics),
        source(m, SourceKind::Desk),
        text::duration(SignedDuration::try_from(u.first_notice).unwrap_or_default()),
        text::duration(SignedDuration::try_from(u.interval).unwrap_or_default()),
    );
    let mut open: Vec<(usize, &Incident)> = m
        .data
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.is_open())
        .collect();
    open.sort_by_key(|(_, i)| (i.severity, i.started_at));
    if open.is_empty() {
        let _ = writeln!(out, "No active incidents.\n");
        return;
    }
    for (index, incident) in open {
        let _ = writeln!(
            out,
            "### {} {} — {}\n",
            incident.severity,
            md(&incident.id, 60),
            md(&incident.title, 160)
        );
        let responders = if incident.responders.is_empty() {
            "none named".to_owned()
        } else {
            incident
                .responders
                .iter()
                .map(|n| md(n, 60))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "- State: {} · service {} · started {} ({}) · responders: {responders}",
            incident.status,
            incident
                .service
                .as_deref()
                .map_or_else(|| "unknown".to_owned(), |s| md(s, 60)),
            day_hhmm(incident.started_at),
            // A vendor clock ahead of ours must not read as a future start.
            text::ago(m.now, incident.started_at),
        );
        let impact = m.derived.impacts.get(index);
        let affected = impact.map_or(&[][..], |x| x.affected.as_slice());
        if affected.is_empty() {
            let _ = writeln!(
                out,
                "- Affected customers: none linked (no tenant named, served or hurt)"
            );
        } else {
            let _ = writeln!(out, "- Affected customers ({}):", affected.len());
        }
        for a in affected.iter().take(MAX_ITEMS) {
            let account = &m.data.accounts[a.account];
            let ratio = a.error_ratio.map_or_else(String::new, |e| {
                format!(", error ratio {}", text::percent(e))
            });
            let _ = writeln!(
                out,
                "  - {}{ratio} — {}",
                account_label(account),
                md(&a.reason, 200)
            );
        }
        more(out, affected.len());
        let all = impact.map_or(&[][..], |x| x.linked.as_slice());
        // The confident links; candidates by shared terms are counted apart.
        let linked: Vec<_> = all.iter().filter(|l| l.confidence.counts()).collect();
        let candidates = all.len() - linked.len();
        let ids: Vec<String> = linked
            .iter()
            .take(MAX_ITEMS)
            .map(|l| format!("#{}", md(&l.inquiry, 20)))
            .collect();
        let _ = writeln!(
            out,
            "- Linked inquiries ({}): {}{}",
            linked.len(),
            if ids.is_empty() {
                "none".to_owned()
            } else {
                ids.join(", ")
            },
            if candidates > 0 {
                format!(" (+{candidates} candidate(s) by shared terms, unconfirmed)")
            } else {
                String::new()
            }
        );
        let target = Target::Incident(incident.id.to_string());
        let mut updates: Vec<&Write> = r
            .writes
            .iter()
            .filter(|w| w.kind == WriteKind::CustomerUpdate && w.target == target)
            .collect();
        updates.sort_by_key(|w| (w.created_at, w.id));
        match updates.last() {
            None => {
                let _ = writeln!(
                    out,
                    "- Customer communication: no customer update posted yet"
                );
            }
            Some(last) => {
                let _ = writeln!(
                    out,
                    "- Customer communication: {} update(s); the latest at {} ({}): \"{}\" — {}",
                    updates.len(),
                    hhmm(last.created_at),
                    relative(m.now, last.created_at),
                    first_line(&last.text),
                    delivery(last)
                );
            }
        }
        match u.next_due(incident, r.writes) {
            Some(due) => {
                let left = due.duration_since(m.now);
                let when = if left.is_negative() {
                    format!("OVERDUE by {}", text::duration(-left))
                } else {
                    format!("in {}", text::duration(left))
                };
                let _ = writeln!(out, "- Next customer update due: {} — {when}", hhmm(due));
            }
            None => {
                let _ = writeln!(
                    out,
                    "- Next customer update: none due ({} with no update posted; the cadence covers SEV1 and SEV2)",
                    incident.severity
                );
            }
        }
        let _ = writeln!(
            out,
            "- Comms owner, hypothesis, tried and ruled out, exit criteria, commitments to customers: _____\n"
        );
    }
}

/// Customers that need the incoming CRE's attention. Band changes and
/// FALLING-FAST (domain.md §2.4) need the score's history, which the
/// health model does not keep yet: until it does, this lists what it does
/// expose — Red band, red flags, in an incident — and says so.
fn customers(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let _ = writeln!(out, "## Customers: band changes and falling fast\n");
    let _ = writeln!(
        out,
        "_Source: the health score (docs/health-score.md) from {}, {} and {}._\n",
        source(m, SourceKind::Accounts),
        source(m, SourceKind::Metrics),
        source(m, SourceKind::Desk),
    );
    let _ = writeln!(
        out,
        "Customers FALLING-FAST (Δ7 ≤ −10, Δ30 ≤ −15, or band worse within 7 days, from the daily scores kept in the local store), Red now, with a red flag, or in an incident:\n"
    );
    let watch: Vec<_> = m
        .derived
        .customers
        .iter()
        .filter(|c| {
            c.trend.falling_fast
                || c.health.band == Band::Red
                || c.health.in_incident
                || !c.health.red_flags.is_empty()
        })
        .collect();
    if watch.is_empty() {
        let _ = writeln!(out, "None.\n");
        return;
    }
    for row in watch.iter().take(MAX_ITEMS) {
        let account = &m.data.accounts[row.account];
        let mut state = Vec::new();
        if row.health.in_incident {
            state.push("IN INCIDENT".to_owned());
        }
        if row.trend.falling_fast {
            let delta = |d: Option<f64>| d.map_or_else(|| "—".to_owned(), |d| format!("{d:+.0}"));
            state.push(format!(
                "FALLING-FAST (Δ7 {}, Δ30 {})",
                delta(row.trend.delta7),
                delta(row.trend.delta30)
            ));
        }
        state.push(match row.health.score {
            Some(score) => format!("{} {score:.0}", row.health.band),
            None => format!("{} (no score)", row.health.band),
        });
        for flag in &row.health.red_flags {
            state.push(md(&flag.to_string(), 120));
        }
        let driver = row
            .health
            .factors
            .first()
            .map(|f| {
                format!(
                    " · top driver {} {}: {}",
                    f.code(),
                    f.name(),
                    md(&f.evidence.to_string(), 120)
                )
            })
            .unwrap_or_default();
        let next = row.next_action.as_ref().map_or_else(String::new, |a| {
            let due = match a.due {
                crate::insight::join::Due::Now => "now".to_owned(),
                crate::insight::join::Due::At(t) => format!("by {}", day_hhmm(t)),
                crate::insight::join::Due::WithinHours(h) => format!("within {h} h"),
                crate::insight::join::Due::NextCycle => "next cycle".to_owned(),
            };
            format!(" · next: {} — {} ({due})", md(&a.who, 60), md(&a.what, 120))
        });
        let _ = writeln!(
            out,
            "- {} — {}{driver}{next}",
            account_label(account),
            state.join(" · ")
        );
    }
    more(out, watch.len());
    let _ = writeln!(
        out,
        "- Contacted? By whom? Follow-up promised and when: _____\n"
    );
}

fn inquiry_line(m: &Model, inquiry: &Inquiry, due: Timestamp, business: bool) -> String {
    let customer = m.account_of(inquiry).map_or_else(
        || {
            inquiry
                .org
                .as_deref()
                .map_or_else(|| "no customer".to_owned(), |o| md(o, 60))
        },
        |a| md(&a.name, 60),
    );
    let hours = if business { "business" } else { "calendar" };
    let metric = inquiry.sla.map_or("", |c| match c.metric {
        crate::core::domain::SlaMetric::FirstReply => "first reply",
        crate::core::domain::SlaMetric::NextReply => "next reply",
    });
    let assignee = inquiry
        .assignee
        .as_deref()
        .map_or_else(|| "unassigned".to_owned(), |a| md(a, 60));
    format!(
        "- #{} {} · {customer} · {} — {} {} ({metric}, {hours} hours) · {assignee}",
        md(&inquiry.id, 20),
        inquiry.priority,
        md(&inquiry.subject, 100),
        if due <= m.now { "breached" } else { "due" },
        if due <= m.now {
            format!("{} ago", text::duration(m.now.duration_since(due)))
        } else {
            format!("{} ({})", hhmm(due), relative(m.now, due))
        },
    )
}

fn queue(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let until = m.now + r.next_shift;
    let _ = writeln!(out, "## Queue: SLA breaches in the next shift\n");
    let _ = writeln!(
        out,
        "_Source: {}; SLA clocks are the desk's own where it reports them, else [sla]; pending and on-hold inquiries have paused clocks and are not listed._\n",
        source(m, SourceKind::Desk)
    );
    let mut clocked: Vec<(&Inquiry, Timestamp, bool)> = m
        .data
        .inquiries
        .iter()
        .filter_map(|i| i.sla.map(|c| (i, c.due, c.business_hours)))
        .filter(|(_, due, _)| *due <= until)
        .collect();
    clocked.sort_by_key(|(i, due, _)| (*due, i.priority));
    let (breached, coming): (Vec<_>, Vec<_>) =
        clocked.into_iter().partition(|(_, due, _)| *due <= m.now);
    let _ = writeln!(
        out,
        "Will breach before {} ({}):\n",
        day_hhmm(until),
        coming.len()
    );
    for (i, due, business) in coming.iter().take(MAX_ITEMS) {
        let _ = writeln!(out, "{}", inquiry_line(m, i, *due, *business));
    }
    more(out, coming.len());
    if coming.is_empty() {
        let _ = writeln!(out, "None.");
    }
    let _ = writeln!(
        out,
        "\nAlready past SLA and still open ({}):\n",
        breached.len()
    );
    for (i, due, business) in breached.iter().take(MAX_ITEMS) {
        let _ = writeln!(out, "{}", inquiry_line(m, i, *due, *business));
    }
    more(out, breached.len());
    if breached.is_empty() {
        let _ = writeln!(out, "None.");
    }
    let escalated: Vec<String> = m
        .data
        .inquiries
        .iter()
        .filter(|i| i.is_escalated())
        .map(|i| format!("#{}", md(&i.id, 20)))
        .collect();
    let _ = writeln!(
        out,
        "\nWaiting on engineering (open, tagged escalated…) ({}): {}",
        escalated.len(),
        if escalated.is_empty() {
            "none".to_owned()
        } else {
            escalated
                .iter()
                .take(MAX_ITEMS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let backlog = match &m.kpis.backlog {
        Kpi::Value(b) => format!(
            "{} unsolved (new, open, on-hold), {} pending; age {}",
            b.unsolved,
            b.pending,
            match &b.age {
                Kpi::Value(d) => durations(d),
                Kpi::NotAvailable(reason) => format!("n/a: {reason}"),
            }
        ),
        Kpi::NotAvailable(reason) => format!("n/a: {reason}"),
    };
    let _ = writeln!(out, "\nBacklog now: {backlog}\n");
}

fn writes(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let _ = writeln!(out, "## Escalations and annotations this shift\n");
    let journal = match r.journal {
        Ok(journal) => journal.to_owned(),
        Err(reason) => {
            let _ = writeln!(
                out,
                "_Source: none — the journal is unavailable: {}._\n\nn/a: no record of this shift's writes.\n",
                md(reason, 200)
            );
            return;
        }
    };
    let _ = writeln!(
        out,
        "_Source: {journal}: writes since {}, each with its delivery state per step._\n",
        hhmm(r.from)
    );
    let mut shift: Vec<&Write> = r
        .writes
        .iter()
        .filter(|w| w.created_at >= r.from && w.created_at <= m.now)
        .filter(|w| matches!(w.kind, WriteKind::Annotate | WriteKind::Escalate))
        .collect();
    shift.sort_by_key(|w| (w.created_at, w.id));
    if shift.is_empty() {
        let _ = writeln!(out, "None this shift.");
    }
    for w in shift.iter().take(MAX_ITEMS) {
        // A team's journal holds everyone's writes: the next shift needs
        // to know whom to ask.
        let by = w
            .author
            .as_deref()
            .map_or_else(String::new, |a| format!(" · by {}", md(a, 60)));
        let _ = writeln!(
            out,
            "- {} · {} · {} · \"{}\" — {}{by}",
            hhmm(w.created_at),
            w.kind,
            md(&w.target.to_string(), 80),
            first_line(&w.text),
            w.state()
        );
        for step in &w.steps {
            let error = step
                .last_error
                .as_deref()
                .filter(|_| step.state != StepState::Sent)
                .map_or_else(String::new, |e| format!(" ({})", md(e, 160)));
            let _ = writeln!(
                out,
                "  - {}: {}{error}",
                md(&step.effect.describe(), 160),
                step.state
            );
        }
    }
    more(out, shift.len());
    let updates = r
        .writes
        .iter()
        .filter(|w| w.kind == WriteKind::CustomerUpdate && w.created_at >= r.from)
        .count();
    let _ = writeln!(
        out,
        "\nCustomer updates posted this shift: {updates} (per incident above).\n"
    );
}

fn slo_state(state: &SloState) -> String {
    let burn = state
        .burn("1h")
        .map_or_else(String::new, |b| format!(", {b:.1}× over 1h"));
    let budget = match state.budget_remaining {
        Some(b) if b <= 0.0 => format!("budget EXHAUSTED ({})", text::percent(b)),
        Some(b) => format!("{} of the budget left", text::percent(b)),
        None => "budget unknown (no traffic)".to_owned(),
    };
    let level = match state.level {
        BurnLevel::Page => "PAGE-level burn",
        BurnLevel::Ticket => "ticket-level burn",
        BurnLevel::Ok => "no burn alert",
    };
    format!("{level}{burn}; {budget} — {}", md(&state.reason, 160))
}

fn burning(state: &SloState) -> bool {
    state.level != BurnLevel::Ok || state.budget_remaining.is_some_and(|b| b < LOW_BUDGET)
}

fn budgets(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let _ = writeln!(out, "## Error budgets burning\n");
    let _ = writeln!(
        out,
        "_Source: {}; SLOs from [[slo]]; listed: a ticket- or page-level burn, or less than {:.0}% of the budget left._\n",
        source(m, SourceKind::Metrics),
        LOW_BUDGET * 100.0
    );
    let slos = &m.data.metrics.slos;
    if slos.is_empty() {
        let _ = writeln!(
            out,
            "n/a: no SLOs evaluated (none configured in [[slo]], or no metrics).\n"
        );
        return;
    }
    let mut any = false;
    for report in slos {
        let tenants: Vec<(&String, &SloState)> = report
            .by_tenant
            .iter()
            .filter(|(_, s)| burning(s))
            .collect();
        if !burning(&report.global) && tenants.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(
            out,
            "- {} (service {}, {} over {}): {}",
            md(&report.name, 80),
            md(&report.service, 60),
            text::percent(report.target),
            md(&report.window, 10),
            slo_state(&report.global)
        );
        for (tenant, state) in tenants.iter().take(MAX_ITEMS) {
            let customer = m
                .data
                .accounts
                .iter()
                .find(|a| &a.tenant == *tenant)
                .map_or_else(String::new, |a| format!(" ({})", md(&a.name, 60)));
            let _ = writeln!(
                out,
                "  - tenant {}{customer}: {}",
                md(tenant, 60),
                slo_state(state)
            );
        }
        more(out, tenants.len());
    }
    if !any {
        let _ = writeln!(
            out,
            "None: every SLO ({}) is below ticket level with at least {:.0}% of its budget left.",
            slos.len(),
            LOW_BUDGET * 100.0
        );
    }
    let _ = writeln!(out);
}

fn durations(d: &Durations) -> String {
    format!(
        "p50 {}, p90 {} (n={})",
        text::duration(d.median()),
        text::duration(d.p90()),
        d.n
    )
}

fn rate(r: &Rate) -> String {
    format!("{:.0}% ({}/{})", r.percent, r.count, r.of)
}

fn cell<T>(kpi: &Kpi<T>, show: impl Fn(&T) -> String) -> String {
    match kpi {
        Kpi::Value(v) => show(v),
        Kpi::NotAvailable(reason) => format!("n/a: {}", md(reason, 160)),
    }
}

fn kpis(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let k = &m.kpis;
    let _ = writeln!(out, "## KPIs\n");
    let _ = writeln!(
        out,
        "_Source: {}; computed at {} (docs/kpis.md; the cockpit's `K` view explains each)._\n",
        source(m, SourceKind::Desk),
        hhmm(k.at)
    );
    let Some(shift) = k.shift() else {
        return;
    };
    let week = k.windows.last().unwrap_or(shift);
    let _ = writeln!(out, "| KPI | shift {} | {} |", shift.label, week.label);
    let _ = writeln!(out, "|---|---|---|");
    let row = |out: &mut String, name: &str, a: String, b: String| {
        let _ = writeln!(out, "| {name} | {a} | {b} |");
    };
    row(
        out,
        "First reply",
        cell(&shift.first_reply, durations),
        cell(&week.first_reply, durations),
    );
    row(
        out,
        "First-reply SLA met",
        cell(&shift.sla_achievement, rate),
        cell(&week.sla_achievement, rate),
    );
    row(
        out,
        "Reopen rate",
        cell(&shift.reopen_rate, rate),
        cell(&week.reopen_rate, rate),
    );
    row(
        out,
        "Escalation rate",
        cell(&shift.escalation_rate, rate),
        cell(&week.escalation_rate, rate),
    );
    row(
        out,
        "One-touch resolution",
        cell(&shift.one_touch, rate),
        cell(&week.one_touch, rate),
    );
    let _ = writeln!(out);
}

fn questions(out: &mut String, r: &Report<'_>) {
    let m = r.model;
    let _ = writeln!(out, "## Open questions\n");
    let _ = writeln!(
        out,
        "_Source: {} and every source's state at {}._\n",
        r.journal.unwrap_or("no journal"),
        hhmm(m.now)
    );
    let mut items: Vec<String> = Vec::new();
    if let Err(reason) = r.journal {
        items.push(format!(
            "The journal is unavailable ({}): writes of this shift are unknown.",
            md(reason, 200)
        ));
    }
    let mut listed: Vec<&Write> = r.writes.iter().collect();
    listed.sort_by_key(|w| (w.created_at, w.id));
    for w in &listed {
        let state = w.state();
        let what = format!(
            "write {} ({} {}, {})",
            w.id,
            w.kind,
            md(&w.target.to_string(), 80),
            hhmm(w.created_at)
        );
        if state == StepState::Failed {
            items.push(format!(
                "Failed: {what} — {}. Retry or redo it by hand.",
                delivery(w)
            ));
        } else if state.is_pending() {
            items.push(format!("Not delivered yet: {what} — {}.", delivery(w)));
        }
    }
    for s in &m.sources {
        let name = format!("{} {}", s.kind, s.vendor);
        match (s.status, s.last_ok) {
            (SourceStatus::Failed, _) => items.push(format!(
                "Source failing: {name} — {}; {}.",
                md(s.last_error.as_deref().unwrap_or("unknown error"), 160),
                s.last_ok.map_or_else(
                    || "no data from it at all".to_owned(),
                    |t| format!(
                        "sections above use its data from {} ago",
                        text::duration(m.now.duration_since(t))
                    )
                )
            )),
            (SourceStatus::Loading, _) => {
                items.push(format!("Source never answered: {name}."));
            }
            (SourceStatus::Ready, Some(t)) if m.now.duration_since(t) > STALE => {
                items.push(format!(
                    "Stale data: {name} last answered {} ago.",
                    text::duration(m.now.duration_since(t))
                ))
            }
            (SourceStatus::Ready, _) => {}
        }
    }
    if items.is_empty() {
        let _ = writeln!(
            out,
            "None from the data: no failed or undelivered writes, and every source answered within the last {}.",
            text::duration(STALE)
        );
    }
    for item in items.iter().take(MAX_ITEMS) {
        let _ = writeln!(out, "- {item}");
    }
    more(out, items.len());
    let _ = writeln!(
        out,
        "- Decisions taken this shift, and items waiting on product, SRE or management: _____"
    );
}

/// Where the TUI's handover takes its writes from: the journal view's
/// list, which holds this session's writes and the latest ones before it.
const SESSION_JOURNAL: &str = "the journal (the writes the cockpit loaded at start and made since)";

/// Write a report into `data_dir/handovers/`; returns what the footer
/// says: where it went, or why it did not.
#[must_use]
pub fn save(data_dir: &std::path::Path, file_name: &str, markdown: &str) -> String {
    let dir = data_dir.join("handovers");
    let path = dir.join(file_name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, markdown)) {
        Ok(()) => format!("handover report written to {}", path.display()),
        Err(e) => format!("handover report NOT written to {}: {e}", path.display()),
    }
}

/// The handover report of the shift that ends now (`H`), and the file name
/// it is saved under. The model only asks for it (it does no IO and knows
/// no report); the app renders it here and writes it.
#[must_use]
pub fn shift_report(model: &Model) -> (String, String) {
    let shift =
        SignedDuration::try_from(model.settings.kpi.shift).unwrap_or(SignedDuration::from_hours(8));
    let text = render(&Report {
        model,
        writes: &model.writes,
        journal: Ok(SESSION_JOURNAL),
        from: model.now - shift,
        next_shift: shift,
    });
    (file_name(model.now), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_text_cannot_escape_its_line_or_its_markdown() {
        let hostile = "Fine\n## Fake section\u{1b}]52;c;AAAA\u{7} [click](http://x) <b>|`rm`|";
        let safe = md(hostile, 200);
        assert!(!safe.contains('\n') && !safe.contains('\u{1b}') && !safe.contains('\u{7}'));
        assert_eq!(
            safe,
            "Fine ## Fake section\\]52;c;AAAA \\[click\\](http://x) \\<b\\>\\|\\`rm\\`\\|"
        );
        assert_eq!(md("a very long subject", 6), "a ver…");
    }

    #[test]
    fn file_names_sort_by_time() {
        let t: Timestamp = "2026-11-21T10:05:00Z".parse().unwrap();
        assert_eq!(file_name(t), "handover-20261121T1005Z.md");
    }
}
