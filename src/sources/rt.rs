//! Request Tracker 5 (REST2): the open tickets of a queue as inquiries,
//! polled incrementally by `LastUpdated`, conversations from the ticket
//! history.
//!
//! - **First read** (and an hourly resync, which also notices tickets moved
//!   out of the queue): every active ticket of the scope, paged by id
//!   (`id > last`) so a ticket closing mid-read cannot shift another out of
//!   the pages.
//! - **Polls**: the tickets of the scope updated since the newest
//!   `LastUpdated` seen. TicketSQL reads absolute dates in the RT user's time
//!   zone, which the API does not tell; a relative date (`'-N seconds'`) is
//!   zone-free, and RT's own clock (the `Date` header) sets N, with a margin.
//!   Tickets the margin returns again unchanged are not reported, so a quiet
//!   poll is one request and an empty update.
//! - **Conversations**: history + attachments, cached per ticket and
//!   revalidated with the ticket's `ETag` (`If-None-Match`; RT 5.0.3 crashes
//!   on `If-Modified-Since`, so it is never sent).

mod wire;
mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::header::{ACCEPT, AUTHORIZATION, DATE, ETAG, IF_NONE_MATCH};
use reqwest::{RequestBuilder, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use self::wire::{
    Answer, AttachmentDto, Change, CollectionDto, Reading, TicketDto, TransactionDto,
};
use super::DeskSource;
use super::config::DeskConfig;
use super::http::{self, Secret};
use super::resume::Store;
use crate::core::domain::{Comment, DeskUpdate, Inquiry, SourceError};
use crate::core::sanitize;
use crate::core::source::Vendor;
use crate::sources::lenient::decoded;

/// RT's maximum page size.
const MAX_PAGE_SIZE: u32 = 100;

/// A full re-read this often catches what incremental polls cannot see:
/// tickets moved out of the queue or out of the extra query.
const RESYNC_EVERY: SignedDuration = SignedDuration::from_hours(1);

/// Overlap of each incremental window, for clock steps and the one-second
/// resolution of RT's dates and `Date` header.
const WINDOW_MARGIN: SignedDuration = SignedDuration::from_secs(60);

/// A runaway-paging guard: 10,000 pages of 100 is a million tickets.
const MAX_PAGES: u32 = 10_000;

const TICKET_FIELDS: &[(&str, &str)] = &[
    (
        "fields",
        "Subject,Status,Priority,Owner,Queue,Requestor,Created,LastUpdated,Told,Due,Resolved,CustomFields",
    ),
    ("fields[Owner]", "Name,RealName"),
    ("fields[Queue]", "Name"),
    ("fields[Requestor]", "Name,RealName,EmailAddress"),
];

/// Where polling stands, saved with the open set for a restart.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Cursor {
    /// Newest `LastUpdated` seen (RT's clock).
    watermark: Option<Timestamp>,
    /// When the last full read ran (our clock).
    last_full: Timestamp,
}

pub struct Rt {
    client: reqwest::Client,
    /// The REST2 root, `…/REST/2.0`.
    rest: Url,
    token: Secret,
    /// TicketSQL for the queue and extra query, without a status condition.
    scope: Option<String>,
    page_size: u32,
    timeout: Option<Duration>,
    customer_field: Option<String>,
    feature_field: Option<String>,
    ticket_link: String,
    open: BTreeMap<String, Inquiry>,
    cursor: Option<Cursor>,
    /// RT's clock minus ours, from the last `Date` header.
    skew: SignedDuration,
    store: Option<Store>,
    /// Set after a restart: the next update carries the whole saved set.
    resumed: bool,
    /// Conversations by ticket id, with the ticket `ETag` they belong to.
    conversations: HashMap<String, (String, Vec<Comment>)>,
}

/// A TicketSQL string literal.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn and(scope: Option<&str>, condition: &str) -> String {
    match scope {
        Some(scope) => format!("{scope} AND {condition}"),
        None => condition.to_owned(),
    }
}

