//! The write journal: every annotation and escalation is committed here
//! before the UI says it is saved, and delivered from here by the outbox
//! (`crate::app::outbox`). A write is one or more *steps* — a desk note, a
//! tag change, a page — each delivered and tracked on its own.
//!
//! One interface ([`JournalStore`]), two backends: the embedded SQLite file
//! ([`sqlite`], the default) and a PostgreSQL database shared by a team
//! ([`postgres`], `[team] store`). [`Journal`] is whichever was opened; the
//! outbox and the CLI writers see only it.
//!
//! Exactly once rests on three rules every backend keeps:
//! - **One deliverer per step.** A deliverer (the TUI's outbox, `sync`,
//!   `note --wait`, in any number of processes or machines) must
//!   [`Journal::claim`] a step before touching the source. The claim is one
//!   transaction that moves the step to `sending` with an owner and a lease,
//!   and only if nobody holds a live lease; the outcome is recorded only by
//!   the lease's holder ([`Journal::settle`]). A dead owner's lease expires.
//!   Nothing here is an in-process lock: SQLite serialises claims with its
//!   write lock, PostgreSQL with row locks (`FOR UPDATE SKIP LOCKED`).
//! - **Uncertainty is sticky.** A step that may have been applied carries
//!   `check_first` until a check of the source succeeds.
//! - **Nothing lost silently.** SQLite: a small marker file beside the
//!   database notices a lost WAL or a restored copy (see [`Journal::lost`]).
//!   PostgreSQL keeps its own commits durable.

pub mod postgres;
pub mod sqlite;

pub use postgres::Target as TeamTarget;

use std::path::Path;

