//! The per-customer join: inquiries, metrics and incidents meet accounts.
//!
//! Derived once whenever source data changes (never while rendering): the
//! at-risk queue with health and next action, and for every incident the
//! customers it hurts and the inquiries it brings, each with the reason the
//! link was made, so the on-call engineer can check it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasherDefault;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::core::domain::{
    Account, Incident, IncidentStatus, Inquiry, MetricsSnapshot, Priority, Severity, Tier,
};
use crate::insight::health::{
    self, Attention, Band, FactorId, Health, HealthConfig, Support, Trend,
};
use crate::insight::history::{self, DeskEventKind, History, Trigger};
use crate::insight::slo::BurnLevel;

/// Error ratio above which a tenant counts as hurt by an open incident.
pub const DEFAULT_IMPACT_ERROR_RATIO: f64 = 0.02;

/// By when an action is due. Deadlines are anchored to the event that
/// triggered the action (an incident's start, an SLA breach, the moment a
/// driver first appeared), so they come closer as time passes instead of
/// moving with the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Do it now.
    Now,
    /// A deadline anchored to the triggering event.
    At(Timestamp),
    /// An action window, in hours, from when the driver appeared.
    WithinHours(i64),
    /// At the next account-planning cycle (no deadline).
    NextCycle,
}

/// What to do next for a customer: who, by when, what, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextAction {
    pub who: String,
    pub due: Due,
    pub what: String,
    /// The driver or state that triggered it ("F4 Support burden"), as shown.
    pub driver: String,
    /// The trigger's stable code ("F4", "cancellation-intent"): the key its
    /// start time is remembered under, so rewording `driver` resets nothing.
    #[serde(skip)]
    pub code: &'static str,
    /// When that trigger first appeared; the deadline counts from here.
    pub since: Timestamp,
}

/// One row of the at-risk pane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerRow {
    /// Index into the accounts list.
    #[serde(skip)]
    pub account: usize,
    pub health: Health,
    pub trend: Trend,
    pub open_inquiries: usize,
    /// Indexes of open incidents affecting the customer.
    #[serde(skip)]
    pub incidents: Vec<usize>,
    pub renewal_days: Option<i32>,
    pub attention: Attention,
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

/// An inquiry linked to an incident, why, and how sure the link is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Linked {
    pub inquiry: String,
    pub reason: String,
    pub confidence: Confidence,
}

/// How sure a link between an inquiry and an incident is, weakest first.
/// Customer updates and the incident's counts take the confident ones
/// ([`Confidence::counts`]); a `terms` link is a candidate for the CRE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Confidence {
    /// Its subject shares the incident title's distinctive terms.
    Terms,
    /// Its feature area is the incident's service's, and it arrived (or
    /// moved) after the incident began.
    #[strum(serialize = "area+time")]
    #[serde(rename = "area+time")]
    AreaTime,
    /// It names the incident (a tag or its subject).
    Mention,
    /// It comes from a customer the incident affects, since it began.
    Customer,
    /// A CRE linked it (or confirmed the link) by hand.
    Manual,
}

impl Confidence {
    /// Confident enough to receive a customer update unasked.
    #[must_use]
    pub fn counts(self) -> bool {
        self >= Self::AreaTime
    }
}

/// An inquiry linked to an incident (or unlinked from it) by hand, from
/// the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualLink {
    pub inquiry: String,
    pub incident: String,
    pub linked: bool,
    /// Who and when, for the reason shown beside the link.
    pub by: String,
    pub at: Timestamp,
}

impl ManualLink {
    /// The latest decision per inquiry and incident from the journal's
    /// writes (in any order).
    #[must_use]
    pub fn from_writes(writes: &[crate::core::writes::Write]) -> Vec<Self> {
        let mut latest: BTreeMap<(String, String), Self> = BTreeMap::new();
        for w in writes {
            for step in &w.steps {
                let crate::core::writes::SourceWrite::Link {
                    inquiry,
                    incident,
                    linked,
                } = &step.effect
                else {
                    continue;
                };
                let key = (inquiry.clone(), incident.clone());
                if latest.get(&key).is_none_or(|l| l.at <= w.created_at) {
                    latest.insert(
                        key,
                        Self {
                            inquiry: inquiry.clone(),
                            incident: incident.clone(),
                            linked: *linked,
                            by: w.text.clone(),
                            at: w.created_at,
                        },
                    );
                }
            }
        }
        latest.into_values().collect()
    }
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
    /// Voice-of-the-customer groups; filled by the model only while that
    /// view is open (it is not free with 100k inquiries).
    pub voc: Vec<crate::insight::voc::Group>,
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
    /// Service → the inquiries' feature areas it is about (config
    /// `[service_areas]`); a service absent here is its own area.
    pub service_areas: &'a BTreeMap<String, Vec<String>>,
    /// Links made or undone by hand, the latest per pair.
    pub manual_links: &'a [ManualLink],
    /// Closed inquiries, desk events, incidents seen, daily scores and
    /// action triggers.
    pub history: &'a History,
    pub health: &'a HealthConfig,
    /// The metrics on hand are older than the score accepts (domain.md
    /// §2.5: a source older than 7 days counts as no data), so the metric
    /// factors drop out rather than score on last week's numbers.
    pub metrics_stale: bool,
}

/// Build the derived view.
#[must_use]
pub fn derive(src: &Sources<'_>) -> Derived {
    let text = TextLinks::build(src.inquiries, src.incidents, src.service_areas);
    derive_with(src, &text)
}

/// [`derive`] with the text links worked out already (see [`TextLinks`]).
#[must_use]
pub fn derive_with(src: &Sources<'_>, text: &TextLinks) -> Derived {
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
    let mut orgs = OrgLookup::new(&org_index);
    for inquiry in src.inquiries {
        let account = orgs.account(inquiry.org.as_ref());
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
                text.of(i),
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
    // A resolved incident still listed (PagerDuty can answer with one that
    // resolved mid-poll) names its customers in its own detail but is not
    // counted as one of theirs.
    for (i, imp) in impacts
        .iter()
        .enumerate()
        .filter(|(i, _)| src.incidents[*i].status != IncidentStatus::Resolved)
    {
        for a in &imp.affected {
            incidents_of[a.account].push(i);
        }
    }

    let customers = customers(src, &org_index, &by_account, &incidents_of);
    Derived {
        customers,
        impacts,
        org_index,
        inquiry_account,
        voc: Vec::new(),
    }
}

/// The account of a desk organisation, looked up once per distinct name:
/// organisations are interned, so 100k inquiries of 10k customers need
/// 10k lower-cased copies at most, not one per inquiry at every re-derive.
struct OrgLookup<'a> {
    org_index: &'a HashMap<String, usize>,
    /// By the interned text's address and length: the same `Name` is the
    /// same allocation (two allocations of one text just take two entries).
    seen: HashMap<(*const u8, usize), Option<usize>, BuildHasherDefault<AddressHasher>>,
}

