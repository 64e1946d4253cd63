//! The per-customer join: inquiries, metrics and incidents meet accounts.
//!
//! Derived once whenever source data changes (never while rendering): the
//! at-risk queue with health and next action, and for every incident the
//! customers it hurts and the inquiries it brings, each with the reason the
//! link was made, so the on-call engineer can check it.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::{Account, Incident, IncidentStatus, Inquiry, MetricsSnapshot, Severity};
use crate::health::{self, Band, Health};
use crate::slo::BurnLevel;

/// Error ratio above which a tenant counts as hurt by an open incident.
pub const DEFAULT_IMPACT_ERROR_RATIO: f64 = 0.02;

/// By when an action is due. Only actions triggered by a dated event have a
/// deadline; the others have an action window (domain.md §2.6), because
/// "now + 2 days", recomputed every minute, would be a deadline that never
/// comes closer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Do it now.
    Now,
    /// A deadline anchored to the triggering event.
    At(Timestamp),
    /// An action window, in hours, from when the driver appeared.
    WithinHours(i64),
}

/// What to do next for a customer: who, by when, what, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextAction {
    pub who: String,
    pub due: Due,
    pub what: String,
    /// The driver or state that triggered it ("F4 Support burden").
    pub driver: String,
}

/// One row of the at-risk pane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerRow {
    /// Index into the accounts list.
    #[serde(skip)]
    pub account: usize,
    pub health: Health,
    pub open_inquiries: usize,
    /// Indexes of open incidents affecting the customer.
    #[serde(skip)]
    pub incidents: Vec<usize>,
    pub renewal_days: Option<i32>,
    pub attention: f64,
    pub next_action: Option<NextAction>,
}

/// A customer linked to an incident, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Affected {
    #[serde(skip)]
    pub account: usize,
    pub reason: String,
    pub error_ratio: Option<f64>,
}

/// An inquiry linked to an incident, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Linked {
    pub inquiry: String,
    pub reason: String,
}

/// The customer side of one incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Impact {
    pub affected: Vec<Affected>,
    pub linked: Vec<Linked>,
}

/// Everything derived from the sources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// In attention order.
    pub customers: Vec<CustomerRow>,
    /// Parallel to the incident list.
    pub impacts: Vec<Impact>,
    /// Desk organisation (lower-cased) → account index.
    pub org_index: HashMap<String, usize>,
    /// The account of each inquiry, parallel to the inquiry list, so
    /// filtering and sorting 100k rows needs no string look-ups.
    pub inquiry_account: Vec<Option<usize>>,
}

impl Derived {
    /// The account an inquiry belongs to, through its desk organisation.
    #[must_use]
    pub fn account_of(&self, inquiry: &Inquiry) -> Option<usize> {
        inquiry
            .org
            .as_ref()
            .and_then(|o| self.org_index.get(&o.to_lowercase()))
            .copied()
    }
}

/// Inputs of the join, borrowed from the model.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub accounts: &'a [Account],
    pub inquiries: &'a [Inquiry],
    pub metrics: &'a MetricsSnapshot,
    pub incidents: &'a [Incident],
    pub impact_error_ratio: f64,
    pub now: Timestamp,
    /// Service → tenants it serves (config `[service_tenants]`).
    pub service_tenants: &'a BTreeMap<String, Vec<String>>,
}

fn is_open(incident: &Incident) -> bool {
    !matches!(
        incident.status,
        IncidentStatus::Resolved | IncidentStatus::Suppressed
    )
}

