//! The one place tests and benches build customers (`Account`s), their
//! accounts file, incidents and SLO configuration.
//!
//! Integration tests reach it as `common::fixtures` (tests/common.rs); the
//! criterion benches include this very file with
//! `#[path = "../tests/common/fixtures.rs"] mod fixtures;`, so it may only
//! use what every bench has: the crate itself, `jiff` and `std`.
//!
//! A builder gives the common shape; a caller that needs other values says
//! so with struct update syntax (`Account { seats: 5, ..account(…) }`), so
//! each test shows what it relies on.

// Each test binary and each bench compiles this file on its own and uses
// only some of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cre_cockpit::core::domain::{Account, Incident, IncidentStatus, Segment, Severity, Tier};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

/// The fixed clock of the fixtures: rendered ages and countdowns are
/// stable against it.
pub fn now() -> Timestamp {
    "2026-11-21T10:00:00Z"
        .parse()
        .expect("a valid RFC 3339 timestamp")
}

/// `minutes` before [`now`].
pub fn ago(minutes: i64) -> Timestamp {
    now() - SignedDuration::from_mins(minutes)
}

// ---- accounts ---------------------------------------------------------------

/// A customer with the usual defaults: its desk organisation is its name,
/// it renews on 2027-01-15, Dana Park owns it, it is high touch and gave
/// an NPS of 8; no CSAT, pulse, champion change or key features.
pub fn account(
    id: &str,
    name: &str,
    tenant: &str,
    segment: Segment,
    seats: u32,
    arr: f64,
) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
        desk_org: name.into(),
        tenant: tenant.into(),
        segment,
        seats,
        arr,
        renewal_date: Some(date(2027, 1, 15)),
        owner: "Dana Park".into(),
        tier: Tier::High,
        nps: Some(8),
        csat: None,
        pulse: None,
        champion_changed: None,
        key_features: None,
        extra: BTreeMap::new(),
    }
}

/// The three customers of the common model, matching the desk
/// organisations of `common::inquiries()` and the tenants of
/// `common::metrics()`.
pub fn accounts() -> Vec<Account> {
    vec![
        account(
            "c1",
            "Acme Corp",
            "acme",
            Segment::Enterprise,
            400,
            240_000.0,
        ),
        account(
            "c2",
            "株式会社ミドリ",
            "midori",
            Segment::MidMarket,
            120,
            60_000.0,
        ),
        account("c3", "Globex", "globex", Segment::Small, 20, 9_000.0),
    ]
}

/// Customer `i` of a generated portfolio: id `c{i}`, name `Customer {i}`,
/// desk organisation `Org {i}`, tenant `t{i}`; a mid-market customer of
/// 100 seats and 50,000 ARR with no renewal date, owned by Dana, high
/// touch, no survey data.
pub fn numbered_account(i: usize) -> Account {
    Account {
        id: format!("c{i}").into(),
        name: format!("Customer {i}"),
        desk_org: format!("Org {i}"),
        tenant: format!("t{i}"),
        segment: Segment::MidMarket,
        seats: 100,
        arr: 50_000.0,
        renewal_date: None,
        owner: "Dana".into(),
        tier: Tier::High,
        nps: None,
        csat: None,
        pulse: None,
        champion_changed: None,
        key_features: None,
        extra: BTreeMap::new(),
    }
}

