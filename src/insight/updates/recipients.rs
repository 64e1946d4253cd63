//! One customer update, rendered once per recipient, and checked before it
//! is journalled.
//!
//! A public reply is read by one customer. What it may say is decided by
//! construction: the placeholders a public template can use are about the
//! recipient (`{customer}`, `{their_impact}`) or customer-facing by config
//! (`{service}`, `{next_update}`, `{status_page}`); the incident's internal
//! fields (its title, raw service name, labels) are refused unless the config
//! names them in `public_fields`. Then, because free text (an edited
//! template, an allowed title, a customer's own feature area) can still name
//! someone, every public body is checked against every *other* affected
//! account's name, tenant and desk organisation, and the whole update is
//! refused with the reason if one appears.

use jiff::Timestamp;

use super::UpdatesConfig;
use crate::core::domain::Incident;

/// An account touched by the incident: who must not be named to the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub tenant: String,
    pub desk_org: String,
}

/// One linked inquiry that receives the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub inquiry: String,
    /// Index into the parties: the recipient's own account, if known.
    pub party: Option<usize>,
    /// Whom to greet when the account is unknown (the requester's name).
    pub fallback_name: Option<String>,
    /// What this customer experiences (see [`their_impact`]).
    pub impact: String,
}

/// The exact text one inquiry will receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub inquiry: String,
    /// The recipient's name, for the preview's heading.
    pub customer: String,
    pub body: String,
}

/// Why an update cannot go out, with the inquiry it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", inquiry.as_ref().map(|i| format!("inquiry {i}: ")).unwrap_or_default())]
pub struct Refusal {
    pub inquiry: Option<String>,
    pub reason: String,
}

