//! Zendesk write paths: private notes, tags, priority and group, each one
//! request that is safe to repeat except the note, which carries a marker so
//! the outbox can tell whether an unconfirmed note already arrived.
//!
//! A public reply is read by the customer, so its marker does not go in the
//! body: it rides in the ticket update's audit (`ticket.metadata.custom`,
//! which Zendesk records on the audit the update creates and never shows
//! the requester), and [`Zendesk::has_audit_marker`] finds it through the
//! ticket's audits (`GET /api/v2/tickets/{id}/audits`, ListAuditsForTicket).

use reqwest::header::ACCEPT;
use serde_json::{Value, json};

use super::{Zendesk, wire};
use crate::core::domain::SourceError;
use crate::sources::http;
use crate::sources::lenient::Lenient;

/// The key under `metadata.custom` that carries a write's marker.
pub const MARKER_KEY: &str = "cre_cockpit_marker";

/// Audits per page (the API's maximum for this endpoint).
const AUDIT_PAGE_SIZE: u32 = 100;

/// A ticket with more audits than this many pages is not searched further
/// (50,000 audits): the check then says "not found" would be a guess, so it
/// fails instead and the step stays unknown.
const MAX_AUDIT_PAGES: u32 = 500;

/// One page of `GET /api/v2/tickets/{id}/audits` (cursor or offset style).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct AuditsPageDto {
    audits: Vec<Lenient<AuditDto>>,
    next_page: Option<String>,
    meta: Option<wire::MetaDto>,
    links: Option<wire::LinksDto>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct AuditDto {
    metadata: Option<AuditMetadataDto>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct AuditMetadataDto {
    custom: Option<serde_json::Map<String, Value>>,
}

impl AuditsPageDto {
    fn next(&self) -> Option<&str> {
        let cursor_next = match &self.meta {
            Some(wire::MetaDto {
                has_more: Some(true),
            }) => self.links.as_ref().and_then(|l| l.next.as_deref()),
            _ => None,
        };
        cursor_next
            .or(self.next_page.as_deref())
            .filter(|u| !u.is_empty())
    }

    fn carries(&self, marker: &str) -> bool {
        self.audits
            .iter()
            .filter_map(|a| a.0.as_ref())
            .filter_map(|a| a.metadata.as_ref()?.custom.as_ref())
            .any(|custom| custom.get(MARKER_KEY).and_then(Value::as_str) == Some(marker))
    }
}

/// What a ticket update answers (the rest of the ticket is not needed).
#[derive(serde::Deserialize)]
struct UpdatedTicket {
    ticket: TicketId,
}

#[derive(serde::Deserialize)]
struct TicketId {
    id: u64,
}

/// What `PUT …/tags` answers.
#[derive(serde::Deserialize)]
struct TagList {
    tags: Vec<String>,
}

impl Zendesk {
    pub(super) fn ticket_path(ticket: &str, suffix: &str) -> Result<String, SourceError> {
        // Ids go into the URL path: accept digits only.
        if ticket.is_empty() || !ticket.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::new(format!(
                "zendesk: {ticket:?} is not a ticket id"
            )));
        }
        Ok(format!("/api/v2/tickets/{ticket}{suffix}"))
    }

    /// Send an update and read the answer: `T` is what Zendesk returns for
    /// it, so a 2xx that is not that (an HTML page, an empty body, `{}`)
    /// proves nothing and the write counts as possibly applied.
    async fn put<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        body: &Value,
    ) -> Result<T, SourceError> {
        let request = self
            .client
            .put(http::join(&self.base, path))
            .timeout(self.timeout())
            .basic_auth(&self.login, Some(self.token.expose()))
            .header(ACCEPT, "application/json")
            .json(body);
        let answer = self
            .gate
            .fetch_json_explained::<T, _>(what, request, wire::explain_error)
            .await?;
        Ok(answer.body)
    }

    /// A ticket update: proven by the updated ticket in the answer.
    pub(super) async fn update(
        &self,
        what: &str,
        ticket: &str,
        body: &Value,
    ) -> Result<(), SourceError> {
        let path = Self::ticket_path(ticket, "")?;
        let answer: UpdatedTicket = self.put(what, &path, body).await?;
        if answer.ticket.id.to_string() != ticket {
            return Err(SourceError::unproven(
                what,
                &format!("the answer is about ticket {}", answer.ticket.id),
            ));
        }
        Ok(())
    }

    /// Add a comment; `public: false` makes it an internal note. `public` is
    /// always sent: Zendesk otherwise reuses the ticket's first comment's
    /// visibility, which would make a note public on a ticket opened by email.
    pub async fn add_comment(
        &self,
        ticket: &str,
        body: &str,
        public: bool,
    ) -> Result<(), SourceError> {
        self.update(
            "zendesk: add comment",
            ticket,
            &json!({"ticket": {"comment": {"body": body, "public": public}}}),
        )
        .await
    }

    /// Add a comment whose marker travels out of band, in the audit's
    /// `metadata.custom` (see the module docs): the body is sent byte for
    /// byte, so a public reply reads exactly as previewed.
    pub async fn add_comment_marked(
        &self,
        ticket: &str,
        body: &str,
        public: bool,
        marker: &str,
    ) -> Result<(), SourceError> {
        self.update(
            "zendesk: add comment",
            ticket,
            &json!({"ticket": {
                "comment": {"body": body, "public": public},
                "metadata": {"custom": {MARKER_KEY: marker}},
            }}),
        )
        .await
    }

    /// Whether an update carrying `marker` in its audit metadata is on the
    /// ticket: pages through the ticket's audits, newest first (a retry
    /// looks for a recent write).
    pub async fn has_audit_marker(
        &mut self,
        ticket: &str,
        marker: &str,
    ) -> Result<bool, SourceError> {
        const WHAT: &str = "zendesk: audits";
        let path = Self::ticket_path(ticket, "/audits")?;
        let mut url = http::join(&self.base, &path);
        url.query_pairs_mut()
            .append_pair("page[size]", &AUDIT_PAGE_SIZE.to_string())
            .append_pair("sort", "-created_at");
        for _ in 0..MAX_AUDIT_PAGES {
            let page: AuditsPageDto = self.get(WHAT, url).await?;
            if page.carries(marker) {
                return Ok(true);
            }
            let Some(next) = page.next() else {
                return Ok(false);
            };
            url = self.same_origin(WHAT, next)?;
        }
        Err(SourceError::new(format!(
            "{WHAT}: ticket {ticket} has more than {MAX_AUDIT_PAGES} pages of audits; cannot tell whether the reply arrived"
        )))
    }

    /// Add tags without replacing the existing ones (`PUT …/tags` adds; a
    /// plain ticket update with `tags` would replace them all).
    pub async fn add_tags(&self, ticket: &str, tags: &[String]) -> Result<(), SourceError> {
        const WHAT: &str = "zendesk: add tags";
        let path = Self::ticket_path(ticket, "/tags")?;
        let answer: TagList = self.put(WHAT, &path, &json!({"tags": tags})).await?;
        // The answer lists the ticket's tags after the change.
        match tags.iter().find(|t| !answer.tags.contains(t)) {
            Some(missing) => Err(SourceError::unproven(
                WHAT,
                &format!("tag {missing:?} is not in the ticket's tags"),
            )),
            None => Ok(()),
        }
    }

    /// Set the priority (`urgent`, `high`, `normal`, `low`).
    pub async fn set_priority(&self, ticket: &str, priority: &str) -> Result<(), SourceError> {
        if !matches!(priority, "urgent" | "high" | "normal" | "low") {
            return Err(SourceError::new(format!(
                "zendesk: {priority:?} is not a Zendesk priority"
            )));
        }
        self.update(
            "zendesk: set priority",
            ticket,
            &json!({"ticket": {"priority": priority}}),
        )
        .await
    }

    /// Move the ticket to a group, given by numeric id.
    pub async fn set_group(&self, ticket: &str, group: &str) -> Result<(), SourceError> {
        let group_id: u64 = group.parse().map_err(|_| {
            SourceError::new(format!(
                "zendesk: group {group:?} must be a numeric group id"
            ))
        })?;
        self.update(
            "zendesk: set group",
            ticket,
            &json!({"ticket": {"group_id": group_id}}),
        )
        .await
    }
}