/// The five customers the real test servers are seeded for
/// (tests/fixtures/services/): the tenants their metrics and alerts carry.
/// Only the accounts file's ten required columns are set; the desk
/// organisation is the name's first word.
pub fn five_customers() -> Vec<Account> {
    let customer =
        |id, name: &str, tenant, segment, seats, arr, renewal, owner: &str, tier| Account {
            desk_org: name.split(' ').next().unwrap_or(name).into(),
            renewal_date: Some(renewal),
            owner: owner.into(),
            tier,
            nps: None,
            ..account(id, name, tenant, segment, seats, arr)
        };
    vec![
        customer(
            "c1",
            "Acme Corp",
            "acme",
            Segment::Enterprise,
            400,
            240_000.0,
            date(2027, 6, 30),
            "Dana",
            Tier::High,
        ),
        customer(
            "c2",
            "Globex",
            "globex",
            Segment::MidMarket,
            120,
            60_000.0,
            date(2027, 3, 31),
            "Dana",
            Tier::High,
        ),
        customer(
            "c3",
            "Initech",
            "initech",
            Segment::MidMarket,
            80,
            40_000.0,
            date(2027, 9, 30),
            "Lee",
            Tier::Low,
        ),
        customer(
            "c4",
            "Umbrella",
            "umbrella",
            Segment::Small,
            5,
            3_000.0,
            date(2027, 1, 31),
            "Lee",
            Tier::TechTouch,
        ),
        customer(
            "c5",
            "Soylent",
            "soylent",
            Segment::Small,
            30,
            9_000.0,
            date(2027, 2, 28),
            "Lee",
            Tier::Low,
        ),
    ]
}

/// The header of [`accounts_csv`]: the accounts file's required columns.
pub const ACCOUNTS_CSV_HEADER: &str =
    "id,name,desk_org,tenant,segment,seats,arr,renewal_date,owner,tier";

/// An accounts file (`accounts.csv`) holding `accounts`: the header and
/// one line per account with the ten required columns, as a CRM export
/// writes them. NPS, CSAT, pulse, champion change, key features and extra
/// columns are not written, and no field is quoted: fixture values hold no
/// commas or quotes.
pub fn accounts_csv(accounts: &[Account]) -> String {
    let mut csv = format!("{ACCOUNTS_CSV_HEADER}\n");
    for a in accounts {
        let renewal = a.renewal_date.map(|d| d.to_string()).unwrap_or_default();
        writeln!(
            csv,
            "{},{},{},{},{},{},{},{renewal},{},{}",
            a.id, a.name, a.desk_org, a.tenant, a.segment, a.seats, a.arr, a.owner, a.tier
        )
        .expect("writing to a String cannot fail");
    }
    csv
}

// ---- incidents --------------------------------------------------------------

/// A triggered incident on `service`: no responders, tenants, link, notes
/// or details.
pub fn incident(
    id: &str,
    title: &str,
    severity: Severity,
    service: &str,
    started_at: Timestamp,
) -> Incident {
    Incident {
        id: id.into(),
        title: title.into(),
        status: IncidentStatus::Triggered,
        severity,
        service: Some(service.into()),
        started_at,
        responders: Vec::new(),
        tenants: Vec::new(),
        url: None,
        notes: Vec::new(),
        resolved_at: None,
        details: BTreeMap::new(),
    }
}

/// The common model's one incident: a Sev1 on the API, 100 minutes old,
/// with an on-call responder and a PagerDuty link.
pub fn incidents() -> Vec<Incident> {
    vec![Incident {
        responders: vec!["Sam Oncall".into()],
        url: Some("https://pd.example/incidents/PINC01".into()),
        ..incident(
            "PINC01",
            "API error rate elevated",
            Severity::Sev1,
            "api",
            ago(100),
        )
    }]
}

// ---- SLOs ---------------------------------------------------------------------

/// Two SLOs (`[[slo]]` tables) over the seeded Prometheus's
/// `http_requests_total`: the API at 99.9 % and SSO logins at 99.5 %, both
/// over 30 days. Appended to a config that has a `[metrics]` section.
pub const SLOS_TOML: &str = r#"
[[slo]]
service = "api"
target = 0.999
window = "30d"
good = 'sum by (tenant) (increase(http_requests_total{service="api",code!~"5.."}[{{window}}]))'
valid = 'sum by (tenant) (increase(http_requests_total{service="api"}[{{window}}]))'

[[slo]]
name = "sso logins"
service = "sso"
target = 0.995
window = "30d"
good = 'sum by (tenant) (increase(http_requests_total{service="sso",code!~"5.."}[{{window}}]))'
valid = 'sum by (tenant) (increase(http_requests_total{service="sso"}[{{window}}]))'
"#;
