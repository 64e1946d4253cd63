//! Zendesk Support API v2: the queue through the cursor-based incremental
//! ticket export, conversations loaded when an inquiry is opened.
//!
//! The export is what makes a quiet poll cost one request: after the first
//! (full) read the adapter only ever asks "what changed since this cursor".

mod problem;
mod wire;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::ACCEPT;
use serde::de::DeserializeOwned;

use self::wire::{
    Change, CommentsPageDto, CustomStatusesDto, Directory, ExportPageDto, MetricEventsDto,
    NextPage, SlaPoliciesDto, TicketDto, TicketFieldsDto, UsersDto, decoded,
};
use super::DeskSource;
use super::config::DeskConfig;
use super::http::{self, RateGate, Secret};
use super::resume::Store;
use crate::core::domain::{Comment, DeskUpdate, Inquiry, SourceError};
use crate::core::sanitize;
use crate::core::source::Vendor;

/// Zendesk allows 10 requests a minute on incremental endpoints; reading more
/// pages than that in one poll would only earn a 429. A longer backlog (the
/// first read of a large account) continues on the next poll from the cursor
/// reached.
const MAX_EXPORT_PAGES_PER_POLL: u32 = 10;

/// A ticket holds at most 5,000 comments, 100 per page.
const MAX_COMMENT_PAGES: u32 = 60;

/// `users/show_many` takes at most 100 ids.
const SHOW_MANY_LIMIT: usize = 100;

/// Tickets per export page: Zendesk's maximum, so a backlog takes the fewest
/// of the ten requests a minute.
const DEFAULT_PAGE_SIZE: u32 = 1000;

/// Sideloads on every export page: names for the ids on the page, reply
/// counts (first- or next-reply) and the live SLA state.
const EXPORT_INCLUDES: &str = "users,organizations,groups,metric_sets,slas";

pub struct Zendesk {
    client: reqwest::Client,
    base: Url,
    /// `{email}/token`, the basic-auth user name for API-token auth.
    login: String,
    token: Secret,
    /// The export cursor after the last completed poll (`None` before the
    /// first).
    cursor: Option<String>,
    /// A stream that broke off mid-way, to be continued by the next poll.
    pending: Option<Stream>,
    // Boxed: the adapter lives in an enum with the (much smaller) RT one.
    directory: Box<Directory>,
    page_size: u32,
    timeout: Option<Duration>,
    /// Whether the SLA policies were asked for (once: they rarely change).
    policies_read: bool,
    /// A pause the rate-limit headers asked for, for the poller.
    pause: Option<Duration>,
    /// Export pages read when the last poll stopped at the per-poll page
    /// limit with more to come (`DeskSource::backlog`).
    backlog: Option<u32>,
    /// Closed by a 429 until its `Retry-After` has passed; shared with the
    /// other instance of the same account ([`Zendesk::with_rate_gate`]), so
    /// the outbox does not write into a limit the poller just hit, nor the
    /// reverse.
    gate: RateGate,
    /// Where the cursor and the open set are kept across restarts.
    store: Option<Store>,
    /// Open inquiries read back from the store, sent with the next poll.
    resumed: Option<Vec<Inquiry>>,
    /// `[desk] customer_field`, `feature_field`, `segment_field` as
    /// configured (an id or a title each).
    field_specs: [Option<String>; 3],
    /// Whether the field specs were resolved through the ticket-fields API
    /// (once: fields are renamed rarely, and a restart re-reads them).
    fields_resolved: bool,
    /// Specs that matched no ticket field.
    fields_missing: Vec<String>,
    /// When the custom statuses were last read: again only when a ticket
    /// carries one not seen, at most hourly.
    statuses_read: Option<std::time::Instant>,
    /// Which role fields had a value, per open ticket, for the coverage.
    field_hits: BTreeMap<u64, [bool; 3]>,
    /// The SLA fallback: where the metric events are read from next, once
    /// an export page showed open tickets without the `slas` sideload.
    /// `Some(None)` after a refusal (agents without admin rights get 403):
    /// not asked again.
    events_from: Option<Option<i64>>,
}

/// How far back the metric events are read the first time: reply targets
/// older than this have long breached or been met.
const EVENTS_LOOKBACK_SECS: i64 = 14 * 86_400;