/// Build the derived view.
#[must_use]
pub fn derive(src: &Sources<'_>) -> Derived {
    let org_index: HashMap<String, usize> = src
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.desk_org.to_lowercase(), i))
        .collect();
    let tenant_index: HashMap<&str, usize> = src
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.tenant.as_str(), i))
        .collect();

    let mut by_account: Vec<Vec<&Inquiry>> = vec![Vec::new(); src.accounts.len()];
    let mut inquiry_account = Vec::with_capacity(src.inquiries.len());
    for inquiry in src.inquiries {
        let account = inquiry
            .org
            .as_ref()
            .and_then(|o| org_index.get(&o.to_lowercase()))
            .copied();
        if let Some(a) = account {
            by_account[a].push(inquiry);
        }
        inquiry_account.push(account);
    }

    let burning = attribute_burning_tenants(src, &tenant_index);
    let burn_linked: std::collections::HashSet<usize> =
        burning.iter().flatten().map(|(a, _)| *a).collect();
    let hurt = attribute_hurt_tenants(src, &burn_linked);
    let impacts: Vec<Impact> = src
        .incidents
        .iter()
        .enumerate()
        .map(|(i, incident)| {
            impact(
                incident,
                &Links {
                    hurt: &hurt[i],
                    burning: &burning[i],
                },
                src,
                &tenant_index,
                &by_account,
            )
        })
        .collect();

    let mut incidents_of: Vec<Vec<usize>> = vec![Vec::new(); src.accounts.len()];
    for (i, imp) in impacts.iter().enumerate() {
        for a in &imp.affected {
            incidents_of[a.account].push(i);
        }
    }

    let mut customers: Vec<CustomerRow> = src
        .accounts
        .iter()
        .enumerate()
        .map(|(index, account)| {
            let inquiries = &by_account[index];
            let open: Vec<&Inquiry> = inquiries
                .iter()
                .copied()
                .filter(|i| i.status.is_open())
                .collect();
            let breached: Vec<&&Inquiry> = open
                .iter()
                .filter(|i| i.sla.is_some_and(|s| s.due <= src.now))
                .collect();
            let majors = incidents_of[index]
                .iter()
                .filter(|&&i| {
                    is_open(&src.incidents[i]) && src.incidents[i].severity <= Severity::Sev2
                })
                .count();
            // When the earliest urgent/high breach happened: the deadline of
            // the follow-up is counted from there.
            let first_urgent_breach = breached
                .iter()
                .filter(|i| i.priority <= crate::domain::Priority::High)
                .filter_map(|i| i.sla.map(|s| s.due))
                .min();
            let health = health::score(&health::Inputs {
                account,
                metrics: src.metrics.by_tenant.get(&account.tenant),
                inquiries,
                breached: breached.len(),
                urgent_breached: first_urgent_breach.is_some(),
                major_incidents: majors,
                now: src.now,
            });
            let renewal_days = health::renewal_days(account, src.now);
            let first_incident = incidents_of[index].first().map(|&i| &src.incidents[i]);
            CustomerRow {
                account: index,
                next_action: next_action(
                    account,
                    &health,
                    renewal_days,
                    first_incident,
                    first_urgent_breach,
                ),
                attention: health::attention(&health, renewal_days),
                health,
                open_inquiries: open.len(),
                incidents: incidents_of[index].clone(),
                renewal_days,
            }
        })
        .collect();
    // Attention order: in incident, then red flags, then priority score.
    customers.sort_by(|a, b| {
        b.health
            .in_incident
            .cmp(&a.health.in_incident)
            .then((!b.health.red_flags.is_empty()).cmp(&!a.health.red_flags.is_empty()))
            .then(b.attention.total_cmp(&a.attention))
            .then(a.account.cmp(&b.account))
    });
    Derived {
        customers,
        impacts,
        org_index,
        inquiry_account,
    }
}

/// Spacing of the error-ratio history the metrics poll fetches.
const HISTORY_STEP: SignedDuration = SignedDuration::from_hours(1);

