//! Alertmanager API v2: the alerts it holds, grouped into incidents.
//!
//! One incident per distinct value of the configured group labels (default
//! `alertname` + `service`), so ten tenants' `HighErrorRate` on one service
//! is one incident naming ten tenants rather than ten rows. Silenced and
//! inhibited alerts stay visible but marked: a group whose every alert is
//! suppressed is `Suppressed`, otherwise `Firing`. Each alert's labels and
//! annotations become the incident's notes, served from the last poll.

mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};

use self::wire::{AlertDto, Lenient, decoded};
use super::IncidentSource;
use super::config::IncidentsConfig;
use super::http::{self, Secret};
use crate::core::domain::{Incident, IncidentNote, IncidentStatus, Severity, SourceError};
use crate::core::sanitize;
use crate::core::source::Vendor;

pub struct Alertmanager {
    client: reqwest::Client,
    base: Url,
    /// Alertmanager has no auth of its own; a token is for a proxy in front.
    token: Option<Secret>,
    labels: Labels,
    /// Per-request deadline from the config (else the client's 30 s).
    timeout: Option<std::time::Duration>,
    /// Each incident's alerts as notes, from the last poll.
    notes: HashMap<String, Vec<IncidentNote>>,
}

/// Which labels mean what.
#[derive(Debug, Clone)]
struct Labels {
    group_by: Vec<String>,
    severity: String,
    tenants: Vec<String>,
    service: String,
}

impl Alertmanager {
    pub fn new(
        client: reqwest::Client,
        config: &IncidentsConfig,
        token: Option<Secret>,
    ) -> Result<Self, SourceError> {
        let base = http::base_url(&config.url, config.allow_insecure_http)
            .map_err(|e| SourceError::new(format!("alertmanager: {e}")))?;
        if let Some(token) = &token
            && HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err()
        {
            return Err(SourceError::new(
                "alertmanager: the token contains characters not allowed in an HTTP header",
            ));
        }
        if config.group_by.iter().all(|l| l.trim().is_empty()) {
            return Err(SourceError::new(
                "alertmanager: group_by needs at least one label",
            ));
        }
        Ok(Self {
            client,
            base,
            token,
            labels: Labels::from_config(config),
            timeout: config.timeout,
            notes: HashMap::new(),
        })
    }

    async fn alerts(&self) -> Result<Vec<AlertDto>, SourceError> {
        const WHAT: &str = "alertmanager: alerts";
        let mut url = http::join(&self.base, "/api/v2/alerts");
        // The defaults are all true, but say so: silenced and inhibited
        // alerts are wanted (and marked), not hidden.
        url.query_pairs_mut()
            .append_pair("active", "true")
            .append_pair("silenced", "true")
            .append_pair("inhibited", "true")
            .append_pair("unprocessed", "true");
        let mut request = self.client.get(url).header(ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let fetched = http::fetch_json_explained::<Vec<Lenient<AlertDto>>, _>(
            WHAT,
            request,
            wire::explain_error,
        )
        .await?;
        Ok(decoded(fetched.body).collect())
    }
}

impl Labels {
    fn from_config(config: &IncidentsConfig) -> Self {
        Self {
            group_by: config.group_by.clone(),
            severity: config.severity_label.clone(),
            tenants: config.tenant_labels.clone(),
            service: config.service_label.clone(),
        }
    }
}

/// Incidents, and each one's alerts as notes by incident id.
pub type Grouped = (Vec<Incident>, HashMap<String, Vec<IncidentNote>>);

/// Decode a `GET /api/v2/alerts` body and group it into incidents, with
/// each one's alerts as notes, the way a poll does under `config`'s labels.
/// Public for the fuzz targets.
pub fn read_alerts(
    body: &[u8],
    config: &IncidentsConfig,
    base: &Url,
) -> Result<Grouped, SourceError> {
    let alerts: Vec<Lenient<AlertDto>> = super::decode_body("alertmanager: alerts", body)?;
    Ok(incidents(
        decoded(alerts).collect(),
        &Labels::from_config(config),
        base,
    ))
}

/// Sanitise the alerts and group them into incidents.
fn incidents(alerts: Vec<AlertDto>, labels: &Labels, base: &Url) -> Grouped {
    group(
        alerts.into_iter().filter_map(Alert::from_dto).collect(),
        labels,
        base,
    )
}

/// One alert, sanitised, with what grouping needs.
struct Alert {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: Timestamp,
    silenced: bool,
    inhibited: bool,
    receivers: Vec<String>,
}

impl Alert {
    fn from_dto(dto: AlertDto) -> Option<Self> {
        let clean = |m: BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.into_iter()
                .map(|(k, v)| (sanitize::text(&k), sanitize::text(&v)))
                .filter(|(k, _)| !k.is_empty())
                .collect()
        };
        let Some(starts_at) = dto.starts_at.as_deref().and_then(|t| t.trim().parse().ok()) else {
            tracing::warn!(
                fingerprint = dto.fingerprint.as_deref().map(sanitize::text),
                "alertmanager: skipped an alert without a readable startsAt"
            );
            return None;
        };
        let suppressed = dto.status.state.as_deref() == Some("suppressed");
        let silenced = !dto.status.silenced_by.is_empty();
        let inhibited = !dto.status.inhibited_by.is_empty();
        Some(Self {
            labels: clean(dto.labels),
            annotations: clean(dto.annotations),
            starts_at,
            // A suppressed alert without a named cause was still muted.
            silenced: silenced || (suppressed && !inhibited),
            inhibited,
            receivers: dto
                .receivers
                .into_iter()
                .filter_map(|r| sanitize::opt(r.name.as_deref()))
                .collect(),
        })
    }

