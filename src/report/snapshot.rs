//! `snapshot --json`: the joined view as one JSON document, for scripts,
//! runbooks and tests. Same model, same join as the TUI.

use serde_json::{Value, json};

use crate::core::domain::Inquiry;
use crate::model::{Model, Pane};

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