/// For each incident, the accounts whose error ratio is above the impact
/// threshold and which that incident best explains.
///
/// Metrics are per tenant, not per service, so a hurt tenant could be
/// blamed on every open incident. Instead each is attributed to one: the
/// newest open incident that had begun by the time the tenant crossed the
/// threshold (estimated from the hourly history: the start of the current
/// run of samples above it). A tenant hurt for hours is not pinned on an
/// incident that began a minute ago, and a fresh spike is not pinned on an
/// old, unrelated one.
///
/// Tenants whose SLO burn already tied them to an incident on the service
/// that hurts them (`burn_linked`) are not guessed at again, and detected
/// incidents take no blame: their customers are exactly the burning ones.
fn attribute_hurt_tenants(
    src: &Sources<'_>,
    burn_linked: &std::collections::HashSet<usize>,
) -> Vec<Vec<(usize, Timestamp)>> {
    let mut hurt = vec![Vec::new(); src.incidents.len()];
    for (a, account) in src.accounts.iter().enumerate() {
        if burn_linked.contains(&a) {
            continue;
        }
        let Some(ratio) = src
            .metrics
            .by_tenant
            .get(&account.tenant)
            .and_then(|m| m.error_ratio)
        else {
            continue;
        };
        if ratio < src.impact_error_ratio {
            continue;
        }
        let run = src
            .metrics
            .error_history
            .get(&account.tenant)
            .map_or(0, |h| {
                h.iter()
                    .rev()
                    .skip(1)
                    .take_while(|r| **r >= src.impact_error_ratio)
                    .count()
            });
        let since = src.now - HISTORY_STEP * i32::try_from(run).unwrap_or(i32::MAX);
        // Allow one step of slack: the history cannot place the crossing
        // more precisely than its spacing.
        let culprit = src
            .incidents
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                is_open(i)
                    && i.status != IncidentStatus::Detected
                    && i.started_at <= since + HISTORY_STEP
            })
            .max_by_key(|(_, i)| i.started_at);
        if let Some((i, _)) = culprit {
            hurt[i].push((a, since));
        }
    }
    hurt
}

/// For each incident, the accounts burning their SLO on its service at page
/// level, with the burn as the reason.
///
/// A page-level burn means the tenant is hurt now by something on that
/// service; it is pinned on the newest open incident on the service (the
/// one most likely to explain a burn that, at page level, is at most hours
/// old), never on an incident elsewhere.
fn attribute_burning_tenants(
    src: &Sources<'_>,
    tenants: &HashMap<&str, usize>,
) -> Vec<Vec<(usize, String)>> {
    let mut out = vec![Vec::new(); src.incidents.len()];
    for report in &src.metrics.slos {
        let culprit = src
            .incidents
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                is_open(i)
                    && i.service
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(&report.service))
            })
            .max_by_key(|(_, i)| i.started_at);
        let Some((i, _)) = culprit else { continue };
        for (tenant, state) in &report.by_tenant {
            if state.level != BurnLevel::Page {
                continue;
            }
            if let Some(&a) = tenants.get(tenant.as_str()) {
                let burn = state
                    .burn("1h")
                    .map_or_else(String::new, |b| format!(" {b:.1}× over 1h"));
                out[i].push((
                    a,
                    format!(
                        "tenant {tenant} burning SLO {}{burn} at page level ({})",
                        report.name, state.reason
                    ),
                ));
            }
        }
    }
    out
}

/// The metric-driven links of one incident, worked out for all at once.
struct Links<'a> {
    hurt: &'a [(usize, Timestamp)],
    burning: &'a [(usize, String)],
}

/// The account a tenant or customer label names: the tenant first, then
/// the account id or name (a `customer` label may carry either).
fn account_named(src: &Sources<'_>, tenants: &HashMap<&str, usize>, label: &str) -> Option<usize> {
    tenants.get(label).copied().or_else(|| {
        src.accounts
            .iter()
            .position(|a| a.id.eq_ignore_ascii_case(label) || a.name.eq_ignore_ascii_case(label))
    })
}

