//! Voice of the customer: open and recent inquiries grouped by feature area
//! and segment, with the customers and ARR behind each group, so the CRE
//! can take evidence (not anecdotes) to the product team.
//!
//! Ranked by domain.md §2.6's impact: `Σ_customers ARR × severity_weight ×
//! (1 + [customer not Green])`, where a customer's severity weight is that
//! of its most severe inquiry in the group.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::core::domain::{Account, Inquiry, Priority, Segment};
use crate::insight::health::{Band, burden_weight};
use crate::insight::history::ClosedInquiry;

/// How far back "recent" reaches for closed inquiries.
pub const RECENT: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Inquiries without a feature area are grouped under this name.
pub const NO_AREA: &str = "(no feature area)";

/// One feature area × segment cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub feature_area: String,
    pub segment: Segment,
    /// Open inquiries now.
    pub open: usize,
    /// Inquiries created in the last 30 days (open or closed).
    pub recent: usize,
    /// Account indexes, largest ARR first.
    #[serde(skip)]
    pub customers: Vec<usize>,
    pub arr: f64,
    /// Customers in the group whose band is not Green.
    pub at_risk: usize,
    pub impact: f64,
}

/// What the grouping reads, borrowed from the model.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub accounts: &'a [Account],
    pub inquiries: &'a [Inquiry],
    /// The account of each open inquiry (parallel to `inquiries`).
    pub inquiry_account: &'a [Option<usize>],
    pub closed: &'a [ClosedInquiry],
    /// Desk organisation (lower-cased) → account index.
    pub org_index: &'a HashMap<String, usize>,
    /// Band per account index.
    pub bands: &'a [Band],
    pub now: Timestamp,
}

#[derive(Default)]
struct Cell {
    open: usize,
    recent: usize,
    /// Account → the highest severity weight among its inquiries here.
    customers: HashMap<usize, f64>,
}

/// Group open and recent inquiries of known customers.
#[must_use]
pub fn groups<'a>(src: &Sources<'a>) -> Vec<Group> {
    let recent_from = src.now - RECENT;
    let mut cells: HashMap<(&str, usize), Cell> = HashMap::new();
    let mut add =
        |area: Option<&'a str>, account: usize, priority: Priority, open: bool, recent| {
            let area = area.filter(|a| !a.is_empty()).unwrap_or(NO_AREA);
            let cell = cells
                .entry((area, account_segment(src, account)))
                .or_default();
            cell.open += usize::from(open);
            cell.recent += usize::from(recent);
            let w = cell.customers.entry(account).or_insert(0.0);
            *w = w.max(burden_weight(priority));
        };
    for (i, inquiry) in src.inquiries.iter().enumerate() {
        if !inquiry.status.is_open() {
            continue;
        }
        if let Some(a) = src.inquiry_account.get(i).copied().flatten() {
            add(
                inquiry.feature_area.as_deref(),
                a,
                inquiry.priority,
                true,
                inquiry.created_at >= recent_from,
            );
        }
    }
    for closed in src.closed.iter().filter(|c| c.created_at >= recent_from) {
        if let Some(&a) = closed
            .org
            .as_ref()
            .and_then(|o| src.org_index.get(&o.to_lowercase()))
        {
            add(
                closed.feature_area.as_deref(),
                a,
                closed.priority,
                false,
                true,
            );
        }
    }
    let mut groups: Vec<Group> = cells
        .into_iter()
        .map(|((area, segment), cell)| {
            let mut customers: Vec<usize> = cell.customers.keys().copied().collect();
            customers.sort_by(|a, b| {
                src.accounts[*b]
                    .arr
                    .total_cmp(&src.accounts[*a].arr)
                    .then(a.cmp(b))
            });
            let not_green = |a: usize| src.bands.get(a).is_some_and(|b| *b != Band::Green);
            let impact = cell
                .customers
                .iter()
                .map(|(&a, &w)| {
                    let arr = src.accounts[a].arr;
                    let value = if arr > 0.0 { arr } else { 1.0 };
                    value * w * if not_green(a) { 2.0 } else { 1.0 }
                })
                .sum();
            Group {
                feature_area: area.to_owned(),
                segment: SEGMENTS[segment],
                open: cell.open,
                recent: cell.recent,
                arr: customers.iter().map(|&a| src.accounts[a].arr).sum(),
                at_risk: customers.iter().filter(|&&a| not_green(a)).count(),
                customers,
                impact,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.impact
            .total_cmp(&a.impact)
            .then_with(|| a.feature_area.cmp(&b.feature_area))
            .then((a.segment as u8).cmp(&(b.segment as u8)))
    });
    groups
}

