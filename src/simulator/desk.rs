//! The support desk's state: tickets, their conversations, and the
//! append-only change log behind the incremental export.
//!
//! Every change to a ticket appends one entry to the log and moves the
//! ticket's "current" position there; older entries for the same ticket are
//! skipped when a page is read. A cursor is simply a log position, so it never
//! expires, and reading a page costs O(page) rather than O(tickets).
//!
//! Seeded conversations are not stored: they are re-rendered on demand from a
//! per-ticket random stream, which keeps 100k tickets to a few tens of MB.
//! Only comments added after the start (by the scenario or through the API)
//! are kept.

use rand::RngExt;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value};

use super::scenario::{self, GROUP_BASE, Scenario, Segment, SimRng};
use super::text::{self, Fill, Lang};

pub(crate) const FIRST_TICKET_ID: u64 = 10_001;
/// Zendesk's documented per-ticket comment limit.
pub(crate) const MAX_COMMENTS: usize = 5_000;
/// Comment ids are `ticket id × stride + ordinal`, stable without a counter.
const COMMENT_ID_STRIDE: u64 = 10_000;
/// Scenario seconds between two background desk events, as a range.
const TICK_MIN: f64 = 90.0;
const TICK_MAX: f64 = 150.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    New,
    Open,
    Pending,
    Hold,
    Solved,
    Closed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Hold => "hold",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "new" => Self::New,
            "open" => Self::Open,
            "pending" => Self::Pending,
            "hold" => Self::Hold,
            "solved" => Self::Solved,
            "closed" => Self::Closed,
            _ => return None,
        })
    }

    pub(crate) fn is_open(self) -> bool {
        !matches!(self, Self::Solved | Self::Closed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "urgent" => Self::Urgent,
            "high" => Self::High,
            "normal" => Self::Normal,
            "low" => Self::Low,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Problem,
    Incident,
    Question,
    Task,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Problem => "problem",
            Self::Incident => "incident",
            Self::Question => "question",
            Self::Task => "task",
        }
    }
}

/// The part a seeded comment plays in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Description,
    Reply,
    FollowUp,
    Note,
    Solve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Queue,
    Incident,
}

#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub id: u64,
    pub author: u64,
    pub body: String,
    pub public: bool,
    pub created_at: i64,
    pub channel: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub id: u64,
    pub customer: usize,
    pub requester: u64,
    pub lang: Lang,
    pub feature: usize,
    /// A question rather than a problem report (drives the description).
    question: bool,
    origin: Origin,
    /// Author of the seeded agent comments (kept even if reassigned, so the
    /// re-rendered history never changes).
    agent: u64,
    roles: [Role; 4],
    role_count: u8,
    seeded_until: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Option<Priority>,
    pub kind: Option<Kind>,
    pub assignee: Option<u64>,
    pub group: Option<u64>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the ticket was last solved (kept through a reopen, as Zendesk's
    /// ticket metrics keep `solved_at`).
    pub solved_at: Option<i64>,
    /// Times it went from solved back to an open status.
    pub reopens: u32,
    /// When the reply target running now started: the last *public*
    /// comment. Zendesk's reply metrics count public comments only, so a
    /// private note (or a tag, priority or assignee change) leaves the clock
    /// where it was, while it still bumps `updated_at`.
    pub reply_clock_at: i64,
    added: Vec<Comment>,
    log_pos: usize,
}

impl Ticket {
    pub(crate) fn comment_count(&self) -> usize {
        usize::from(self.role_count) + self.added.len()
    }

    /// When the first public agent reply was posted, for the metric set's
    /// `reply_time_in_minutes` (rendering the conversation only for
    /// tickets that have a reply).
    pub(crate) fn first_reply_at(&self, sc: &Scenario) -> Option<i64> {
        if self.agent_replies() == 0 {
            return None;
        }
        comments(sc, self)
            .into_iter()
            .skip(1)
            .find(|c| c.public && c.author != self.requester)
            .map(|c| c.created_at)
    }

