//! PagerDuty REST API v2: open (triggered and acknowledged) incidents, and
//! an incident's notes when it is opened.

mod wire;
mod write;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, Url};

use self::wire::{IncidentsPageDto, NotesDto, OncallsDto, Open, decoded};
use super::IncidentSource;
use super::config::IncidentsConfig;
use super::http::{self, Fetched, RateGate, Secret};
use crate::core::domain::{Incident, IncidentNote, SourceError};
use crate::core::sanitize;
use crate::core::source::Vendor;

/// The vendor media type selects API v2; `application/json` is added because
/// validating mocks built from the spec (Prism) answer 406 to the vendor type
/// alone.
const ACCEPT_V2: &str = "application/vnd.pagerduty+json;version=2, application/json";
/// The largest page PagerDuty serves.
const PAGE_LIMIT: u32 = 100;
/// PagerDuty answers 400 once `offset + limit` exceeds this.
const OFFSET_CEILING: u32 = 10_000;
/// Pages of on-call entries read per poll: enough for hundreds of
/// policies' levels, bounded so an odd account cannot stretch a poll.
const ONCALL_PAGES: u32 = 5;
/// Policies per `/oncalls` request, keeping the URL short.
const POLICIES_PER_REQUEST: usize = 25;
/// Wait assumed when the budget is spent but no reset time was given
/// (PagerDuty's limits are per minute).
const DEFAULT_RESET: Duration = Duration::from_secs(60);

pub struct PagerDuty {
    client: reqwest::Client,
    base: Url,
    /// `Token token=<key>`, marked sensitive so it is never printed.
    authorization: HeaderValue,
    from: Option<HeaderValue>,
    /// Per-request deadline from the config (else the client's 30 s).
    timeout: Option<std::time::Duration>,
    /// Closed when PagerDuty reported the rate-limit budget spent or
    /// answered 429: until it reopens the adapter makes no request, since
    /// each would only earn a 429. Shared with the other adapter instance
    /// of the same account ([`PagerDuty::with_rate_gate`]).
    gate: RateGate,
}

