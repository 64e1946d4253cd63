//! Join coverage: how much of each source's data reached a customer.
//!
//! A desk whose inquiries match no account, or a metric query that answers
//! no series, polls "fine" and yet leaves every customer without data. The
//! product's first rule is that empty-because-misconfigured must look
//! different from empty-because-nothing-is-there, so each source gets a
//! one-line coverage and warnings that name the setting to change. The
//! chips, `check` and `snapshot` all show these.

use std::collections::{BTreeMap, HashSet};

use crate::core::domain::{Account, Incident, Inquiry, MetricsSnapshot};
use crate::core::source::{Coverage, Vendor};
use crate::insight::join::Impact;

/// How many unmatched names a warning lists before "…".
const SHOWN: usize = 5;

/// The settings the join depends on, to name them in hints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinHints {
    /// `[desk] customer_field` (RT), if set.
    pub customer_field: Option<String>,
    /// `[metrics] tenant_label`.
    pub tenant_label: Option<String>,
    /// Each `[[slo]]`'s name and its `valid` query as written, to name an
    /// SLO whose queries answer no series.
    pub slo_queries: Vec<(String, String)>,
}

/// The most frequent names first, then alphabetical; at most [`SHOWN`].
fn first_names(counts: BTreeMap<String, usize>) -> String {
    let total = counts.len();
    let mut names: Vec<(String, usize)> = counts.into_iter().collect();
    names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut shown: Vec<String> = names
        .into_iter()
        .take(SHOWN)
        .map(|(name, n)| format!("{name:?} ({n})"))
        .collect();
    if total > SHOWN {
        shown.push(format!("… {} more", total - SHOWN));
    }
    shown.join(", ")
}

/// Inquiries matched to an account through their desk organisation.
/// `inquiry_account` is parallel to `inquiries` (the join's result).
#[must_use]
pub fn desk(
    vendor: Vendor,
    accounts: &[Account],
    inquiries: &[Inquiry],
    inquiry_account: &[Option<usize>],
    hints: &JoinHints,
) -> Coverage {
    let total = inquiries.len();
    let mut matched = 0;
    let mut unmatched: BTreeMap<String, usize> = BTreeMap::new();
    let mut without_org = 0;
    for (inquiry, account) in inquiries.iter().zip(inquiry_account) {
        match (account, &inquiry.org) {
            (Some(_), _) => matched += 1,
            (None, Some(org)) => *unmatched.entry(org.to_string()).or_default() += 1,
            (None, None) => without_org += 1,
        }
    }
    let mut coverage = Coverage {
        summary: format!("{matched}/{total} inquiries matched to an account"),
        warnings: Vec::new(),
    };
    if accounts.is_empty() {
        if total > 0 {
            coverage
                .warnings
                .push("no accounts loaded: set [accounts] file to the CRM export".into());
        }
        return coverage;
    }
    let how = match (vendor, &hints.customer_field) {
        (Vendor::Rt, Some(field)) => format!(
            "RT's custom field {field:?} ([desk] customer_field) gives these; \
             list them in the accounts file's desk_org column, or name the right field"
        ),
        (Vendor::Rt, None) => "without [desk] customer_field the customer is the requester's \
             email domain; set customer_field to the ticket custom field that names the customer, \
             or list these domains in the accounts file's desk_org column"
            .to_owned(),
        _ => {
            "the accounts file's desk_org column must equal the desk's organization name".to_owned()
        }
    };
    if !unmatched.is_empty() {
        let n: usize = unmatched.values().sum();
        coverage.warnings.push(format!(
            "{n} inquiries from organisations in no account: {}; {how}",
            first_names(unmatched)
        ));
    }
    if without_org > 0 {
        let which = match (vendor, &hints.customer_field) {
            (Vendor::Rt, Some(field)) => format!("the RT custom field {field:?} is empty"),
            (Vendor::Rt, None) => "no requester email".to_owned(),
            _ => "no organization".to_owned(),
        };
        coverage.warnings.push(format!(
            "{without_org} inquiries name no customer ({which}); check [desk] customer_field"
        ));
    }
    coverage
}