    /// Public agent replies so far (what Zendesk's ticket metrics count as
    /// `replies`): the seeded replies plus public comments added through
    /// the API by anyone but the requester.
    pub(crate) fn agent_replies(&self) -> u32 {
        let seeded = self.roles[..usize::from(self.role_count)]
            .iter()
            // A solving comment is a public agent reply too.
            .filter(|r| matches!(r, Role::Reply | Role::Solve))
            .count();
        let added = self
            .added
            .iter()
            .filter(|c| c.public && c.author != self.requester)
            .count();
        u32::try_from(seeded + added).unwrap_or(u32::MAX)
    }
}

#[derive(Debug, Clone, Copy)]
struct LogEntry {
    ticket: usize,
    at: i64,
}

/// A validated ticket update (from `PUT /api/v2/tickets/{id}`).
#[derive(Debug, Default)]
pub(crate) struct Change {
    pub status: Option<Status>,
    pub priority: Option<Option<Priority>>,
    pub assignee: Option<Option<u64>>,
    pub group: Option<Option<u64>>,
    pub tags: Option<Vec<String>>,
    pub comment: Option<(String, bool)>,
    /// `updated_stamp` when the caller asked for `safe_update`.
    pub safe_stamp: Option<String>,
    /// `ticket.metadata.custom`: recorded on the update's audit only.
    pub custom: Map<String, Value>,
}