fn impact(
    incident: &Incident,
    links: &Links<'_>,
    src: &Sources<'_>,
    tenants: &HashMap<&str, usize>,
    by_account: &[Vec<&Inquiry>],
) -> Impact {
    let mut affected: Vec<Affected> = Vec::new();
    let ratio_of = |a: usize| {
        src.metrics
            .by_tenant
            .get(&src.accounts[a].tenant)
            .and_then(|m| m.error_ratio)
    };
    for tenant in &incident.tenants {
        if let Some(a) = account_named(src, tenants, tenant)
            && !affected.iter().any(|x| x.account == a)
        {
            affected.push(Affected {
                account: a,
                reason: format!("named by the incident (tenant {tenant})"),
                error_ratio: ratio_of(a),
            });
        }
    }
    if let Some(service) = &incident.service {
        let served = src
            .service_tenants
            .iter()
            .filter(|(s, _)| s.eq_ignore_ascii_case(service))
            .flat_map(|(_, t)| t);
        for tenant in served {
            if let Some(a) = account_named(src, tenants, tenant)
                && !affected.iter().any(|x| x.account == a)
            {
                affected.push(Affected {
                    account: a,
                    reason: format!("service {service} serves tenant {tenant} (service_tenants)"),
                    error_ratio: ratio_of(a),
                });
            }
        }
    }
    for (a, reason) in links.burning {
        if !affected.iter().any(|x| x.account == *a) {
            affected.push(Affected {
                account: *a,
                reason: reason.clone(),
                error_ratio: ratio_of(*a),
            });
        }
    }
    for &(a, _since) in links.hurt {
        if affected.iter().any(|x| x.account == a) {
            continue;
        }
        let ratio = ratio_of(a);
        affected.push(Affected {
            account: a,
            reason: format!(
                "tenant {} error ratio {:.1}% ≥ {:.1}% since the incident began",
                src.accounts[a].tenant,
                ratio.unwrap_or_default() * 100.0,
                src.impact_error_ratio * 100.0
            ),
            error_ratio: ratio,
        });
    }
    affected.sort_by(|x, y| {
        y.error_ratio
            .unwrap_or(0.0)
            .total_cmp(&x.error_ratio.unwrap_or(0.0))
    });

    let mut linked = Vec::new();
    for a in &affected {
        for inquiry in by_account[a.account]
            .iter()
            .filter(|i| i.status.is_open() && i.created_at >= incident.started_at)
        {
            linked.push(Linked {
                inquiry: inquiry.id.clone(),
                reason: format!(
                    "from {} since the incident began",
                    src.accounts[a.account].name
                ),
            });
        }
    }
    let id_lower = incident.id.to_lowercase();
    for inquiry in src.inquiries.iter().filter(|i| i.status.is_open()) {
        if linked.iter().any(|l| l.inquiry == inquiry.id) {
            continue;
        }
        if inquiry.tags.iter().any(|t| t.to_lowercase() == id_lower)
            || inquiry.subject.to_lowercase().contains(&id_lower)
        {
            linked.push(Linked {
                inquiry: inquiry.id.clone(),
                reason: format!("mentions incident {}", incident.id),
            });
        }
    }
    Impact { affected, linked }
}