/// Tenants with data per configured metric query, and how many accounts
/// they reach.
#[must_use]
pub fn metrics(accounts: &[Account], metrics: &MetricsSnapshot, hints: &JoinHints) -> Coverage {
    let known: HashSet<&str> = accounts.iter().map(|a| a.tenant.as_str()).collect();
    let reached: HashSet<&str> = metrics
        .by_tenant
        .keys()
        .map(String::as_str)
        .filter(|t| known.contains(t))
        .collect();
    let label = hints.tenant_label.as_deref().unwrap_or("tenant");
    let mut coverage = Coverage {
        summary: format!(
            "{}/{} accounts' tenants have metrics",
            reached.len(),
            accounts.len()
        ),
        warnings: Vec::new(),
    };
    for q in &metrics.queries {
        if q.tenants.is_empty() {
            coverage.warnings.push(format!(
                "query {} ([metrics.queries] {}) returned 0 series: \
                 check the metric names and that it aggregates by {label:?}",
                q.signal, q.query
            ));
            continue;
        }
        if accounts.is_empty() {
            continue;
        }
        let hits = q
            .tenants
            .iter()
            .filter(|t| known.contains(t.as_str()))
            .count();
        if hits == 0 {
            let names: BTreeMap<String, usize> = q.tenants.iter().map(|t| (t.clone(), 1)).collect();
            coverage.warnings.push(format!(
                "query {} answered {} tenants, none in the accounts file: {}; \
                 the accounts file's tenant column must hold the {label:?} label's values",
                q.signal,
                q.tenants.len(),
                first_names(names)
            ));
        }
    }
    // The SLOs' good/valid queries are per-tenant queries too: one that
    // answers nothing leaves every customer's reliability factor on the
    // error-ratio stand-in, silently.
    for report in &metrics.slos {
        let answered = report.by_tenant.len();
        let query = hints
            .slo_queries
            .iter()
            .find(|(name, _)| *name == report.name)
            .map_or_else(String::new, |(_, q)| format!(" (valid = {q})"));
        if answered == 0
            && report
                .global
                .windows
                .iter()
                .all(|w| w.valid_events.is_none())
        {
            coverage.warnings.push(format!(
                "SLO {:?} ([[slo]] service {:?}){query} returned 0 series: \
                 check its good/valid queries' metric names and that they aggregate by {label:?}",
                report.name, report.service
            ));
            continue;
        }
        if accounts.is_empty() {
            continue;
        }
        let hits = report
            .by_tenant
            .keys()
            .filter(|t| known.contains(t.as_str()))
            .count();
        if hits == 0 && answered > 0 {
            let names: BTreeMap<String, usize> =
                report.by_tenant.keys().map(|t| (t.clone(), 1)).collect();
            coverage.warnings.push(format!(
                "SLO {:?} answered {answered} tenants, none in the accounts file: {}; \
                 the accounts file's tenant column must hold the {label:?} label's values",
                report.name,
                first_names(names)
            ));
        }
    }
    if accounts.is_empty() && !metrics.by_tenant.is_empty() {
        coverage
            .warnings
            .push("no accounts loaded: set [accounts] file to the CRM export".into());
    }
    coverage
}

