//! `snapshot --json`: the joined view as one JSON document, for scripts,
//! runbooks and tests. Same model, same join as the TUI.
//!
//! The document is streamed: each inquiry, customer and incident becomes a
//! small `serde_json::Value` only while it is written, so a 100k-inquiry
//! snapshot never holds a tree of the whole view (it once took 1.5 GB).

use std::io::Write;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
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
///
/// Builds the whole tree: for tests and small models. The CLI streams the
/// same document with [`write_json`].
#[must_use]
pub fn to_json(model: &Model) -> Value {
    serde_json::to_value(Document(model)).unwrap_or(Value::Null)
}

/// Write the document of [`to_json`], pretty-printed, to `out` as it is
/// built, with every character a terminal could act on (C1 controls, bidi
/// overrides: serde_json escapes only C0) removed on the way.
pub fn write_json(model: &Model, out: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(Sanitized {
        out,
        pending: Vec::new(),
    });
    serde_json::to_writer_pretty(&mut out, &Document(model)).map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    let mut inner = out
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    inner.finish()
}

/// A writer that passes text through `sanitize::multiline`, holding back
/// the bytes of a character split between two writes.
struct Sanitized<W: Write> {
    out: W,
    pending: Vec<u8>,
}

impl<W: Write> Sanitized<W> {
    fn finish(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.out
                .write_all(crate::core::sanitize::multiline(&rest).as_bytes())?;
        }
        self.out.flush()
    }
}

impl<W: Write> Write for Sanitized<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            // Only an incomplete character at the end waits for more bytes;
            // anything else invalid (serde_json writes none) is replaced.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        self.out
            .write_all(crate::core::sanitize::multiline(&text).as_bytes())?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The whole document, serialised field by field.
struct Document<'a>(&'a Model);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let model = self.0;
        let mut doc = serializer.serialize_map(None)?;
        doc.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        doc.serialize_entry("generated_at", &model.now)?;
        doc.serialize_entry("demo", &model.settings.demo)?;
        doc.serialize_entry("sources", &model.sources)?;
        doc.serialize_entry("kpis", &model.kpis)?;
        doc.serialize_entry("metrics_warnings", &model.data.metrics.warnings)?;
        doc.serialize_entry(
            "slos",
            &model
                .data
                .metrics
                .slos
                .iter()
                .map(|r| {
                    json!({
                        "name": r.name,
                        "service": r.service,
                        "target": r.target,
                        "window": r.window,
                        "global": r.global,
                    })
                })
                .collect::<Vec<_>>(),
        )?;
        doc.serialize_entry(
            "incidents",
            &Each((0..model.data.incidents.len()).map(|i| incident(model, i))),
        )?;
        doc.serialize_entry(
            "customers",
            &Each((0..model.derived.customers.len()).map(|i| customer(model, i))),
        )?;
        doc.serialize_entry(
            "inquiries",
            &Each(
                model.panes[Pane::Inquiries as usize]
                    .order
                    .iter()
                    .map(|&i| inquiry(model, &model.data.inquiries[i])),
            ),
        )?;
        doc.end()
    }
}

/// A JSON array whose elements are made one at a time while it is written.
struct Each<I>(I);

impl<I: Iterator<Item = Value> + Clone> Serialize for Each<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let items = self.0.clone();
        let mut seq = serializer.serialize_seq(items.size_hint().1)?;
        for item in items {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

fn customer(model: &Model, index: usize) -> Value {
    let accounts = &model.data.accounts;
    let today = model.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let row = &model.derived.customers[index];
    let account = &accounts[row.account];
    let h = &row.health;
    let changes =
        crate::insight::health::changes(h, &model.data.history.baseline(&account.id, today));
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
}

fn incident(model: &Model, i: usize) -> Value {
    let accounts = &model.data.accounts;
    let incident = &model.data.incidents[i];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sanitising_writer_drops_controls_even_when_a_character_is_split() {
        let text = "a\u{202E}b\u{9B}c é\n";
        let mut out = Sanitized {
            out: Vec::new(),
            pending: Vec::new(),
        };
        // One byte at a time: every multi-byte character arrives split.
        for byte in text.as_bytes() {
            out.write_all(std::slice::from_ref(byte)).unwrap();
        }
        out.finish().unwrap();
        assert_eq!(String::from_utf8(out.out).unwrap(), "abc é\n");
    }
}