/// What an update did, for the audit in the response.
#[derive(Debug, Clone)]
pub(crate) enum AuditEvent {
    Comment(Comment),
    Change {
        field: &'static str,
        value: Value,
        previous: Value,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Audit {
    pub id: u64,
    pub ticket_id: u64,
    pub created_at: i64,
    pub author: u64,
    pub events: Vec<AuditEvent>,
    /// The update's `metadata.custom`, as Zendesk keeps it on the audit.
    pub custom: Map<String, Value>,
    pub channel: &'static str,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UpdateError {
    NotFound,
    Closed,
    TooManyComments,
    Conflict,
}

pub(crate) struct Desk {
    tickets: Vec<Ticket>,
    log: Vec<LogEntry>,
    evolution: SimRng,
    next_tick: f64,
    next_wave: usize,
    next_audit: u64,
    /// Audits of API updates, oldest first (the seeded history's audits
    /// are re-derived from its comments).
    audits: Vec<Audit>,
}

impl Desk {
    /// The queue as it stands at scenario time zero: `open` open tickets plus
    /// some solved and closed history.
    pub(crate) fn new(sc: &Scenario, open: usize) -> Self {
        let mut r = scenario::rng(sc.seed, 2);
        let history = (open / 12).max(5);
        let mut tickets: Vec<Ticket> = (0..open + history)
            .map(|i| draft(sc, &mut r, i >= open))
            .collect();
        // Ids grow with creation time, as on a real desk.
        tickets.sort_by_key(|t| t.created_at);
        for (i, t) in tickets.iter_mut().enumerate() {
            t.id = FIRST_TICKET_ID + i as u64;
        }
        let mut order: Vec<usize> = (0..tickets.len()).collect();
        order.sort_by_key(|&i| (tickets[i].updated_at, i));
        let log = order
            .iter()
            .enumerate()
            .map(|(pos, &i)| {
                tickets[i].log_pos = pos;
                LogEntry {
                    ticket: i,
                    at: tickets[i].updated_at,
                }
            })
            .collect();
        let mut evolution = scenario::rng(sc.seed, 5);
        let next_tick = evolution.random_range(TICK_MIN..TICK_MAX);
        Self {
            tickets,
            log,
            evolution,
            next_tick,
            next_wave: 0,
            next_audit: 90_000_000_001,
            audits: Vec::new(),
        }
    }

    /// Play the script up to scenario time `t` (seconds since the anchor).
    pub(crate) fn advance(&mut self, sc: &Scenario, t: f64) {
        loop {
            let wave_at = sc
                .plan
                .wave
                .get(self.next_wave)
                .map_or(f64::INFINITY, |w| w.at);
            let at = wave_at.min(self.next_tick);
            if at > t {
                break;
            }
            let stamp = sc.anchor + at.floor() as i64;
            if wave_at <= self.next_tick {
                let customer = sc.plan.wave[self.next_wave].customer;
                self.next_wave += 1;
                let mut r = scenario::rng(sc.seed, 6_000 + self.next_wave as u64);
                self.arrive(sc, &mut r, customer, Origin::Incident, stamp);
            } else {
                self.tick(sc, stamp);
                self.next_tick += self.evolution.random_range(TICK_MIN..TICK_MAX);
            }
        }
    }

    /// One beat of ordinary desk life: an inquiry arrives, another moves on.
    fn tick(&mut self, sc: &Scenario, stamp: i64) {
        let mut r = self.evolution.clone();
        let customer = sc.pick_customer(&mut r);
        self.arrive(sc, &mut r, customer, Origin::Queue, stamp);
        let pick = (0..16)
            .map(|_| r.random_range(0..self.tickets.len()))
            .find(|&i| self.tickets[i].status.is_open());
        if let Some(i) = pick {
            if r.random_bool(0.4) {
                self.scripted_solve(sc, &mut r, i, stamp);
            } else {
                self.scripted_progress(sc, &mut r, i, stamp);
            }
        }
        self.evolution = r;
    }

    fn arrive(
        &mut self,
        sc: &Scenario,
        r: &mut SimRng,
        customer: usize,
        origin: Origin,
        stamp: i64,
    ) {
        let c = &sc.customers[customer];
        let lang = c.ticket_lang(r);
        let question = origin == Origin::Queue && r.random_bool(0.3);
        let (feature, subject, priority, kind) = match origin {
            Origin::Queue => {
                let feature = pick_feature(r);
                let subject = subject(r, lang, feature, question);
                let priorities = [
                    Priority::Urgent,
                    Priority::High,
                    Priority::Normal,
                    Priority::Low,
                ];
                let priority = priorities[scenario::weighted_index(r, &[3.0, 12.0, 65.0, 20.0])];
                let kind = if question {
                    Kind::Question
                } else {
                    Kind::Incident
                };
                (feature, subject, priority, kind)
            }
            Origin::Incident => {
                let subject = text::incident_subjects(lang)
                    .choose(r)
                    .copied()
                    .unwrap_or("API returns 500")
                    .to_owned();
                let urgent = if c.segment == Segment::Enterprise {
                    0.6
                } else {
                    0.35
                };
                let priority = if r.random_bool(urgent) {
                    Priority::Urgent
                } else {
                    Priority::High
                };
                (text::FEATURE_API, subject, priority, Kind::Incident)
            }
        };
        let mut tags = base_tags(c.segment, lang, feature);
        if origin == Origin::Incident {
            tags.insert(1, "incident".to_owned());
        }
        let index = self.tickets.len();
        self.tickets.push(Ticket {
            id: FIRST_TICKET_ID + index as u64,
            customer,
            requester: c.requesters.choose(r).copied().unwrap_or(0),
            lang,
            feature,
            question,
            origin,
            agent: agent_in(sc, r, 0),
            roles: [Role::Description; 4],
            role_count: 1,
            seeded_until: stamp,
            subject,
            status: Status::New,
            priority: Some(priority),
            kind: Some(kind),
            assignee: None,
            group: Some(GROUP_BASE),
            tags,
            created_at: stamp,
            updated_at: stamp,
            solved_at: None,
            reopens: 0,
            reply_clock_at: stamp,
            added: Vec::new(),
            log_pos: 0,
        });
        self.touch(index, stamp);
    }

    fn scripted_progress(&mut self, sc: &Scenario, r: &mut SimRng, i: usize, stamp: i64) {
        let t = &self.tickets[i];
        let (role, status) = match t.status {
            Status::New | Status::Open => (Role::Reply, Status::Pending),
            Status::Pending => (Role::FollowUp, Status::Open),
            _ => (Role::Note, t.status),
        };
        if t.status == Status::New && t.assignee.is_none() {
            let group = t
                .group
                .and_then(|g| usize::try_from(g.checked_sub(GROUP_BASE)?).ok())
                .unwrap_or(0);
            let agent = agent_in(sc, r, group);
            self.tickets[i].assignee = Some(agent);
        }
        self.scripted_comment(sc, r, i, role, stamp);
        self.tickets[i].status = status;
        self.touch(i, stamp);
    }

    fn scripted_solve(&mut self, sc: &Scenario, r: &mut SimRng, i: usize, stamp: i64) {
        if self.tickets[i].assignee.is_none() {
            self.tickets[i].assignee = Some(agent_in(sc, r, 0));
        }
        self.scripted_comment(sc, r, i, Role::Solve, stamp);
        self.tickets[i].status = Status::Solved;
        self.touch(i, stamp);
        self.tickets[i].solved_at = Some(self.tickets[i].updated_at);
    }

    fn scripted_comment(
        &mut self,
        sc: &Scenario,
        r: &mut SimRng,
        i: usize,
        role: Role,
        stamp: i64,
    ) {
        let t = &self.tickets[i];
        if t.comment_count() >= MAX_COMMENTS {
            return;
        }
        let agent = t.assignee.unwrap_or(t.agent);
        let author = if role == Role::FollowUp {
            t.requester
        } else {
            agent
        };
        let body = render(sc, r, t, role, agent);
        let comment = Comment {
            id: t.id * COMMENT_ID_STRIDE + t.comment_count() as u64,
            author,
            body,
            public: role != Role::Note,
            created_at: stamp,
            channel: "web",
        };
        if comment.public {
            self.tickets[i].reply_clock_at = stamp;
        }
        self.tickets[i].added.push(comment);
    }

    /// Record a change: bump the timestamps and move the ticket to the end of
    /// the change log. Timestamps never go backwards, so the log stays sorted.
    fn touch(&mut self, i: usize, stamp: i64) {
        let at = self.log.last().map_or(stamp, |e| e.at.max(stamp));
        let t = &mut self.tickets[i];
        t.updated_at = at;
        t.log_pos = self.log.len();
        self.log.push(LogEntry { ticket: i, at });
    }

    fn index(&self, id: u64) -> Option<usize> {
        let i = usize::try_from(id.checked_sub(FIRST_TICKET_ID)?).ok()?;
        (i < self.tickets.len()).then_some(i)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Ticket> {
        self.index(id).map(|i| &self.tickets[i])
    }

    pub(crate) fn len(&self) -> usize {
        self.tickets.len()
    }

    pub(crate) fn log_len(&self) -> usize {
        self.log.len()
    }

    /// The first log position whose change happened at or after `unix`.
    pub(crate) fn position_at(&self, unix: i64) -> usize {
        self.log.partition_point(|e| e.at < unix)
    }

    /// Up to `limit` tickets in change order starting at log position `from`,
    /// each at most once and only at its latest change; and where to resume.
    pub(crate) fn page(&self, from: usize, limit: usize) -> (Vec<&Ticket>, usize) {
        let mut out = Vec::with_capacity(limit.min(1000));
        let mut pos = from.min(self.log.len());
        while pos < self.log.len() && out.len() < limit {
            let t = &self.tickets[self.log[pos].ticket];
            if t.log_pos == pos {
                out.push(t);
            }
            pos += 1;
        }
        (out, pos)
    }

    /// The first comment's body, which Zendesk reports as the description.
    pub(crate) fn description(&self, sc: &Scenario, t: &Ticket) -> String {
        let mut r = comment_rng(sc, t);
        render(sc, &mut r, t, Role::Description, t.agent)
    }

    /// The whole conversation, oldest first.
    pub(crate) fn comments(&self, sc: &Scenario, t: &Ticket) -> Vec<Comment> {
        comments(sc, t)
    }

    /// Apply an API update at unix time `at`, attributed to `author`.
    pub(crate) fn update(
        &mut self,
        id: u64,
        change: Change,
        author: u64,
        at: i64,
    ) -> Result<Audit, UpdateError> {
        let i = self.index(id).ok_or(UpdateError::NotFound)?;
        let t = &self.tickets[i];
        if t.status == Status::Closed {
            return Err(UpdateError::Closed);
        }
        if let Some(stamp) = &change.safe_stamp
            && *stamp != super::rfc3339(t.updated_at)
        {
            return Err(UpdateError::Conflict);
        }
        if change.comment.is_some() && t.comment_count() >= MAX_COMMENTS {
            return Err(UpdateError::TooManyComments);
        }
        let at = self.log.last().map_or(at, |e| e.at.max(at));
        let mut events = Vec::new();
        let t = &mut self.tickets[i];
        if let Some((body, public)) = change.comment {
            let comment = Comment {
                id: t.id * COMMENT_ID_STRIDE + t.comment_count() as u64,
                author,
                body,
                public,
                created_at: at,
                channel: "api",
            };
            if public {
                t.reply_clock_at = at;
            }
            t.added.push(comment.clone());
            events.push(AuditEvent::Comment(comment));
        }
        let mut status = change.status;
        // As on Zendesk, a new ticket becomes open once someone works on it.
        if status.is_none()
            && t.status == Status::New
            && (matches!(change.assignee, Some(Some(_))) || !events.is_empty())
        {
            status = Some(Status::Open);
        }
        let opt = |v: Option<u64>| v.map_or(Value::Null, Value::from);
        if let Some(status) = status
            && status != t.status
        {
            events.push(AuditEvent::Change {
                field: "status",
                value: status.as_str().into(),
                previous: t.status.as_str().into(),
            });
            if status == Status::Solved {
                t.solved_at = Some(at);
            } else if status.is_open() && !t.status.is_open() {
                t.reopens += 1;
            }
            t.status = status;
        }
        if let Some(priority) = change.priority
            && priority != t.priority
        {
            let name = |p: Option<Priority>| p.map_or(Value::Null, |p| p.as_str().into());
            events.push(AuditEvent::Change {
                field: "priority",
                value: name(priority),
                previous: name(t.priority),
            });
            t.priority = priority;
        }
        if let Some(assignee) = change.assignee
            && assignee != t.assignee
        {
            events.push(AuditEvent::Change {
                field: "assignee_id",
                value: opt(assignee),
                previous: opt(t.assignee),
            });
            t.assignee = assignee;
        }
        if let Some(group) = change.group
            && group != t.group
        {
            events.push(AuditEvent::Change {
                field: "group_id",
                value: opt(group),
                previous: opt(t.group),
            });
            t.group = group;
        }
        if let Some(tags) = change.tags {
            let tags = normalise_tags(tags);
            if tags != t.tags {
                events.push(AuditEvent::Change {
                    field: "tags",
                    value: tags.clone().into(),
                    previous: t.tags.clone().into(),
                });
                t.tags = tags;
            }
        }
        let ticket_id = t.id;
        // Zendesk records an audit (and bumps updated_at) even for a no-op update.
        self.touch(i, at);
        let id = self.next_audit;
        self.next_audit += 1;
        let audit = Audit {
            id,
            ticket_id,
            created_at: at,
            author,
            events,
            custom: change.custom,
            channel: "api",
        };
        self.audits.push(audit.clone());
        Ok(audit)
    }

    /// A ticket's audits, oldest first: one per seeded comment (its id is
    /// the comment's, as the comments list gives it), then the API updates.
    pub(crate) fn audits(&self, sc: &Scenario, t: &Ticket) -> Vec<Audit> {
        let seeded = comments(sc, t)
            .into_iter()
            .take(usize::from(t.role_count))
            .map(|c| Audit {
                id: c.id,
                ticket_id: t.id,
                created_at: c.created_at,
                author: c.author,
                channel: c.channel,
                custom: Map::new(),
                events: vec![AuditEvent::Comment(c)],
            });
        seeded
            .chain(self.audits.iter().filter(|a| a.ticket_id == t.id).cloned())
            .collect()
    }

    /// Add (`replace = false`) or set tags; returns the ticket's tags after.
    pub(crate) fn tags(
        &mut self,
        id: u64,
        tags: Vec<String>,
        mode: TagMode,
        at: i64,
    ) -> Result<Vec<String>, UpdateError> {
        let i = self.index(id).ok_or(UpdateError::NotFound)?;
        if self.tickets[i].status == Status::Closed {
            return Err(UpdateError::Closed);
        }
        let given = normalise_tags(tags);
        let t = &mut self.tickets[i];
        let next = match mode {
            TagMode::Add => normalise_tags(t.tags.iter().cloned().chain(given).collect()),
            TagMode::Set => given,
            TagMode::Remove => t
                .tags
                .iter()
                .filter(|tag| !given.contains(tag))
                .cloned()
                .collect(),
        };
        if next != t.tags {
            t.tags = next;
            self.touch(i, at);
        }
        Ok(self.tickets[i].tags.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagMode {
    Add,
    Set,
    Remove,
}

/// Zendesk tags are lowercase words: spaces separate tags, duplicates collapse.
fn normalise_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags.iter().flat_map(|t| t.split_whitespace()) {
        let tag = tag.to_lowercase();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// The whole conversation of a ticket, oldest first: the seeded comments
/// re-rendered from the ticket's own seed, then those added since.
fn comments(sc: &Scenario, t: &Ticket) -> Vec<Comment> {
    let mut r = comment_rng(sc, t);
    let description = render(sc, &mut r, t, Role::Description, t.agent);
    let n = usize::from(t.role_count);
    let mut times: Vec<i64> = (1..n)
        .map(|_| r.random_range(t.created_at..=t.seeded_until))
        .collect();
    times.sort_unstable();
    if let Some(last) = times.last_mut() {
        *last = t.seeded_until;
    }
    let mut out = Vec::with_capacity(n + t.added.len());
    out.push(Comment {
        id: t.id * COMMENT_ID_STRIDE,
        author: t.requester,
        body: description,
        public: true,
        created_at: t.created_at,
        channel: "web",
    });
    for (k, at) in (1..n).zip(times) {
        let role = t.roles[k];
        out.push(Comment {
            id: t.id * COMMENT_ID_STRIDE + k as u64,
            author: if role == Role::FollowUp {
                t.requester
            } else {
                t.agent
            },
            body: render(sc, &mut r, t, role, t.agent),
            public: role != Role::Note,
            created_at: at,
            channel: "web",
        });
    }
    out.extend(t.added.iter().cloned());
    out
}

fn comment_rng(sc: &Scenario, t: &Ticket) -> SimRng {
    scenario::rng(sc.seed, 1_000_000_000 + t.id)
}

fn base_tags(segment: Segment, lang: Lang, feature: usize) -> Vec<String> {
    vec![
        format!("feature_{}", text::FEATURES[feature]),
        segment.as_str().to_owned(),
        format!("lang_{}", lang.code()),
    ]
}

fn pick_feature(r: &mut SimRng) -> usize {
    scenario::weighted_index(r, &text::FEATURE_WEIGHTS.map(f64::from))
}

fn subject(r: &mut SimRng, lang: Lang, feature: usize, question: bool) -> String {
    let template = text::subjects(lang, question)
        .choose(r)
        .copied()
        .unwrap_or("{F}");
    let values = Fill {
        feature: text::feature_name(lang, feature),
        name: "",
        agent: "",
        company: "",
        segment: "",
    };
    text::fill(template, &values)
}

fn agent_in(sc: &Scenario, r: &mut SimRng, group: usize) -> u64 {
    let agents: Vec<u64> = sc.agents_in_group(group).map(|a| a.id).collect();
    agents.choose(r).copied().unwrap_or(scenario::AGENT_BASE)
}

/// The text of one comment playing `role` on ticket `t`.
fn render(sc: &Scenario, r: &mut SimRng, t: &Ticket, role: Role, agent: u64) -> String {
    let c = &sc.customers[t.customer];
    let requester = sc.person(t.requester).map_or("", |p| p.name.as_str());
    let agent = sc.person(agent).map_or("", |p| p.name.as_str());
    let values = Fill {
        feature: text::feature_name(t.lang, t.feature),
        name: requester,
        agent,
        company: &c.name,
        segment: c.segment.as_str(),
    };
    let template = match (role, t.origin) {
        (Role::Description, Origin::Incident) => text::incident_body(t.lang),
        (Role::Description, Origin::Queue) => text::descriptions(t.lang, t.question)
            .choose(r)
            .copied()
            .unwrap_or_default(),
        (Role::Reply, _) => text::replies(t.lang, t.question)
            .choose(r)
            .copied()
            .unwrap_or_default(),
        (Role::FollowUp, _) => text::follow_ups(t.lang, t.question)
            .choose(r)
            .copied()
            .unwrap_or_default(),
        (Role::Note, _) => text::internal_notes(t.question)
            .choose(r)
            .copied()
            .unwrap_or_default(),
        (Role::Solve, _) => text::solved(t.lang, t.question),
    };
    text::fill(template, &values)
}

/// One ticket of the starting queue (`history`: an already solved/closed one).
fn draft(sc: &Scenario, r: &mut SimRng, history: bool) -> Ticket {
    use Role::{Description as D, FollowUp as F, Note as N, Reply as R, Solve as S};
    let ci = sc.pick_customer(r);
    let c = &sc.customers[ci];
    let lang = c.ticket_lang(r);
    let feature = pick_feature(r);
    let question = r.random_bool(0.3);
    let subject = subject(r, lang, feature, question);
    let status = if history {
        if r.random_bool(0.7) {
            Status::Solved
        } else {
            Status::Closed
        }
    } else {
        [Status::New, Status::Open, Status::Pending, Status::Hold]
            [scenario::weighted_index(r, &[15.0, 40.0, 28.0, 17.0])]
    };
    let priority = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ][scenario::weighted_index(r, &[4.0, 16.0, 60.0, 20.0])];
    // A working desk answers faster the more urgent a ticket is, so waiting
    // times scale with priority (about the common 1/4/8/24 h targets): a few
    // breaches stand out instead of the whole queue being days late.
    let patience_days = match priority {
        Priority::Urgent => 1.3,
        Priority::High => 5.0,
        Priority::Normal => 10.0,
        Priority::Low => 30.0,
    } / 24.0;
    let age_days = match status {
        Status::New => patience_days * r.random::<f64>().powf(2.0) + 0.005,
        Status::Solved | Status::Closed => r.random_range(2.0..30.0),
        _ => 14.0 * r.random::<f64>().powf(1.4),
    };
    let created_at = sc.anchor - ((age_days * 86_400.0) as i64).max(300);
    let kind = [Kind::Question, Kind::Incident, Kind::Problem, Kind::Task]
        [scenario::weighted_index(r, &[45.0, 25.0, 15.0, 15.0])];
    let group = scenario::weighted_index(r, &[60.0, 28.0, 12.0]);
    let agent = agent_in(sc, r, group);
    let assigned = if status == Status::New {
        r.random_bool(0.15)
    } else {
        r.random_bool(0.92)
    };
    let grouped = assigned || status != Status::New || r.random_bool(0.5);
    let patterns: &[&[Role]] = match status {
        Status::New => &[&[D]],
        // Open and not new means an agent has answered publicly.
        Status::Open => &[&[D, R, N], &[D, R, F], &[D, R, N, F], &[D, N, R, F]],
        Status::Pending => &[&[D, R], &[D, N, R], &[D, R, F, R]],
        Status::Hold => &[&[D, R, N], &[D, N]],
        Status::Solved | Status::Closed => &[&[D, R, S], &[D, S]],
    };
    let pattern = patterns.choose(r).copied().unwrap_or(&[D]);
    let mut roles = [D; 4];
    for (slot, role) in roles.iter_mut().zip(pattern) {
        *slot = *role;
    }
    let span = (sc.anchor - created_at) as f64;
    let updated_at = if pattern.len() > 1 {
        let recent = sc.anchor - (86_400.0 * patience_days * r.random::<f64>().powf(1.5)) as i64;
        recent.max(created_at + (span * 0.15) as i64).min(sc.anchor)
    } else {
        created_at
    };
    Ticket {
        id: 0,
        customer: ci,
        requester: c.requesters.choose(r).copied().unwrap_or(0),
        lang,
        feature,
        question,
        origin: Origin::Queue,
        agent,
        roles,
        role_count: pattern.len() as u8,
        seeded_until: updated_at,
        subject,
        status,
        priority: Some(priority),
        kind: Some(kind),
        assignee: assigned.then_some(agent),
        group: grouped.then_some(GROUP_BASE + group as u64),
        tags: base_tags(c.segment, lang, feature),
        created_at,
        updated_at,
        // History tickets were solved with their last seeded comment.
        solved_at: (!status.is_open()).then_some(updated_at),
        reopens: 0,
        // The seeded comments are rendered lazily, so the starting queue's
        // clocks start at its last comment whatever its kind.
        reply_clock_at: updated_at,
        added: Vec::new(),
        log_pos: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(open: usize) -> (Scenario, Desk) {
        let sc = Scenario::new(42, 36, 1_800_000_000, 60.0);
        let desk = Desk::new(&sc, open);
        (sc, desk)
    }

    #[test]
    fn every_ticket_appears_once_in_a_full_walk() {
        let (_, desk) = desk(300);
        let mut seen = std::collections::HashSet::new();
        let mut pos = 0;
        loop {
            let (page, next) = desk.page(pos, 64);
            for t in page {
                assert!(seen.insert(t.id), "ticket {} twice", t.id);
            }
            if next == desk.log_len() {
                break;
            }
            pos = next;
        }
        assert_eq!(seen.len(), desk.len());
    }

    #[test]
    fn updates_move_a_ticket_to_the_end_of_the_stream() {
        let (sc, mut desk) = desk(50);
        let end = desk.log_len();
        let id = FIRST_TICKET_ID + 3;
        let change = Change {
            comment: Some(("hello".into(), false)),
            ..Change::default()
        };
        let audit = desk
            .update(id, change, scenario::AGENT_BASE, sc.anchor + 5)
            .expect("update");
        assert!(matches!(audit.events.first(), Some(AuditEvent::Comment(c)) if !c.public));
        let (page, _) = desk.page(end, 10);
        assert_eq!(page.iter().map(|t| t.id).collect::<Vec<_>>(), vec![id]);
        let (page, _) = desk.page(0, 1000);
        assert_eq!(page.iter().filter(|t| t.id == id).count(), 1);
        let ticket = desk.get(id).expect("ticket");
        assert_eq!(
            desk.comments(&sc, ticket).last().map(|c| c.body.as_str()),
            Some("hello")
        );
    }

    #[test]
    fn the_script_adds_tickets_over_time_and_the_incident_wave() {
        let (sc, mut desk) = desk(50);
        let before = desk.len();
        desk.advance(&sc, sc.plan.start - 1.0);
        let ordinary = desk.len() - before;
        assert!(
            ordinary <= 1,
            "at most one tick before the first minute is over"
        );
        desk.advance(&sc, sc.plan.start + 600.0);
        let incident = (0..desk.len())
            .filter_map(|i| desk.get(FIRST_TICKET_ID + i as u64))
            .filter(|t| t.tags.iter().any(|tag| tag == "incident"))
            .count();
        assert_eq!(incident, sc.plan.wave.len());
        assert!((10..=20).contains(&incident));
    }
}
