//! RT 5 REST2 wire types and their conversion into domain types.
//!
//! RT 5.0.3 quirks handled here (apis.md §2.4–2.8): ids and numbers arrive
//! as strings in collections but as numbers in single records; unset dates
//! are `1970-01-01T00:00:00Z`; `total`/`pages` may be null; failures can
//! come back as HTTP 200 with an array of messages.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::core::domain::{
    Comment, Inquiry, InquiryHistory, InquiryStatus, Name, Priority, SlaClock, SlaMetric,
};
use crate::core::sanitize;
use crate::sources::lenient::{Lenient, decoded};

/// A string or a number, as text (RT sends both for the same field).
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// An answer that is either the expected body or RT's array of messages
/// (what it sends instead of an error status on some failures).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Answer<T> {
    Messages(Vec<String>),
    Body(T),
}

/// `{count, page, per_page, total, pages, items}`; `total` and `pages` are
/// ignored: RT 5.0.3 may send them as null.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CollectionDto<T> {
    pub count: Option<u64>,
    #[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
    pub items: Vec<Lenient<T>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UserRefDto {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
    #[serde(rename = "RealName")]
    pub real_name: Option<String>,
    #[serde(rename = "EmailAddress")]
    pub email: Option<String>,
}

impl UserRefDto {
    fn display(&self) -> Option<String> {
        [&self.real_name, &self.name, &self.email, &self.id]
            .into_iter()
            .flatten()
            .find_map(|s| sanitize::opt(Some(s)))
    }

    fn is_nobody(&self) -> bool {
        self.name.as_deref().or(self.id.as_deref()) == Some("Nobody")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct QueueRefDto {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CustomFieldDto {
    pub name: Option<String>,
    pub values: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TicketDto {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(rename = "Subject")]
    pub subject: Option<String>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
    #[serde(rename = "Priority", deserialize_with = "text")]
    pub priority: Option<String>,
    #[serde(rename = "Owner")]
    pub owner: Option<UserRefDto>,
    #[serde(rename = "Queue")]
    pub queue: Option<QueueRefDto>,
    #[serde(rename = "Requestor")]
    pub requestors: Vec<Lenient<UserRefDto>>,
    #[serde(rename = "Created")]
    pub created: Option<String>,
    #[serde(rename = "LastUpdated")]
    pub last_updated: Option<String>,
    #[serde(rename = "Told")]
    pub told: Option<String>,
    #[serde(rename = "Due")]
    pub due: Option<String>,
    /// When the ticket was resolved (unset while it is active).
    #[serde(rename = "Resolved")]
    pub resolved: Option<String>,
    #[serde(rename = "CustomFields")]
    pub custom_fields: Vec<Lenient<CustomFieldDto>>,
}

/// One transaction of `GET /ticket/:id/history`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TransactionDto {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(rename = "Creator")]
    pub creator: Option<UserRefDto>,
    #[serde(rename = "Created")]
    pub created: Option<String>,
}

/// One attachment of `GET /ticket/:id/attachments`. In collections RT sends
/// `Content` as text (single records base64-encode it).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AttachmentDto {
    #[serde(rename = "TransactionId", deserialize_with = "text")]
    pub transaction: Option<String>,
    #[serde(rename = "ContentType")]
    pub content_type: Option<String>,
    #[serde(rename = "Content")]
    pub content: Option<String>,
    #[serde(rename = "Filename")]
    pub filename: Option<String>,
}

/// RT's error body, `{"message": "…"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ErrorDto {
    pub message: Option<String>,
}

pub(super) fn explain_error(dto: ErrorDto) -> Option<String> {
    dto.message.map(|m| m.trim().to_owned())
}

/// An RT date; the epoch-zero value RT uses for "unset" is `None`.
pub(super) fn date(raw: Option<&str>) -> Option<Timestamp> {
    let t: Timestamp = raw?.trim().parse().ok()?;
    (t.as_second() > 0).then_some(t)
}