    fn suppressed(&self) -> bool {
        self.silenced || self.inhibited
    }

    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn note(&self) -> IncidentNote {
        let state = if self.silenced {
            "silenced"
        } else if self.inhibited {
            "inhibited"
        } else {
            "firing"
        };
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut text = format!("[{state}] {}", labels.join(" "));
        // One line: the detail view shows each note on one row.
        for (k, v) in &self.annotations {
            text.push_str(&format!(" · {k}: {v}"));
        }
        IncidentNote {
            at: self.starts_at,
            author: Some("alertmanager".into()),
            text,
        }
    }
}

/// Severity from a label value: `critical` → SEV1, `error`/`major`/`high` →
/// SEV2, `warning`/`minor` → SEV3, `info`/`low`/`none` → SEV4; `SEV2` and
/// `P2` forms are read as written; anything else is SEV3 (a person should
/// look, but it is not a page).
fn severity(value: Option<&str>) -> Severity {
    let Some(value) = value else {
        return Severity::Sev3;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "critical" | "fatal" | "emergency" | "page" => Severity::Sev1,
        "error" | "major" | "high" => Severity::Sev2,
        "warning" | "warn" | "minor" | "medium" => Severity::Sev3,
        "info" | "informational" | "low" | "none" => Severity::Sev4,
        other => {
            let compact: String = other.chars().filter(char::is_ascii_alphanumeric).collect();
            let digits = compact
                .strip_prefix("sev")
                .or_else(|| compact.strip_prefix('p'))
                .unwrap_or_default();
            match digits.parse::<u32>() {
                Ok(0 | 1) => Severity::Sev1,
                Ok(2) => Severity::Sev2,
                Ok(3) => Severity::Sev3,
                Ok(_) => Severity::Sev4,
                Err(_) => Severity::Sev3,
            }
        }
    }
}