impl PagerDuty {
    /// The time one request may take (the configured `timeout`, else the
    /// default), reads and writes alike.
    #[must_use]
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .unwrap_or(crate::sources::http::REQUEST_TIMEOUT)
    }

    /// An adapter for the REST API at `config.url` (normally
    /// `https://api.pagerduty.com`) with a REST API key.
    pub fn new(
        client: reqwest::Client,
        config: &IncidentsConfig,
        token: Secret,
    ) -> Result<Self, SourceError> {
        let base = http::base_url(&config.url, config.allow_insecure_http)
            .map_err(|e| SourceError::new(format!("pagerduty: {e}")))?;
        if token.expose().is_empty() {
            return Err(SourceError::new("pagerduty: the API key is empty"));
        }
        let mut authorization = HeaderValue::from_str(&format!("Token token={}", token.expose()))
            .map_err(|_| {
            SourceError::new(
                "pagerduty: the API key contains characters not allowed in an HTTP header",
            )
        })?;
        authorization.set_sensitive(true);
        let from = match config
            .from
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            None => None,
            Some(from) => Some(HeaderValue::from_str(from).map_err(|_| {
                SourceError::new(format!(
                    "pagerduty: incidents.from {from:?} is not a valid header value"
                ))
            })?),
        };
        Ok(Self {
            client,
            base,
            authorization,
            from,
            timeout: config.timeout,
            gate: RateGate::default(),
        })
    }

    fn get(&self, url: Url) -> RequestBuilder {
        let mut request = self
            .client
            .get(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, ACCEPT_V2)
            // The spec marks Content-Type required on every request, GET
            // included, and validating mocks enforce it.
            .header(CONTENT_TYPE, "application/json");
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        if let Some(from) = &self.from {
            request = request.header("From", from.clone());
        }
        request
    }

    /// Use `gate` for this account's rate limit, shared with the other
    /// instance of the same account (the poller's reader and the outbox's
    /// writer).
    #[must_use]
    pub fn with_rate_gate(mut self, gate: RateGate) -> Self {
        self.gate = gate;
        self
    }

    /// This account's rate-limit gate, to share.
    #[must_use]
    pub fn rate_gate(&self) -> RateGate {
        self.gate.share()
    }

    /// Remember when the budget resets if this answer spent it; returns the
    /// wait in that case.
    fn note_budget(&mut self, headers: &HeaderMap) -> Option<Duration> {
        match http::header_u64(headers, "ratelimit-remaining") {
            Some(0) => {
                let wait = http::header_u64(headers, "ratelimit-reset")
                    .map_or(DEFAULT_RESET, Duration::from_secs);
                self.gate.close_for(wait);
                Some(wait)
            }
            Some(_) => {
                self.gate.reopen();
                None
            }
            None => None,
        }
    }

    fn incidents_url(&self, offset: u32) -> Url {
        let mut url = http::join(&self.base, "/incidents");
        url.query_pairs_mut()
            .append_pair("statuses[]", "triggered")
            .append_pair("statuses[]", "acknowledged")
            .append_pair("limit", &PAGE_LIMIT.to_string())
            .append_pair("offset", &offset.to_string())
            .append_pair("total", "true")
            .append_pair("include[]", "assignees")
            .append_pair("include[]", "priorities");
        url
    }

    /// The open incidents; `requests` counts the calls made, for the log.
    async fn open_incidents(&mut self, requests: &mut u32) -> Result<Vec<Open>, SourceError> {
        const WHAT: &str = "pagerduty: incidents";
        // Refused here rather than at the first page, so a poll the gate
        // holds back counts no request.
        self.gate.check(WHAT)?;
        let mut incidents = Vec::new();
        let mut seen = HashSet::new();
        let mut offset = 0;
        loop {
            if offset + PAGE_LIMIT > OFFSET_CEILING {
                tracing::warn!(
                    "{WHAT}: more than {OFFSET_CEILING} open incidents; PagerDuty serves no further pages, \
                     the rest are not shown"
                );
                break;
            }
            *requests += 1;
            let fetched: Fetched<IncidentsPageDto> = self
                .gate
                .fetch_json_explained(
                    WHAT,
                    self.get(self.incidents_url(offset)),
                    wire::explain_error,
                )
                .await?;
            let spent = self.note_budget(&fetched.headers);
            let page = fetched.body;
            let on_page = page.incidents.len();
            // Offset paging over a changing list can repeat an incident.
            let before = incidents.len();
            for open in decoded(page.incidents).filter_map(wire::incident) {
                if seen.insert(open.incident.id.clone()) {
                    incidents.push(open);
                }
            }
            // A page of nothing new means the server is not moving on (a
            // mock that always says `more`): stop rather than walk to the
            // offset ceiling.
            if !page.more.unwrap_or(false) || on_page == 0 || incidents.len() == before {
                break;
            }
            if let Some(wait) = spent {
                // A partial list would read as "those incidents are over";
                // better to report the limit and keep the last full picture.
                let total = page
                    .total
                    .map_or_else(|| "more".to_owned(), |t| t.to_string());
                return Err(SourceError::new(format!(
                    "{WHAT}: rate limit spent after {} of {total} incidents, retry after {}s",
                    incidents.len(),
                    wait.as_secs()
                ))
                .with_retry_after(wait));
            }
            offset += page.limit.unwrap_or(PAGE_LIMIT).clamp(1, PAGE_LIMIT);
        }
        Ok(incidents)
    }

    /// The escalation level of each incident: the lowest level at which one
    /// of its assignees is on call in its escalation policy (PagerDuty's
    /// incident object does not carry the level itself). Best effort: a
    /// failure leaves the levels unknown and is logged, since the incident
    /// list itself is sound.
    async fn escalation_levels(&mut self, open: &mut [Open], requests: &mut u32) {
        const WHAT: &str = "pagerduty: on-calls";
        let policies: BTreeSet<String> = open.iter().filter_map(|o| o.policy.clone()).collect();
        let users: BTreeSet<String> = open.iter().flat_map(|o| o.assignees.clone()).collect();
        if policies.is_empty() || users.is_empty() {
            return;
        }
        // (policy, user) → lowest level.
        let mut levels: BTreeMap<(String, String), u32> = BTreeMap::new();
        let policies: Vec<String> = policies.into_iter().collect();
        for chunk in policies.chunks(POLICIES_PER_REQUEST) {
            let mut offset = 0;
            for _ in 0..ONCALL_PAGES {
                if let Err(e) = self.gate.check(WHAT) {
                    tracing::info!("{e}; escalation levels left out");
                    return;
                }
                let mut url = http::join(&self.base, "/oncalls");
                {
                    let mut q = url.query_pairs_mut();
                    for policy in chunk {
                        q.append_pair("escalation_policy_ids[]", policy);
                    }
                    for user in &users {
                        q.append_pair("user_ids[]", user);
                    }
                    q.append_pair("limit", &PAGE_LIMIT.to_string())
                        .append_pair("offset", &offset.to_string());
                }
                *requests += 1;
                let fetched = match self
                    .gate
                    .fetch_json_explained::<OncallsDto, _>(WHAT, self.get(url), wire::explain_error)
                    .await
                {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!("{e}; escalation levels left out");
                        return;
                    }
                };
                self.note_budget(&fetched.headers);
                let page = fetched.body;
                let on_page = page.oncalls.len();
                for oncall in decoded(page.oncalls) {
                    let policy = oncall.escalation_policy.and_then(|p| p.id);
                    let user = oncall.user.and_then(|u| u.id);
                    if let (Some(policy), Some(user), Some(level)) =
                        (policy, user, oncall.escalation_level)
                    {
                        let entry = levels.entry((policy, user)).or_insert(level);
                        *entry = (*entry).min(level);
                    }
                }
                offset += page.limit.unwrap_or(PAGE_LIMIT).clamp(1, PAGE_LIMIT);
                if !page.more.unwrap_or(false)
                    || on_page == 0
                    || offset + PAGE_LIMIT > OFFSET_CEILING
                {
                    break;
                }
            }
        }
        for o in open {
            let Some(policy) = &o.policy else { continue };
            let level = o
                .assignees
                .iter()
                .filter_map(|u| levels.get(&(policy.clone(), u.clone())))
                .min();
            if let Some(level) = level {
                o.incident
                    .details
                    .insert("escalation level".to_owned(), level.to_string());
            }
        }
    }

    async fn incident_notes(&mut self, id: &str) -> Result<Vec<IncidentNote>, SourceError> {
        const WHAT: &str = "pagerduty: notes";
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SourceError::new(format!(
                "{WHAT}: {:?} is not a PagerDuty incident id",
                sanitize::text(id)
            )));
        }
        let url = http::join(&self.base, &format!("/incidents/{id}/notes"));
        let fetched: Fetched<NotesDto> = self
            .gate
            .fetch_json_explained(WHAT, self.get(url), wire::explain_error)
            .await?;
        self.note_budget(&fetched.headers);
        let notes = notes(fetched.body);
        tracing::debug!(
            requests = 1,
            notes = notes.len(),
            "pagerduty: notes of incident {id}"
        );
        Ok(notes)
    }
}