/// RT priorities are numbers (default labels Low 0, Medium 50, High 100).
/// The cockpit's four steps: ≥ 90 urgent, ≥ 70 high, ≥ 30 normal, else low.
pub(super) fn priority(raw: Option<&str>) -> Priority {
    match raw.and_then(|p| p.trim().parse::<i64>().ok()) {
        Some(p) if p >= 90 => Priority::Urgent,
        Some(p) if p >= 70 => Priority::High,
        Some(p) if p >= 30 => Priority::Normal,
        Some(_) => Priority::Low,
        None => Priority::Normal,
    }
}

/// What the desk said about one ticket.
pub(super) enum Change {
    Open(Box<Inquiry>),
    /// Resolved or rejected: it leaves the queue.
    Closed(Box<Inquiry>),
    Deleted(String),
}

/// How to read the fields that vary per RT instance.
pub(super) struct Reading<'a> {
    pub customer_field: Option<&'a str>,
    pub feature_field: Option<&'a str>,
    /// `{web base}/Ticket/Display.html?id=`.
    pub ticket_link: &'a str,
}

impl Reading<'_> {
    fn field(&self, dto: &[CustomFieldDto], name: Option<&str>) -> Option<String> {
        let name = name?;
        dto.iter()
            .filter(|cf| {
                cf.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .flat_map(|cf| cf.values.iter())
            .find_map(|v| match v {
                Value::String(s) => sanitize::opt(Some(s)),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// Convert one ticket; `None` (logged) without an id or a usable date.
    pub fn ticket(&self, dto: TicketDto) -> Option<Change> {
        let Some(id) = dto
            .id
            .filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
        else {
            tracing::warn!("rt: skipped a ticket without a numeric id");
            return None;
        };
        let raw_status = dto.status.as_deref().map(str::to_ascii_lowercase);
        let status = match raw_status.as_deref() {
            Some("deleted") => return Some(Change::Deleted(id)),
            Some("new") => InquiryStatus::New,
            Some("stalled") => InquiryStatus::Hold,
            Some("resolved") => InquiryStatus::Solved,
            Some("rejected") => InquiryStatus::Closed,
            // "open" and custom lifecycle statuses: shown rather than hidden.
            _ => InquiryStatus::Open,
        };
        let created = date(dto.created.as_deref());
        let updated = date(dto.last_updated.as_deref());
        let (Some(created_at), Some(updated_at)) = (created.or(updated), updated.or(created))
        else {
            tracing::warn!("rt: skipped ticket {id}: no readable Created/LastUpdated");
            return None;
        };
        let custom: Vec<CustomFieldDto> = decoded(dto.custom_fields).collect();
        let requestors: Vec<UserRefDto> = decoded(dto.requestors).collect();
        let org = match self.customer_field {
            Some(_) => self.field(&custom, self.customer_field),
            // Without a customer field the customer is the requester's
            // email domain.
            None => requestors.iter().find_map(|r| {
                let email = r
                    .email
                    .as_deref()
                    .or(r.name.as_deref())
                    .or(r.id.as_deref())?;
                let (_, domain) = email.rsplit_once('@')?;
                sanitize::opt(Some(&domain.to_ascii_lowercase()))
            }),
        };
        let replied = date(dto.told.as_deref()).is_some();
        // RT's Due is the desk's own target (RT's SLA extension sets it);
        // a clock paused while the ticket waits on the customer, as in the
        // config-computed clocks.
        let sla = date(dto.due.as_deref())
            .filter(|_| status != InquiryStatus::Hold)
            .map(|due| SlaClock {
                metric: if replied {
                    SlaMetric::NextReply
                } else {
                    SlaMetric::FirstReply
                },
                due,
                business_hours: false,
            });
        let inquiry = Inquiry {
            subject: dto
                .subject
                .as_deref()
                .map(sanitize::text)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "(no subject)".into()),
            status,
            priority: priority(dto.priority.as_deref()),
            org: org.map(Name::from),
            requester: requestors
                .iter()
                .find_map(UserRefDto::display)
                .map(Name::from),
            assignee: dto
                .owner
                .as_ref()
                .filter(|o| !o.is_nobody())
                .and_then(UserRefDto::display)
                .map(Name::from),
            group: dto
                .queue
                .and_then(|q| sanitize::opt(q.name.as_deref().or(q.id.as_deref())))
                .map(Name::from),
            tags: Vec::new(),
            feature_area: self.field(&custom, self.feature_field).map(Name::from),
            created_at,
            updated_at,
            sla,
            replied,
            url: Some(format!("{}{id}", self.ticket_link)),
            // RT has no question/problem distinction on its tickets.
            kind: None,
            id: id.into(),
            // RT records when a ticket was resolved, but counts neither
            // replies nor reopens, and `Told` is the latest reply, not the
            // first: those KPIs stay unknown rather than guessed.
            history: InquiryHistory {
                solved_at: date(dto.resolved.as_deref()).filter(|_| !status.is_open()),
                ..InquiryHistory::default()
            },
            desk: Default::default(),
        };
        Some(if status.is_open() {
            Change::Open(Box::new(inquiry))
        } else {
            Change::Closed(Box::new(inquiry))
        })
    }
}

/// The conversation: the create, correspond (public) and comment (private)
/// transactions, each with its first plain-text part, oldest first.
pub(super) fn conversation(
    transactions: Vec<TransactionDto>,
    attachments: &[AttachmentDto],
) -> Vec<Comment> {
    let mut comments: Vec<Comment> = transactions
        .into_iter()
        .filter_map(|t| {
            // Transaction ids are numbers; anything else is not RT's, and
            // would reach the screen unsanitised as the comment's id.
            let id =
                t.id.filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))?;
            let public = match t.kind.as_deref()? {
                "Create" | "Correspond" => true,
                "Comment" => false,
                _ => return None,
            };
            let Some(at) = date(t.created.as_deref()) else {
                tracing::warn!("rt: skipped transaction {id}: no readable Created");
                return None;
            };
            let parts = || {
                attachments
                    .iter()
                    .filter(|a| a.transaction.as_deref() == Some(id.as_str()))
                    .filter(|a| a.filename.as_deref().is_none_or(str::is_empty))
            };
            let content_type = |a: &AttachmentDto, want: &str| {
                a.content_type
                    .as_deref()
                    .is_some_and(|c| c.to_ascii_lowercase().starts_with(want))
            };
            let body = parts()
                .find(|a| content_type(a, "text/plain"))
                .or_else(|| parts().find(|a| content_type(a, "text/")))
                .and_then(|a| a.content.clone())
                .unwrap_or_default();
            Some(Comment {
                author: t.creator.as_ref().and_then(UserRefDto::display),
                at,
                public,
                body: sanitize::multiline(body.trim_end()),
                id,
                // RT attachments are not listed yet.
                attachments: Vec::new(),
            })
        })
        .collect();
    comments.sort_by_key(|c| c.at);
    comments
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn reading() -> Reading<'static> {
        Reading {
            customer_field: None,
            feature_field: Some("Service"),
            ticket_link: "http://rt/Ticket/Display.html?id=",
        }
    }

    fn open(c: Option<Change>) -> Inquiry {
        match c {
            Some(Change::Open(i)) => *i,
            _ => panic!("expected an open ticket"),
        }
    }

    #[test]
    fn quirks_of_rt_503() {
        let dto: TicketDto = serde_json::from_value(serde_json::json!({
            "id": "7", "Subject": "Export\u{1b}[2J slow", "Status": "stalled", "Priority": "75",
            "Owner": {"id": "Nobody", "Name": "Nobody"},
            "Queue": {"id": "3", "Name": "Customer Support"},
            "Requestor": [{"id": "dave@Umbrella.example", "EmailAddress": "dave@Umbrella.example", "RealName": ""}],
            "Created": "2026-11-21T06:31:10Z", "LastUpdated": "2026-11-21T07:00:00Z",
            "Told": "1970-01-01T00:00:00Z", "Due": "2026-11-22T00:00:00Z",
            "CustomFields": [{"id": "2", "name": "Service", "values": ["db"]}]
        }))
        .unwrap();
        let i = open(reading().ticket(dto));
        assert_eq!(i.id, "7");
        assert_eq!(i.status, InquiryStatus::Hold);
        assert_eq!(i.priority, Priority::High);
        assert_eq!(i.assignee, None, "Nobody is unassigned");
        assert_eq!(i.org.as_deref(), Some("umbrella.example"));
        assert_eq!(i.requester.as_deref(), Some("dave@Umbrella.example"));
        assert_eq!(i.group.as_deref(), Some("Customer Support"));
        assert_eq!(i.feature_area.as_deref(), Some("db"));
        assert!(!i.replied, "Told unset");
        assert_eq!(i.sla, None, "a stalled ticket's clock is paused");
        assert!(!i.subject.contains('\u{1b}'));
        assert_eq!(i.url.as_deref(), Some("http://rt/Ticket/Display.html?id=7"));

        let number: TicketDto = serde_json::from_value(serde_json::json!({
            "id": 8, "Status": "deleted"
        }))
        .unwrap();
        assert!(matches!(reading().ticket(number), Some(Change::Deleted(id)) if id == "8"));
    }

    #[test]
    fn a_resolved_ticket_carries_its_resolve_time_and_nothing_guessed() {
        let dto: TicketDto = serde_json::from_value(serde_json::json!({
            "id": "9", "Status": "resolved", "Created": "2026-11-21T06:00:00Z",
            "LastUpdated": "2026-11-21T09:00:00Z", "Told": "2026-11-21T07:00:00Z",
            "Resolved": "2026-11-21T08:30:00Z"
        }))
        .unwrap();
        let Some(Change::Closed(i)) = reading().ticket(dto) else {
            panic!("a resolved ticket leaves the queue")
        };
        assert_eq!(
            i.history.solved_at,
            Some("2026-11-21T08:30:00Z".parse().unwrap())
        );
        assert_eq!(i.history.first_reply_at, None, "Told is the latest reply");
        assert_eq!((i.history.replies, i.history.reopens), (None, None));
    }

    #[test]
    fn priorities_map_onto_four_steps() {
        let got: Vec<Priority> = ["100", "90", "80", "50", "30", "20", "0", "x"]
            .iter()
            .map(|p| priority(Some(p)))
            .collect();
        use Priority::*;
        assert_eq!(
            got,
            [Urgent, Urgent, High, Normal, Normal, Low, Low, Normal]
        );
    }

    #[test]
    fn message_arrays_are_told_apart_from_bodies() {
        let m: Answer<CollectionDto<TicketDto>> =
            serde_json::from_str(r#"["Ticket 1: Permission Denied"]"#).unwrap();
        assert!(matches!(m, Answer::Messages(m) if m[0].contains("Permission")));
        let b: Answer<CollectionDto<TicketDto>> =
            serde_json::from_str(r#"{"count":0,"total":null,"pages":null,"items":[]}"#).unwrap();
        assert!(matches!(b, Answer::Body(c) if c.count == Some(0)));
    }

    #[test]
    fn a_transaction_id_that_is_not_a_number_is_skipped() {
        // The rt_conversation fuzz target's invariant: the id went into the
        // comment as sent, escape sequences included.
        let transactions: Vec<TransactionDto> = serde_json::from_value(serde_json::json!([
            {"id": "5\u{1b}[2J", "Type": "Create", "Created": "2026-11-21T06:00:00Z"},
            {"id": 6, "Type": "Correspond", "Created": "2026-11-21T07:00:00Z"}
        ]))
        .unwrap();
        let comments = conversation(transactions, &[]);
        let ids: Vec<&str> = comments.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["6"]);
    }
}