const SEGMENTS: [Segment; 3] = [Segment::Enterprise, Segment::MidMarket, Segment::Small];

fn account_segment(src: &Sources<'_>, account: usize) -> usize {
    match src.accounts[account].segment {
        Segment::Enterprise => 0,
        Segment::MidMarket => 1,
        Segment::Small => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::{InquiryStatus, Tier};

    fn account(name: &str, segment: Segment, arr: f64) -> Account {
        Account {
            id: name.into(),
            name: name.into(),
            desk_org: name.into(),
            tenant: name.into(),
            segment,
            seats: 10,
            arr,
            renewal_date: None,
            owner: "o".into(),
            tier: Tier::Low,
            nps: None,
            csat: None,
            pulse: None,
            champion_changed: None,
            key_features: None,
            extra: std::collections::BTreeMap::new(),
        }
    }

    fn inquiry(org: &str, area: &str, priority: Priority) -> Inquiry {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        Inquiry {
            history: Default::default(),
            id: format!("{org}-{area}").into(),
            subject: "s".into(),
            status: InquiryStatus::Open,
            priority,
            org: Some(org.into()),
            requester: None,
            assignee: None,
            group: None,
            tags: Vec::new(),
            feature_area: Some(area.into()),
            created_at: now,
            updated_at: now,
            sla: None,
            replied: false,
            url: None,
            kind: None,
            desk: Default::default(),
        }
    }

    #[test]
    fn groups_by_area_and_segment_ranked_by_impact() {
        let accounts = vec![
            account("a", Segment::Enterprise, 100_000.0),
            account("b", Segment::Enterprise, 50_000.0),
            account("c", Segment::Small, 5_000.0),
        ];
        let inquiries = vec![
            inquiry("a", "api", Priority::High),
            inquiry("b", "api", Priority::Normal),
            inquiry("c", "api", Priority::Urgent),
            inquiry("c", "billing", Priority::Low),
        ];
        let inquiry_account = vec![Some(0), Some(1), Some(2), Some(2)];
        let org_index = HashMap::from([
            ("a".to_owned(), 0),
            ("b".to_owned(), 1),
            ("c".to_owned(), 2),
        ]);
        let closed = vec![ClosedInquiry {
            id: "old".into(),
            org: Some("B".into()),
            priority: Priority::Urgent,
            kind: None,
            problem: true,
            feature_area: Some("api".into()),
            created_at: "2026-11-10T00:00:00Z".parse().unwrap(),
            closed_at: "2026-11-11T00:00:00Z".parse().unwrap(),
            satisfaction: None,
        }];
        let groups = groups(&Sources {
            accounts: &accounts,
            inquiries: &inquiries,
            inquiry_account: &inquiry_account,
            closed: &closed,
            org_index: &org_index,
            bands: &[Band::Green, Band::Red, Band::Green],
            now: "2026-11-21T10:00:00Z".parse().unwrap(),
        });
        assert_eq!(groups.len(), 3);
        let top = &groups[0];
        assert_eq!(
            (top.feature_area.as_str(), top.segment),
            ("api", Segment::Enterprise)
        );
        assert_eq!((top.open, top.recent), (2, 3));
        assert_eq!(top.customers, [0, 1]);
        assert_eq!(top.arr, 150_000.0);
        assert_eq!(top.at_risk, 1);
        // a: 100k × high 2; b: 50k × urgent 3 (its closed one) × not Green 2.
        assert_eq!(top.impact, 200_000.0 + 300_000.0);
        assert_eq!(groups[1].feature_area, "api");
        assert_eq!(groups[1].segment, Segment::Small);
    }
}