impl Rt {
    /// The time one request may take (the configured `timeout`, else the
    /// default), reads and writes alike.
    #[must_use]
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .unwrap_or(crate::sources::http::REQUEST_TIMEOUT)
    }

    /// An adapter for the RT at `config.url` (its web base URL, or the
    /// REST2 root itself), authenticating with an auth token.
    pub fn new(
        client: reqwest::Client,
        config: &DeskConfig,
        token: Secret,
    ) -> Result<Self, SourceError> {
        let url = http::base_url(&config.url, config.allow_insecure_http)
            .map_err(|e| SourceError::new(format!("rt: {e}")))?;
        if token.expose().trim().is_empty() {
            return Err(SourceError::new("rt: the auth token is empty"));
        }
        let path = url.path().trim_end_matches('/');
        let (web, rest) = match path.strip_suffix("/REST/2.0") {
            Some(web_path) => {
                let mut web = url.clone();
                web.set_path(web_path);
                (web, url.clone())
            }
            None => (url.clone(), http::join(&url, "/REST/2.0")),
        };
        let page_size = config.page_size.unwrap_or(MAX_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(SourceError::new(format!(
                "rt: desk.page_size must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        let mut parts = Vec::new();
        if let Some(queue) = config
            .queue
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            parts.push(format!("Queue = {}", quote(queue)));
        }
        if let Some(query) = config
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            parts.push(format!("({query})"));
        }
        let scope = (!parts.is_empty()).then(|| parts.join(" AND "));
        let ticket_link = format!(
            "{}/Ticket/Display.html?id=",
            web.as_str().trim_end_matches('/')
        );
        Ok(Self {
            client,
            rest,
            token,
            scope,
            page_size,
            timeout: config.timeout,
            customer_field: config.customer_field.clone(),
            feature_field: config.feature_field.clone(),
            ticket_link,
            open: BTreeMap::new(),
            cursor: None,
            skew: SignedDuration::ZERO,
            store: None,
            resumed: false,
            conversations: HashMap::new(),
        })
    }

    /// What a saved or handed-over position must have been read with.
    fn resume_scope(&self) -> String {
        format!(
            "{} {} customer={:?} feature={:?}",
            self.rest,
            self.scope.as_deref().unwrap_or(""),
            self.customer_field,
            self.feature_field
        )
    }

    /// Keep the polling position and the open set in `dir` (the data dir),
    /// and resume from what a previous run left there.
    #[must_use]
    pub fn resume_in(mut self, dir: &Path) -> Self {
        let store = Store::new(dir, "rt", &self.rest, self.resume_scope());
        if let Some(resumed) = store.load::<Cursor>() {
            self.cursor = Some(resumed.cursor);
            self.open = resumed
                .inquiries
                .into_iter()
                .map(|i| (i.id.to_string(), i))
                .collect();
            self.resumed = true;
        }
        self.store = Some(store);
        self
    }

    fn request(&self, url: Url) -> RequestBuilder {
        let mut request = self
            .client
            .get(url)
            .header(AUTHORIZATION, format!("token {}", self.token.expose()))
            .header(ACCEPT, "application/json");
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        request
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = http::join(&self.rest, path);
        url.query_pairs_mut().extend_pairs(query);
        url
    }

    /// GET a JSON body; RT's 200-with-messages answers become errors.
    async fn get<T: DeserializeOwned>(&mut self, what: &str, url: Url) -> Result<T, SourceError> {
        let fetched = http::fetch_json_explained::<Answer<T>, wire::ErrorDto>(
            what,
            self.request(url),
            wire::explain_error,
        )
        .await?;
        self.learn_clock(&fetched.headers);
        answer(what, fetched.body)
    }

    /// RT's clock from the `Date` header, so the incremental window is
    /// measured on the server's clock rather than ours.
    fn learn_clock(&mut self, headers: &reqwest::header::HeaderMap) {
        let server = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| jiff::fmt::rfc2822::parse(v).ok())
            .map(|z| z.timestamp());
        if let Some(server) = server {
            self.skew = server.duration_since(Timestamp::now());
        }
    }

    /// Every ticket matching `condition` (within the scope), paged by id.
    /// RT 5.0.3 may not say how many pages there are: a full page means
    /// there may be another.
    async fn search(
        &mut self,
        condition: &str,
        requests: &mut u32,
    ) -> Result<Vec<TicketDto>, SourceError> {
        const WHAT: &str = "rt: ticket search";
        let mut tickets = Vec::new();
        let mut after: Option<u64> = None;
        for _ in 0..MAX_PAGES {
            let mut query = and(self.scope.as_deref(), condition);
            if let Some(after) = after {
                query = format!("{query} AND id > {after}");
            }
            let per_page = self.page_size.to_string();
            let mut pairs: Vec<(&str, &str)> = vec![
                ("query", &query),
                ("orderby", "id"),
                ("order", "ASC"),
                ("per_page", &per_page),
                ("page", "1"),
            ];
            pairs.extend_from_slice(TICKET_FIELDS);
            let url = self.url("/tickets", &pairs);
            let page: CollectionDto<TicketDto> = self.get(WHAT, url).await?;
            *requests += 1;
            let items: Vec<TicketDto> = decoded(page.items).collect();
            let full = items.len() as u64 >= u64::from(self.page_size)
                || page.count.is_some_and(|c| c >= u64::from(self.page_size));
            let last = items
                .iter()
                .filter_map(|t| t.id.as_deref()?.parse::<u64>().ok())
                .max();
            tickets.extend(items);
            match last {
                Some(last) if full => after = Some(last),
                _ => return Ok(tickets),
            }
        }
        tracing::warn!("{WHAT}: stopped after {MAX_PAGES} pages");
        Ok(tickets)
    }

    fn reading(&self) -> Reading<'_> {
        Reading {
            customer_field: self.customer_field.as_deref(),
            feature_field: self.feature_field.as_deref(),
            ticket_link: &self.ticket_link,
        }
    }

    async fn full_read(&mut self, requests: &mut u32) -> Result<DeskUpdate, SourceError> {
        let started = Timestamp::now();
        let tickets = self.search("Status = '__Active__'", requests).await?;
        let mut watermark = None;
        let mut open = BTreeMap::new();
        for dto in tickets {
            let seen = wire::date(dto.last_updated.as_deref());
            watermark = watermark.max(seen);
            if let Some(Change::Open(inquiry)) = self.reading().ticket(dto) {
                open.insert(inquiry.id.to_string(), *inquiry);
            }
        }
        // With no tickets at all, RT's "now" at the start is the watermark.
        let watermark = watermark.or_else(|| Some(started + self.skew - WINDOW_MARGIN));
        self.open = open;
        self.cursor = Some(Cursor {
            watermark,
            last_full: started,
        });
        self.resumed = false;
        Ok(DeskUpdate {
            full: true,
            changed: self.open.values().cloned().collect(),
            removed: Vec::new(),
            requests: *requests,
        })
    }

    async fn incremental(
        &mut self,
        cursor: Cursor,
        requests: &mut u32,
    ) -> Result<DeskUpdate, SourceError> {
        let now_on_rt = Timestamp::now() + self.skew;
        let since = cursor
            .watermark
            .map_or(WINDOW_MARGIN, |w| {
                now_on_rt.duration_since(w) + WINDOW_MARGIN
            })
            .max(WINDOW_MARGIN);
        let seconds = since.as_secs().saturating_add(1);
        let tickets = self
            .search(&format!("LastUpdated >= '-{seconds} seconds'"), requests)
            .await?;
        let mut watermark = cursor.watermark;
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for dto in tickets {
            watermark = watermark.max(wire::date(dto.last_updated.as_deref()));
            // Report only what differs from what the cockpit has: the
            // window's overlap returns recent tickets again, unchanged.
            match self.reading().ticket(dto) {
                Some(Change::Open(inquiry))
                    if self.open.get(inquiry.id.as_str()) != Some(&inquiry) =>
                {
                    self.open.insert(inquiry.id.to_string(), (*inquiry).clone());
                    changed.push(*inquiry);
                }
                Some(Change::Closed(inquiry)) if self.open.contains_key(inquiry.id.as_str()) => {
                    self.open.remove(inquiry.id.as_str());
                    changed.push(*inquiry);
                }
                Some(Change::Deleted(id)) if self.open.contains_key(&id) => {
                    self.open.remove(&id);
                    removed.push(id);
                }
                _ => {}
            }
        }
        self.cursor = Some(Cursor {
            watermark,
            ..cursor
        });
        let full = std::mem::take(&mut self.resumed);
        if full {
            // After a restart: the saved open set, with today's changes.
            changed = self.open.values().cloned().collect();
        }
        Ok(DeskUpdate {
            full,
            changed,
            removed,
            requests: *requests,
        })
    }

    async fn poll_tickets(&mut self) -> Result<DeskUpdate, SourceError> {
        let mut requests = 0;
        let resync_due = self
            .cursor
            .is_none_or(|c| Timestamp::now().duration_since(c.last_full) >= RESYNC_EVERY);
        let update = match self.cursor {
            Some(cursor) if !resync_due => self.incremental(cursor, &mut requests).await,
            _ => self.full_read(&mut requests).await,
        };
        let update = update.inspect_err(|e| {
            tracing::debug!(requests, "rt: poll failed: {e}");
        })?;
        let update = match (&self.store, &self.cursor) {
            (Some(store), Some(cursor)) if update.changes_anything() => {
                store.record(cursor, update).await
            }
            _ => update,
        };
        tracing::debug!(
            requests,
            changed = update.changed.len(),
            removed = update.removed.len(),
            full = update.full,
            "rt: poll"
        );
        Ok(update)
    }

    /// All pages of a collection under a ticket (history, attachments):
    /// page numbers, continuing while a page is full.
    async fn pages<T: DeserializeOwned + Default>(
        &mut self,
        what: &str,
        path: &str,
        fields: &[(&str, &str)],
        requests: &mut u32,
    ) -> Result<Vec<T>, SourceError> {
        let mut all = Vec::new();
        let per_page = MAX_PAGE_SIZE.to_string();
        for page in 1..=MAX_PAGES {
            let page_text = page.to_string();
            let mut pairs: Vec<(&str, &str)> = vec![("per_page", &per_page), ("page", &page_text)];
            pairs.extend_from_slice(fields);
            let url = self.url(path, &pairs);
            let body: CollectionDto<T> = self.get(what, url).await?;
            *requests += 1;
            let n = body.items.len();
            all.extend(decoded(body.items));
            if (n as u64) < u64::from(MAX_PAGE_SIZE) {
                break;
            }
        }
        Ok(all)
    }

    async fn load_comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        const WHAT: &str = "rt: conversation";
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::new(format!(
                "{WHAT}: {:?} is not an RT ticket id",
                sanitize::text(id)
            )));
        }
        let mut requests = 1;
        // The ticket's ETag changes with every transaction: when it has not
        // changed, the conversation read last time is still whole.
        let mut request = self.request(self.url(&format!("/ticket/{id}"), &[]));
        if let Some((etag, _)) = self.conversations.get(id) {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let etag = match http::send(WHAT, request).await {
            Ok((_, headers, _)) => headers
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            Err(e) if e.status == Some(304) => {
                if let Some((_, cached)) = self.conversations.get(id) {
                    tracing::debug!(requests, "rt: conversation of ticket {id} unchanged");
                    return Ok(cached.clone());
                }
                None
            }
            Err(e) => return Err(e),
        };
        let transactions: Vec<TransactionDto> = self
            .pages(
                WHAT,
                &format!("/ticket/{id}/history"),
                &[
                    ("fields", "Type,Creator,Created"),
                    ("fields[Creator]", "Name,RealName"),
                ],
                &mut requests,
            )
            .await?;
        let attachments: Vec<AttachmentDto> = self
            .pages(
                WHAT,
                &format!("/ticket/{id}/attachments"),
                &[("fields", "TransactionId,ContentType,Content,Filename")],
                &mut requests,
            )
            .await?;
        let comments = wire::conversation(transactions, &attachments);
        tracing::debug!(
            requests,
            comments = comments.len(),
            "rt: conversation of ticket {id}"
        );
        if let Some(etag) = etag {
            self.conversations
                .insert(id.to_owned(), (etag, comments.clone()));
        }
        Ok(comments)
    }
}

