//! Customer updates during an incident: cadence and templates.
//!
//! Defaults follow domain.md §5.3: a first notice within 5 minutes of the
//! incident starting, then an update at least every 20 minutes. The update
//! text comes from a template per status (Investigating / Identified /
//! Monitoring / Resolved).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::core::domain::Incident;
use crate::core::writes::{Target, Write, WriteKind};

/// `[incident_updates]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct UpdatesConfig {
    /// When the first customer notice is due after the incident starts.
    #[serde(deserialize_with = "crate::core::durations::duration")]
    pub first_notice: Duration,
    /// The longest gap between customer updates.
    #[serde(deserialize_with = "crate::core::durations::duration")]
    pub interval: Duration,
    /// Status → text. Placeholders: `{title}`, `{service}`, `{next_update}`.
    pub templates: BTreeMap<String, String>,
}

impl Default for UpdatesConfig {
    fn default() -> Self {
        let templates = [
            (
                "1 investigating",
                "We are investigating an issue affecting {service}: {title}. Our engineers are working on it. Next update by {next_update}.",
            ),
            (
                "2 identified",
                "We have identified the cause of the issue affecting {service} and are working on a fix. Next update by {next_update}.",
            ),
            (
                "3 monitoring",
                "A fix for the issue affecting {service} is in place and we are monitoring the results. Next update by {next_update}.",
            ),
            (
                "4 resolved",
                "The issue affecting {service} is resolved. We found no data loss. We will share a summary of what happened.",
            ),
        ];
        Self {
            first_notice: Duration::from_secs(5 * 60),
            interval: Duration::from_secs(20 * 60),
            templates: templates
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

impl UpdatesConfig {
    /// Template names in order, without the sorting prefix ("1 ").
    #[must_use]
    pub fn names(&self) -> Vec<(&str, &str)> {
        self.templates
            .iter()
            .map(|(k, v)| (k.split_once(' ').map_or(k.as_str(), |(_, n)| n), v.as_str()))
            .collect()
    }

    /// When the next customer update on `incident` is due: the first notice
    /// until one was posted, then `interval` after the latest.
    #[must_use]
    pub fn next_due(&self, incident: &Incident, writes: &[Write]) -> Timestamp {
        let target = Target::Incident(incident.id.to_string());
        let last = writes
            .iter()
            .filter(|w| w.kind == WriteKind::CustomerUpdate && w.target == target)
            .map(|w| w.created_at)
            .max();
        let after =
            |d: Duration| SignedDuration::try_from(d).unwrap_or(SignedDuration::from_mins(20));
        match last {
            Some(at) => at + after(self.interval),
            None => incident.started_at + after(self.first_notice),
        }
    }
}

/// Fill a template's placeholders.
#[must_use]
pub fn render(template: &str, incident: &Incident, next_update: Timestamp) -> String {
    template
        .replace("{title}", &incident.title)
        .replace(
            "{service}",
            incident.service.as_deref().unwrap_or("our service"),
        )
        .replace(
            "{next_update}",
            &next_update.strftime("%H:%M UTC").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::{IncidentStatus, Severity};

    fn incident() -> Incident {
        Incident {
            id: "P1".into(),
            title: "API errors".into(),
            status: IncidentStatus::Triggered,
            severity: Severity::Sev1,
            service: Some("api".into()),
            started_at: "2026-11-21T10:00:00Z".parse().unwrap(),
            responders: Vec::new(),
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            details: BTreeMap::new(),
        }
    }

    #[test]
    fn first_notice_then_interval_after_the_latest_update() {
        let config = UpdatesConfig::default();
        let i = incident();
        assert_eq!(config.next_due(&i, &[]).to_string(), "2026-11-21T10:05:00Z");
        let update = Write {
            id: 1,
            created_at: "2026-11-21T10:03:00Z".parse().unwrap(),
            kind: WriteKind::CustomerUpdate,
            target: Target::Incident("P1".into()),
            text: "…".into(),
            steps: Vec::new(),
        };
        let note = Write {
            kind: WriteKind::Annotate,
            created_at: "2026-11-21T10:30:00Z".parse().unwrap(),
            ..update.clone()
        };
        assert_eq!(
            config.next_due(&i, &[update, note]).to_string(),
            "2026-11-21T10:23:00Z",
            "only customer updates reset it"
        );
    }

    #[test]
    fn templates_fill_placeholders_in_order() {
        let config = UpdatesConfig::default();
        let names: Vec<&str> = config.names().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["investigating", "identified", "monitoring", "resolved"]
        );
        let text = render(
            config.names()[0].1,
            &incident(),
            "2026-11-21T10:25:00Z".parse().unwrap(),
        );
        assert_eq!(
            text,
            "We are investigating an issue affecting api: API errors. Our engineers are working on it. Next update by 10:25 UTC."
        );
    }
}
