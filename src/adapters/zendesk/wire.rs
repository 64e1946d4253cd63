//! Zendesk wire types and their conversion into domain types.
//!
//! Every field is optional and unknown fields are ignored: the OAS marks most
//! of them nullable, and a desk with custom statuses or a newer API version
//! must not be able to break the whole queue.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::Value;

pub(super) use crate::adapters::lenient::{Lenient, decoded};
use crate::domain::{Comment, Inquiry, InquiryKind, InquiryStatus, Priority};
use crate::sanitize;

/// `GET /api/v2/incremental/tickets/cursor` (every cursor field is nullable).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct ExportPageDto {
    pub tickets: Vec<Lenient<TicketDto>>,
    pub after_cursor: Option<String>,
    pub end_of_stream: Option<bool>,
    pub users: Vec<Lenient<UserDto>>,
    pub organizations: Vec<Lenient<OrgDto>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct TicketDto {
    pub id: Option<u64>,
    pub subject: Option<String>,
    pub raw_subject: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub requester_id: Option<u64>,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    pub organization_id: Option<u64>,
    pub tags: Option<Vec<String>>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub generated_timestamp: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct UserDto {
    pub id: Option<u64>,
    pub name: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct OrgDto {
    pub id: Option<u64>,
    pub name: Option<String>,
}

/// `GET /api/v2/tickets/{id}/comments`, offset (`next_page`) or cursor
/// (`meta.has_more` + `links.next`) paginated.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CommentsPageDto {
    pub comments: Vec<Lenient<CommentDto>>,
    pub users: Vec<Lenient<UserDto>>,
    pub next_page: Option<String>,
    pub meta: Option<MetaDto>,
    pub links: Option<LinksDto>,
}

impl CommentsPageDto {
    /// The next page's URL, whichever pagination style the desk answered in.
    pub fn next(&self) -> Option<&str> {
        let cursor_next = match &self.meta {
            Some(MetaDto {
                has_more: Some(true),
            }) => self.links.as_ref().and_then(|l| l.next.as_deref()),
            _ => None,
        };
        cursor_next
            .or(self.next_page.as_deref())
            .filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MetaDto {
    pub has_more: Option<bool>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct LinksDto {
    pub next: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CommentDto {
    pub id: Option<u64>,
    pub author_id: Option<u64>,
    pub body: Option<String>,
    pub plain_body: Option<String>,
    pub public: Option<bool>,
    pub created_at: Option<String>,
}

/// `GET /api/v2/users/show_many`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct UsersDto {
    pub users: Vec<Lenient<UserDto>>,
}

/// The error shapes Zendesk is known to answer with (§1.10): classic
/// `{error: "RecordNotFound", description}`, newer `{error: {title, message}}`
/// and the OAS `{errors: [{title, detail}]}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct ErrorDto {
    pub error: Option<Value>,
    pub description: Option<String>,
    pub errors: Option<Vec<Value>>,
}

pub(super) fn explain_error(dto: ErrorDto) -> Option<String> {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let head = match &dto.error {
        Some(Value::String(s)) => Some(s.clone()),
        Some(obj @ Value::Object(_)) => {
            let parts: Vec<String> = ["title", "message"]
                .iter()
                .filter_map(|k| field(obj, k))
                .collect();
            (!parts.is_empty()).then(|| parts.join(": "))
        }
        _ => dto
            .errors
            .as_ref()
            .and_then(|errs| errs.first())
            .and_then(|first| {
                let parts: Vec<String> = ["title", "detail"]
                    .iter()
                    .filter_map(|k| field(first, k))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(": "))
            }),
    };
    match (head, dto.description) {
        (Some(h), Some(d)) => Some(format!("{h}: {d}")),
        (Some(h), None) => Some(h),
        (None, d) => d,
    }
}

/// What the desk said about one ticket, in domain terms.
pub(super) enum Change {
    Changed(Box<Inquiry>),
    Deleted(String),
}

/// Names the adapter has learnt from sideloads and `show_many`, kept across
/// polls because the incremental export only sideloads the users and
/// organisations of the tickets on that page.
#[derive(Debug, Default)]
pub(super) struct Directory {
    pub users: HashMap<u64, String>,
    pub orgs: HashMap<u64, String>,
}

impl Directory {
    pub fn learn_users(&mut self, users: Vec<Lenient<UserDto>>) {
        for user in decoded(users) {
            if let (Some(id), Some(name)) = (user.id, sanitize::opt(user.name.as_deref())) {
                self.users.insert(id, name);
            }
        }
    }

    pub fn learn_orgs(&mut self, orgs: Vec<Lenient<OrgDto>>) {
        for org in decoded(orgs) {
            if let (Some(id), Some(name)) = (org.id, sanitize::opt(org.name.as_deref())) {
                self.orgs.insert(id, name);
            }
        }
    }

    /// A user's name, or their id as text so the row still says *someone*.
    pub fn user(&self, id: u64) -> String {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// An organisation's name, or its id as text: `Account::desk_org` may be
    /// either, so the join still works for organisations we never saw named.
    pub fn org(&self, id: u64) -> String {
        self.orgs
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// Convert one ticket; `None` (with a log line) when it lacks an id or
    /// any usable timestamp, since a row without them cannot be ordered or
    /// opened.
    pub fn ticket(&self, dto: TicketDto, agent_url: impl Fn(u64) -> String) -> Option<Change> {
        let Some(id) = dto.id else {
            tracing::warn!("zendesk: skipped a ticket without an id");
            return None;
        };
        let raw_status = dto.status.as_deref().map(str::to_ascii_lowercase);
        if raw_status.as_deref() == Some("deleted") {
            return Some(Change::Deleted(id.to_string()));
        }
        let generated = dto
            .generated_timestamp
            .and_then(|s| Timestamp::from_second(s).ok());
        let created = parse_time(dto.created_at.as_deref());
        let updated = parse_time(dto.updated_at.as_deref());
        let (Some(created_at), Some(updated_at)) = (
            created.or(updated).or(generated),
            updated.or(generated).or(created),
        ) else {
            tracing::warn!("zendesk: skipped ticket {id}: no readable created_at/updated_at");
            return None;
        };
        let status = status(raw_status.as_deref());
        let subject = dto
            .subject
            .as_deref()
            .or(dto.raw_subject.as_deref())
            .map(sanitize::text);
        let tags: Vec<String> = dto
            .tags
            .unwrap_or_default()
            .iter()
            .map(|t| sanitize::text(t))
            .filter(|t| !t.is_empty())
            .collect();
        let feature_area = tags
            .iter()
            .find_map(|t| t.strip_prefix("feature_"))
            .filter(|area| !area.is_empty())
            .map(str::to_owned);
        Some(Change::Changed(Box::new(Inquiry {
            id: id.to_string(),
            subject: subject
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "(no subject)".into()),
            status,
            priority: priority(dto.priority.as_deref()),
            org: dto.organization_id.map(|o| self.org(o)),
            requester: dto.requester_id.map(|u| self.user(u)),
            assignee: dto.assignee_id.map(|u| self.user(u)),
            // Group names need another endpoint (`/groups`); the id is
            // enough to filter and to escalate by.
            group: dto.group_id.map(|g| g.to_string()),
            tags,
            feature_area,
            created_at,
            updated_at,
            sla: None,
            // Heuristic until ticket metrics are read: a ticket leaves `new`
            // once an agent touches it, which for a support queue almost
            // always means a first public reply. Good enough to choose
            // between the first- and next-reply SLA targets.
            replied: status != InquiryStatus::New,
            url: Some(agent_url(id)),
            kind: kind(dto.kind.as_deref()),
        })))
    }

    /// Convert one comment; `None` when it lacks an id or a timestamp.
    pub fn comment(&self, dto: CommentDto) -> Option<Comment> {
        let id = dto.id?;
        let Some(at) = parse_time(dto.created_at.as_deref()) else {
            tracing::warn!("zendesk: skipped comment {id}: no readable created_at");
            return None;
        };
        let body = dto.plain_body.or(dto.body).unwrap_or_default();
        Some(Comment {
            id: id.to_string(),
            author: dto.author_id.map(|a| self.user(a)),
            at,
            // Absent means public: that is Zendesk's default for comments.
            public: dto.public.unwrap_or(true),
            body: sanitize::multiline(body.trim_end()),
        })
    }
}

fn parse_time(raw: Option<&str>) -> Option<Timestamp> {
    raw?.trim().parse().ok()
}

/// Unknown statuses (custom ticket statuses map onto the six standard
/// categories, but a proxy may pass something else) count as open: a ticket
/// shown by mistake costs a glance, one hidden by mistake can breach its SLA.
fn status(raw: Option<&str>) -> InquiryStatus {
    match raw {
        Some("new") => InquiryStatus::New,
        Some("pending") => InquiryStatus::Pending,
        Some("hold") => InquiryStatus::Hold,
        Some("solved") => InquiryStatus::Solved,
        Some("closed") => InquiryStatus::Closed,
        _ => InquiryStatus::Open,
    }
}

/// Zendesk's own default for a ticket without a priority is "normal".
fn priority(raw: Option<&str>) -> Priority {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        Some("urgent") => Priority::Urgent,
        Some("high") => Priority::High,
        Some("low") => Priority::Low,
        _ => Priority::Normal,
    }
}

/// Zendesk's ticket `type`; null (no type set) and anything else are unknown.
fn kind(raw: Option<&str>) -> Option<InquiryKind> {
    match raw? {
        "problem" => Some(InquiryKind::Problem),
        "incident" => Some(InquiryKind::Incident),
        "question" => Some(InquiryKind::Question),
        "task" => Some(InquiryKind::Task),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn ticket(json: Value) -> TicketDto {
        serde_json::from_value(json).unwrap()
    }

    fn url(id: u64) -> String {
        format!("https://x/agent/tickets/{id}")
    }

    fn changed(c: Option<Change>) -> Inquiry {
        match c {
            Some(Change::Changed(i)) => *i,
            _ => panic!("expected a changed inquiry"),
        }
    }

    #[test]
    fn unknown_and_null_enums_map_to_open_and_normal() {
        let dir = Directory::default();
        let t = ticket(serde_json::json!({
            "id": 7, "status": "escalated_custom", "priority": null,
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T11:00:00Z"
        }));
        let i = changed(dir.ticket(t, url));
        assert_eq!(i.status, InquiryStatus::Open);
        assert_eq!(i.priority, Priority::Normal);
        assert!(i.replied);
        assert_eq!(i.subject, "(no subject)");
    }

    #[test]
    fn unknown_users_and_orgs_fall_back_to_their_ids() {
        let mut dir = Directory::default();
        let users: Vec<Lenient<UserDto>> =
            serde_json::from_value(serde_json::json!([{"id": 1, "name": "Yuki"}])).unwrap();
        dir.learn_users(users);
        let t = ticket(serde_json::json!({
            "id": 8, "requester_id": 1, "assignee_id": 2, "organization_id": 3,
            "created_at": "2026-11-20T10:00:00Z"
        }));
        let i = changed(dir.ticket(t, url));
        assert_eq!(i.requester.as_deref(), Some("Yuki"));
        assert_eq!(i.assignee.as_deref(), Some("2"));
        assert_eq!(i.org.as_deref(), Some("3"));
    }

    #[test]
    fn deleted_ticket_is_a_removal() {
        let dir = Directory::default();
        let t = ticket(serde_json::json!({"id": 9, "status": "deleted"}));
        assert!(matches!(dir.ticket(t, url), Some(Change::Deleted(id)) if id == "9"));
    }

    #[test]
    fn ticket_without_timestamps_falls_back_to_generated_timestamp() {
        let dir = Directory::default();
        let t = ticket(
            serde_json::json!({"id": 3, "status": "new", "generated_timestamp": 1_795_220_413}),
        );
        let i = changed(dir.ticket(t, url));
        assert_eq!(i.created_at.as_second(), 1_795_220_413);
        assert!(!i.replied, "a new ticket has had no reply");
        let none = ticket(serde_json::json!({"id": 4, "created_at": "yesterday"}));
        assert!(dir.ticket(none, url).is_none());
    }

    #[test]
    fn remote_text_is_sanitised() {
        let mut dir = Directory::default();
        let users: Vec<Lenient<UserDto>> = serde_json::from_value(
            serde_json::json!([{"id": 1, "name": "Eve\u{1b}]52;c;aGk=\u{7}"}]),
        )
        .unwrap();
        dir.learn_users(users);
        let t = ticket(serde_json::json!({
            "id": 5, "subject": "a\u{1b}[2Jb\u{202e}c", "requester_id": 1, "tags": ["feature_\u{1b}x"],
            "created_at": "2026-11-20T10:00:00Z"
        }));
        let i = changed(dir.ticket(t, url));
        assert!(!i.subject.contains('\u{1b}') && !i.subject.contains('\u{202e}'));
        assert!(!i.requester.unwrap_or_default().contains('\u{1b}'));
        assert!(!i.feature_area.unwrap_or_default().contains('\u{1b}'));
    }

    #[test]
    fn ticket_type_becomes_the_inquiry_kind() {
        let dir = Directory::default();
        let of = |json| changed(dir.ticket(ticket(json), url)).kind;
        let at = "2026-11-20T10:00:00Z";
        assert_eq!(
            of(serde_json::json!({"id": 6, "type": "question", "created_at": at})),
            Some(InquiryKind::Question)
        );
        assert_eq!(
            of(serde_json::json!({"id": 7, "type": "problem", "created_at": at})),
            Some(InquiryKind::Problem)
        );
        assert_eq!(
            of(serde_json::json!({"id": 8, "type": null, "created_at": at})),
            None
        );
    }

    #[test]
    fn one_bad_ticket_does_not_fail_the_page() {
        let page: ExportPageDto = serde_json::from_value(serde_json::json!({
            "tickets": [{"id": "not-a-number"}, {"id": 2, "tags": {"odd": true}}, {"id": 3}],
            "end_of_stream": true
        }))
        .unwrap();
        let ids: Vec<Option<u64>> = decoded(page.tickets).map(|t| t.id).collect();
        assert_eq!(ids, vec![Some(3)]);
    }

    #[test]
    fn error_shapes_are_explained() {
        let classic: ErrorDto =
            serde_json::from_str(r#"{"error":"RecordNotFound","description":"Not found"}"#)
                .unwrap();
        assert_eq!(
            explain_error(classic).as_deref(),
            Some("RecordNotFound: Not found")
        );
        let newer: ErrorDto =
            serde_json::from_str(r#"{"error":{"title":"Invalid attribute","message":"bad page"}}"#)
                .unwrap();
        assert_eq!(
            explain_error(newer).as_deref(),
            Some("Invalid attribute: bad page")
        );
        let oas: ErrorDto =
            serde_json::from_str(r#"{"errors":[{"title":"Forbidden","detail":"no"}]}"#).unwrap();
        assert_eq!(explain_error(oas).as_deref(), Some("Forbidden: no"));
    }
}