/// The body of an answer, or RT's 200-with-messages answer as an error.
fn answer<T>(what: &str, answer: Answer<T>) -> Result<T, SourceError> {
    match answer {
        Answer::Body(body) => Ok(body),
        Answer::Messages(messages) => Err(SourceError::new(format!(
            "{what}: RT said: {}",
            sanitize::text(&messages.join("; "))
        ))),
    }
}

/// One collection page's items, decoded as the adapter's `get` decodes them.
fn read_page<T: DeserializeOwned + Default>(
    what: &str,
    body: &[u8],
) -> Result<Vec<T>, SourceError> {
    let page: Answer<CollectionDto<T>> = super::decode_body(what, body)?;
    Ok(decoded(answer(what, page)?.items).collect())
}

/// Decode one ticket-search page body and convert its tickets the way a
/// poll does; `customer_field`, `feature_field` and `ticket_link` as the
/// adapter has them from the config. Public for the fuzz targets.
pub fn read_search_page(
    body: &[u8],
    customer_field: Option<&str>,
    feature_field: Option<&str>,
    ticket_link: &str,
) -> Result<Vec<Inquiry>, SourceError> {
    let reading = Reading {
        customer_field,
        feature_field,
        ticket_link,
    };
    Ok(read_page::<TicketDto>("rt: ticket search", body)?
        .into_iter()
        .filter_map(|dto| match reading.ticket(dto)? {
            Change::Open(inquiry) | Change::Closed(inquiry) => Some(*inquiry),
            Change::Deleted(_) => None,
        })
        .collect())
}

