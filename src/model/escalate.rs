//! What escalating an item from the cockpit says and does: the context
//! bundle built from the model, and the preview (the steps and the journal
//! text) that both the `e` dialog and `cre-cockpit escalate` show before
//! anything is saved.

use crate::core::text;
use crate::core::writes::{SourceWrite, Target};
use crate::insight::escalation::{self, EscalationTarget};
use crate::model::Model;

/// What an escalation says about its item: a one-line summary (the page's
/// title), the context bundle (for the private note and the page), and the
/// inquiry's current priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub summary: String,
    pub context: String,
    pub priority: Option<String>,
    pub feature_area: Option<String>,
}

/// Build the context bundle from what the cockpit knows: the customer's
/// health and top drivers, the SLA state, recent notes, linked incidents.
#[must_use]
pub fn bundle(model: &Model, item: &Target) -> Bundle {
    use std::fmt::Write as _;
    let mut context = String::new();
    let mut summary = item.to_string();
    let mut priority = None;
    let mut feature_area = None;
    let customer_line = |account: usize, out: &mut String| {
        let a = &model.data.accounts[account];
        let _ = write!(
            out,
            "Customer: {} ({}, ARR {:.0})",
            a.name, a.segment, a.arr
        );
        if let Some(row) = model
            .derived
            .customers
            .iter()
            .find(|c| c.account == account)
        {
            let h = &row.health;
            let score = h
                .score
                .map_or_else(|| "—".to_owned(), |s| format!("{s:.0}"));
            let _ = write!(out, "\nHealth: {score} {}", h.band);
            for flag in &h.red_flags {
                let _ = write!(out, "\nRed flag: {flag}");
            }
            for f in h.factors.iter().filter(|f| f.points_lost >= 2.0).take(3) {
                let _ = write!(out, "\nDriver: {} — {}", f.name(), f.evidence);
            }
        }
        out.push('\n');
    };
    match item {
        Target::Inquiry(id) => {
            if let Some(inquiry) = model.data.inquiry(id) {
                summary = format!("Escalated inquiry {id}: {}", inquiry.subject);
                priority = Some(inquiry.priority.to_string());
                feature_area = inquiry.feature_area.as_deref().map(str::to_owned);
                let _ = writeln!(
                    context,
                    "Inquiry {id}: {} ({}, {})",
                    inquiry.subject, inquiry.priority, inquiry.status
                );
                if let Some(sla) = inquiry.sla {
                    let left = sla.due.duration_since(model.now);
                    let state = if left.is_negative() {
                        format!("breached {} ago", text::duration(-left))
                    } else {
                        format!("{} left", text::duration(left))
                    };
                    let _ = writeln!(context, "SLA: {} {state}", sla.metric);
                }
                if let Some(a) = model.derived.account_of(inquiry) {
                    customer_line(a, &mut context);
                }
                for (i, impact) in model.derived.impacts.iter().enumerate() {
                    if impact.linked.iter().any(|l| &l.inquiry == id) {
                        let x = &model.data.incidents[i];
                        let _ = writeln!(
                            context,
                            "Linked incident: {} {} ({})",
                            x.severity, x.title, x.id
                        );
                    }
                }
            }
        }
        Target::Incident(id) => {
            if let Some((i, x)) = model
                .data
                .incidents
                .iter()
                .enumerate()
                .find(|(_, x)| &x.id == id)
            {
                summary = format!("{} {}", x.severity, x.title);
                let _ = writeln!(
                    context,
                    "Incident {id}: {} {} ({})",
                    x.severity, x.title, x.status
                );
                if let Some(impact) = model.derived.impacts.get(i) {
                    let names: Vec<&str> = impact
                        .affected
                        .iter()
                        .map(|a| model.data.accounts[a.account].name.as_str())
                        .collect();
                    let _ = writeln!(
                        context,
                        "Affected customers ({}): {}",
                        names.len(),
                        names.join(", ")
                    );
                    let _ = writeln!(context, "Linked inquiries: {}", impact.linked.len());
                }
            }
        }
        Target::Customer(id) => {
            if let Some(a) = model.data.accounts.iter().position(|a| &a.id == id) {
                summary = format!("Customer {} needs attention", model.data.accounts[a].name);
                customer_line(a, &mut context);
            }
        }
    }
    if context.is_empty() {
        context = format!("{item} (not in the cockpit's current data)");
    }
    Bundle {
        summary,
        context: context.trim_end().to_owned(),
        priority,
        feature_area,
    }
}

/// The steps an escalation of `item` to `dest` makes, and the text the
/// journal keeps. Without an incident source that takes notes, the incident
/// note stays in the journal.
#[must_use]
pub fn preview(
    model: &Model,
    item: &Target,
    dest: &EscalationTarget,
    incident_notes: bool,
) -> (Vec<SourceWrite>, String) {
    let bundle = bundle(model, item);
    let mut effects = escalation::plan(
        item,
        dest,
        bundle.priority.as_deref(),
        &bundle.summary,
        &bundle.context,
        model.settings.desk_tags,
    );
    if !incident_notes {
        for e in &mut effects {
            if matches!(e, SourceWrite::IncidentNote { .. }) {
                *e = SourceWrite::Local;
            }
        }
    }
    let text = format!("Escalated to {}.\n\n{}", dest.label(), bundle.context);
    (effects, text)
}