/// How often a configured desk field had a value on the open inquiries:
/// what the join diagnostics show when a customer or feature area comes
/// from a custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCoverage {
    /// The setting: `customer_field`, `feature_field` or `segment_field`.
    pub setting: &'static str,
    /// As configured.
    pub spec: String,
    /// The field id it resolved to; `None` when no ticket field matched (or
    /// the fields were not read yet).
    pub field_id: Option<u64>,
    /// Open inquiries with a value in the field.
    pub with_value: usize,
    /// Open inquiries seen.
    pub inquiries: usize,
}

const FIELD_SETTINGS: [&str; 3] = ["customer_field", "feature_field", "segment_field"];
/// Custom statuses are re-read for an unknown id at most this often.
const STATUSES_REREAD: Duration = Duration::from_secs(3600);

/// Progress through one export stream. When a page fails (rate limit,
/// network), what was already read is kept here rather than thrown away, and
/// the next poll resumes at `cursor` instead of starting over: otherwise a
/// large first read that keeps hitting the rate limit would never finish.
struct Stream {
    full: bool,
    cursor: Option<String>,
    changed: BTreeMap<String, Inquiry>,
    removed: BTreeSet<String>,
}

impl Stream {
    fn apply(&mut self, change: Change) {
        // A ticket can change twice within one stream; the later page wins.
        match change {
            Change::Changed(inquiry) => {
                self.removed.remove(inquiry.id.as_str());
                self.changed.insert(inquiry.id.to_string(), *inquiry);
            }
            Change::Deleted(id) => {
                self.changed.remove(&id);
                self.removed.insert(id);
            }
        }
    }
}