/// domain.md §2.6: the first matching trigger decides who, when and what.
fn next_action(
    account: &Account,
    health: &Health,
    renewal_days: Option<i32>,
    incident: Option<&Incident>,
    first_urgent_breach: Option<Timestamp>,
) -> Option<NextAction> {
    let action = |who: &str, due: Due, what: &str, driver: &str| {
        Some(NextAction {
            who: who.to_owned(),
            due,
            what: what.to_owned(),
            driver: driver.to_owned(),
        })
    };
    if let Some(incident) = incident.filter(|_| health.in_incident) {
        let due = incident.started_at + SignedDuration::from_mins(15);
        return action(
            "CRE (customer liaison)",
            Due::At(due),
            "Contact with customer-specific impact, workaround and next update time",
            "IN INCIDENT",
        );
    }
    if let Some(breach) = first_urgent_breach {
        return action(
            "Support lead",
            Due::At(breach + SignedDuration::from_hours(4)),
            "Acknowledge, expedite, set an explicit update cadence",
            "urgent inquiry past SLA",
        );
    }
    if health.red_flags.iter().any(|f| f.contains("cancellation")) {
        return action(
            &format!("AM + {}", account.owner),
            Due::WithinHours(24),
            "Save plan: joint account plan and exec touch",
            "cancellation intent",
        );
    }
    if renewal_days.is_some_and(|d| (0..=90).contains(&d)) && health.band != Band::Green {
        return action(
            &format!("AM + {}", account.owner),
            Due::Now,
            "Save plan before renewal (joint account plan, exec touch)",
            "renewal ≤90 d, not Green",
        );
    }
    let top = health
        .factors
        .first()
        .filter(|f| f.points_lost >= 2.0 && health.band != Band::Green)?;
    let driver = format!("{} {}", top.code, top.name);
    let (who, hours, what) = match top.code {
        "F6" => (
            "CRE + service owner".to_owned(),
            48,
            "Share the SLO report; run a risk review; agree a shared SLO",
        ),
        "F4" => (
            "CRE + support lead".to_owned(),
            24,
            "Review open defects, cluster by feature, escalate to product",
        ),
        "F5" => (
            "Support lead".to_owned(),
            8,
            "Acknowledge, expedite, set an update cadence",
        ),
        "F1" => (
            account.owner.clone(),
            5 * 24,
            "Check tenant errors and integrations first, then outreach",
        ),
        "F2" | "F3" => (
            account.owner.clone(),
            10 * 24,
            "Enablement workshop and an adoption plan for 1–2 key features",
        ),
        "F7" => (
            account.owner.clone(),
            48,
            "Close-the-loop call; log the feedback by feature",
        ),
        _ => (
            account.owner.clone(),
            5 * 24,
            "Identify the new champion; exec-sponsor meeting",
        ),
    };
    action(&who, Due::WithinHours(hours), what, &driver)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::{Segment, TenantMetrics, Tier};

    fn account(tenant: &str) -> Account {
        Account {
            id: tenant.into(),
            name: tenant.into(),
            desk_org: tenant.into(),
            tenant: tenant.into(),
            segment: Segment::Small,
            seats: 10,
            arr: 1.0,
            renewal_date: None,
            owner: "o".into(),
            tier: Tier::Low,
            nps: None,
            csat: None,
            pulse: None,
            champion_changed: None,
        }
    }

    fn incident(id: &str, started: Timestamp) -> Incident {
        Incident {
            id: id.into(),
            title: id.into(),
            status: IncidentStatus::Triggered,
            severity: Severity::Sev2,
            service: None,
            started_at: started,
            responders: Vec::new(),
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            details: Default::default(),
        }
    }

    #[test]
    fn a_hurt_tenant_is_blamed_on_the_incident_that_explains_its_errors() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let accounts = vec![account("fresh"), account("chronic"), account("fine")];
        let metrics = MetricsSnapshot {
            by_tenant: BTreeMap::from([
                (
                    "fresh".into(),
                    TenantMetrics {
                        error_ratio: Some(0.09),
                        ..TenantMetrics::default()
                    },
                ),
                (
                    "chronic".into(),
                    TenantMetrics {
                        error_ratio: Some(0.05),
                        ..TenantMetrics::default()
                    },
                ),
                (
                    "fine".into(),
                    TenantMetrics {
                        error_ratio: Some(0.001),
                        ..TenantMetrics::default()
                    },
                ),
            ]),
            error_history: BTreeMap::from([
                // Crossed within the last hour.
                ("fresh".into(), vec![0.001, 0.001, 0.001, 0.09]),
                // Above the threshold for the last six hours.
                (
                    "chronic".into(),
                    vec![0.001, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
                ),
            ]),
            ..MetricsSnapshot::default()
        };
        let incidents = vec![
            incident("old", now - SignedDuration::from_hours(8)),
            incident("new", now - SignedDuration::from_mins(2)),
        ];
        let derived = derive(&Sources {
            accounts: &accounts,
            inquiries: &[],
            metrics: &metrics,
            incidents: &incidents,
            impact_error_ratio: DEFAULT_IMPACT_ERROR_RATIO,
            now,
            service_tenants: &BTreeMap::new(),
        });
        let names = |i: usize| {
            derived.impacts[i]
                .affected
                .iter()
                .map(|a| accounts[a.account].tenant.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(0), ["chronic"]);
        assert_eq!(names(1), ["fresh"]);
    }

    #[test]
    fn resolved_incidents_take_no_blame_but_named_tenants_stay() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let accounts = vec![account("acme")];
        let metrics = MetricsSnapshot {
            by_tenant: BTreeMap::from([(
                "acme".into(),
                TenantMetrics {
                    error_ratio: Some(0.2),
                    ..TenantMetrics::default()
                },
            )]),
            ..MetricsSnapshot::default()
        };
        let mut resolved = incident("r", now - SignedDuration::from_mins(30));
        resolved.status = IncidentStatus::Resolved;
        resolved.tenants = vec!["acme".into()];
        let derived = derive(&Sources {
            accounts: &accounts,
            inquiries: &[],
            metrics: &metrics,
            incidents: &[resolved],
            impact_error_ratio: DEFAULT_IMPACT_ERROR_RATIO,
            now,
            service_tenants: &BTreeMap::new(),
        });
        assert_eq!(derived.impacts[0].affected.len(), 1);
        assert!(
            derived.impacts[0].affected[0]
                .reason
                .contains("named by the incident")
        );
    }
}
