//! Zendesk write paths: private notes, tags, priority and group, each one
//! request that is safe to repeat except the note, which carries a marker so
//! the outbox can tell whether an unconfirmed note already arrived.

use reqwest::header::ACCEPT;
use serde_json::{Value, json};

use super::{Zendesk, wire};
use crate::core::domain::SourceError;
use crate::sources::http;

impl Zendesk {
    fn ticket_path(ticket: &str, suffix: &str) -> Result<String, SourceError> {
        // Ids go into the URL path: accept digits only.
        if ticket.is_empty() || !ticket.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::new(format!(
                "zendesk: {ticket:?} is not a ticket id"
            )));
        }
        Ok(format!("/api/v2/tickets/{ticket}{suffix}"))
    }

    async fn put(&self, what: &str, path: &str, body: &Value) -> Result<(), SourceError> {
        let request = self
            .client
            .put(http::join(&self.base, path))
            .basic_auth(&self.login, Some(self.token.expose()))
            .header(ACCEPT, "application/json")
            .json(body);
        self.gate
            .fetch_json_explained::<serde::de::IgnoredAny, _>(what, request, wire::explain_error)
            .await?;
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
        let path = Self::ticket_path(ticket, "")?;
        self.put(
            "zendesk: add comment",
            &path,
            &json!({"ticket": {"comment": {"body": body, "public": public}}}),
        )
        .await
    }

    /// Add tags without replacing the existing ones (`PUT …/tags` adds; a
    /// plain ticket update with `tags` would replace them all).
    pub async fn add_tags(&self, ticket: &str, tags: &[String]) -> Result<(), SourceError> {
        let path = Self::ticket_path(ticket, "/tags")?;
        self.put("zendesk: add tags", &path, &json!({"tags": tags}))
            .await
    }

    /// Set the priority (`urgent`, `high`, `normal`, `low`).
    pub async fn set_priority(&self, ticket: &str, priority: &str) -> Result<(), SourceError> {
        if !matches!(priority, "urgent" | "high" | "normal" | "low") {
            return Err(SourceError::new(format!(
                "zendesk: {priority:?} is not a Zendesk priority"
            )));
        }
        let path = Self::ticket_path(ticket, "")?;
        self.put(
            "zendesk: set priority",
            &path,
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
        let path = Self::ticket_path(ticket, "")?;
        self.put(
            "zendesk: set group",
            &path,
            &json!({"ticket": {"group_id": group_id}}),
        )
        .await
    }
}