/// A hasher for addresses, asked 100k times a re-derive: one multiply per
/// word instead of SipHash's rounds (which guard against chosen keys; an
/// address is not chosen by anyone outside).
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        // A product's low bits see only the factors' low bits, and aligned
        // addresses end in zeros: fold the high half in.
        self.0 ^ (self.0 >> 29)
    }
}

impl<'a> OrgLookup<'a> {
    fn new(org_index: &'a HashMap<String, usize>) -> Self {
        Self {
            org_index,
            seen: HashMap::with_capacity_and_hasher(org_index.len(), BuildHasherDefault::default()),
        }
    }

    fn account(&mut self, org: Option<&crate::core::name::Name>) -> Option<usize> {
        let org = org?.as_str();
        let index = self.org_index;
        *self
            .seen
            .entry((org.as_ptr(), org.len()))
            .or_insert_with(|| index.get(&org.to_lowercase()).copied())
    }
}

/// `text.to_lowercase().contains(needle)` for a lower-case `needle`,
/// without the copy when it cannot change the answer (the common case,
/// scanned for every inquiry and incident at every re-derive).
fn contains_lowered(text: &str, needle: &str) -> bool {
    if needle.is_ascii() && !lowers_into_ascii(text) {
        // Lower-casing keeps ASCII ASCII and everything else (but the two
        // characters `lowers_into_ascii` looks for) outside it, so an ASCII
        // needle can only match inside the ASCII runs, byte-wise folded.
        return contains_ascii_folded(text.as_bytes(), needle.as_bytes());
    }
    if text.is_ascii() {
        // An ASCII text lower-cases to ASCII: a needle with other
        // characters cannot be in it.
        return false;
    }
    text.to_lowercase().contains(needle)
}

/// Whether `text` holds a non-ASCII character whose lower case is (or
/// starts with) an ASCII letter: the Kelvin sign (→ `k`) and `İ` (→ `i̇`).
fn lowers_into_ascii(text: &str) -> bool {
    !text.is_ascii() && text.contains(['\u{212a}', '\u{130}'])
}

/// `needle` (lower-case ASCII) in `hay` with ASCII letters folded: the
/// first byte found by `memchr` in either case, the rest compared there.
fn contains_ascii_folded(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(at) = memchr::memchr2(first, first.to_ascii_uppercase(), &hay[from..]) {
        let start = from + at + 1;
        if hay
            .get(start..start + rest.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
        {
            return true;
        }
        from = start;
    }
    false
}

/// `text.to_lowercase() == lower` for a lower-case `lower`, without the copy
/// when `text` is ASCII.
fn equals_lowered(text: &str, lower: &str) -> bool {
    if text.is_ascii() {
        text.len() == lower.len() && text.eq_ignore_ascii_case(lower)
    } else {
        text.to_lowercase() == lower
    }
}

/// Score every customer and put them in attention order.
fn customers(
    src: &Sources<'_>,
    org_index: &HashMap<String, usize>,
    by_account: &[Vec<&Inquiry>],
    incidents_of: &[Vec<usize>],
) -> Vec<CustomerRow> {
    let today = src.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let support = support_by_account(src, org_index, by_account);
    let median_arr = median(src.accounts.iter().map(|a| a.arr).collect());
    // The remembered majors by account, gathered once: scanning the whole
    // history per account costs accounts × history at every poll.
    let mut remembered: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in &src.history.incidents {
        remembered
            .entry(s.account.as_str())
            .or_default()
            .push(s.incident.as_str());
    }
    let mut customers: Vec<CustomerRow> = src
        .accounts
        .iter()
        .enumerate()
        .map(|(index, account)| {
            let open_majors: Vec<usize> = incidents_of[index]
                .iter()
                .copied()
                .filter(|&i| {
                    src.incidents[i].is_open() && src.incidents[i].severity <= Severity::Sev2
                })
                .collect();
            // Majors in 30 days: the ones remembered plus the open ones.
            let mut seen: Vec<&str> = remembered
                .get(account.id.as_str())
                .cloned()
                .unwrap_or_default();
            for &i in &open_majors {
                seen.push(&src.incidents[i].id);
            }
            seen.sort_unstable();
            seen.dedup();
            let metrics = (!src.metrics_stale).then_some(src.metrics);
            let health = health::score(
                &health::Inputs {
                    account,
                    metrics: metrics.and_then(|m| m.by_tenant.get(&account.tenant)),
                    active_history: metrics
                        .and_then(|m| m.active_users_history.get(&account.tenant))
                        .map_or(&[][..], Vec::as_slice),
                    support: support[index],
                    open_major_incidents: u32::try_from(open_majors.len()).unwrap_or(u32::MAX),
                    major_incidents_30d: u32::try_from(seen.len()).unwrap_or(u32::MAX),
                    today,
                },
                src.health,
            );
            let trend = health::trend_from(
                &health,
                &src.history.baseline(&account.id, today),
                src.health,
            );
            let renewal_days = health::renewal_days(account, today);
            let worst_incident = open_majors
                .iter()
                .map(|&i| &src.incidents[i])
                .min_by_key(|i| (i.severity, i.started_at));
            let next_action = next_action(&ActionInputs {
                account,
                health: &health,
                trend: &trend,
                renewal_days,
                incident: worst_incident,
                trigger: src.history.triggers.get(account.id.as_str()),
                now: src.now,
            });
            CustomerRow {
                account: index,
                attention: health::attention(
                    &health,
                    renewal_days,
                    trend.falling_fast,
                    account.arr,
                    median_arr,
                    src.health,
                ),
                next_action,
                trend,
                health,
                open_inquiries: by_account[index]
                    .iter()
                    .filter(|i| i.status.is_open())
                    .count(),
                incidents: incidents_of[index].clone(),
                renewal_days,
            }
        })
        .collect();
    // Attention order: in incident, then red flags, then priority score.
    // Sort small keys and move each row once: rows are large, and moving
    // them through a merge sort costs more than scoring them.
    let mut order: Vec<(bool, bool, f64, usize)> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.health.in_incident,
                !c.health.red_flags.is_empty(),
                c.attention.priority,
                i,
            )
        })
        .collect();
    order.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(b.2.total_cmp(&a.2))
            .then(a.3.cmp(&b.3))
    });
    permute(&mut customers, order.into_iter().map(|(.., i)| i).collect());
    customers
}