/// Open incidents mapped to at least one customer: one it affects (tenant
/// labels, `[service_tenants]`, burns), or one whose inquiries it links
/// with confidence (an area+time link reaches the customers who wrote in,
/// which is how a service no tenant label names meets its customers). An
/// incident that hurts nobody can be right (an internal system), so
/// unmapped ones are listed with the setting that maps them but are not
/// warnings unless none maps.
#[must_use]
pub fn incidents(accounts: &[Account], incidents: &[Incident], impacts: &[Impact]) -> Coverage {
    let open: Vec<(usize, &Incident)> = incidents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.is_open())
        .collect();
    let mapped = open
        .iter()
        .filter(|(i, _)| {
            impacts.get(*i).is_some_and(|imp| {
                !imp.affected.is_empty() || imp.linked.iter().any(|l| l.confidence.counts())
            })
        })
        .count();
    let mut coverage = Coverage {
        summary: format!("{mapped}/{} open incidents mapped to customers", open.len()),
        warnings: Vec::new(),
    };
    if !accounts.is_empty() && !open.is_empty() && mapped == 0 {
        let mut services: BTreeMap<String, usize> = BTreeMap::new();
        for (_, incident) in &open {
            let name = incident.service.clone().unwrap_or_else(|| "(none)".into());
            *services.entry(name).or_default() += 1;
        }
        coverage.warnings.push(format!(
            "no open incident reaches a customer; services {}: map them in [service_tenants] \
             (service = [\"tenant\", …]) or label alerts with the tenant",
            first_names(services)
        ));
    }
    coverage
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            id: "c1".into(),
            name: "Acme".into(),
            desk_org: "acme".into(),
            tenant: "acme".into(),
            segment: crate::core::domain::Segment::Small,
            seats: 10,
            arr: 1.0,
            renewal_date: None,
            owner: "o".into(),
            tier: crate::core::domain::Tier::Low,
            nps: None,
            csat: None,
            pulse: None,
            champion_changed: None,
            key_features: None,
            extra: BTreeMap::new(),
        }
    }

    fn inquiry(org: Option<&str>) -> Inquiry {
        Inquiry {
            org: org.map(Into::into),
            ..Inquiry::bare("1")
        }
    }

    #[test]
    fn unmatched_orgs_are_named_with_the_setting_that_maps_them() {
        let inquiries = vec![
            inquiry(Some("acme.example")),
            inquiry(Some("acme.example")),
            inquiry(None),
        ];
        let accounts = vec![account()];
        let hints = JoinHints::default();
        let c = desk(
            Vendor::Rt,
            &accounts,
            &inquiries,
            &[None, None, None],
            &hints,
        );
        assert_eq!(c.summary, "0/3 inquiries matched to an account");
        assert!(c.warnings[0].contains("\"acme.example\" (2)"), "{c:?}");
        assert!(c.warnings[0].contains("customer_field"), "{c:?}");
        assert!(c.warnings[1].starts_with("1 inquiries name no customer"));
        let all = desk(Vendor::Rt, &accounts, &inquiries[..1], &[Some(0)], &hints);
        assert!(all.warnings.is_empty(), "{all:?}");
    }

    #[test]
    fn an_slo_with_no_series_is_named_with_its_query() {
        let report = |tenants: &[&str]| crate::core::slo::SloReport {
            name: "api availability".into(),
            service: "api".into(),
            target: 0.999,
            window: "30d".into(),
            global: crate::core::slo::SloState::default(),
            by_tenant: tenants
                .iter()
                .map(|t| ((*t).to_owned(), crate::core::slo::SloState::default()))
                .collect(),
        };
        let hints = JoinHints {
            slo_queries: vec![("api availability".into(), "sum(nope[{{window}}])".into())],
            ..JoinHints::default()
        };
        let empty = MetricsSnapshot {
            slos: vec![report(&[])],
            ..MetricsSnapshot::default()
        };
        let c = metrics(&[account()], &empty, &hints);
        assert_eq!(c.warnings.len(), 1, "{c:?}");
        assert!(
            c.warnings[0].contains("\"api availability\"")
                && c.warnings[0].contains("sum(nope[{{window}}])")
                && c.warnings[0].contains("0 series"),
            "{c:?}"
        );
        let strangers = MetricsSnapshot {
            slos: vec![report(&["someone-else"])],
            ..MetricsSnapshot::default()
        };
        let c = metrics(&[account()], &strangers, &hints);
        assert!(c.warnings[0].contains("none in the accounts file"), "{c:?}");
        let fine = MetricsSnapshot {
            slos: vec![report(&["acme"])],
            ..MetricsSnapshot::default()
        };
        assert!(metrics(&[account()], &fine, &hints).warnings.is_empty());
    }

    #[test]
    fn an_incident_that_links_inquiries_with_confidence_is_mapped() {
        use crate::insight::join::{Confidence, Linked};
        let incident = Incident {
            id: "P1".into(),
            title: "Exports running slow".into(),
            status: crate::core::domain::IncidentStatus::Acknowledged,
            severity: crate::core::domain::Severity::Sev3,
            service: Some("exports".into()),
            started_at: jiff::Timestamp::UNIX_EPOCH,
            responders: Vec::new(),
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            resolved_at: None,
            details: BTreeMap::new(),
        };
        let linked = |confidence| Impact {
            affected: Vec::new(),
            linked: vec![Linked {
                inquiry: "1".into(),
                reason: "area+time".into(),
                confidence,
            }],
        };
        let area = incidents(
            &[account()],
            std::slice::from_ref(&incident),
            &[linked(Confidence::AreaTime)],
        );
        assert_eq!(area.summary, "1/1 open incidents mapped to customers");
        assert!(area.warnings.is_empty());
        // A candidate by shared words alone maps nobody.
        let terms = incidents(&[account()], &[incident], &[linked(Confidence::Terms)]);
        assert_eq!(terms.summary, "0/1 open incidents mapped to customers");
        assert_eq!(terms.warnings.len(), 1);
    }

    #[test]
    fn a_query_with_no_series_is_named() {
        let snapshot = MetricsSnapshot {
            queries: vec![crate::core::domain::QueryAnswer {
                signal: "error_ratio".into(),
                query: "sum(nope)".into(),
                tenants: Vec::new(),
            }],
            ..MetricsSnapshot::default()
        };
        let c = metrics(&[account()], &snapshot, &JoinHints::default());
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("sum(nope)") && c.warnings[0].contains("0 series"));
    }
}