use crate::core::writes::{
    Doing, InvalidText, Presence, SourceWrite, Step, StepState, Target, Write, WriteKind,
};
use jiff::{SignedDuration, Timestamp};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("team journal: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("journal: stored write {id} is unreadable: {message}")]
    Corrupt { id: i64, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl From<InvalidText> for JournalError {
    fn from(e: InvalidText) -> Self {
        Self::Invalid(e.0)
    }
}

/// A fresh random marker, e.g. `cc-5f3a9b1c2d4e6f70`.
pub(crate) fn new_marker() -> String {
    format!("cc-{:016x}", rand::random::<u64>())
}

/// A new step's row as both backends store it: the effect as JSON, its
/// item, a fresh marker and its first state (a local effect, such as a link
/// by hand, is done once journalled; the rest wait to be sent).
pub(crate) fn new_step_row(effect: &SourceWrite) -> Result<[String; 4], JournalError> {
    let json = serde_json::to_string(effect).map_err(|e| JournalError::Invalid(e.to_string()))?;
    let state = if effect.is_local() {
        StepState::Local
    } else {
        StepState::Queued
    };
    Ok([json, effect.item(), new_marker(), state.to_string()])
}

/// Who delivers: one per process (host, pid and a random tag, so a reused
/// pid is a different owner). Shown in the journal view while it holds a
/// step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(String);

impl Default for Owner {
    fn default() -> Self {
        Self::this_process()
    }
}

impl Owner {
    /// A new deliverer of this process.
    #[must_use]
    pub fn this_process() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        Self(format!(
            "{host} pid {} #{:04x}",
            std::process::id(),
            rand::random::<u16>()
        ))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The step is this deliverer's until the lease ends; `check_first`
    /// says whether the source must be asked before sending.
    Claimed(Box<Step>),
    /// Another deliverer holds it until `until`.
    Held { owner: String, until: Timestamp },
    /// No longer pending (someone else delivered or it was cancelled).
    Settled,
}

/// How a claimed step ended, recorded by its holder.
#[derive(Debug, Clone, PartialEq)]
pub struct Settle {
    pub state: StepState,
    pub error: Option<String>,
    /// When to try again (pending states only).
    pub retry_at: Option<Timestamp>,
    pub check_first: bool,
}

/// A new write as the journal stores it.
#[derive(Debug, Clone, Copy)]
pub struct NewWrite<'a> {
    pub kind: WriteKind,
    pub target: &'a Target,
    pub text: &'a str,
    /// Who wrote it (`[ui] me`), when known.
    pub author: Option<&'a str>,
}

/// The storage interface of the journal and outbox. Both backends keep the
/// same tables (writes, steps, a change counter) through their own
/// migration lists with the same version numbers.
pub trait JournalStore: Send {
    /// Where the journal is, in words (for messages and the handover).
    fn describe(&self) -> String;
    /// What was found missing at open, in words.
    fn lost(&self) -> Option<&str>;
    /// Whether another connection committed since the last call (own
    /// commits do not count): the outbox then looks for new work.
    fn changed_elsewhere(&mut self) -> Result<bool, JournalError>;
    /// Commit a write and its steps; durable when this returns.
    fn insert(
        &mut self,
        new: NewWrite<'_>,
        effects: Vec<SourceWrite>,
        now: Timestamp,
    ) -> Result<Write, JournalError>;
    /// One write with its steps.
    fn write(&mut self, id: i64) -> Result<Option<Write>, JournalError>;
    /// The most recent writes, newest first.
    fn recent(&mut self, limit: usize) -> Result<Vec<Write>, JournalError>;
    /// Writes made since a moment, oldest first.
    fn since(&mut self, from: Timestamp) -> Result<Vec<Write>, JournalError>;
    /// Steps still to deliver, oldest first; unreadable ones are marked so
    /// and left out.
    fn pending(&mut self) -> Result<Vec<Step>, JournalError>;
    /// Take a pending step for delivery unless another owner's lease is live.
    fn claim(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Claim, JournalError>;
    /// Extend a held lease; `false` if the step is no longer this owner's.
    fn renew(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, JournalError>;
    /// Record how a claimed step ended; only the lease's holder can.
    fn settle(
        &mut self,
        step: i64,
        owner: &Owner,
        outcome: &Settle,
        now: Timestamp,
    ) -> Result<bool, JournalError>;
    /// Withdraw a write's undelivered steps.
    fn cancel(&mut self, write: i64) -> Result<usize, JournalError>;
    /// Say what this cockpit (`owner`, used by `who`) has open, or that
    /// it has nothing open; each call is also its heartbeat. Only a team
    /// store keeps presence: a local journal has no teammates.
    fn announce(
        &mut self,
        _owner: &Owner,
        _who: &str,
        _what: Option<(&Target, Doing)>,
        _now: Timestamp,
    ) -> Result<(), JournalError> {
        Ok(())
    }
    /// What the other cockpits have open, from heartbeats since `since`.
    fn presence(
        &mut self,
        _owner: &Owner,
        _since: Timestamp,
    ) -> Result<Vec<Presence>, JournalError> {
        Ok(Vec::new())
    }
    /// Record a step's state outside the claim protocol (tests, repairs).
    fn set_state(
        &mut self,
        step: i64,
        state: StepState,
        error: Option<&str>,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), JournalError>;
}

/// The journal the cockpit opened: SQLite by default, PostgreSQL in team
/// mode. Every write it inserts records `author`.
pub struct Journal {
    store: Box<dyn JournalStore>,
    author: Option<String>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("store", &self.store.describe())
            .field("author", &self.author)
            .finish()
    }
}

impl Journal {
    /// Open (creating if needed) the SQLite journal at `path`, its schema
    /// brought up to date.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        Ok(Self::from_store(Box::new(sqlite::SqliteJournal::open(
            path,
        )?)))
    }

    /// Connect to a team's PostgreSQL journal.
    pub fn connect(target: &TeamTarget) -> Result<Self, JournalError> {
        Ok(Self::from_store(Box::new(postgres::PgJournal::connect(
            target,
        )?)))
    }

    /// A journal over any backend.
    #[must_use]
    pub fn from_store(store: Box<dyn JournalStore>) -> Self {
        Self {
            store,
            author: None,
        }
    }

    /// Record `author` on every write inserted from now on.
    #[must_use]
    pub fn with_author(mut self, author: Option<String>) -> Self {
        self.author = author;
        self
    }

    /// Where the journal is, in words.
    #[must_use]
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// What was found missing at open, in words: `Some` when the database
    /// lost commits while writes were pending.
    #[must_use]
    pub fn lost(&self) -> Option<&str> {
        self.store.lost()
    }

    /// Whether another connection (another process or machine) committed
    /// since the last call.
    pub fn changed_elsewhere(&mut self) -> Result<bool, JournalError> {
        self.store.changed_elsewhere()
    }

    /// Commit a write and its steps, with this journal's author; returns it
    /// as stored. Durable when this returns.
    /// Announce what this cockpit has open, as `[ui] me` (nothing
    /// without a name: presence is for telling people apart).
    pub fn announce(
        &mut self,
        owner: &Owner,
        what: Option<(&Target, Doing)>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        match &self.author {
            Some(who) => self.store.announce(owner, who, what, now),
            None => Ok(()),
        }
    }

    /// What the other cockpits have open, from heartbeats since `since`.
    pub fn presence(
        &mut self,
        owner: &Owner,
        since: Timestamp,
    ) -> Result<Vec<Presence>, JournalError> {
        self.store.presence(owner, since)
    }

    pub fn insert(
        &mut self,
        kind: WriteKind,
        target: &Target,
        text: &str,
        effects: Vec<SourceWrite>,
        now: Timestamp,
    ) -> Result<Write, JournalError> {
        crate::core::writes::check_text(text)?;
        let new = NewWrite {
            kind,
            target,
            text,
            author: self.author.as_deref(),
        };
        self.store.insert(new, effects, now)
    }

    /// One write with its steps (a damaged step shows as unreadable).
    pub fn write(&mut self, id: i64) -> Result<Option<Write>, JournalError> {
        self.store.write(id)
    }

    /// The most recent writes, newest first (for the journal view).
    pub fn recent(&mut self, limit: usize) -> Result<Vec<Write>, JournalError> {
        self.store.recent(limit)
    }

    /// Writes made since a moment, oldest first (for the handover).
    pub fn since(&mut self, from: Timestamp) -> Result<Vec<Write>, JournalError> {
        self.store.since(from)
    }

    /// Steps still to deliver, oldest first. A step whose row cannot be
    /// read is marked `unreadable` with the reason and left out.
    pub fn pending(&mut self) -> Result<Vec<Step>, JournalError> {
        self.store.pending()
    }

    /// Take a pending step for delivery: it becomes `sending`, owned by
    /// `owner` until `now + lease`, unless another owner's lease is still
    /// live. Of deliverers racing for the step exactly one wins. A step
    /// taken over from `sending` or from `unknown` must be checked first.
    pub fn claim(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Claim, JournalError> {
        self.store.claim(step, owner, lease, now)
    }

    /// Extend a held lease right before a request goes out; `false` if the
    /// step is no longer this owner's, in which case nothing may be sent.
    pub fn renew(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        self.store.renew(step, owner, lease, now)
    }

    /// Record how a claimed step ended and release it. Only the lease's
    /// holder can: `false` if the step was taken over meanwhile.
    pub fn settle(
        &mut self,
        step: i64,
        owner: &Owner,
        outcome: &Settle,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        self.store.settle(step, owner, outcome, now)
    }

    /// Withdraw a write's undelivered steps (queued, failed or unreadable);
    /// refused while any step is being sent or may have arrived. Returns
    /// how many were cancelled.
    pub fn cancel(&mut self, write: i64) -> Result<usize, JournalError> {
        self.store.cancel(write)
    }

    /// Record a step's new state outside the claim protocol (tests, and
    /// tools that repair a journal).
    pub fn set_state(
        &mut self,
        step: i64,
        state: StepState,
        error: Option<&str>,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        self.store.set_state(step, state, error, retry_at, now)
    }
}