/// Reorder `rows` in place so that position `k` holds what was at
/// `from[k]` (a permutation): each row moved along its cycle by swaps,
/// without a second list of rows.
fn permute<T>(rows: &mut [T], mut from: Vec<usize>) {
    for start in 0..rows.len() {
        let mut at = start;
        // A settled position points at itself.
        while from[at] != at {
            let next = from[at];
            from[at] = at;
            if next == start {
                break;
            }
            rows.swap(at, next);
            at = next;
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

/// Each customer's support history: open inquiries, inquiries closed in the
/// last 90 days, and what happened to them in the last 30.
fn support_by_account(
    src: &Sources<'_>,
    org_index: &HashMap<String, usize>,
    by_account: &[Vec<&Inquiry>],
) -> Vec<Support> {
    let burden_from = src.now - history::KEEP_CLOSED;
    let events_from = src.now - history::KEEP_EVENTS;
    let mut orgs = OrgLookup::new(org_index);
    let mut support: Vec<Support> = by_account
        .iter()
        .map(|inquiries| {
            let mut s = Support::default();
            for i in inquiries {
                if i.created_at >= burden_from {
                    s.add_created(i.priority, health::is_problem(i.kind, &i.tags));
                }
                if let Some(clock) = i.sla.filter(|c| c.due <= src.now) {
                    s.breaches += 1;
                    if i.priority <= Priority::High {
                        s.urgent_past_sla = Some(
                            s.urgent_past_sla
                                .map_or(clock.due, |t: Timestamp| t.min(clock.due)),
                        );
                    }
                }
                s.cancellation |= i.tags.iter().any(|t| health::is_cancellation_tag(t));
                s.add_rating(i.desk.satisfaction, burden_from);
            }
            s
        })
        .collect();
    for closed in src.history.closed() {
        if let Some(a) = orgs.account(closed.org.as_ref()) {
            if closed.created_at >= burden_from {
                support[a].add_created(closed.priority, closed.problem);
            }
            support[a].add_rating(closed.satisfaction, burden_from);
        }
    }
    for event in src.history.events.iter().filter(|e| e.at >= events_from) {
        if let Some(a) = orgs.account(event.org.as_ref()) {
            match event.kind {
                DeskEventKind::Reopened => support[a].reopens += 1,
                DeskEventKind::SlaBreached => support[a].breaches += 1,
            }
        }
    }
    support
}

/// Spacing of the error-ratio history the metrics poll fetches.
const HISTORY_STEP: SignedDuration = SignedDuration::from_hours(1);

/// The newest point of the error-ratio history at `now`: the last whole
/// hour strictly before it.
fn last_whole_hour(now: Timestamp) -> Timestamp {
    let step = HISTORY_STEP.as_secs();
    Timestamp::from_second((now.as_second() - 1).div_euclid(step) * step).unwrap_or(now)
}

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
        // The history's points sit on whole hours, the newest the last whole
        // hour before now; the tenant crossed after the newest point below
        // the threshold (within this hour if even the newest is below).
        let run = src
            .metrics
            .error_history
            .get(&account.tenant)
            .map_or(0, |h| {
                h.iter()
                    .rev()
                    .take_while(|r| **r >= src.impact_error_ratio)
                    .count()
            });
        let since = match i32::try_from(run) {
            Ok(0) => src.now,
            Ok(run) => last_whole_hour(src.now) - HISTORY_STEP * (run - 1),
            Err(_) => Timestamp::MIN,
        };
        // Allow one step of slack: the history cannot place the crossing
        // more precisely than its spacing.
        let culprit = src
            .incidents
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                i.is_open()
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
                i.is_open()
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
    text: &[Linked],
    links: &Links<'_>,
    src: &Sources<'_>,
    tenants: &HashMap<&str, usize>,
    by_account: &[Vec<&Inquiry>],
) -> Impact {
    let mut affected: Vec<Affected> = Vec::new();
    // Which accounts are in `affected` already: a SEV1 can hit thousands.
    let mut taken = vec![false; src.accounts.len()];
    let ratio_of = |a: usize| {
        src.metrics
            .by_tenant
            .get(&src.accounts[a].tenant)
            .and_then(|m| m.error_ratio)
    };
    for tenant in &incident.tenants {
        if let Some(a) = account_named(src, tenants, tenant)
            && !std::mem::replace(&mut taken[a], true)
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
                && !std::mem::replace(&mut taken[a], true)
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
        if !std::mem::replace(&mut taken[*a], true) {
            affected.push(Affected {
                account: *a,
                reason: reason.clone(),
                error_ratio: ratio_of(*a),
            });
        }
    }
    for &(a, _since) in links.hurt {
        if std::mem::replace(&mut taken[a], true) {
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
    // An inquiry opened after an incident ended is not about it: a resolved
    // incident (PagerDuty can still list one that resolved mid-poll) links
    // nothing by time, only inquiries that name it.
    for a in affected.iter().filter(|_| incident.is_open()) {
        for inquiry in by_account[a.account]
            .iter()
            .filter(|i| i.status.is_open() && i.created_at >= incident.started_at)
        {
            linked.push(Linked {
                inquiry: inquiry.id.to_string(),
                reason: format!(
                    "from {} since the incident began",
                    src.accounts[a.account].name
                ),
                confidence: Confidence::Customer,
            });
        }
    }
    // Text links come from the desk and the incident alone; the ones this
    // incident's customers brought already are not listed twice. A set,
    // not a scan of `linked` per link: in a SEV1 thousands are linked by
    // customer.
    if linked.is_empty() {
        linked.extend(text.iter().cloned());
    } else {
        let by_customer: HashSet<&str> = linked.iter().map(|l| l.inquiry.as_str()).collect();
        let more: Vec<Linked> = text
            .iter()
            .filter(|l| !by_customer.contains(l.inquiry.as_str()))
            .cloned()
            .collect();
        linked.extend(more);
    }
    apply_manual_links(incident, src, &mut linked);
    Impact { affected, linked }
}

/// What a CRE decided by hand wins over what the join found: a manual link
/// adds the inquiry (or confirms a candidate), an unlink removes it.
fn apply_manual_links(incident: &Incident, src: &Sources<'_>, linked: &mut Vec<Linked>) {
    for m in src
        .manual_links
        .iter()
        .filter(|m| m.incident == incident.id.as_str())
    {
        let found = linked.iter().position(|l| l.inquiry == m.inquiry);
        match (m.linked, found) {
            (false, Some(i)) => {
                linked.remove(i);
            }
            (false, None) => {}
            (true, Some(i)) => {
                let link = &mut linked[i];
                link.reason = format!("{} ({})", m.by, link.reason);
                link.confidence = Confidence::Manual;
            }
            (true, None) => {
                // Only an inquiry the desk still shows as open.
                if src
                    .inquiries
                    .iter()
                    .any(|i| i.id == m.inquiry.as_str() && i.status.is_open())
                {
                    linked.push(Linked {
                        inquiry: m.inquiry.clone(),
                        reason: m.by.clone(),
                        confidence: Confidence::Manual,
                    });
                }
            }
        }
    }
}

/// The links each incident makes through text alone: open inquiries that
/// mention it, and (for an open one) those about its service or sharing
/// its title's terms. They depend on the desk and the incidents, not on the
/// metrics or the clock, so the model keeps them between the metrics polls
/// that re-derive everything else: scanning 100k subjects per incident at
/// every poll was most of an idle cockpit's work.
#[derive(Debug, Clone, Default)]
pub struct TextLinks {
    /// What they were built from: each incident's identity and the parts
    /// of it the links read, with the desk's generation.
    key: (u64, Vec<TextKey>, BTreeMap<String, Vec<String>>),
    /// Parallel to the incidents: mentions first, then topic links, each
    /// in desk order.
    links: Vec<Vec<Linked>>,
}

type TextKey = (String, String, Option<String>, Timestamp, bool);

impl TextLinks {
    /// Work them out for every incident.
    #[must_use]
    pub fn build(
        inquiries: &[Inquiry],
        incidents: &[Incident],
        service_areas: &BTreeMap<String, Vec<String>>,
    ) -> Self {
        let links = incidents
            .iter()
            .map(|incident| {
                let mut linked = mentions(incident, inquiries);
                link_by_topic(incident, inquiries, service_areas, &mut linked);
                linked
            })
            .collect();
        Self {
            key: (0, Vec::new(), BTreeMap::new()),
            links,
        }
    }

    /// Keep them while neither the desk (its `generation`, which the
    /// caller moves on every change of the inquiries), the incidents nor
    /// the service areas changed; build them again otherwise.
    pub fn refresh(
        &mut self,
        generation: u64,
        inquiries: &[Inquiry],
        incidents: &[Incident],
        service_areas: &BTreeMap<String, Vec<String>>,
    ) {
        let key = (
            generation,
            incidents
                .iter()
                .map(|i| {
                    (
                        i.id.to_string(),
                        i.title.clone(),
                        i.service.clone(),
                        i.started_at,
                        i.is_open(),
                    )
                })
                .collect(),
            service_areas.clone(),
        );
        if key != self.key || self.links.len() != incidents.len() {
            *self = Self::build(inquiries, incidents, service_areas);
            self.key = key;
        }
    }

    fn of(&self, incident: usize) -> &[Linked] {
        self.links.get(incident).map_or(&[], Vec::as_slice)
    }
}

/// Open inquiries that name the incident, in a tag or their subject.
fn mentions(incident: &Incident, inquiries: &[Inquiry]) -> Vec<Linked> {
    let id_lower = incident.id.to_lowercase();
    inquiries
        .iter()
        .filter(|i| i.status.is_open())
        .filter(|i| {
            i.tags.iter().any(|t| equals_lowered(t, &id_lower))
                || contains_lowered(&i.subject, &id_lower)
        })
        .map(|i| Linked {
            inquiry: i.id.to_string(),
            reason: format!("mentions incident {}", incident.id),
            confidence: Confidence::Mention,
        })
        .collect()
}

/// Words of an incident title too common to tie an inquiry to it.
const COMMON_TERMS: &[&str] = &[
    "about",
    "after",
    "again",
    "cannot",
    "customers",
    "degraded",
    "down",
    "elevated",
    "error",
    "errors",
    "fail",
    "failed",
    "failing",
    "failure",
    "from",
    "have",
    "high",
    "increased",
    "issue",
    "issues",
    "many",
    "more",
    "outage",
    "problem",
    "problems",
    "rate",
    "running",
    "service",
    "slow",
    "some",
    "that",
    "their",
    "there",
    "this",
    "very",
    "when",
    "with",
    "working",
];

/// The distinctive terms of a text: lower-cased words of four or more
/// letters that are not common incident vocabulary.
fn terms(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 4 && !COMMON_TERMS.contains(&w.as_str()))
        .collect()
}

/// `terms(text) ∩ title` in order, without building the text's own set:
/// every title term passes the length and common-word rules already, so a
/// word is shared when its lower case is a title term. ASCII words are
/// compared folded, in place (to_lowercase of an ASCII word is ASCII).
fn shared_terms<'t>(text: &str, title: &'t BTreeSet<String>) -> Vec<&'t str> {
    let mut shared: Vec<&str> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.len() < 4 && word.is_ascii() {
            continue;
        }
        let term = if word.is_ascii() {
            title
                .iter()
                .find(|t| t.len() == word.len() && t.eq_ignore_ascii_case(word))
        } else if !lowers_into_ascii(word) && title.iter().all(|t| t.is_ascii()) {
            // Its lower case keeps a non-ASCII character: no ASCII term.
            None
        } else {
            title.get(&word.to_lowercase())
        };
        if let Some(term) = term {
            shared.push(term.as_str());
        }
    }
    shared.sort_unstable();
    shared.dedup();
    shared
}

