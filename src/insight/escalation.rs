//! The escalation map and what escalating does.
//!
//! Targets come from `[[escalation.targets]]` in the config (support → CRE /
//! technical support → the engineering team that owns the feature area).
//! [`plan`] turns "escalate this item to that target" into the journal
//! effects — all of them shown in the dialog before anything is sent.

use serde::Deserialize;
use serde_json::json;

use crate::core::writes::{SourceWrite, Target};

/// PagerDuty's Events v2 endpoint, where pages go unless the config says
/// otherwise.
pub const DEFAULT_EVENTS_URL: &str = "https://events.pagerduty.com/v2";

/// `[escalation]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    /// PagerDuty Events v2 endpoint, for targets that page.
    pub events_url: String,
    /// Allow plain http to a non-loopback events endpoint.
    pub allow_insecure_http: bool,
    pub targets: Vec<EscalationTarget>,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        Self {
            events_url: DEFAULT_EVENTS_URL.into(),
            allow_insecure_http: false,
            targets: Vec::new(),
        }
    }
}

/// One place an escalation can go.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EscalationTarget {
    /// Short name, used with `escalate --to NAME` and in the
    /// `escalated-NAME` tag.
    pub name: String,
    /// What the dialog calls it ("CRE on shift").
    pub label: Option<String>,
    /// Feature areas this team owns; an inquiry in one of them suggests it.
    #[serde(default)]
    pub feature_areas: Vec<String>,
    /// Desk priority to raise the inquiry to.
    pub priority: Option<String>,
    /// Desk group (Zendesk group id) or queue (RT) to move the inquiry to.
    pub group: Option<String>,
    /// Extra tags besides `escalated` and `escalated-NAME`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Environment variable holding a PagerDuty Events v2 routing key:
    /// set it to page this team.
    pub routing_key_env: Option<String>,
    /// Events v2 severity of the page (`critical`, `error`, `warning`, `info`).
    #[serde(default = "default_severity")]
    pub severity: String,
}

fn default_severity() -> String {
    "error".into()
}

impl EscalationTarget {
    #[must_use]
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

impl EscalationConfig {
    /// The target named `name`.
    #[must_use]
    pub fn target(&self, name: &str) -> Option<&EscalationTarget> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// Targets in the order to offer them: those owning the feature area
    /// first, then the rest as configured.
    #[must_use]
    pub fn suggest(&self, feature_area: Option<&str>) -> Vec<&EscalationTarget> {
        let owns = |t: &&EscalationTarget| {
            feature_area.is_some_and(|a| t.feature_areas.iter().any(|f| f == a))
        };
        let mut out: Vec<&EscalationTarget> = self.targets.iter().filter(owns).collect();
        out.extend(self.targets.iter().filter(|t| !owns(t)));
        out
    }
}

/// Priorities in Zendesk's order, lowest first.
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// The stable PagerDuty dedup key of an escalated item: the same item never
/// pages twice, whoever escalates it and however often.
#[must_use]
pub fn dedup_key(item: &Target) -> String {
    format!("cre-cockpit/{item}")
}

/// The effects of escalating `item` to `target`. `current_priority` is the
/// inquiry's priority (the escalation only ever raises it); `context` is the
/// bundle that goes into the private note and the page.
#[must_use]
pub fn plan(
    item: &Target,
    target: &EscalationTarget,
    current_priority: Option<&str>,
    summary: &str,
    context: &str,
    desk_tags: bool,
) -> Vec<SourceWrite> {
    let mut effects = Vec::new();
    let note = format!(
        "Escalated to {} by the CRE cockpit.\n\n{context}",
        target.label()
    );
    match item {
        Target::Inquiry(ticket) => {
            let rank = |p: &str| PRIORITIES.iter().position(|x| *x == p);
            if let Some(p) = &target.priority
                && rank(p) > current_priority.and_then(rank)
            {
                effects.push(SourceWrite::DeskPriority {
                    ticket: ticket.clone(),
                    priority: p.clone(),
                });
            }
            let mut tags = vec!["escalated".to_owned(), format!("escalated-{}", target.name)];
            tags.extend(target.tags.iter().cloned());
            if desk_tags {
                effects.push(SourceWrite::DeskTags {
                    ticket: ticket.clone(),
                    tags,
                });
            }
            if let Some(group) = &target.group {
                effects.push(SourceWrite::DeskGroup {
                    ticket: ticket.clone(),
                    group: group.clone(),
                });
            }
            effects.push(SourceWrite::DeskNote {
                ticket: ticket.clone(),
                body: note,
                public: false,
            });
        }
        Target::Incident(incident) => effects.push(SourceWrite::IncidentNote {
            incident: incident.clone(),
            body: note,
        }),
        Target::Customer(_) => effects.push(SourceWrite::Local),
    }
    if let Some(env) = &target.routing_key_env {
        effects.push(SourceWrite::Page {
            routing_key_env: env.clone(),
            dedup_key: dedup_key(item),
            summary: summary.to_owned(),
            severity: target.severity.clone(),
            details: json!({ "item": item.to_string(), "target": target.name, "context": context }),
        });
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> EscalationTarget {
        EscalationTarget {
            name: "billing-eng".into(),
            label: Some("Billing engineering".into()),
            feature_areas: vec!["billing".into()],
            priority: Some("high".into()),
            group: Some("360001".into()),
            tags: vec!["eng".into()],
            routing_key_env: Some("PD_BILLING".into()),
            severity: "error".into(),
        }
    }

    #[test]
    fn escalating_an_inquiry_raises_tags_moves_notes_and_pages() {
        let item = Target::Inquiry("42".into());
        let effects = plan(
            &item,
            &target(),
            Some("normal"),
            "ACME billing broken",
            "health 47 Red",
            true,
        );
        let kinds: Vec<String> = effects.iter().map(SourceWrite::describe).collect();
        assert_eq!(
            kinds,
            [
                "set priority high on ticket 42",
                "add tags escalated, escalated-billing-eng, eng to ticket 42",
                "move ticket 42 to 360001",
                "private note on ticket 42",
                "page on-call (error, dedup key cre-cockpit/inquiry:42)",
            ]
        );
        let SourceWrite::DeskNote { body, public, .. } = &effects[3] else {
            panic!()
        };
        assert!(!public);
        assert!(body.contains("Billing engineering") && body.contains("health 47 Red"));
    }

    #[test]
    fn priority_is_never_lowered() {
        let effects = plan(
            &Target::Inquiry("1".into()),
            &target(),
            Some("urgent"),
            "s",
            "c",
            false,
        );
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, SourceWrite::DeskTags { .. })),
            "no tags where the desk has none"
        );
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, SourceWrite::DeskPriority { .. }))
        );
    }

    #[test]
    fn the_dedup_key_depends_on_the_item_only() {
        let mut other = target();
        other.name = "cre".into();
        let item = Target::Incident("PX1".into());
        let key = |t: &EscalationTarget| match plan(&item, t, None, "s", "c", true).pop() {
            Some(SourceWrite::Page { dedup_key, .. }) => dedup_key,
            e => panic!("{e:?}"),
        };
        assert_eq!(key(&target()), key(&other));
    }

    #[test]
    fn owners_of_the_feature_area_are_suggested_first() {
        let mut cre = target();
        cre.name = "cre".into();
        cre.feature_areas.clear();
        let config = EscalationConfig {
            targets: vec![cre, target()],
            ..EscalationConfig::default()
        };
        let names: Vec<&str> = config
            .suggest(Some("billing"))
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["billing-eng", "cre"]);
    }
}
