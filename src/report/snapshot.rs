//! `snapshot --json`: the joined view as one JSON document, for scripts,
//! runbooks and tests. Same model, same join as the TUI.

use serde_json::{Value, json};

use crate::core::domain::Inquiry;
use crate::model::{Model, Pane};

/// The version of the JSON document's shape (`assets/snapshot.schema.json`):
/// raised when a field is removed or changes meaning, not when one is added.
pub const SCHEMA_VERSION: u32 = 1;

/// The joined view: `inquiries` in SLA order, `customers` in attention
/// order, `incidents` with their affected customers and linked inquiries
/// (each with the reason it was linked), every source's state, and the
/// support KPIs (`crate::insight::kpi`; each a value or `{"n_a": reason}`).
#[must_use]
pub fn to_json(model: &Model) -> Value {
    let accounts = &model.data.accounts;
    let inquiries: Vec<Value> = model.panes[Pane::Inquiries as usize]
        .order
        .iter()
        .map(|&i| inquiry(model, &model.data.inquiries[i]))
        .collect();
    let today = model.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let customers: Vec<Value> = model
        .derived
        .customers
        .iter()
        .map(|row| {
            let account = &accounts[row.account];
            let h = &row.health;
            let changes = crate::insight::health::changes(h, &model.data.history.baseline(&account.id, today));
            json!({
                "id": account.id,
                "name": account.name,
                "segment": account.segment,
                "tier": account.tier,
                "tenant": account.tenant,
                "arr": account.arr,
                "owner": account.owner,
                "renewal_days": row.renewal_days,
                "health": h.score.map(|s| (s * 10.0).round() / 10.0),
                "band": h.band,
                "in_incident": h.in_incident,
                "coverage": h.coverage,
                "low_confidence": h.low_confidence,
                "trend": {
                    "arrow": row.trend.arrow.map(|a| a.to_string()),
                    "delta7": row.trend.delta7,
                    "delta30": row.trend.delta30,
                    "falling_fast": row.trend.falling_fast,
                    "since": row.trend.since,
                    "changed": changes.shifts.iter().map(|c| json!({
                        "code": c.factor.code(),
                        "name": c.factor.name(),
                        "from": c.from,
                        "to": c.to,
                        "points": c.points,
                    })).collect::<Vec<_>>(),
                    "renormalisation": changes.renormalisation,
                },
                "top_driver": h.top_driver().map(crate::insight::health::Factor::code),
                "drivers": h.factors,
                "red_flags": h.red_flags,
                "yellow_caps": h.yellow_caps,
                "attention": row.attention,
                "next_action": row.next_action,
                "open_inquiries": row.open_inquiries,
                "incidents": row.incidents.iter().map(|&i| &model.data.incidents[i].id).collect::<Vec<_>>(),
                "metrics": model.data.metrics.by_tenant.get(&account.tenant),
                "slo": model.data.metrics.slos.iter().filter_map(|r| {
                    r.by_tenant.get(&account.tenant).map(|state| json!({
                        "name": r.name,
                        "service": r.service,
                        "target": r.target,
                        "window": r.window,
                        "state": state,
                    }))
                }).collect::<Vec<_>>(),
                "extra": account.extra,
            })
        })
        .collect();
    let incidents: Vec<Value> = model
        .data
        .incidents
        .iter()
        .enumerate()
        .map(|(i, incident)| {
            let impact = model.derived.impacts.get(i);
            json!({
                "id": incident.id,
                "title": incident.title,
                "severity": incident.severity.to_string(),
                "status": incident.status,
                "service": incident.service,
                "started_at": incident.started_at,
                "responders": incident.responders,
                "url": incident.url,
                "tenants": incident.tenants,
                "details": incident.details,
                "affected_customers": impact.map(|x| x.affected.iter().map(|a| json!({
                    "id": accounts[a.account].id,
                    "name": accounts[a.account].name,
                    "reason": a.reason,
                    "error_ratio": a.error_ratio,
                })).collect::<Vec<_>>()).unwrap_or_default(),
                "linked_inquiries": impact.map(|x| x.linked.clone()).unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "generated_at": model.now,
        "demo": model.settings.demo,
        "sources": model.sources,
        "inquiries": inquiries,
        "customers": customers,
        "incidents": incidents,
        "kpis": model.kpis,
        "metrics_warnings": model.data.metrics.warnings,
        "slos": model.data.metrics.slos.iter().map(|r| json!({
            "name": r.name,
            "service": r.service,
            "target": r.target,
            "window": r.window,
            "global": r.global,
        })).collect::<Vec<_>>(),
    })
}

fn inquiry(model: &Model, inquiry: &Inquiry) -> Value {
    let account = model.account_of(inquiry);
    json!({
        "id": inquiry.id,
        "subject": inquiry.subject,
        "status": inquiry.status,
        "priority": inquiry.priority,
        "customer": account.map(|a| json!({"id": a.id, "name": a.name, "segment": a.segment})),
        "org": inquiry.org,
        "requester": inquiry.requester,
        "assignee": inquiry.assignee,
        "group": inquiry.group,
        "tags": inquiry.tags,
        "feature_area": inquiry.feature_area,
        "created_at": inquiry.created_at,
        "updated_at": inquiry.updated_at,
        "sla": inquiry.sla.map(|s| json!({
            "metric": s.metric,
            "due": s.due,
            "business_hours": s.business_hours,
            "seconds_left": s.due.duration_since(model.now).as_secs(),
        })),
        "url": inquiry.url,
    })
}

/// `snapshot --format csv`: one row per customer, in attention order (the
/// at-risk pane as a spreadsheet).
pub fn to_csv(model: &Model) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "id",
        "name",
        "segment",
        "tenant",
        "health",
        "band",
        "top_driver",
        "open_inquiries",
        "open_incidents",
        "renewal_days",
        "next_action",
    ])?;
    for row in &model.derived.customers {
        let a = &model.data.accounts[row.account];
        let h = &row.health;
        out.write_record([
            a.id.to_string(),
            a.name.clone(),
            a.segment.to_string(),
            a.tenant.clone(),
            h.score.map(|s| format!("{:.1}", s)).unwrap_or_default(),
            format!("{:?}", h.band).to_lowercase(),
            h.top_driver()
                .map(|f| f.code().to_owned())
                .unwrap_or_default(),
            row.open_inquiries.to_string(),
            row.incidents.len().to_string(),
            row.renewal_days.map(|d| d.to_string()).unwrap_or_default(),
            row.next_action
                .as_ref()
                .map(|n| format!("{}: {}", n.who, n.what))
                .unwrap_or_default(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `snapshot --format markdown`: sources, customers and open incidents as
/// tables, for a chat message or a ticket.
#[must_use]
pub fn to_markdown(model: &Model) -> String {
    use std::fmt::Write as _;
    let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
    let mut md = format!("# cre-cockpit snapshot {}\n\n", model.now);
    if model.settings.demo {
        md.push_str("DEMO: simulated data.\n\n");
    }
    md.push_str("| source | state | coverage |\n|---|---|---|\n");
    for s in &model.sources {
        let state = match (&s.last_error, &s.partial) {
            (Some(e), _) => format!("failed: {e}"),
            (None, Some(p)) => format!("partial: {p}"),
            (None, None) => s.status.to_string(),
        };
        let coverage = s.coverage.as_ref().map(|c| {
            let mut text = c.summary.clone();
            for w in &c.warnings {
                let _ = write!(text, "; ⚠ {w}");
            }
            text
        });
        let _ = writeln!(
            md,
            "| {} {} | {} | {} |",
            s.kind,
            s.vendor,
            cell(&state),
            cell(coverage.as_deref().unwrap_or(""))
        );
    }
    md.push_str("\n## Customers\n\n| customer | health | band | driver | open inquiries | incidents | next action |\n|---|---|---|---|---|---|---|\n");
    for row in &model.derived.customers {
        let a = &model.data.accounts[row.account];
        let h = &row.health;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&a.name),
            h.score
                .map(|s| format!("{s:.0}"))
                .unwrap_or_else(|| "n/a".into()),
            format!("{:?}", h.band).to_lowercase(),
            h.top_driver().map(|f| f.name()).unwrap_or(""),
            row.open_inquiries,
            row.incidents.len(),
            cell(
                &row.next_action
                    .as_ref()
                    .map(|n| format!("{}: {}", n.who, n.what))
                    .unwrap_or_default()
            ),
        );
    }
    md.push_str("\n## Incidents\n\n| incident | severity | status | customers | inquiries |\n|---|---|---|---|---|\n");
    for (i, incident) in model.data.incidents.iter().enumerate() {
        let impact = model.derived.impacts.get(i);
        let _ = writeln!(
            md,
            "| {} {} | {} | {} | {} | {} |",
            cell(&incident.id),
            cell(&incident.title),
            incident.severity,
            incident.status,
            impact.map_or(0, |x| x.affected.len()),
            impact.map_or(0, |x| x.linked.len()),
        );
    }
    md
}