/// Links by what an inquiry is about, for incidents that name a service
/// rather than customers: its feature area is the service's (area+time),
/// or its subject shares at least two of the title's distinctive terms
/// (terms). Either way it must have arrived or moved after the incident
/// began: an export question from last week is not about today's outage.
fn link_by_topic(
    incident: &Incident,
    inquiries: &[Inquiry],
    service_areas: &BTreeMap<String, Vec<String>>,
    linked: &mut Vec<Linked>,
) {
    // A resolved incident brings no new inquiries by time.
    if !incident.is_open() {
        return;
    }
    let areas: Vec<&str> = incident
        .service
        .as_deref()
        .map_or_else(Vec::new, |service| {
            service_areas
                .iter()
                .find(|(s, _)| s.eq_ignore_ascii_case(service))
                .map_or_else(
                    || vec![service],
                    |(_, a)| a.iter().map(String::as_str).collect(),
                )
        });
    let title = terms(&incident.title);
    // The mentions found already (few: a set only when there are some).
    let already: HashSet<&str> = linked.iter().map(|l| l.inquiry.as_str()).collect();
    let mut topical = Vec::new();
    for inquiry in inquiries.iter().filter(|i| {
        i.status.is_open()
            && (i.created_at >= incident.started_at || i.updated_at >= incident.started_at)
            && (already.is_empty() || !already.contains(i.id.as_str()))
    }) {
        let area = inquiry
            .feature_area
            .as_deref()
            .filter(|a| areas.iter().any(|s| s.eq_ignore_ascii_case(a)));
        if let Some(area) = area {
            topical.push(Linked {
                inquiry: inquiry.id.to_string(),
                reason: format!(
                    "feature area {area} is what service {} serves, and it came in after the incident began",
                    incident.service.as_deref().unwrap_or_default()
                ),
                confidence: Confidence::AreaTime,
            });
            continue;
        }
        // Two shared terms need two in the title.
        if title.len() < 2 {
            continue;
        }
        let shared = shared_terms(&inquiry.subject, &title);
        if shared.len() >= 2 {
            topical.push(Linked {
                inquiry: inquiry.id.to_string(),
                reason: format!(
                    "a candidate: its subject shares \"{}\" with the incident's title",
                    shared.join(", ")
                ),
                confidence: Confidence::Terms,
            });
        }
    }
    linked.append(&mut topical);
}