impl Zendesk {
    /// The time one request may take (the configured `timeout`, else the
    /// default), reads and writes alike.
    #[must_use]
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .unwrap_or(crate::sources::http::REQUEST_TIMEOUT)
    }

    /// An adapter for the desk at `config.url`, authenticating with the API
    /// token of the agent `config.email`.
    pub fn new(
        client: reqwest::Client,
        config: &DeskConfig,
        token: Secret,
    ) -> Result<Self, SourceError> {
        let base = http::base_url(&config.url, config.allow_insecure_http)
            .map_err(|e| SourceError::new(format!("zendesk: {e}")))?;
        let email = config
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                SourceError::new(
                    "zendesk: desk.email is required (API-token auth is {email}/token)",
                )
            })?;
        if token.expose().is_empty() {
            return Err(SourceError::new("zendesk: the API token is empty"));
        }
        let page_size = config.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=1000).contains(&page_size) {
            return Err(SourceError::new(
                "zendesk: desk.page_size must be between 1 and 1000",
            ));
        }
        Ok(Self {
            client,
            base,
            login: format!("{email}/token"),
            token,
            cursor: None,
            pending: None,
            directory: Box::default(),
            page_size,
            timeout: config.timeout,
            policies_read: false,
            pause: None,
            backlog: None,
            gate: RateGate::default(),
            store: None,
            resumed: None,
            field_specs: [
                config.customer_field.clone(),
                config.feature_field.clone(),
                config.segment_field.clone(),
            ]
            .map(|f| f.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty())),
            fields_resolved: false,
            fields_missing: Vec::new(),
            statuses_read: None,
            field_hits: BTreeMap::new(),
            events_from: None,
        })
    }

    /// The SLA fallback when the desk does not sideload `slas`: read the
    /// reply-time metric events since the last read and give the running
    /// clocks they describe to this poll's inquiries that have none.
    async fn sla_from_metric_events(&mut self, stream: &mut Stream, requests: &mut u32) {
        let Some(Some(from)) = self.events_from else {
            return;
        };
        // Only when this poll has clockless open inquiries to give clocks
        // to: a quiet poll stays one request.
        if !stream
            .changed
            .values()
            .any(|i| i.sla.is_none() && i.status.is_open())
        {
            return;
        }
        let mut url = http::join(&self.base, "/api/v2/incremental/ticket_metric_events");
        url.query_pairs_mut()
            .append_pair("start_time", &from.to_string());
        *requests += 1;
        match self
            .get::<MetricEventsDto>("zendesk: ticket metric events", url)
            .await
        {
            Ok(events) => {
                // Time-based export: the next read starts where this ended
                // (a repeated end_time means nothing newer yet).
                if let Some(end) = events.end_time.filter(|e| *e >= from) {
                    self.events_from = Some(Some(end));
                }
                self.directory.learn_metric_events(events);
            }
            Err(e) if matches!(e.status, Some(401 | 403 | 404)) => {
                tracing::warn!(
                    "{e}; without the slas sideload the SLA clocks follow the configured policy"
                );
                self.events_from = Some(None);
                return;
            }
            Err(e) => {
                tracing::warn!("{e}; SLA clocks from metric events wait for the next poll");
                return;
            }
        }
        for inquiry in stream.changed.values_mut().filter(|i| i.sla.is_none()) {
            if let Ok(id) = inquiry.id.parse::<u64>() {
                inquiry.sla = self.directory.event_clock(id);
            }
        }
    }

    /// How many open inquiries got a value from each configured desk field
    /// (empty when none is configured).
    #[must_use]
    pub fn field_coverage(&self) -> Vec<FieldCoverage> {
        let ids = [
            self.directory.roles.customer,
            self.directory.roles.feature,
            self.directory.roles.segment,
        ];
        self.field_specs
            .iter()
            .enumerate()
            .filter_map(|(k, spec)| {
                Some(FieldCoverage {
                    setting: FIELD_SETTINGS[k],
                    spec: spec.clone()?,
                    field_id: ids[k],
                    with_value: self.field_hits.values().filter(|h| h[k]).count(),
                    inquiries: self.field_hits.len(),
                })
            })
            .collect()
    }

    /// Resolve the configured desk fields, before the first export page:
    /// tickets read without them would carry the wrong customer until they
    /// next change. A refusal (403, 404) is logged and the poll goes on
    /// without the fields; anything else fails the poll, to be retried.
    async fn resolve_fields(&mut self, requests: &mut u32) -> Result<(), SourceError> {
        if self.fields_resolved || self.field_specs.iter().all(Option::is_none) {
            return Ok(());
        }
        let url = http::join(&self.base, "/api/v2/ticket_fields");
        *requests += 1;
        match self
            .get::<TicketFieldsDto>("zendesk: ticket fields", url)
            .await
        {
            Ok(fields) => {
                let [customer, feature, segment] = &self.field_specs;
                let missing = self.directory.learn_fields(
                    fields,
                    [customer.as_deref(), feature.as_deref(), segment.as_deref()],
                );
                for spec in &missing {
                    tracing::warn!("zendesk: no ticket field has the id or title {spec:?}");
                }
                self.fields_missing = missing;
            }
            Err(e) if matches!(e.status, Some(400..=499)) && e.status != Some(429) => {
                tracing::warn!("{e}; the desk fields are not read");
            }
            Err(e) => return Err(e),
        }
        self.fields_resolved = true;
        Ok(())
    }

    /// Read the custom statuses when a ticket carries one not known (and
    /// the last read is an hour old). Best effort: without them the ticket
    /// keeps its standard status.
    async fn learn_statuses_for(&mut self, tickets: &[TicketDto], requests: &mut u32) {
        let unknown = tickets.iter().any(|t| {
            t.custom_status_id
                .as_ref()
                .and_then(serde_json::Value::as_u64)
                .is_some_and(|id| !self.directory.statuses.contains_key(&id))
        });
        if !unknown
            || self
                .statuses_read
                .is_some_and(|at| at.elapsed() < STATUSES_REREAD)
        {
            return;
        }
        self.statuses_read = Some(std::time::Instant::now());
        let url = http::join(&self.base, "/api/v2/custom_statuses");
        *requests += 1;
        match self
            .get::<CustomStatusesDto>("zendesk: custom statuses", url)
            .await
        {
            Ok(statuses) => self.directory.learn_statuses(statuses),
            Err(e) => tracing::warn!("{e}; custom statuses show as their category"),
        }
    }

    /// What a saved or handed-over cursor must have been read with.
    fn scope(&self) -> String {
        format!("{} {}", self.base, self.login)
    }

    /// Keep the cursor and the open set in `dir` (the data dir), and resume
    /// from what a previous run left there.
    #[must_use]
    pub fn resume_in(mut self, dir: &Path) -> Self {
        let store = Store::new(dir, "zendesk", &self.base, self.scope());
        if let Some(resumed) = store.load::<String>() {
            self.cursor = Some(resumed.cursor);
            self.resumed = Some(resumed.inquiries);
        }
        self.store = Some(store);
        self
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

    async fn get<T: DeserializeOwned>(&mut self, what: &str, url: Url) -> Result<T, SourceError> {
        let mut request = self
            .client
            .get(url)
            .basic_auth(&self.login, Some(self.token.expose()))
            .header(ACCEPT, "application/json");
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let fetched = self
            .gate
            .fetch_json_explained(what, request, wire::explain_error)
            .await?;
        self.pause = http::rate_limit_pause(&fetched.headers);
        Ok(fetched.body)
    }

    fn export_url(&self, cursor: Option<&str>) -> Url {
        let mut url = http::join(&self.base, "/api/v2/incremental/tickets/cursor");
        {
            let mut query = url.query_pairs_mut();
            match cursor {
                Some(cursor) => query.append_pair("cursor", cursor),
                None => query.append_pair("start_time", "0"),
            };
            query.append_pair("per_page", &self.page_size.to_string());
            query.append_pair("include", EXPORT_INCLUDES);
        }
        url
    }

    /// Read which SLA targets count business hours, the first time a ticket
    /// carries desk SLAs. Agents without admin rights get 403: the clocks
    /// then show as calendar hours, which the log says once.
    async fn read_policies(&mut self) {
        self.policies_read = true;
        let url = http::join(&self.base, "/api/v2/slas/policies");
        match self
            .get::<SlaPoliciesDto>("zendesk: SLA policies", url)
            .await
        {
            Ok(policies) => self.directory.learn_policies(policies),
            Err(e) => tracing::warn!("{e}; desk SLA clocks are shown as calendar hours"),
        }
    }

    /// Where a human opens the ticket (not the API URL the ticket carries).
    fn agent_url(&self, id: u64) -> String {
        http::join(&self.base, &format!("/agent/tickets/{id}")).to_string()
    }

    async fn poll_export(&mut self) -> Result<DeskUpdate, SourceError> {
        let mut stream = match self.pending.take() {
            Some(stream) => stream,
            None => {
                let mut stream = Stream {
                    full: self.cursor.is_none(),
                    cursor: self.cursor.clone(),
                    changed: BTreeMap::new(),
                    removed: BTreeSet::new(),
                };
                // After a restart the first update carries the saved open
                // set, so the model gets the whole queue from one request.
                if let Some(resumed) = self.resumed.take() {
                    stream.full = true;
                    for inquiry in resumed {
                        stream.apply(Change::Changed(Box::new(inquiry)));
                    }
                }
                stream
            }
        };
        let mut requests = 0;
        self.backlog = None;
        if let Err(e) = self.resolve_fields(&mut requests).await {
            self.pending = Some(stream);
            return Err(e);
        }
        loop {
            if requests >= MAX_EXPORT_PAGES_PER_POLL {
                tracing::info!("zendesk: export backlog continues on the next poll");
                self.backlog = Some(requests);
                break;
            }
            let url = self.export_url(stream.cursor.as_deref());
            let page: ExportPageDto = match self.get("zendesk: ticket export", url).await {
                Ok(page) => page,
                Err(e) if stream.cursor.is_some() && matches!(e.status, Some(400 | 404 | 422)) => {
                    // The desk no longer honours this cursor (expired, or a
                    // stored one from another account): read everything
                    // afresh rather than fail for ever.
                    tracing::warn!("zendesk: export cursor refused ({e}); reading the desk afresh");
                    requests += 1;
                    stream = Stream {
                        full: true,
                        cursor: None,
                        changed: BTreeMap::new(),
                        removed: BTreeSet::new(),
                    };
                    continue;
                }
                Err(e) => {
                    tracing::debug!(requests = requests + 1, "zendesk: poll failed: {e}");
                    self.pending = Some(stream);
                    return Err(e);
                }
            };
            requests += 1;
            self.directory.learn_users(page.users);
            self.directory.learn_orgs(page.organizations);
            self.directory.learn_groups(page.groups);
            self.directory.learn_metrics(page.metric_sets);
            let tickets: Vec<_> = decoded(page.tickets).collect();
            if self.events_from.is_none()
                && !tickets.is_empty()
                && tickets.iter().all(|t| t.slas.is_none())
            {
                // No `slas` on a whole page: the sideload is not served
                // here (it is undocumented); fall back to metric events.
                let start = jiff::Timestamp::now().as_second() - EVENTS_LOOKBACK_SECS;
                self.events_from = Some(Some(start));
            }
            if !self.policies_read
                && tickets
                    .iter()
                    .any(|t| t.slas.as_ref().is_some_and(wire::carries_targets))
            {
                self.read_policies().await;
                requests += 1;
            }
            self.learn_statuses_for(&tickets, &mut requests).await;
            for ticket in tickets {
                let watch = self.field_specs.iter().any(Option::is_some);
                let id = ticket.id;
                let ticket_fields = watch.then(|| self.directory.field_values(&ticket));
                let Some(change) = self.directory.ticket(ticket, |id| self.agent_url(id)) else {
                    continue;
                };
                if let Some(id) = id
                    && !matches!(&change, Change::Changed(i) if i.status.is_open())
                {
                    self.directory.forget(id);
                }
                if let (Some(id), Some(v)) = (id, ticket_fields) {
                    match &change {
                        // Counted over the open set, which is what the join
                        // works on.
                        Change::Changed(i) if i.status.is_open() => {
                            let hits = [v.customer, v.feature, v.segment].map(|v| v.is_some());
                            self.field_hits.insert(id, hits);
                        }
                        _ => {
                            self.field_hits.remove(&id);
                        }
                    }
                }
                stream.apply(change);
            }
            let next = page.after_cursor.filter(|c| !c.is_empty());
            // A server that repeats the cursor or omits the end marker would
            // otherwise keep this loop going forever.
            let stalled = next.is_none() || next == stream.cursor;
            if next.is_some() {
                stream.cursor = next;
            }
            if page.end_of_stream.unwrap_or(true) || stalled {
                break;
            }
        }
        self.sla_from_metric_events(&mut stream, &mut requests)
            .await;
        let moved = self.cursor != stream.cursor;
        self.cursor = stream.cursor;
        let update = DeskUpdate {
            full: stream.full,
            changed: stream.changed.into_values().collect(),
            removed: stream.removed.into_iter().collect(),
            requests,
        };
        let update = self.remember(update, moved).await;
        tracing::debug!(
            requests,
            changed = update.changed.len(),
            removed = update.removed.len(),
            full = update.full,
            "zendesk: poll"
        );
        Ok(update)
    }

    /// Fold an update into the open set and save it with the cursor, when
    /// there is a store and anything moved.
    async fn remember(&mut self, update: DeskUpdate, moved: bool) -> DeskUpdate {
        let (Some(store), Some(cursor)) = (&self.store, &self.cursor) else {
            return update;
        };
        if moved || update.changes_anything() {
            return store.record(cursor, update).await;
        }
        update
    }

    async fn load_comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        const WHAT: &str = "zendesk: comments";
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::new(format!(
                "{WHAT}: {:?} is not a Zendesk ticket id",
                sanitize::text(id)
            )));
        }
        let first = http::join(&self.base, &format!("/api/v2/tickets/{id}/comments"));
        let mut url = first.clone();
        url.query_pairs_mut().append_pair("include", "users");
        let mut raw = Vec::new();
        let mut requests = 0;
        let mut seen_cursors = BTreeSet::new();
        loop {
            let page: CommentsPageDto = self.get(WHAT, url).await?;
            requests += 1;
            let next = page.next();
            self.directory.learn_users(page.users);
            raw.extend(decoded(page.comments));
            let Some(next) = next else { break };
            if requests == MAX_COMMENT_PAGES {
                tracing::warn!(
                    "{WHAT}: ticket {id} has more than {MAX_COMMENT_PAGES} pages; showing the first"
                );
                break;
            }
            url = match next {
                NextPage::Link(link) => self.same_origin(WHAT, &link)?,
                NextPage::After(cursor) => {
                    // A desk that keeps answering the same cursor would
                    // otherwise be asked again until the page limit.
                    if !seen_cursors.insert(cursor.clone()) {
                        tracing::warn!("{WHAT}: ticket {id}: the desk repeated a cursor; stopping");
                        break;
                    }
                    let mut url = first.clone();
                    url.query_pairs_mut()
                        .append_pair("include", "users")
                        .append_pair("page[size]", "100")
                        .append_pair("page[after]", &cursor);
                    url
                }
            };
        }

        let unknown: Vec<u64> = raw
            .iter()
            .filter_map(|c| c.author_id)
            .filter(|a| !self.directory.users.contains_key(a))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for ids in unknown.chunks(SHOW_MANY_LIMIT) {
            let mut url = http::join(&self.base, "/api/v2/users/show_many");
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            url.query_pairs_mut().append_pair("ids", &ids.join(","));
            requests += 1;
            // Author names are a nicety: without them the conversation still
            // shows (authors by id), so a failure here is logged, not fatal.
            match self.get::<UsersDto>("zendesk: comment authors", url).await {
                Ok(users) => self.directory.learn_users(users.users),
                Err(e) => tracing::warn!("{e}"),
            }
        }

        let mut comments: Vec<Comment> = raw
            .into_iter()
            .filter_map(|c| self.directory.comment(c))
            .collect();
        // Stable, so comments with the same second keep the desk's order.
        comments.sort_by_key(|c| c.at);
        tracing::debug!(
            requests,
            comments = comments.len(),
            "zendesk: comments of ticket {id}"
        );
        Ok(comments)
    }

    /// A pagination link, followed only if it stays on the configured host:
    /// the request carries the token.
    fn same_origin(&self, what: &str, link: &str) -> Result<Url, SourceError> {
        let url = Url::parse(link)
            .map_err(|_| SourceError::new(format!("{what}: unreadable next-page link")))?;
        let base = &self.base;
        if url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
        {
            Ok(url)
        } else {
            Err(SourceError::new(format!(
                "{what}: next-page link points to another host, not followed"
            )))
        }
    }
}

