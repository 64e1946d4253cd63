//! PagerDuty REST write path: incident notes. PagerDuty requires a `From`
//! header naming a valid user for writes made with an account-level key.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::json;

use super::{ACCEPT_V2, PagerDuty};
use crate::core::domain::SourceError;
use crate::sources::http;

/// What PagerDuty answers for a new note: the note, with its id.
#[derive(serde::Deserialize)]
struct CreatedNote {
    #[allow(dead_code)] // read only to prove the answer is the note
    note: NoteId,
}

#[derive(serde::Deserialize)]
struct NoteId {
    #[allow(dead_code)]
    id: String,
}

impl PagerDuty {
    /// Add a note to an incident.
    pub async fn add_note(&self, incident: &str, content: &str) -> Result<(), SourceError> {
        const WHAT: &str = "pagerduty: add note";
        if incident.is_empty() || !incident.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SourceError::new(format!(
                "{WHAT}: {incident:?} is not a PagerDuty incident id"
            )));
        }
        let Some(from) = &self.from else {
            return Err(SourceError::new(format!(
                "{WHAT}: set incidents.from to a PagerDuty user's email (the From header)"
            )));
        };
        let request = self
            .client
            .post(http::join(
                &self.base,
                &format!("/incidents/{incident}/notes"),
            ))
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, ACCEPT_V2)
            .header(CONTENT_TYPE, "application/json")
            .header("From", from.clone())
            .timeout(self.timeout())
            .json(&json!({"note": {"content": content}}));
        // Proven by the note object PagerDuty answers with.
        self.gate
            .fetch_json_explained::<CreatedNote, _>(WHAT, request, super::wire::explain_error)
            .await?;
        Ok(())
    }

    /// Whether any note on the incident contains `marker`.
    pub async fn has_note_with(
        &mut self,
        incident: &str,
        marker: &str,
    ) -> Result<bool, SourceError> {
        Ok(self
            .incident_notes(incident)
            .await?
            .iter()
            .any(|n| n.text.contains(marker)))
    }
}
