//! Request Tracker write paths: comments (private), priority and queue.
//!
//! RT answers most updates with HTTP 200 and an array of messages, whether
//! they worked or not ("Ticket 1: Permission Denied"), so every answer is
//! read and anything that does not say a change was made counts as a
//! failure.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use super::Rt;
use crate::core::domain::SourceError;
use crate::core::sanitize;
use crate::sources::http;

/// RT's numeric priorities for the desk's names: within the ranges the
/// adapter reads back (≥ 90 urgent, ≥ 70 high, ≥ 30 normal).
fn rt_priority(name: &str) -> Option<u8> {
    match name {
        "urgent" => Some(90),
        "high" => Some(70),
        "normal" => Some(50),
        "low" => Some(20),
        _ => None,
    }
}

/// Whether an RT update message reports success.
fn succeeded(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("changed") || m.contains("already") || m.contains("added")
}

impl Rt {
    fn ticket_path(ticket: &str, suffix: &str) -> Result<String, SourceError> {
        if ticket.is_empty() || !ticket.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::new(format!(
                "rt: {ticket:?} is not a ticket id"
            )));
        }
        Ok(format!("/ticket/{ticket}{suffix}"))
    }

    /// Send a write and read RT's message array: a message that does not
    /// report success is a refusal; an answer that is not such an array
    /// (an HTML page, an empty body, an object) proves nothing, so the
    /// write may or may not have been applied. `comment` answers must say
    /// the comment was added; an update that changed nothing answers `[]`.
    async fn write(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
        comment: bool,
    ) -> Result<(), SourceError> {
        let request = request
            .timeout(self.timeout())
            .header(AUTHORIZATION, format!("token {}", self.token.expose()))
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json");
        let (_, _, body) = http::send(what, request).await?;
        let messages: Vec<String> = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Array(items)) => items
                .iter()
                .map(|m| m.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| SourceError::unproven(what, "RT's list holds more than messages"))?,
            Ok(_) => return Err(SourceError::unproven(what, "not RT's list of messages")),
            Err(_) => return Err(SourceError::unproven(what, "not JSON")),
        };
        if let Some(refusal) = messages.iter().find(|m| !succeeded(m)) {
            // RT refused inside a 200: a definite answer, not worth retrying.
            let mut error =
                SourceError::new(format!("{what}: RT said: {}", sanitize::text(refusal)));
            error.status = Some(422);
            return Err(error);
        }
        if comment
            && !messages
                .iter()
                .any(|m| m.to_ascii_lowercase().contains("added"))
        {
            return Err(SourceError::unproven(
                what,
                "RT did not say the comment was added",
            ));
        }
        Ok(())
    }

    /// A private comment (RT's `comment`, not `correspond`, which mails the
    /// requester).
    pub async fn add_comment(&self, ticket: &str, body: &str) -> Result<(), SourceError> {
        let url = http::join(&self.rest, &Self::ticket_path(ticket, "/comment")?);
        self.write(
            "rt: add comment",
            self.client
                .post(url)
                .json(&json!({"Content": body, "ContentType": "text/plain"})),
            true,
        )
        .await
    }

    /// Set the priority by the desk's name for it.
    pub async fn set_priority(&self, ticket: &str, priority: &str) -> Result<(), SourceError> {
        let value = rt_priority(priority)
            .ok_or_else(|| SourceError::new(format!("rt: {priority:?} is not a priority")))?;
        let url = http::join(&self.rest, &Self::ticket_path(ticket, "")?);
        self.write(
            "rt: set priority",
            self.client.put(url).json(&json!({"Priority": value})),
            false,
        )
        .await
    }

    /// Move the ticket to another queue.
    pub async fn set_queue(&self, ticket: &str, queue: &str) -> Result<(), SourceError> {
        let url = http::join(&self.rest, &Self::ticket_path(ticket, "")?);
        self.write(
            "rt: move to queue",
            self.client.put(url).json(&json!({"Queue": queue})),
            false,
        )
        .await
    }

    /// Record escalation tags in a custom field (RT has no tags).
    pub async fn set_field(
        &self,
        ticket: &str,
        field: &str,
        values: &[String],
    ) -> Result<(), SourceError> {
        let url = http::join(&self.rest, &Self::ticket_path(ticket, "")?);
        self.write(
            "rt: set custom field",
            self.client
                .put(url)
                .json(&json!({"CustomFields": {field: values.join(" ")}})),
            false,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_round_trip_through_the_read_side_ranges() {
        assert_eq!(rt_priority("urgent"), Some(90));
        assert_eq!(rt_priority("low"), Some(20));
        assert_eq!(rt_priority("p1"), None);
    }

    #[test]
    fn refusals_in_a_200_are_failures() {
        assert!(succeeded(
            "Ticket 1: Priority changed from 'Low' to 'Medium'"
        ));
        assert!(succeeded("Comments added"));
        assert!(!succeeded("Ticket 1: Permission Denied"));
        assert!(!succeeded(
            "Ticket 1: Status 'nonsense' isn't a valid status for this ticket."
        ));
    }
}