/// Pending: what a deliverer may still pick up. Anything not final is
/// pending, so a row with a damaged state is found and marked unreadable
/// rather than skipped forever. The same condition in both backends.
pub(crate) const PENDING: &str =
    "state NOT IN ('sent', 'failed', 'local', 'unreadable', 'cancelled')";

/// A step's columns as read, before they are trusted.
#[derive(Debug, Default)]
pub(crate) struct RawStep {
    pub id: i64,
    pub write_id: i64,
    /// `None` when the column is not text.
    pub effect: Option<String>,
    pub item: Option<String>,
    pub marker: Option<String>,
    pub state: Option<String>,
    pub attempts: Option<i64>,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub check_first: Option<bool>,
    pub owner: Option<String>,
    pub lease_until: Option<Timestamp>,
}

/// A step from its columns, never failing: what cannot be read makes the
/// step `unreadable` with the reason, so one damaged row blocks only itself.
pub(crate) fn step_from_raw(r: RawStep) -> Step {
    let mut problems: Vec<String> = Vec::new();
    let effect = match r.effect.as_deref().map(serde_json::from_str::<SourceWrite>) {
        Some(Ok(effect)) => Some(effect),
        Some(Err(e)) => {
            problems.push(format!("its effect does not parse: {e}"));
            None
        }
        None => {
            problems.push("its effect is not text".into());
            None
        }
    };
    let state = match r.state.as_deref().map(str::parse::<StepState>) {
        Some(Ok(state)) => Some(state),
        _ => {
            problems.push(format!(
                "its state is {:?}",
                r.state.clone().unwrap_or_default()
            ));
            None
        }
    };
    if r.next_attempt_at.is_none() {
        problems.push("its retry time is not a time".into());
    }
    let mut step = Step {
        id: r.id,
        write_id: r.write_id,
        effect: effect.unwrap_or(SourceWrite::Local),
        item: r.item.unwrap_or_default(),
        marker: r.marker.unwrap_or_default(),
        state: state.unwrap_or(StepState::Unreadable),
        attempts: r
            .attempts
            .and_then(|a| u32::try_from(a).ok())
            .unwrap_or(u32::MAX),
        next_attempt_at: r.next_attempt_at.unwrap_or(Timestamp::UNIX_EPOCH),
        last_error: r.last_error,
        sent_at: r.sent_at,
        check_first: r.check_first.unwrap_or(true),
        owner: r.owner,
        lease_until: r.lease_until,
    };
    if !problems.is_empty() {
        let reason = problems.join("; ");
        step.effect = SourceWrite::Unreadable {
            reason: reason.clone(),
        };
        // A settled step (sent, cancelled…) keeps its state: only what is
        // still to deliver is stopped.
        if state.is_none_or(StepState::is_pending) {
            step.state = StepState::Unreadable;
        }
        step.last_error = Some(format!("unreadable: {reason}"));
    }
    step
}

/// What a claim does with a pending step it found, in both backends: held
/// by someone else's live lease, or taken (with whether to check first).
pub(crate) fn claim_decision(found: &Step, owner: &Owner, now: Timestamp) -> Option<Claim> {
    if found.state == StepState::Unreadable {
        return Some(Claim::Settled);
    }
    if let (Some(holder), Some(until)) = (&found.owner, found.lease_until)
        && found.state == StepState::Sending
        && until > now
        && holder != owner.as_str()
    {
        return Some(Claim::Held {
            owner: holder.clone(),
            until,
        });
    }
    None
}

/// The claimed step as the deliverer gets it.
pub(crate) fn claimed(found: Step, owner: &Owner, until: Timestamp) -> (Claim, bool) {
    let check_first =
        found.check_first || matches!(found.state, StepState::Sending | StepState::Unknown);
    let step = Step {
        state: StepState::Sending,
        owner: Some(owner.as_str().to_owned()),
        lease_until: Some(until),
        check_first,
        attempts: found.attempts.saturating_add(1),
        ..found
    };
    (Claim::Claimed(Box::new(step)), check_first)
}