impl Refusal {
    fn new(inquiry: Option<&str>, reason: impl Into<String>) -> Self {
        Self {
            inquiry: inquiry.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// What one customer experiences, in words for them: the customer-facing
/// service, their own error ratio when measured, and the feature areas of
/// their own inquiries.
#[must_use]
pub fn their_impact(service: &str, error_ratio: Option<f64>, areas: &[String]) -> String {
    let mut text = match error_ratio {
        Some(r) if r > 0.0 => format!(
            "about {:.0}% of your requests to {service} are failing",
            (r * 100.0).max(1.0)
        ),
        _ => format!("some requests to {service} may fail or be slow"),
    };
    if !areas.is_empty() {
        text.push_str(&format!(" (including {})", areas.join(", ")));
    }
    text
}

/// Render `template` for every recipient; `public` adds the field rule and
/// the cross-customer check. All or nothing: one refusal refuses the update.
pub fn render_all(
    config: &UpdatesConfig,
    template: &str,
    incident: &Incident,
    next_update: Timestamp,
    public: bool,
    parties: &[Party],
    recipients: &[Recipient],
) -> Result<Vec<Rendered>, Refusal> {
    if template.trim().is_empty() {
        return Err(Refusal::new(None, "the update is empty"));
    }
    recipients
        .iter()
        .map(|r| {
            let customer = r
                .party
                .and_then(|p| parties.get(p))
                .map(|p| p.name.clone())
                .or_else(|| r.fallback_name.clone())
                .unwrap_or_else(|| "there".into());
            let body = fill(
                config,
                template,
                incident,
                next_update,
                public,
                &customer,
                &r.impact,
            )
            .map_err(|reason| Refusal::new(Some(&r.inquiry), reason))?;
            if public {
                check_no_other_party(&body, r.party, parties)
                    .map_err(|reason| Refusal::new(Some(&r.inquiry), reason))?;
            }
            Ok(Rendered {
                inquiry: r.inquiry.clone(),
                customer,
                body,
            })
        })
        .collect()
}

/// Fill placeholders in one pass, so a value that itself contains
/// `{title}` (a customer named so, an edited impact) is never expanded.
fn fill(
    config: &UpdatesConfig,
    template: &str,
    incident: &Incident,
    next_update: Timestamp,
    public: bool,
    customer: &str,
    impact: &str,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if name_len == 0 || !after[name_len..].starts_with('}') {
            // Not a placeholder (a lone brace in prose): kept as written.
            out.push('{');
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        rest = &after[name_len + 1..];
        let internal = super::INTERNAL_FIELDS.contains(&name);
        if public && internal && !config.public_fields.iter().any(|f| f == name) {
            return Err(format!(
                "{{{name}}} is internal and not allowed in a public reply (incident_updates.public_fields)"
            ));
        }
        let value = match name {
            "customer" => customer.to_owned(),
            "their_impact" => impact.to_owned(),
            "service" => config.service_name(incident.service.as_deref()),
            "next_update" => next_update.strftime("%H:%M UTC").to_string(),
            "status_page" => config.status_page.clone().ok_or_else(|| {
                "{status_page} is used but incident_updates.status_page is not set".to_owned()
            })?,
            "title" => incident.title.clone(),
            "internal_service" => incident.service.clone().unwrap_or_default(),
            "labels" => incident
                .details
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            other => return Err(format!("{{{other}}} is not a placeholder")),
        };
        out.push_str(&value);
    }
    out.push_str(rest);
    Ok(out)
}

/// Refuse a body that names another affected account (by name, tenant or
/// desk organisation). The recipient's own identifiers are blanked out
/// first, so another tenant "redwood" does not refuse "Hello Redwood Retail"
/// to Redwood Retail itself.
fn check_no_other_party(body: &str, own: Option<usize>, parties: &[Party]) -> Result<(), String> {
    let mut text = body.to_lowercase();
    if let Some(o) = own.and_then(|i| parties.get(i)) {
        let mut mine = [&o.name, &o.tenant, &o.desk_org].map(|v| v.trim().to_lowercase());
        // Longest first: "redwood retail" before "redwood".
        mine.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in mine.iter().filter(|v| !v.is_empty()) {
            text = text.replace(v.as_str(), " ");
        }
    }
    for (i, other) in parties.iter().enumerate() {
        if Some(i) == own {
            continue;
        }
        for (what, value) in [
            ("name", &other.name),
            ("tenant", &other.tenant),
            ("desk organisation", &other.desk_org),
        ] {
            if names(&text, value) {
                return Err(format!(
                    "it names another affected customer ({what} {value:?}); not sent to anyone"
                ));
            }
        }
    }
    Ok(())
}

/// Whether `body` mentions `needle`, case-insensitively: as a substring for
/// names of three characters or more (over-refusing is the safe side), as a
/// whole word for shorter ones (so a tenant "eu" does not refuse "queue").
fn names(body: &str, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    if needle.is_empty() {
        return false;
    }
    let body = body.to_lowercase();
    if needle.chars().count() >= 3 {
        return body.contains(&needle);
    }
    body.split(|c: char| !c.is_alphanumeric())
        .any(|word| word == needle)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::core::domain::{IncidentStatus, Severity};

    fn incident(title: &str) -> Incident {
        Incident {
            id: "P1".into(),
            title: title.into(),
            status: IncidentStatus::Triggered,
            severity: Severity::Sev1,
            service: Some("api-gw-prod".into()),
            started_at: "2026-11-21T10:00:00Z".parse().unwrap(),
            responders: Vec::new(),
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            resolved_at: None,
            details: BTreeMap::new(),
        }
    }

    fn parties() -> Vec<Party> {
        vec![
            Party {
                name: "Redwood Retail".into(),
                tenant: "redwood-retail".into(),
                desk_org: "Redwood".into(),
            },
            Party {
                name: "Nordlicht GmbH".into(),
                tenant: "nordlicht".into(),
                desk_org: "Nordlicht".into(),
            },
        ]
    }

    fn recipients() -> Vec<Recipient> {
        vec![
            Recipient {
                inquiry: "101".into(),
                party: Some(0),
                fallback_name: None,
                impact: their_impact("the API", Some(0.12), &["checkout".into()]),
            },
            Recipient {
                inquiry: "102".into(),
                party: Some(1),
                fallback_name: None,
                impact: their_impact("the API", None, &[]),
            },
        ]
    }

    fn config() -> UpdatesConfig {
        UpdatesConfig {
            service_names: [("api-gw-prod".to_owned(), "the API".to_owned())].into(),
            status_page: Some("https://status.example.com".into()),
            ..UpdatesConfig::default()
        }
    }

    const AT: &str = "2026-11-21T10:25:00Z";

    #[test]
    fn each_recipient_reads_their_own_name_impact_and_the_public_service_name() {
        let out = render_all(
            &config(),
            "Hello {customer}: {their_impact}. {service} · {next_update} · {status_page}",
            &incident("Elevated 5xx on api-gw-prod (tenants: redwood-retail, nordlicht)"),
            AT.parse().unwrap(),
            true,
            &parties(),
            &recipients(),
        )
        .unwrap();
        assert_eq!(
            out[0].body,
            "Hello Redwood Retail: about 12% of your requests to the API are failing (including checkout). the API · 10:25 UTC · https://status.example.com"
        );
        assert_eq!(
            out[1].body,
            "Hello Nordlicht GmbH: some requests to the API may fail or be slow. the API · 10:25 UTC · https://status.example.com"
        );
    }

    #[test]
    fn the_internal_service_name_is_never_the_fallback() {
        let out = render_all(
            &UpdatesConfig::default(),
            "{service}",
            &incident("x"),
            AT.parse().unwrap(),
            true,
            &parties(),
            &recipients(),
        )
        .unwrap();
        assert_eq!(out[0].body, "our service");
    }

    #[test]
    fn internal_fields_are_refused_in_public_unless_allowed() {
        let hostile = incident("5xx for redwood-retail, nordlicht");
        let err = render_all(
            &config(),
            "Update: {title}",
            &hostile,
            AT.parse().unwrap(),
            true,
            &parties(),
            &recipients(),
        )
        .unwrap_err();
        assert!(err.reason.contains("{title} is internal"), "{err}");
        // Private notes may use it.
        assert!(
            render_all(
                &config(),
                "Update: {title}",
                &hostile,
                AT.parse().unwrap(),
                false,
                &parties(),
                &recipients()
            )
            .is_ok()
        );
        // Allowed by config, the title still cannot name other customers.
        let allowed = UpdatesConfig {
            public_fields: vec!["title".into()],
            ..config()
        };
        let err = render_all(
            &allowed,
            "Update: {title}",
            &hostile,
            AT.parse().unwrap(),
            true,
            &parties(),
            &recipients(),
        )
        .unwrap_err();
        assert_eq!(err.inquiry.as_deref(), Some("101"));
        assert!(err.reason.contains("\"nordlicht\""), "{err}");
    }

    #[test]
    fn free_text_naming_another_customer_is_refused_but_ones_own_name_is_fine() {
        let err = render_all(
            &config(),
            "Hello {customer}, like NORDLICHT GmbH you may see errors.",
            &incident("x"),
            AT.parse().unwrap(),
            true,
            &parties(),
            &recipients(),
        )
        .unwrap_err();
        assert_eq!(err.inquiry.as_deref(), Some("101"));
        assert!(err.reason.contains("another affected customer"), "{err}");
        // An inquiry of an unknown account: every party is "another".
        let unknown = vec![Recipient {
            inquiry: "9".into(),
            party: None,
            fallback_name: Some("Redwood".into()),
            impact: String::new(),
        }];
        assert!(
            render_all(
                &config(),
                "Hello {customer}",
                &incident("x"),
                AT.parse().unwrap(),
                true,
                &parties(),
                &unknown
            )
            .is_err()
        );
    }

    #[test]
    fn values_are_not_expanded_again_and_unknown_placeholders_are_refused() {
        let mut p = parties();
        p[0].name = "{title}".into();
        let out = render_all(
            &config(),
            "Hi {customer} {not json}",
            &incident("secret"),
            AT.parse().unwrap(),
            false,
            &p,
            &recipients()[..1],
        )
        .unwrap();
        assert_eq!(out[0].body, "Hi {title} {not json}");
        let err = render_all(
            &config(),
            "{tenant}",
            &incident("x"),
            AT.parse().unwrap(),
            false,
            &p,
            &recipients(),
        )
        .unwrap_err();
        assert!(err.reason.contains("not a placeholder"), "{err}");
    }

    #[test]
    fn short_names_match_whole_words_only() {
        assert!(names("Hello EU team", "eu"));
        assert!(!names("the queue is long", "eu"));
        assert!(names("see nordlicht-prod", "Nordlicht"));
    }
}