/// Group alerts into incidents, worst severity first, then oldest. Returns
/// the incidents and each one's alerts as notes.
fn group(alerts: Vec<Alert>, labels: &Labels, base: &Url) -> Grouped {
    let mut groups: BTreeMap<Vec<String>, Vec<Alert>> = BTreeMap::new();
    for alert in alerts {
        let key: Vec<String> = labels
            .group_by
            .iter()
            .map(|l| alert.label(l).unwrap_or_default().to_owned())
            .collect();
        groups.entry(key).or_default().push(alert);
    }
    let mut incidents = Vec::new();
    let mut notes = HashMap::new();
    for (key, mut alerts) in groups {
        alerts.sort_by_key(|a| a.starts_at);
        let present: Vec<&String> = key.iter().filter(|v| !v.is_empty()).collect();
        let id = if present.is_empty() {
            "(ungrouped)".to_owned()
        } else {
            key.iter()
                .filter(|v| !v.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("/")
        };
        let first = &alerts[0];
        let name = first
            .label("alertname")
            .map_or_else(|| id.clone(), str::to_owned);
        let summary = alerts
            .iter()
            .find_map(|a| a.annotations.get("summary").filter(|s| !s.is_empty()))
            .cloned();
        let title = match (summary, alerts.len()) {
            (Some(s), 1) => s,
            (None, 1) => name.clone(),
            (Some(s), n) => format!("{name}: {n} alerts ({s}…)"),
            (None, n) => format!("{name}: {n} alerts"),
        };
        let silenced = alerts.iter().filter(|a| a.silenced).count();
        let inhibited = alerts.iter().filter(|a| a.inhibited && !a.silenced).count();
        let status = if alerts.iter().all(Alert::suppressed) {
            IncidentStatus::Suppressed
        } else {
            IncidentStatus::Firing
        };
        let mut tenants: Vec<String> = Vec::new();
        for alert in &alerts {
            for label in &labels.tenants {
                if let Some(t) = alert.label(label)
                    && !tenants.iter().any(|x| x == t)
                {
                    tenants.push(t.to_owned());
                }
            }
        }
        let responders: BTreeSet<String> =
            alerts.iter().flat_map(|a| a.receivers.clone()).collect();
        let mut details = BTreeMap::new();
        details.insert(
            "alerts".to_owned(),
            match (silenced, inhibited) {
                (0, 0) => alerts.len().to_string(),
                (s, 0) => format!("{} ({s} silenced)", alerts.len()),
                (0, i) => format!("{} ({i} inhibited)", alerts.len()),
                (s, i) => format!("{} ({s} silenced, {i} inhibited)", alerts.len()),
            },
        );
        let matchers: Vec<String> = labels
            .group_by
            .iter()
            .zip(&key)
            .filter(|(_, v)| !v.is_empty())
            .map(|(l, v)| format!("{l}={v:?}"))
            .collect();
        details.insert("group".to_owned(), matchers.join(" "));
        let mut url = http::join(base, "/");
        url.set_fragment(Some(&format!(
            "/alerts?silenced=true&inhibited=true&filter=%7B{}%7D",
            url::form_urlencoded::byte_serialize(matchers.join(",").as_bytes()).collect::<String>()
        )));
        notes.insert(id.clone(), alerts.iter().map(Alert::note).collect());
        incidents.push(Incident {
            id: id.into(),
            title,
            status,
            severity: alerts
                .iter()
                .map(|a| severity(a.label(&labels.severity)))
                .min()
                .unwrap_or(Severity::Sev3),
            service: alerts
                .iter()
                .find_map(|a| a.label(&labels.service))
                .map(str::to_owned),
            started_at: first.starts_at,
            responders: responders.into_iter().collect(),
            tenants,
            url: Some(url.to_string()),
            notes: Vec::new(),
            resolved_at: None,
            details,
        });
    }
    incidents.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.started_at.cmp(&b.started_at))
    });
    (incidents, notes)
}

impl IncidentSource for Alertmanager {
    fn vendor(&self) -> Vendor {
        Vendor::Alertmanager
    }

    async fn poll(&mut self) -> Result<Vec<Incident>, SourceError> {
        let alerts = self.alerts().await?;
        let count = alerts.len();
        let (incidents, notes) = incidents(alerts, &self.labels, &self.base);
        tracing::debug!(
            requests = 1,
            alerts = count,
            incidents = incidents.len(),
            "alertmanager: poll"
        );
        self.notes = notes;
        Ok(incidents)
    }

