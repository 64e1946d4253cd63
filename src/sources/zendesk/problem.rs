//! Zendesk's own incident model, mirrored from the cockpit's links: one
//! *problem* ticket per incident, and each linked inquiry made an
//! *incident* of it (`type: incident`, `problem_id`), so the desk's agents
//! see the grouping and can solve them together.
//!
//! Creating a ticket is not safe to repeat, so the problem ticket carries
//! an `external_id` naming the incident: a retry first looks it up
//! (`GET /api/v2/tickets?external_id=`) and reuses what it finds.

use reqwest::header::ACCEPT;
use serde::Deserialize;
use serde_json::json;

use super::{Zendesk, wire};
use crate::core::domain::SourceError;
use crate::sources::http;

/// The `external_id` of the problem ticket that mirrors an incident.
#[must_use]
pub fn problem_external_id(incident: &str) -> String {
    format!("cre-cockpit:incident:{incident}")
}

#[derive(Deserialize)]
struct TicketList {
    tickets: Vec<Listed>,
}

#[derive(Deserialize)]
struct Listed {
    id: u64,
    #[serde(default)]
    external_id: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    ticket: Listed,
}

impl Zendesk {
    /// The problem ticket mirroring `incident`, if one exists.
    pub async fn find_problem(&mut self, incident: &str) -> Result<Option<u64>, SourceError> {
        let external_id = problem_external_id(incident);
        let mut url = http::join(&self.base, "/api/v2/tickets");
        url.query_pairs_mut()
            .append_pair("external_id", &external_id);
        let list: TicketList = self.get("zendesk: find problem ticket", url).await?;
        // External ids need not be unique: the oldest (lowest id) wins.
        Ok(list
            .tickets
            .iter()
            .filter(|t| t.external_id.as_deref() == Some(external_id.as_str()))
            .map(|t| t.id)
            .min())
    }

    /// Create the problem ticket for `incident`; its answer must be the new
    /// ticket.
    pub async fn create_problem(
        &self,
        incident: &str,
        subject: &str,
        body: &str,
    ) -> Result<u64, SourceError> {
        const WHAT: &str = "zendesk: create problem ticket";
        let external_id = problem_external_id(incident);
        let request = self
            .client
            .post(http::join(&self.base, "/api/v2/tickets"))
            .timeout(self.timeout())
            .basic_auth(&self.login, Some(self.token.expose()))
            .header(ACCEPT, "application/json")
            .json(&json!({"ticket": {
                "subject": subject,
                "type": "problem",
                "external_id": external_id,
                "comment": {"body": body, "public": false},
            }}));
        let created: Created = self
            .gate
            .fetch_json_explained(WHAT, request, wire::explain_error)
            .await?
            .body;
        Ok(created.ticket.id)
    }

    /// Make `ticket` an incident of the problem ticket `problem`.
    pub async fn make_incident_of(&self, ticket: &str, problem: u64) -> Result<(), SourceError> {
        self.update(
            "zendesk: link to problem ticket",
            ticket,
            &json!({"ticket": {"type": "incident", "problem_id": problem}}),
        )
        .await
    }
}
