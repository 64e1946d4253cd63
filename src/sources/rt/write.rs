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
    ) -> Result<Vec<String>, SourceError> {
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
        Ok(messages)
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
        .map(drop)
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
        .map(drop)
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
        .map(drop)
    }

    /// Record escalation tags in a custom field (RT has no tags).
    ///
    /// RT answers `[]` both when the field already holds the value and when
    /// the ticket has no such field at all (a misspelt `tags_field`), so an
    /// empty answer is checked against the ticket before it counts as done.
    pub async fn set_field(
        &self,
        ticket: &str,
        field: &str,
        values: &[String],
    ) -> Result<(), SourceError> {
        let what = "rt: set custom field";
        let value = values.join(" ");
        let url = http::join(&self.rest, &Self::ticket_path(ticket, "")?);
        let messages = self
            .write(
                what,
                self.client
                    .put(url.clone())
                    .json(&json!({"CustomFields": {field: &value}})),
                false,
            )
            .await?;
        if !messages.is_empty() {
            return Ok(());
        }
        let (_, _, body) = http::send(what, self.request(url)).await?;
        let ticket: Value = serde_json::from_slice(&body)
            .map_err(|_| SourceError::unproven(what, "the ticket read back is not JSON"))?;
        field_holds(&ticket, field, &value).map_err(|problem| {
            let mut error = SourceError::new(format!("{what}: {problem}"));
            // A definite answer: sending again cannot create the field.
            error.status = Some(422);
            error
        })
    }
}

/// Whether RT's ticket JSON has the custom field `field` (RT compares names
/// without case) holding `value`, or why not.
fn field_holds(ticket: &Value, field: &str, value: &str) -> Result<(), String> {
    let fields = ticket["CustomFields"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let Some(found) = fields.iter().find(|f| {
        f["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(field))
    }) else {
        return Err(format!(
            "the ticket has no custom field {:?} (check desk.tags_field and the field's queues)",
            sanitize::text(field)
        ));
    };
    let held: Vec<&str> = found["values"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if held.join(" ") == value {
        Ok(())
    } else {
        Err(format!(
            "RT changed nothing and the field holds {:?}",
            sanitize::text(&held.join(" "))
        ))
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
    fn an_empty_answer_counts_only_when_the_field_holds_the_value() {
        let ticket = json!({"CustomFields": [
            {"name": "Escalation", "values": ["escalated", "cre"]},
            {"name": "Customer", "values": ["acme"]},
        ]});
        assert_eq!(field_holds(&ticket, "escalation", "escalated cre"), Ok(()));
        let missing = field_holds(&ticket, "Tags", "escalated").unwrap_err();
        assert!(missing.contains("no custom field \"Tags\""), "{missing}");
        assert!(field_holds(&ticket, "Customer", "escalated").is_err());
        assert!(field_holds(&json!({}), "Customer", "acme").is_err());
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