/// Decode one page each of a ticket's history and attachments and build
/// the conversation the way opening an inquiry does. Public for the fuzz
/// targets.
pub fn read_conversation(history: &[u8], attachments: &[u8]) -> Result<Vec<Comment>, SourceError> {
    const WHAT: &str = "rt: conversation";
    let transactions = read_page::<TransactionDto>(WHAT, history)?;
    let attachments = read_page::<AttachmentDto>(WHAT, attachments)?;
    Ok(wire::conversation(transactions, &attachments))
}

impl DeskSource for Rt {
    fn vendor(&self) -> Vendor {
        Vendor::Rt
    }

    async fn poll(&mut self) -> Result<DeskUpdate, SourceError> {
        self.poll_tickets().await
    }

    async fn comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        self.load_comments(id).await
    }

    fn hand_over(&self) -> Option<String> {
        super::hand_over(self.resume_scope(), self.cursor.as_ref())
    }

    fn take_over(&mut self, state: &str, open: Vec<Inquiry>) -> bool {
        let Some(cursor) = super::taken_over::<Cursor>(state, &self.resume_scope()) else {
            return false;
        };
        self.cursor = Some(cursor);
        self.open = open.into_iter().map(|i| (i.id.to_string(), i)).collect();
        self.resumed = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticketsql_literals_are_escaped() {
        assert_eq!(quote("Customer Support"), "'Customer Support'");
        assert_eq!(quote("O'Brien\\x"), "'O\\'Brien\\\\x'");
        assert_eq!(and(None, "id > 3"), "id > 3");
        assert_eq!(and(Some("Queue = 'A'"), "id > 3"), "Queue = 'A' AND id > 3");
    }
}