/// What the next action is decided from.
struct ActionInputs<'a> {
    account: &'a Account,
    health: &'a Health,
    trend: &'a Trend,
    renewal_days: Option<i32>,
    /// The worst open SEV1/SEV2 incident affecting the customer.
    incident: Option<&'a Incident>,
    /// When the customer's last known trigger appeared.
    trigger: Option<&'a Trigger>,
    now: Timestamp,
}

/// An action window from domain.md §2.6, in business days (Monday–Friday,
/// counted in UTC until the desk's business-hours calendar is shared).
#[derive(Debug, Clone, Copy)]
enum Window {
    /// By the end (18:00) of the business day the trigger appeared on.
    SameBusinessDay,
    BusinessDays(u8),
}

/// How long a support lead has after an urgent/high inquiry breached.
const URGENT_FOLLOW_UP: SignedDuration = SignedDuration::from_hours(4);

/// The end of a business day, where the desk has no calendar of its own.
const END_OF_BUSINESS_DAY: i8 = 18;

fn is_weekend(day: jiff::civil::Date) -> bool {
    matches!(
        day.weekday(),
        jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
    )
}

/// The deadline of a window opened at `since`. A trigger at the weekend
/// starts counting on Monday morning.
#[must_use]
fn deadline(since: Timestamp, window: Window) -> Timestamp {
    let utc = jiff::tz::TimeZone::UTC;
    let zoned = since.to_zoned(utc.clone());
    let mut day = zoned.date();
    let mut time = zoned.time();
    let next = |d: jiff::civil::Date| d.tomorrow().unwrap_or(d);
    if is_weekend(day) {
        while is_weekend(day) {
            day = next(day);
        }
        time = jiff::civil::time(9, 0, 0, 0);
    }
    let end_of_day = jiff::civil::time(END_OF_BUSINESS_DAY, 0, 0, 0);
    let (day, time) = match window {
        Window::SameBusinessDay if time < end_of_day => (day, end_of_day),
        // After hours: by the end of the next business day.
        Window::SameBusinessDay => {
            let mut d = next(day);
            while is_weekend(d) {
                d = next(d);
            }
            (d, end_of_day)
        }
        Window::BusinessDays(n) => {
            let mut d = day;
            for _ in 0..n {
                d = next(d);
                while is_weekend(d) {
                    d = next(d);
                }
            }
            (d, time)
        }
    };
    day.to_datetime(time)
        .to_zoned(utc)
        .map_or(since, |z| z.timestamp())
}

