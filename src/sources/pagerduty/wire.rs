//! PagerDuty REST v2 wire types and their conversion into domain types.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::core::domain::{Incident, IncidentNote, IncidentStatus, Severity};
use crate::core::sanitize;
pub(super) use crate::sources::lenient::{Lenient, decoded};

/// `GET /incidents` (classic offset pagination).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IncidentsPageDto {
    pub incidents: Vec<Lenient<IncidentDto>>,
    pub limit: Option<u32>,
    pub more: Option<bool>,
    pub total: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IncidentDto {
    pub id: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub status: Option<String>,
    pub urgency: Option<String>,
    pub priority: Option<RefDto>,
    pub service: Option<RefDto>,
    pub assignments: Option<Vec<Lenient<AssignmentDto>>>,
    pub created_at: Option<String>,
    /// Null while the incident is open.
    pub resolved_at: Option<String>,
    pub html_url: Option<String>,
    pub incident_number: Option<u64>,
    pub escalation_policy: Option<RefDto>,
}

/// A reference (`{id, type, summary}`) or, with `include[]`, the full object
/// (which adds `name`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RefDto {
    pub id: Option<String>,
    pub summary: Option<String>,
    pub name: Option<String>,
}

impl RefDto {
    /// The user-given name when included, else the reference summary.
    fn label(&self) -> Option<String> {
        sanitize::opt(self.name.as_deref()).or_else(|| sanitize::opt(self.summary.as_deref()))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AssignmentDto {
    pub assignee: Option<RefDto>,
}

/// `GET /oncalls`: who is on call at which level of which policy.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OncallsDto {
    pub oncalls: Vec<Lenient<OncallDto>>,
    pub limit: Option<u32>,
    pub more: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OncallDto {
    pub user: Option<RefDto>,
    pub escalation_policy: Option<RefDto>,
    pub escalation_level: Option<u32>,
}

/// An open incident with the ids needed to find its escalation level.
#[derive(Debug)]
pub(super) struct Open {
    pub incident: Incident,
    pub policy: Option<String>,
    pub assignees: Vec<String>,
}

/// `GET /incidents/{id}/notes`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NotesDto {
    pub notes: Vec<Lenient<NoteDto>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NoteDto {
    pub user: Option<RefDto>,
    pub content: Option<String>,
    pub created_at: Option<String>,
}

/// `{"error": {"message", "code", "errors": [...]}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ErrorDto {
    pub error: Option<ErrorBodyDto>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ErrorBodyDto {
    pub message: Option<String>,
    pub code: Option<i64>,
    pub errors: Option<Vec<Value>>,
}

/// `"Invalid Input Provided (code 2001): Offset must be …"`.
pub(super) fn explain_error(dto: ErrorDto) -> Option<String> {
    let body = dto.error?;
    let mut out = body.message.unwrap_or_else(|| "error".into());
    if let Some(code) = body.code {
        out.push_str(&format!(" (code {code})"));
    }
    let details: Vec<String> = body
        .errors
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    if !details.is_empty() {
        out.push_str(": ");
        out.push_str(&details.join("; "));
    }
    Some(out)
}

/// Convert one incident; `None` (with a log line) without an id or a
/// readable `created_at`, since such a row can be neither aged nor opened.
pub(super) fn incident(dto: IncidentDto) -> Option<Open> {
    let Some(id) = sanitize::opt(dto.id.as_deref()) else {
        tracing::warn!("pagerduty: skipped an incident without an id");
        return None;
    };
    let Some(started_at) = parse_time(dto.created_at.as_deref()) else {
        tracing::warn!("pagerduty: skipped incident {id}: no readable created_at");
        return None;
    };
    let title = sanitize::opt(dto.title.as_deref())
        .or_else(|| sanitize::opt(dto.summary.as_deref()))
        .unwrap_or_else(|| "(untitled incident)".into());
    let mut responders: Vec<String> = Vec::new();
    let mut assignees = Vec::new();
    for assignment in decoded(dto.assignments.unwrap_or_default()) {
        let Some(assignee) = assignment.assignee else {
            continue;
        };
        if let Some(id) = sanitize::opt(assignee.id.as_deref()) {
            assignees.push(id);
        }
        if let Some(name) = assignee.label()
            && !responders.contains(&name)
        {
            responders.push(name);
        }
    }
    let mut details = std::collections::BTreeMap::new();
    if let Some(urgency) = sanitize::opt(dto.urgency.as_deref()) {
        details.insert("urgency".to_owned(), urgency);
    }
    if let Some(priority) = dto.priority.as_ref().and_then(RefDto::label) {
        details.insert("priority".to_owned(), priority);
    }
    if let Some(number) = dto.incident_number {
        details.insert("number".to_owned(), format!("#{number}"));
    }
    let policy = dto.escalation_policy.as_ref().and_then(|p| {
        if let Some(name) = p.label() {
            details.insert("escalation policy".to_owned(), name);
        }
        sanitize::opt(p.id.as_deref())
    });
    let incident = Incident {
        id: id.into(),
        title,
        status: status(dto.status.as_deref()),
        severity: severity(dto.priority.as_ref(), dto.urgency.as_deref()),
        service: dto.service.and_then(|s| s.label()),
        started_at,
        responders,
        tenants: Vec::new(),
        url: sanitize::opt(dto.html_url.as_deref()).filter(|u| is_web_url(u)),
        notes: Vec::new(),
        resolved_at: parse_time(dto.resolved_at.as_deref()),
        details,
    };
    Some(Open {
        incident,
        policy,
        assignees,
    })
}

/// Convert one note; `None` without content or a readable time.
pub(super) fn note(dto: NoteDto) -> Option<IncidentNote> {
    let at = parse_time(dto.created_at.as_deref())?;
    let text = sanitize::multiline(dto.content.as_deref()?.trim_end());
    Some(IncidentNote {
        at,
        author: dto.user.and_then(|u| u.label()),
        text,
    })
}

/// The URL is opened in a browser on `o`: only web links qualify.
fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

fn parse_time(raw: Option<&str>) -> Option<Timestamp> {
    raw?.trim().parse().ok()
}

/// Only open incidents are requested; an unknown status is shown as
/// triggered, the state that asks for attention.
fn status(raw: Option<&str>) -> IncidentStatus {
    match raw {
        Some("acknowledged") => IncidentStatus::Acknowledged,
        Some("resolved") => IncidentStatus::Resolved,
        _ => IncidentStatus::Triggered,
    }
}

/// Severity from the account's priority scheme (`P1`…`P5`, `SEV1`,
/// `SEV-2`, `Sev 3 - Minor`), else from urgency: priorities are optional in
/// PagerDuty, urgency always exists.
pub(super) fn severity(priority: Option<&RefDto>, urgency: Option<&str>) -> Severity {
    let from_priority = priority.and_then(|p| {
        [p.name.as_deref(), p.summary.as_deref()]
            .into_iter()
            .flatten()
            .find_map(priority_level)
    });
    from_priority.unwrap_or(match urgency {
        Some("low") => Severity::Sev3,
        _ => Severity::Sev2,
    })
}

fn priority_level(label: &str) -> Option<Severity> {
    let compact: String = label
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    let rest = compact
        .strip_prefix("SEV")
        .or_else(|| compact.strip_prefix('P'))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(match digits.parse::<u32>().ok()? {
        0 | 1 => Severity::Sev1,
        2 => Severity::Sev2,
        3 => Severity::Sev3,
        _ => Severity::Sev4,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn prio(name: &str) -> RefDto {
        RefDto {
            id: None,
            summary: Some(name.into()),
            name: None,
        }
    }

    #[test]
    fn priority_names_map_to_severities() {
        for (label, want) in [
            ("P1", Severity::Sev1),
            ("SEV1", Severity::Sev1),
            ("SEV-1", Severity::Sev1),
            ("sev 2 - major", Severity::Sev2),
            ("P2", Severity::Sev2),
            ("P3", Severity::Sev3),
            ("P4", Severity::Sev4),
            ("P5", Severity::Sev4),
        ] {
            assert_eq!(severity(Some(&prio(label)), Some("low")), want, "{label}");
        }
    }

    #[test]
    fn without_a_usable_priority_urgency_decides() {
        assert_eq!(severity(None, Some("high")), Severity::Sev2);
        assert_eq!(severity(None, Some("low")), Severity::Sev3);
        assert_eq!(
            severity(Some(&prio("Critical")), Some("low")),
            Severity::Sev3
        );
        assert_eq!(severity(None, None), Severity::Sev2);
    }

    #[test]
    fn non_web_urls_are_dropped() {
        let dto: IncidentDto = serde_json::from_value(serde_json::json!({
            "id": "P1", "created_at": "2015-10-06T21:30:42-05:00", "html_url": "javascript:alert(1)"
        }))
        .unwrap();
        let incident = incident(dto).unwrap().incident;
        assert_eq!(incident.url, None);
        assert_eq!(incident.started_at.as_second(), 1_444_185_042);
    }

    #[test]
    fn error_body_is_explained() {
        let dto: ErrorDto = serde_json::from_str(
            r#"{"error":{"message":"Invalid Input Provided","code":2001,"errors":["Offset must be less than 10000."]}}"#,
        )
        .unwrap();
        assert_eq!(
            explain_error(dto).as_deref(),
            Some("Invalid Input Provided (code 2001): Offset must be less than 10000.")
        );
    }
}
