//! Zendesk Support API v2: the queue through the cursor-based incremental
//! ticket export, conversations loaded when an inquiry is opened.
//!
//! The export is what makes a quiet poll cost one request: after the first
//! (full) read the adapter only ever asks "what changed since this cursor".

mod wire;
mod write;

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Url;
use reqwest::header::ACCEPT;
use serde::de::DeserializeOwned;

use self::wire::{Change, CommentsPageDto, Directory, ExportPageDto, UsersDto, decoded};
use super::DeskSource;
use super::http::{self, Secret};
use crate::config::DeskConfig;
use crate::domain::{Comment, DeskUpdate, Inquiry, SourceError};
use crate::sanitize;

/// Zendesk allows 10 requests a minute on incremental endpoints; reading more
/// pages than that in one poll would only earn a 429. A longer backlog (the
/// first read of a large account) continues on the next poll from the cursor
/// reached.
const MAX_EXPORT_PAGES_PER_POLL: u32 = 10;

/// A ticket holds at most 5,000 comments, 100 per page.
const MAX_COMMENT_PAGES: u32 = 60;

/// `users/show_many` takes at most 100 ids.
const SHOW_MANY_LIMIT: usize = 100;

pub struct Zendesk {
    client: reqwest::Client,
    base: Url,
    /// `{email}/token`, the basic-auth user name for API-token auth.
    login: String,
    token: Secret,
    /// The export cursor after the last completed poll (`None` before the
    /// first). Kept in memory only for now.
    cursor: Option<String>,
    /// A stream that broke off mid-way, to be continued by the next poll.
    pending: Option<Stream>,
    directory: Directory,
}

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
                self.removed.remove(&inquiry.id);
                self.changed.insert(inquiry.id.clone(), *inquiry);
            }
            Change::Deleted(id) => {
                self.changed.remove(&id);
                self.removed.insert(id);
            }
        }
    }
}

impl Zendesk {
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
        Ok(Self {
            client,
            base,
            login: format!("{email}/token"),
            token,
            cursor: None,
            pending: None,
            directory: Directory::default(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, what: &str, url: Url) -> Result<T, SourceError> {
        let request = self
            .client
            .get(url)
            .basic_auth(&self.login, Some(self.token.expose()))
            .header(ACCEPT, "application/json");
        Ok(
            http::fetch_json_explained(what, request, wire::explain_error)
                .await?
                .body,
        )
    }

    fn export_url(&self, cursor: Option<&str>) -> Url {
        let mut url = http::join(&self.base, "/api/v2/incremental/tickets/cursor");
        {
            let mut query = url.query_pairs_mut();
            match cursor {
                Some(cursor) => query.append_pair("cursor", cursor),
                None => query.append_pair("start_time", "0"),
            };
            query.append_pair("per_page", "1000");
            query.append_pair("include", "users,organizations");
        }
        url
    }

    /// Where a human opens the ticket (not the API URL the ticket carries).
    fn agent_url(&self, id: u64) -> String {
        http::join(&self.base, &format!("/agent/tickets/{id}")).to_string()
    }

    async fn poll_export(&mut self) -> Result<DeskUpdate, SourceError> {
        let mut stream = self.pending.take().unwrap_or_else(|| Stream {
            full: self.cursor.is_none(),
            cursor: self.cursor.clone(),
            changed: BTreeMap::new(),
            removed: BTreeSet::new(),
        });
        let mut requests = 0;
        loop {
            if requests == MAX_EXPORT_PAGES_PER_POLL {
                tracing::info!("zendesk: export backlog continues on the next poll");
                break;
            }
            let url = self.export_url(stream.cursor.as_deref());
            let page: ExportPageDto = match self.get("zendesk: ticket export", url).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::debug!(requests = requests + 1, "zendesk: poll failed: {e}");
                    self.pending = Some(stream);
                    return Err(e);
                }
            };
            requests += 1;
            self.directory.learn_users(page.users);
            self.directory.learn_orgs(page.organizations);
            for ticket in decoded(page.tickets) {
                if let Some(change) = self.directory.ticket(ticket, |id| self.agent_url(id)) {
                    stream.apply(change);
                }
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
        self.cursor = stream.cursor;
        let update = DeskUpdate {
            full: stream.full,
            changed: stream.changed.into_values().collect(),
            removed: stream.removed.into_iter().collect(),
            requests,
        };
        tracing::debug!(
            requests,
            changed = update.changed.len(),
            removed = update.removed.len(),
            full = update.full,
            "zendesk: poll"
        );
        Ok(update)
    }

    async fn load_comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        const WHAT: &str = "zendesk: comments";
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::new(format!(
                "{WHAT}: {:?} is not a Zendesk ticket id",
                sanitize::text(id)
            )));
        }
        let mut url = http::join(&self.base, &format!("/api/v2/tickets/{id}/comments"));
        url.query_pairs_mut().append_pair("include", "users");
        let mut raw = Vec::new();
        let mut requests = 0;
        loop {
            let page: CommentsPageDto = self.get(WHAT, url).await?;
            requests += 1;
            let next = page.next().map(str::to_owned);
            self.directory.learn_users(page.users);
            raw.extend(decoded(page.comments));
            let Some(next) = next else { break };
            if requests == MAX_COMMENT_PAGES {
                tracing::warn!(
                    "{WHAT}: ticket {id} has more than {MAX_COMMENT_PAGES} pages; showing the first"
                );
                break;
            }
            url = self.same_origin(WHAT, &next)?;
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

impl DeskSource for Zendesk {
    fn vendor(&self) -> &'static str {
        "zendesk"
    }

    async fn poll(&mut self) -> Result<DeskUpdate, SourceError> {
        self.poll_export().await
    }

    async fn comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        self.load_comments(id).await
    }
}