/// domain.md §2.6: the first matching trigger decides who, when and what.
fn next_action(x: &ActionInputs<'_>) -> Option<NextAction> {
    let (account, health) = (x.account, x.health);
    let owner = &account.owner;
    let action = |code: &'static str,
                  who: String,
                  driver: String,
                  what: &str,
                  due: Due,
                  since: Timestamp| NextAction {
        who,
        due,
        what: what.to_owned(),
        driver,
        code,
        since,
    };
    // When a driver-based trigger appeared: kept while the driver stays.
    let since_for = |code: &str| {
        x.trigger
            .filter(|t| t.code == code)
            .map_or(x.now, |t| t.since)
    };
    let windowed = |code: &'static str, who: String, driver: String, what: &str, window: Window| {
        let since = since_for(code);
        action(
            code,
            who,
            driver,
            what,
            Due::At(deadline(since, window)),
            since,
        )
    };
    if let Some(incident) = x.incident.filter(|i| i.status == IncidentStatus::Detected) {
        // A page-level burn on their SLI and nobody has declared an
        // incident: domain.md §2.6 — page the on-call SRE now, confirm the
        // impact, and tell the customer before they file a ticket.
        return Some(action(
            "burn-page",
            "CRE → on-call SRE".into(),
            "burn-rate page, no declared incident".into(),
            "Confirm impact; declare an incident if customer-visible; proactive notice before they file a ticket",
            Due::Now,
            incident.started_at,
        ));
    }
    if let Some(incident) = x.incident.filter(|_| health.in_incident) {
        // High-touch customers get an individual notice (SEV1 ≤15 min,
        // SEV2 ≤30 min); the rest are covered by the status-page notice
        // (SEV1 ≤5 min, SEV2 ≤15 min). domain.md §5.3.
        let sev1 = incident.severity == Severity::Sev1;
        let (minutes, what) = if account.tier == Tier::High {
            (
                if sev1 { 15 } else { 30 },
                "Individual notice: their impact (features, data), workaround, next update time; no ETA promises",
            )
        } else {
            (
                if sev1 { 5 } else { 15 },
                "Check the status-page notice covers their impact; then updates at the incident cadence",
            )
        };
        return Some(action(
            "in-incident",
            "CRE (customer liaison)".into(),
            "IN INCIDENT".into(),
            what,
            Due::At(incident.started_at + SignedDuration::from_mins(minutes)),
            incident.started_at,
        ));
    }
    for flag in &health.red_flags {
        match *flag {
            health::RedFlag::UrgentPastSla { since } => {
                // Urgent work runs on calendar hours under its SLA policy:
                // a breach on Saturday cannot wait for Monday.
                return Some(action(
                    "urgent-past-sla",
                    "Support lead".into(),
                    "urgent inquiry past SLA".into(),
                    "Acknowledge, expedite, set an explicit update cadence",
                    Due::At(since + URGENT_FOLLOW_UP),
                    since,
                ));
            }
            health::RedFlag::BudgetExhausted { .. } => {
                return Some(windowed(
                    "budget-exhausted",
                    "CRE + service owner".into(),
                    "error budget exhausted".into(),
                    "Share their SLO report; risk review (ETTD/ETTR/ETTF); agree a shared SLO; error-budget policy T2–T3",
                    Window::BusinessDays(2),
                ));
            }
            health::RedFlag::CancellationIntent => {
                let code = "cancellation-intent";
                let driver = "cancellation intent".to_owned();
                let since = since_for(code);
                return Some(action(
                    code,
                    format!("AM + {owner}"),
                    driver,
                    "Save plan: joint account plan and exec touch",
                    Due::Now,
                    since,
                ));
            }
            health::RedFlag::InIncident { .. } => {}
        }
    }
    if x.renewal_days.is_some_and(|d| (0..=90).contains(&d)) && health.band != Band::Green {
        let code = "renewal-at-risk";
        let driver = "renewal ≤90 d, not Green".to_owned();
        let since = since_for(code);
        return Some(action(
            code,
            format!("AM + {owner}"),
            driver,
            "Save plan before renewal (joint account plan, exec touch)",
            Due::Now,
            since,
        ));
    }
    if health.band == Band::Green {
        // A healthy customer on the way up, using what they bought.
        let busy = health
            .factor(FactorId::SeatUtilisation)
            .is_some_and(|f| f.sub_score >= 100.0);
        if busy && x.trend.arrow == Some(health::Arrow::Up) {
            let code = "expansion";
            let driver = "Green, ↑, utilisation ≥80%".to_owned();
            let since = since_for(code);
            return Some(action(
                code,
                "AM".into(),
                driver,
                "Expansion candidate: raise it in the next account plan",
                Due::NextCycle,
                since,
            ));
        }
        return None;
    }
    let top = health.top_driver().filter(|f| f.points_lost >= 2.0)?;
    let driver = format!("{} {}", top.code(), top.name());
    let (who, what, window) = match top.id {
        FactorId::Reliability => (
            "CRE + service owner".to_owned(),
            "Share their SLO report; run a risk review; agree a shared SLO and escalation path",
            Window::BusinessDays(2),
        ),
        FactorId::SupportBurden => (
            "CRE + support lead".to_owned(),
            "Review open defects, cluster by feature, escalate to product with ARR and customers affected",
            Window::BusinessDays(1),
        ),
        FactorId::SupportExperience => (
            "Support lead".to_owned(),
            "Acknowledge, expedite, set an update cadence; close the loop on bad CSAT",
            Window::SameBusinessDay,
        ),
        FactorId::UsageTrend => (
            owner.clone(),
            "Check tenant errors and integrations first, then outreach and re-onboarding",
            Window::BusinessDays(5),
        ),
        FactorId::SeatUtilisation | FactorId::FeatureAdoption => (
            owner.clone(),
            match account.tier {
                Tier::TechTouch => "Send adoption content or a webinar invite for 1–2 key features",
                Tier::High => {
                    "Enablement workshop and an adoption plan for 1–2 key features (or at the quarterly review)"
                }
                Tier::Low => "Enablement session and an adoption plan for 1–2 key features",
            },
            Window::BusinessDays(10),
        ),
        FactorId::Voice => (
            owner.clone(),
            "Close-the-loop call; log the feedback by feature and company size",
            Window::BusinessDays(2),
        ),
        FactorId::Relationship => (
            format!("AM + {owner}"),
            "Identify the new champion; exec-sponsor meeting; re-onboard admins",
            Window::BusinessDays(5),
        ),
    };
    Some(windowed(top.code(), who, driver, what, window))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::core::domain::{Segment, TenantMetrics};

    #[test]
    fn permuting_in_place_gathers_every_order_of_six() {
        // Every permutation of six, built by Heap's algorithm.
        fn all(n: usize) -> Vec<Vec<usize>> {
            fn heap(k: usize, a: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
                if k <= 1 {
                    out.push(a.clone());
                    return;
                }
                for i in 0..k {
                    heap(k - 1, a, out);
                    let j = if k.is_multiple_of(2) { i } else { 0 };
                    a.swap(j, k - 1);
                }
            }
            let mut out = Vec::new();
            heap(n, &mut (0..n).collect(), &mut out);
            out
        }
        let orders = all(6);
        let distinct: std::collections::HashSet<&Vec<usize>> = orders.iter().collect();
        assert_eq!(distinct.len(), 720);
        for from in orders {
            let rows: Vec<String> = (0..6).map(|i| format!("row {i}")).collect();
            let gathered: Vec<String> = from.iter().map(|&i| rows[i].clone()).collect();
            let mut permuted = rows;
            permute(&mut permuted, from.clone());
            assert_eq!(permuted, gathered, "{from:?}");
        }
    }

    /// The copy-free comparisons say exactly what the lower-casing ones
    /// did, for ASCII and for text whose lower case changes length or
    /// turns a non-ASCII letter into an ASCII one (`K` Kelvin → `k`,
    /// `İ` → `i̇`).
    mod lowered {
        use proptest::prelude::*;

        use crate::insight::join::{contains_lowered, equals_lowered, shared_terms, terms};

        fn text() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    Just("inc-42".to_owned()),
                    Just("INC-42".to_owned()),
                    Just("Checkout".to_owned()),
                    Just("payments".to_owned()),
                    Just("PAYMENTS".to_owned()),
                    Just("timeout".to_owned()),
                    Just("\u{212a}ey".to_owned()),
                    Just("\u{130}stanbul".to_owned()),
                    Just("Straße".to_owned()),
                    Just("ログイン".to_owned()),
                    Just("api".to_owned()),
                    "[a-zA-Z0-9]{0,6}",
                    "\\PC{0,4}",
                ],
                0..6,
            )
            .prop_map(|words| words.join(" "))
        }

        proptest! {
            #[test]
            fn contains_and_equals_match_to_lowercase(text in text(), needle in text()) {
                let lower = needle.to_lowercase();
                prop_assert_eq!(
                    contains_lowered(&text, &lower),
                    text.to_lowercase().contains(&lower)
                );
                prop_assert_eq!(equals_lowered(&text, &lower), text.to_lowercase() == lower);
                let same = text.to_lowercase();
                prop_assert!(equals_lowered(&text, &same));
                prop_assert!(contains_lowered(&text, &same));
            }

            #[test]
            fn shared_terms_match_the_set_intersection(subject in text(), title in text()) {
                let title = terms(&title);
                let expected: Vec<String> =
                    terms(&subject).intersection(&title).cloned().collect();
                prop_assert_eq!(shared_terms(&subject, &title), expected);
            }
        }
    }

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
            key_features: None,
            extra: std::collections::BTreeMap::new(),
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
            resolved_at: None,
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
            error_history: Arc::new(BTreeMap::from([
                // Above since the last whole hour (09:00), below before.
                ("fresh".into(), vec![0.001, 0.001, 0.001, 0.09]),
                // Above the threshold since 03:00 (seven whole hours).
                (
                    "chronic".into(),
                    vec![0.001, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
                ),
            ])),
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
            service_areas: &BTreeMap::new(),
            manual_links: &[],
            history: &History::default(),
            health: &HealthConfig::default(),
            metrics_stale: false,
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
    fn a_resolved_incident_links_no_inquiry_by_time_and_is_not_counted() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let accounts = vec![account("acme")];
        let inquiry = Inquiry {
            id: "7".into(),
            subject: "errors".into(),
            status: crate::core::domain::InquiryStatus::Open,
            priority: Priority::High,
            org: Some("acme".into()),
            requester: None,
            assignee: None,
            group: None,
            tags: Vec::new(),
            feature_area: None,
            created_at: now - SignedDuration::from_mins(10),
            updated_at: now,
            sla: None,
            replied: false,
            url: None,
            kind: None,
            history: Default::default(),
            desk: Default::default(),
        };
        let derive_with = |status: IncidentStatus| {
            let mut incident = incident("P1", now - SignedDuration::from_mins(30));
            incident.status = status;
            incident.tenants = vec!["acme".into()];
            derive(&Sources {
                accounts: &accounts,
                inquiries: std::slice::from_ref(&inquiry),
                metrics: &MetricsSnapshot::default(),
                incidents: &[incident],
                impact_error_ratio: DEFAULT_IMPACT_ERROR_RATIO,
                now,
                service_tenants: &BTreeMap::new(),
                service_areas: &BTreeMap::new(),
                manual_links: &[],
                history: &History::default(),
                health: &HealthConfig::default(),
                metrics_stale: false,
            })
        };
        let open = derive_with(IncidentStatus::Triggered);
        assert_eq!(
            open.impacts[0].linked.len(),
            1,
            "control: an open one links"
        );
        assert_eq!(open.customers[0].incidents, [0]);
        let resolved = derive_with(IncidentStatus::Resolved);
        assert!(resolved.impacts[0].linked.is_empty());
        assert!(resolved.customers[0].incidents.is_empty());
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
            service_areas: &BTreeMap::new(),
            manual_links: &[],
            history: &History::default(),
            health: &HealthConfig::default(),
            metrics_stale: false,
        });
        assert_eq!(derived.impacts[0].affected.len(), 1);
        assert!(
            derived.impacts[0].affected[0]
                .reason
                .contains("named by the incident")
        );
    }

    fn ask(id: &str, subject: &str, area: &str, created: Timestamp) -> Inquiry {
        Inquiry {
            subject: subject.into(),
            feature_area: Some(area.into()),
            created_at: created,
            updated_at: created,
            ..Inquiry::bare(id)
        }
    }

    #[test]
    fn a_service_incident_links_inquiries_by_area_and_time_or_shared_terms() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let began = now - SignedDuration::from_hours(1);
        let mut slow = incident("PEXP", began);
        slow.title = "Exports running slow for large workspaces".into();
        slow.service = Some("exports".into());
        slow.severity = Severity::Sev3;
        let after = began + SignedDuration::from_mins(10);
        let before = began - SignedDuration::from_hours(20);
        let inquiries = vec![
            ask("1", "CSV exports: intermittent timeouts", "exports", after),
            ask("2", "How do I export to Excel?", "exports", before),
            ask(
                "3",
                "Large workspaces: exports hang at 90%",
                "billing",
                after,
            ),
            ask("4", "Invoice missing for October", "billing", after),
            ask(
                "5",
                "Exports of large workspaces never finish",
                "billing",
                before,
            ),
            ask("6", "Report scheduling question", "reports", after),
        ];
        let derive_with = |areas: &BTreeMap<String, Vec<String>>| {
            derive(&Sources {
                accounts: &[],
                inquiries: &inquiries,
                metrics: &MetricsSnapshot::default(),
                incidents: std::slice::from_ref(&slow),
                impact_error_ratio: DEFAULT_IMPACT_ERROR_RATIO,
                now,
                service_tenants: &BTreeMap::new(),
                service_areas: areas,
                manual_links: &[],
                history: &History::default(),
                health: &HealthConfig::default(),
                metrics_stale: false,
            })
        };
        let links = |d: &Derived| -> Vec<(String, Confidence)> {
            d.impacts[0]
                .linked
                .iter()
                .map(|l| (l.inquiry.clone(), l.confidence))
                .collect()
        };
        let derived = derive_with(&BTreeMap::new());
        assert_eq!(
            links(&derived),
            [
                ("1".to_owned(), Confidence::AreaTime),
                ("3".to_owned(), Confidence::Terms),
            ],
            "the old export question (2) and the old one sharing terms (5) stay out"
        );
        let terms = &derived.impacts[0].linked[1];
        assert!(!terms.confidence.counts(), "a candidate, not a recipient");
        assert!(
            terms.reason.contains("large, workspaces"),
            "{}",
            terms.reason
        );
        // A service mapped to its areas links by those instead.
        let mapped = BTreeMap::from([(
            "Exports".to_owned(),
            vec!["exports".to_owned(), "reports".to_owned()],
        )]);
        let linked = links(&derive_with(&mapped));
        assert!(
            linked.contains(&("6".to_owned(), Confidence::AreaTime)),
            "{linked:?}"
        );
    }

    #[test]
    fn text_links_are_kept_until_the_desk_or_an_incident_changes() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let mut outage = incident("PX1", now - SignedDuration::from_hours(1));
        outage.service = Some("exports".into());
        let later = now - SignedDuration::from_mins(5);
        let mut inquiries = vec![ask("1", "Is PX1 fixed yet?", "billing", later)];
        let areas = BTreeMap::new();
        let ids = |t: &TextLinks| -> Vec<(String, Confidence)> {
            t.of(0)
                .iter()
                .map(|l| (l.inquiry.clone(), l.confidence))
                .collect()
        };
        let mut text = TextLinks::default();
        text.refresh(1, &inquiries, std::slice::from_ref(&outage), &areas);
        assert_eq!(ids(&text), [("1".to_owned(), Confidence::Mention)]);
        // The same generation: the desk is taken to be as it was (a
        // metrics poll re-derives with the links it has).
        inquiries.push(ask("2", "Exports stuck", "exports", later));
        text.refresh(1, &inquiries, std::slice::from_ref(&outage), &areas);
        assert_eq!(ids(&text).len(), 1, "kept, not rescanned");
        // The desk moved on: the new inquiry is linked by its area.
        text.refresh(2, &inquiries, std::slice::from_ref(&outage), &areas);
        assert_eq!(
            ids(&text),
            [
                ("1".to_owned(), Confidence::Mention),
                ("2".to_owned(), Confidence::AreaTime)
            ]
        );
        // The incident resolved: it links by mention only.
        outage.status = IncidentStatus::Resolved;
        text.refresh(2, &inquiries, std::slice::from_ref(&outage), &areas);
        assert_eq!(ids(&text), [("1".to_owned(), Confidence::Mention)]);
        // Another incident: its own list, empty here.
        let other = incident("PY2", now);
        text.refresh(2, &inquiries, &[outage, other], &areas);
        assert_eq!(text.links.len(), 2);
        assert!(text.of(1).is_empty());
    }

    #[test]
    fn business_day_deadlines_skip_weekends_and_stay_anchored() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        // Friday 15:00: two business days is Tuesday 15:00.
        let friday = at("2026-11-20T15:00:00Z");
        assert_eq!(
            deadline(friday, Window::BusinessDays(2)),
            at("2026-11-24T15:00:00Z")
        );
        // Same business day: Friday 18:00; after hours, Monday 18:00.
        assert_eq!(
            deadline(friday, Window::SameBusinessDay),
            at("2026-11-20T18:00:00Z")
        );
        assert_eq!(
            deadline(at("2026-11-20T19:30:00Z"), Window::SameBusinessDay),
            at("2026-11-23T18:00:00Z")
        );
        // A Saturday trigger counts from Monday morning.
        assert_eq!(
            deadline(at("2026-11-21T10:00:00Z"), Window::BusinessDays(1)),
            at("2026-11-24T09:00:00Z")
        );
    }

    fn scored(
        account: &Account,
        metrics: &TenantMetrics,
        triggers: &History,
        now: Timestamp,
    ) -> Derived {
        let metrics = MetricsSnapshot {
            by_tenant: BTreeMap::from([(account.tenant.clone(), metrics.clone())]),
            ..MetricsSnapshot::default()
        };
        derive(&Sources {
            accounts: std::slice::from_ref(account),
            inquiries: &[],
            metrics: &metrics,
            incidents: &[],
            impact_error_ratio: DEFAULT_IMPACT_ERROR_RATIO,
            now,
            history: triggers,
            health: &HealthConfig::default(),
            metrics_stale: false,
            service_tenants: &BTreeMap::new(),
            service_areas: &BTreeMap::new(),
            manual_links: &[],
        })
    }

    #[test]
    fn the_dominant_driver_decides_who_what_and_by_when() {
        let now: Timestamp = "2026-11-18T10:00:00Z".parse().unwrap(); // Wednesday
        let mut a = account("acme");
        a.seats = 100;
        a.owner = "Dana Park".into();
        a.tier = Tier::TechTouch;
        // 20 of 100 seats active: F2 is the top driver (and H is Yellow).
        let m = TenantMetrics {
            active_users: Some(20.0),
            ..TenantMetrics::default()
        };
        let d = scored(&a, &m, &History::default(), now);
        let action = d.customers[0].next_action.clone().unwrap();
        assert_eq!(action.driver, "F2 Seat utilisation");
        assert_eq!(action.who, "Dana Park");
        assert!(
            action.what.contains("webinar"),
            "tech-touch: {}",
            action.what
        );
        // Ten business days from Wednesday 10:00 is Wednesday two weeks on.
        assert_eq!(action.due, Due::At("2026-12-02T10:00:00Z".parse().unwrap()));
        assert_eq!(action.since, now);

        // An hour later, with the trigger remembered, the deadline holds.
        let mut history = History::default();
        history.triggers.insert(
            "acme".into(),
            Trigger {
                code: action.code.to_owned(),
                since: action.since,
            },
        );
        let later = now + SignedDuration::from_hours(1);
        let again = scored(&a, &m, &history, later).customers[0]
            .next_action
            .clone()
            .unwrap();
        assert_eq!(again.due, action.due);
        // A different driver starts its own clock.
        history.triggers.get_mut("acme").unwrap().code = "F4".into();
        let other = scored(&a, &m, &history, later).customers[0]
            .next_action
            .clone()
            .unwrap();
        assert_eq!(other.since, later);
    }

    #[test]
    fn renewal_soon_and_not_green_asks_for_a_save_plan_now() {
        let now: Timestamp = "2026-11-18T10:00:00Z".parse().unwrap();
        let mut a = account("acme");
        a.seats = 100;
        a.renewal_date = Some(jiff::civil::date(2027, 1, 10));
        let m = TenantMetrics {
            active_users: Some(20.0),
            ..TenantMetrics::default()
        };
        let d = scored(&a, &m, &History::default(), now);
        let row = &d.customers[0];
        assert_ne!(row.health.band, Band::Green);
        let action = row.next_action.as_ref().unwrap();
        assert_eq!(action.due, Due::Now);
        assert_eq!(action.who, "AM + o");
        assert_eq!(row.attention.m_renewal, 1.5);
    }
}