/// An incident's notes, oldest first.
fn notes(dto: NotesDto) -> Vec<IncidentNote> {
    let mut notes: Vec<IncidentNote> = decoded(dto.notes).filter_map(wire::note).collect();
    // The API lists notes newest first; the timeline reads oldest first.
    notes.sort_by_key(|n| n.at);
    notes
}

/// Decode one `GET /incidents` page body and convert its incidents the way
/// a poll does (escalation levels, which need `/oncalls`, aside). Public
/// for the fuzz targets.
pub fn read_incidents_page(body: &[u8]) -> Result<Vec<Incident>, SourceError> {
    let page: IncidentsPageDto = super::decode_body("pagerduty: incidents", body)?;
    Ok(decoded(page.incidents)
        .filter_map(wire::incident)
        .map(|open| open.incident)
        .collect())
}

/// Decode a `GET /incidents/{id}/notes` body into the incident's notes, as
/// opening an incident does. Public for the fuzz targets.
pub fn read_notes(body: &[u8]) -> Result<Vec<IncidentNote>, SourceError> {
    Ok(notes(super::decode_body("pagerduty: notes", body)?))
}

impl IncidentSource for PagerDuty {
    fn vendor(&self) -> Vendor {
        Vendor::Pagerduty
    }

    async fn poll(&mut self) -> Result<Vec<Incident>, SourceError> {
        let mut requests = 0;
        let result = match self.open_incidents(&mut requests).await {
            Ok(mut open) => {
                self.escalation_levels(&mut open, &mut requests).await;
                Ok(open
                    .into_iter()
                    .map(|o| o.incident)
                    .collect::<Vec<Incident>>())
            }
            Err(e) => Err(e),
        };
        match &result {
            Ok(incidents) => {
                tracing::debug!(requests, incidents = incidents.len(), "pagerduty: poll")
            }
            Err(e) => tracing::debug!(requests, "pagerduty: poll failed: {e}"),
        }
        result
    }

    async fn notes(&mut self, id: &str) -> Result<Vec<IncidentNote>, SourceError> {
        self.incident_notes(id).await
    }
}
