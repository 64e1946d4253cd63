//! PagerDuty Events API v2: paging on-call. The routing key travels in the
//! body (no Authorization header), and `dedup_key` makes PagerDuty fold a
//! repeated trigger into the alert it already has, so escalating the same
//! item twice never pages twice.

use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

use super::http::{self, Secret};
use crate::core::domain::SourceError;

/// A trigger event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub dedup_key: String,
    pub summary: String,
    /// `critical`, `error`, `warning` or `info`.
    pub severity: String,
    pub source: String,
    pub custom_details: Value,
}

/// The Events API's answer to an accepted event.
#[derive(serde::Deserialize)]
struct Accepted {
    status: String,
    #[serde(default)]
    dedup_key: String,
}

pub struct Events {
    client: reqwest::Client,
    base: Url,
}

impl Events {
    pub fn new(
        client: reqwest::Client,
        url: &str,
        allow_insecure_http: bool,
    ) -> Result<Self, SourceError> {
        let base = http::base_url(url, allow_insecure_http)
            .map_err(|e| SourceError::new(format!("pagerduty events: {e}")))?;
        Ok(Self { client, base })
    }

    /// Send a trigger; PagerDuty answers 202 once it has accepted the event.
    pub async fn trigger(&self, routing_key: &Secret, event: &Trigger) -> Result<(), SourceError> {
        const WHAT: &str = "pagerduty events: trigger";
        if !matches!(
            event.severity.as_str(),
            "critical" | "error" | "warning" | "info"
        ) {
            return Err(SourceError::new(format!(
                "{WHAT}: severity {:?} is not one of critical, error, warning, info",
                event.severity
            )));
        }
        let summary: String = event.summary.chars().take(1024).collect();
        let dedup_key: String = event.dedup_key.chars().take(255).collect();
        let body = serde_json::json!({
            "routing_key": routing_key.expose(),
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                "summary": summary,
                "source": event.source,
                "severity": event.severity,
                "custom_details": event.custom_details,
            },
            "client": "cre-cockpit",
        });
        let request = self
            .client
            .post(http::join(&self.base, "/enqueue"))
            .json(&body);
        let (_, _, answer) = http::send(WHAT, request).await?;
        // Accepted only when PagerDuty says so and names the alert the
        // trigger folded into; anything else may or may not have paged.
        match serde_json::from_slice::<Accepted>(&answer) {
            Ok(a) if a.status == "success" && !a.dedup_key.is_empty() => Ok(()),
            Ok(a) => Err(SourceError::unproven(
                WHAT,
                &format!("status {:?}", crate::core::sanitize::text(&a.status)),
            )),
            Err(_) => Err(SourceError::unproven(WHAT, "not the Events API's answer")),
        }
    }
}