    async fn notes(&mut self, id: &str) -> Result<Vec<IncidentNote>, SourceError> {
        // The alerts of the last poll; a fresh poll would only repeat them.
        self.notes.get(id).cloned().ok_or_else(|| {
            SourceError::new(format!(
                "alertmanager: {:?} is no longer among the active alerts",
                sanitize::text(id)
            ))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn alert(labels: &[(&str, &str)], starts: &str, silenced: bool) -> Alert {
        let dto: AlertDto = serde_json::from_value(serde_json::json!({
            "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            "annotations": {"summary": format!("{} \u{1b}[31mred", labels[0].1)},
            "startsAt": starts,
            "status": {"state": if silenced { "suppressed" } else { "active" },
                       "silencedBy": if silenced { vec!["s1"] } else { vec![] }, "inhibitedBy": []},
            "receivers": [{"name": "team-api"}]
        }))
        .unwrap();
        Alert::from_dto(dto).unwrap()
    }

    fn labels() -> Labels {
        Labels {
            group_by: vec!["alertname".into(), "service".into()],
            severity: "severity".into(),
            tenants: vec!["tenant".into(), "customer".into()],
            service: "service".into(),
        }
    }

    #[test]
    fn alerts_group_by_labels_with_worst_severity_and_all_tenants() {
        let base = Url::parse("http://127.0.0.1:9093").unwrap();
        let (incidents, notes) = group(
            vec![
                alert(
                    &[
                        ("alertname", "HighErrorRate"),
                        ("service", "api"),
                        ("severity", "warning"),
                        ("tenant", "acme"),
                    ],
                    "2026-11-21T09:00:00.000Z",
                    false,
                ),
                alert(
                    &[
                        ("alertname", "HighErrorRate"),
                        ("service", "api"),
                        ("severity", "critical"),
                        ("customer", "globex"),
                    ],
                    "2026-11-21T08:00:00.000Z",
                    false,
                ),
                alert(
                    &[
                        ("alertname", "LatencyP99High"),
                        ("service", "checkout"),
                        ("severity", "warning"),
                        ("tenant", "acme"),
                    ],
                    "2026-11-21T09:30:00.000Z",
                    true,
                ),
            ],
            &labels(),
            &base,
        );
        assert_eq!(incidents.len(), 2);
        let api = &incidents[0];
        assert_eq!(api.id, "HighErrorRate/api");
        assert_eq!(api.severity, Severity::Sev1, "the worst alert decides");
        assert_eq!(api.status, IncidentStatus::Firing);
        assert_eq!(api.tenants, ["globex", "acme"], "oldest alert first");
        assert_eq!(api.started_at.to_string(), "2026-11-21T08:00:00Z");
        assert_eq!(api.service.as_deref(), Some("api"));
        assert_eq!(api.responders, ["team-api"]);
        assert!(
            api.title.starts_with("HighErrorRate: 2 alerts"),
            "{}",
            api.title
        );
        assert!(!api.title.contains('\u{1b}'), "annotations are sanitised");
        let latency = &incidents[1];
        assert_eq!(latency.status, IncidentStatus::Suppressed);
        assert_eq!(latency.details["alerts"], "1 (1 silenced)");
        assert!(
            notes["LatencyP99High/checkout"][0]
                .text
                .starts_with("[silenced] alertname=LatencyP99High")
        );
        assert!(
            latency
                .url
                .as_deref()
                .unwrap()
                .contains("filter=%7Balertname"),
            "{:?}",
            latency.url
        );
    }

    #[test]
    fn severity_words_and_numbers() {
        assert_eq!(severity(Some("critical")), Severity::Sev1);
        assert_eq!(severity(Some("error")), Severity::Sev2);
        assert_eq!(severity(Some("warning")), Severity::Sev3);
        assert_eq!(severity(Some("info")), Severity::Sev4);
        assert_eq!(severity(Some("SEV-2")), Severity::Sev2);
        assert_eq!(severity(Some("P1")), Severity::Sev1);
        assert_eq!(severity(Some("whatever")), Severity::Sev3);
        assert_eq!(severity(None), Severity::Sev3);
    }
}
