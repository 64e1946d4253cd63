//! Customer updates during an incident: cadence and templates.
//!
//! Cadence: a first notice within 5 minutes of the incident starting, then
//! an update at least every 20 minutes (docs/incident-cadence.md). The
//! update text comes from a template per status (Investigating /
//! Identified / Monitoring / Resolved), rendered once per recipient
//! ([`recipients`]): a customer reads only what is safe to send them.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::core::domain::{Incident, Severity};
use crate::core::writes::{Target, Write, WriteKind};

pub mod recipients;

pub use recipients::{Party, Recipient, Refusal, Rendered, render_all, their_impact};

/// Incident fields that are internal: usable in private notes, and in a
/// public reply only when `public_fields` names them.
pub const INTERNAL_FIELDS: [&str; 3] = ["title", "internal_service", "labels"];

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
    /// Status → text. Placeholders: `{customer}`, `{their_impact}`,
    /// `{service}`, `{next_update}`, `{status_page}`; internal ones
    /// (`{title}`, `{internal_service}`, `{labels}`) only where allowed.
    pub templates: BTreeMap<String, String>,
    /// Internal service name → the name customers know it by. `{service}`
    /// never falls back to the internal name ("our service" instead).
    pub service_names: BTreeMap<String, String>,
    /// The public status page, for `{status_page}`.
    pub status_page: Option<String>,
    /// Internal fields a public reply may use (of [`INTERNAL_FIELDS`]);
    /// empty by default: an alert title names tenants and internals.
    pub public_fields: Vec<String>,
}

impl Default for UpdatesConfig {
    fn default() -> Self {
        let templates = [
            (
                "1 investigating",
                "Hello {customer}, we are investigating an issue affecting {service}. What you may notice: {their_impact}. Our engineers are working on it. Next update by {next_update}.",
            ),
            (
                "2 identified",
                "Hello {customer}, we have identified the cause of the issue affecting {service} and are working on a fix. Next update by {next_update}.",
            ),
            (
                "3 monitoring",
                "Hello {customer}, a fix for the issue affecting {service} is in place and we are monitoring the results. Next update by {next_update}.",
            ),
            (
                "4 resolved",
                "Hello {customer}, the issue affecting {service} is resolved. We found no data loss. We will share a summary of what happened.",
            ),
        ];
        Self {
            first_notice: Duration::from_secs(5 * 60),
            interval: Duration::from_secs(20 * 60),
            templates: templates
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            service_names: BTreeMap::new(),
            status_page: None,
            public_fields: Vec::new(),
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

    /// The template named `status` ("investigating"), if configured.
    #[must_use]
    pub fn template(&self, status: &str) -> Option<&str> {
        self.names()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(status))
            .map(|(_, t)| t)
    }

    /// Why the config is wrong, if it is: an unknown public field.
    pub fn validate(&self) -> Result<(), String> {
        match self
            .public_fields
            .iter()
            .find(|f| !INTERNAL_FIELDS.contains(&f.as_str()))
        {
            Some(f) => Err(format!(
                "public_fields: {f:?} is not one of {}",
                INTERNAL_FIELDS.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// The name customers know an internal service or area by, if mapped.
    #[must_use]
    pub fn public_name(&self, internal: &str) -> Option<String> {
        self.service_names
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(internal))
            .map(|(_, v)| v.clone())
    }

    /// The customer-facing name of an internal service; never the internal
    /// name itself.
    #[must_use]
    pub fn service_name(&self, internal: Option<&str>) -> String {
        internal
            .and_then(|s| self.public_name(s))
            .unwrap_or_else(|| "our service".into())
    }

    /// When the next customer update on `incident` is due: the first notice
    /// until one was posted, then `interval` after the latest. `None` when
    /// the incident has no update cadence: it is resolved, or it is a SEV3
    /// or SEV4 whose customers were never promised a next update (once one
    /// was posted, its "next update by" is a promise, whatever the
    /// severity). The incidents pane, incident mode and the handover all
    /// ask here, so they agree.
    #[must_use]
    pub fn next_due(&self, incident: &Incident, writes: &[Write]) -> Option<Timestamp> {
        if !incident.is_open() {
            return None;
        }
        let target = Target::Incident(incident.id.to_string());
        let last = writes
            .iter()
            .filter(|w| w.kind == WriteKind::CustomerUpdate && w.target == target)
            .map(|w| w.created_at)
            .max();
        let after =
            |d: Duration| SignedDuration::try_from(d).unwrap_or(SignedDuration::from_mins(20));
        match last {
            Some(at) => Some(at + after(self.interval)),
            None if incident.severity <= Severity::Sev2 => {
                Some(incident.started_at + after(self.first_notice))
            }
            None => None,
        }
    }
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
            resolved_at: None,
            details: BTreeMap::new(),
        }
    }

    #[test]
    fn first_notice_then_interval_after_the_latest_update() {
        let config = UpdatesConfig::default();
        let i = incident();
        assert_eq!(
            config.next_due(&i, &[]).unwrap().to_string(),
            "2026-11-21T10:05:00Z"
        );
        let update = Write {
            id: 1,
            created_at: "2026-11-21T10:03:00Z".parse().unwrap(),
            kind: WriteKind::CustomerUpdate,
            target: Target::Incident("P1".into()),
            text: "…".into(),
            author: None,
            steps: Vec::new(),
        };
        let note = Write {
            kind: WriteKind::Annotate,
            created_at: "2026-11-21T10:30:00Z".parse().unwrap(),
            ..update.clone()
        };
        assert_eq!(
            config
                .next_due(&i, &[update.clone(), note])
                .unwrap()
                .to_string(),
            "2026-11-21T10:23:00Z",
            "only customer updates reset it"
        );
        // A SEV3 has no cadence until customers were promised a next update.
        let sev3 = Incident {
            severity: Severity::Sev3,
            ..i.clone()
        };
        assert_eq!(config.next_due(&sev3, &[]), None);
        assert!(
            config
                .next_due(&sev3, std::slice::from_ref(&update))
                .is_some()
        );
        let resolved = Incident {
            status: IncidentStatus::Resolved,
            ..i
        };
        assert_eq!(config.next_due(&resolved, &[update]), None);
    }

    #[test]
    fn templates_in_order_and_found_by_status() {
        let config = UpdatesConfig::default();
        let names: Vec<&str> = config.names().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["investigating", "identified", "monitoring", "resolved"]
        );
        assert!(
            config
                .template("Investigating")
                .unwrap()
                .starts_with("Hello {customer}")
        );
        assert!(config.template("escalated").is_none());
        // No default template may use an internal field.
        for (name, text) in config.names() {
            for field in INTERNAL_FIELDS {
                assert!(!text.contains(&format!("{{{field}}}")), "{name}: {text}");
            }
        }
    }

    #[test]
    fn public_fields_must_be_internal_field_names() {
        let mut config = UpdatesConfig {
            public_fields: vec!["title".into()],
            ..UpdatesConfig::default()
        };
        assert!(config.validate().is_ok());
        config.public_fields = vec!["tenants".into()];
        assert!(config.validate().unwrap_err().contains("\"tenants\""));
    }
}