/// Decode one incremental-export page body and convert its tickets the way a
/// poll does (names from the page's own sideloads, links under `base`). A
/// poll adds cursors, paging and the open set; this is the per-page work,
/// public for the ingest benchmark.
pub fn read_export_page(base: &Url, body: &[u8]) -> Result<Vec<Inquiry>, SourceError> {
    let page: ExportPageDto = super::decode_body("zendesk: ticket export", body)?;
    let mut directory = Directory::default();
    directory.learn_users(page.users);
    directory.learn_orgs(page.organizations);
    directory.learn_groups(page.groups);
    directory.learn_metrics(page.metric_sets);
    let agent_url = |id: u64| http::join(base, &format!("/agent/tickets/{id}")).to_string();
    Ok(decoded(page.tickets)
        .filter_map(|t| match directory.ticket(t, agent_url) {
            Some(Change::Changed(inquiry)) => Some(*inquiry),
            _ => None,
        })
        .collect())
}

/// Decode one comments page body and convert its comments the way opening
/// an inquiry does (authors named from the page's `users` sideload), oldest
/// first. Opening adds paging and `show_many` for authors the page did not
/// name; this is the per-page work, public for the fuzz targets.
pub fn read_comments_page(body: &[u8]) -> Result<Vec<Comment>, SourceError> {
    let page: CommentsPageDto = super::decode_body("zendesk: comments", body)?;
    let mut directory = Directory::default();
    directory.learn_users(page.users);
    let mut comments: Vec<Comment> = decoded(page.comments)
        .filter_map(|c| directory.comment(c))
        .collect();
    comments.sort_by_key(|c| c.at);
    Ok(comments)
}

impl DeskSource for Zendesk {
    fn vendor(&self) -> Vendor {
        Vendor::Zendesk
    }

    async fn poll(&mut self) -> Result<DeskUpdate, SourceError> {
        self.poll_export().await
    }

    async fn comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        self.load_comments(id).await
    }

    fn hand_over(&self) -> Option<String> {
        super::hand_over(self.scope(), self.cursor.as_ref())
    }

    fn take_over(&mut self, state: &str, open: Vec<Inquiry>) -> bool {
        let Some(cursor) = super::taken_over::<String>(state, &self.scope()) else {
            return false;
        };
        // An export under way started from an older cursor: dropped, the
        // teammate's read has passed it.
        self.pending = None;
        self.cursor = Some(cursor);
        self.resumed = Some(open);
        true
    }

    fn backlog(&self) -> Option<String> {
        self.backlog.map(|pages| {
            format!(
                "the ticket export continues: {pages} pages read this poll, at most \
                 {MAX_EXPORT_PAGES_PER_POLL} per poll (Zendesk's incremental rate limit)"
            )
        })
    }

    fn pause_hint(&mut self) -> Option<Duration> {
        self.pause.take()
    }
}
