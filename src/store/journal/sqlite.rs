//! The journal in the cockpit's own SQLite file (`cockpit.db`, WAL): the
//! default backend. Claims are serialised by SQLite's write lock (an
//! `IMMEDIATE` transaction); a small marker file beside the database
//! mirrors a change counter and the pending writes, so that a database that
//! comes back older than the marker (its WAL deleted, an old copy restored)
//! is noticed: the journal says what is missing and checks every pending
//! step first.

use std::path::{Path, PathBuf};

use crate::core::writes::{SourceWrite, Step, StepState, Target, Write};
use jiff::{SignedDuration, Timestamp};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::{
    Claim, JournalError, JournalStore, NewWrite, Owner, PENDING, RawStep, Settle, claim_decision,
    claimed, new_step_row, step_from_raw,
};

// The journal's tables are migrations 2, 4 and 5 of the project's one
// database (`crate::store`, `cockpit.db`), next to the health history.

/// The file beside the database that says how far the journal got and what
/// was pending, so its loss can be told apart from "nothing pending".
#[derive(Debug, Default, Serialize, Deserialize)]
struct PendingMarker {
    seq: i64,
    pending_writes: Vec<i64>,
}

/// The SQLite journal.
pub struct SqliteJournal {
    conn: Connection,
    path: PathBuf,
    marker: PathBuf,
    /// What was found missing at open, in words (see [`SqliteJournal::lost`]).
    lost: Option<String>,
    /// `PRAGMA data_version` when last asked: changes by other connections.
    data_version: i64,
}

const STEP_COLUMNS: &str = "id, write_id, effect, item, marker, state, attempts, next_attempt_at, last_error, sent_at, check_first, owner, lease_until";

impl SqliteJournal {
    /// Open (creating if needed) the journal at `path` and bring its schema
    /// up to date. If the database is behind its pending marker, [`lost`]
    /// says so and every pending step is checked before it is sent again.
    ///
    /// [`lost`]: SqliteJournal::lost
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let open_error = |source| JournalError::Open {
            path: path.display().to_string(),
            source,
        };
        // Full durability: a write is committed before anything is sent.
        let mut conn = crate::store::db::connect(path, crate::store::db::Durability::Full)
            .map_err(open_error)?;
        crate::store::db::migrate(&mut conn, path)
            .map_err(|e| JournalError::Invalid(e.to_string()))?;
        let mut marker = path.as_os_str().to_owned();
        marker.push(".pending");
        let mut journal = Self {
            conn,
            path: path.to_owned(),
            marker: PathBuf::from(marker),
            lost: None,
            data_version: 0,
        };
        journal.lost = journal.compare_marker()?;
        journal.data_version = journal.read_data_version()?;
        Ok(journal)
    }

    /// What the pending marker knew that the database does not, in words:
    /// `Some` when the database lost commits while writes were pending.
    #[must_use]
    pub fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }

    fn seq(&self) -> Result<i64, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT seq FROM journal_seq WHERE id = 1", [], |r| r.get(0))?)
    }

    fn compare_marker(&mut self) -> Result<Option<String>, JournalError> {
        let Ok(text) = std::fs::read_to_string(&self.marker) else {
            return Ok(None);
        };
        let Ok(known) = serde_json::from_str::<PendingMarker>(&text) else {
            return Ok(Some(format!(
                "{} is damaged; it cannot say whether writes were lost",
                self.marker.display()
            )));
        };
        let seq = self.seq()?;
        if seq >= known.seq {
            return Ok(None);
        }
        let mut missing = Vec::new();
        for id in &known.pending_writes {
            let exists: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM writes WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !exists {
                missing.push(id.to_string());
            }
        }
        // Whatever is pending may have been delivered in the lost changes:
        // ask the source before sending any of it again.
        self.conn.execute(
            &format!("UPDATE steps SET check_first = 1 WHERE {PENDING}"),
            [],
        )?;
        // From here on the database is the truth again.
        self.conn
            .execute("UPDATE journal_seq SET seq = ?1 WHERE id = 1", [known.seq])?;
        self.write_marker()?;
        let what = if missing.is_empty() {
            String::new()
        } else {
            format!(
                "; {} pending write(s) are gone: {}",
                missing.len(),
                missing.join(", ")
            )
        };
        Ok(Some(format!(
            "the journal database is older than its last recorded change ({} of {}): it or its WAL was lost or restored from a copy{what}. Pending steps will be checked on their source before any is sent again.",
            seq, known.seq
        )))
    }

    /// Rewrite the marker from the database (after a commit). Written
    /// whole and renamed into place, so it is never half a file.
    fn write_marker(&self) -> Result<(), JournalError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT DISTINCT write_id FROM steps WHERE {PENDING} ORDER BY write_id"
        ))?;
        let pending_writes: Vec<i64> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let marker = PendingMarker {
            seq: self.seq()?,
            pending_writes,
        };
        let text = serde_json::to_string(&marker).unwrap_or_default();
        let mut tmp = self.marker.as_os_str().to_owned();
        tmp.push(format!(".{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        if let Err(e) =
            std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.marker))
        {
            // The writes themselves are safe; only loss detection suffers.
            tracing::warn!(path = %self.marker.display(), "cannot write the pending marker: {e}");
        }
        Ok(())
    }

    /// Whether another connection (another process) committed to the
    /// database since the last call: the outbox then looks for new work.
    pub fn changed_elsewhere(&mut self) -> Result<bool, JournalError> {
        let now = self.read_data_version()?;
        let changed = now != self.data_version;
        self.data_version = now;
        Ok(changed)
    }

    fn read_data_version(&self) -> Result<i64, JournalError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Commit a write and its steps; returns it as stored. Durable when
    /// this returns.
    pub fn insert(
        &mut self,
        new: NewWrite<'_>,
        effects: Vec<SourceWrite>,
        now: Timestamp,
    ) -> Result<Write, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO writes (created_at, kind, target, text, author) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                now.to_string(),
                new.kind.to_string(),
                new.target.to_string(),
                new.text,
                new.author
            ],
        )?;
        let write_id = tx.last_insert_rowid();
        for effect in effects {
            let [json, item, marker, state] = new_step_row(&effect)?;
            tx.execute(
                "INSERT INTO steps (write_id, effect, item, marker, state, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![write_id, json, item, marker, state, now.to_string()],
            )?;
        }
        bump(&tx)?;
        tx.commit()?;
        self.write_marker()?;
        self.write(write_id)?
            .ok_or_else(|| JournalError::Invalid(format!("write {write_id} vanished")))
    }

    /// One write with its steps (a damaged step shows as unreadable).
    pub fn write(&self, id: i64) -> Result<Option<Write>, JournalError> {
        let head = self
            .conn
            .query_row(
                "SELECT id, created_at, kind, target, text, author FROM writes WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        text(r, 1),
                        text(r, 2),
                        text(r, 3),
                        text(r, 4),
                        text(r, 5),
                    ))
                },
            )
            .optional()?;
        let Some((id, created_at, kind, target, text, author)) = head else {
            return Ok(None);
        };
        let corrupt = |message: String| JournalError::Corrupt { id, message };
        let read = |field: &str, value: Option<String>| {
            value.ok_or_else(|| corrupt(format!("its {field} is not text")))
        };
        let created_at = read("time", created_at)?;
        let kind = read("kind", kind)?;
        let target = read("target", target)?;
        Ok(Some(Write {
            id,
            created_at: created_at
                .parse()
                .map_err(|e: jiff::Error| corrupt(e.to_string()))?,
            kind: kind
                .parse()
                .map_err(|_| corrupt(format!("kind {kind:?}")))?,
            target: Target::parse(&target).map_err(corrupt)?,
            text: read("text", text)?,
            author,
            steps: self.steps_where("write_id = ?1", [id])?,
        }))
    }

    /// The most recent writes, newest first (for the journal view). A write
    /// whose own row is damaged is left out with a warning; its steps still
    /// show as unreadable through [`Journal::pending`].
    pub fn recent(&self, limit: usize) -> Result<Vec<Write>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM writes ORDER BY id DESC LIMIT ?1")?;
        let ids: Vec<i64> = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(self.readable(ids))
    }

    /// Writes made since a moment, oldest first (for the handover).
    pub fn since(&self, from: Timestamp) -> Result<Vec<Write>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM writes WHERE created_at >= ?1 ORDER BY id")?;
        let ids: Vec<i64> = stmt
            .query_map([from.to_string()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(self.readable(ids))
    }

    fn readable(&self, ids: Vec<i64>) -> Vec<Write> {
        ids.into_iter()
            .filter_map(|id| match self.write(id) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!("{e}");
                    None
                }
            })
            .collect()
    }

    /// Steps still to deliver, oldest first. A step whose row cannot be
    /// read is marked `unreadable` with the reason (so it blocks nothing
    /// and shows in the journal view) and left out.
    pub fn pending(&mut self) -> Result<Vec<Step>, JournalError> {
        let steps = self.steps_where(PENDING, [])?;
        let (bad, good): (Vec<Step>, Vec<Step>) = steps
            .into_iter()
            .partition(|s| s.state == StepState::Unreadable);
        if !bad.is_empty() {
            let tx = self.conn.transaction()?;
            for step in &bad {
                tracing::warn!(step = step.id, "journal: {}", step.effect.describe());
                tx.execute(
                    "UPDATE steps SET state = 'unreadable', last_error = ?2, owner = NULL, lease_until = NULL WHERE id = ?1",
                    params![step.id, step.last_error],
                )?;
            }
            bump(&tx)?;
            tx.commit()?;
            self.write_marker()?;
        }
        Ok(good)
    }

    fn steps_where<P: rusqlite::Params>(
        &self,
        condition: &str,
        params: P,
    ) -> Result<Vec<Step>, JournalError> {
        let sql = format!("SELECT {STEP_COLUMNS} FROM steps WHERE {condition} ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params, |r| Ok(step_from_row(r)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Take a pending step for delivery: it becomes `sending`, owned by
    /// `owner` until `now + lease`, unless another owner's lease is still
    /// live. One write transaction, so of deliverers racing for the step
    /// exactly one wins. A step taken over from `sending` (its owner died
    /// or overran its lease) or from `unknown` must be checked first.
    pub fn claim(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Claim, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {STEP_COLUMNS} FROM steps WHERE id = ?1 AND {PENDING}"
            ))?;
            stmt.query_row([step], |r| Ok(step_from_row(r)))
                .optional()?
        };
        let Some(found) = found else {
            return Ok(Claim::Settled);
        };
        if let Some(answer) = claim_decision(&found, owner, now) {
            return Ok(answer);
        }
        let until = now + lease;
        let (claim, check_first) = claimed(found, owner, until);
        tx.execute(
            "UPDATE steps SET state = 'sending', owner = ?2, lease_until = ?3, check_first = ?4, attempts = attempts + 1 WHERE id = ?1",
            params![step, owner.as_str(), until.to_string(), check_first],
        )?;
        bump(&tx)?;
        tx.commit()?;
        Ok(claim)
    }

    /// Extend a held lease right before a request goes out; `false` if the
    /// step is no longer this owner's (the lease ran out and another
    /// deliverer took it), in which case nothing may be sent.
    pub fn renew(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        let changed = self.conn.execute(
            "UPDATE steps SET lease_until = ?3 WHERE id = ?1 AND owner = ?2 AND state = 'sending' AND lease_until > ?4",
            params![step, owner.as_str(), (now + lease).to_string(), now.to_string()],
        )?;
        Ok(changed == 1)
    }

    /// Record how a claimed step ended and release it. Only the lease's
    /// holder can: `false` if the step was taken over meanwhile (then the
    /// new holder's record stands; this attempt stays `unknown` to it).
    pub fn settle(
        &mut self,
        step: i64,
        owner: &Owner,
        outcome: &Settle,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        let sent_at = (outcome.state == StepState::Sent).then(|| now.to_string());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE steps SET state = ?3, last_error = COALESCE(?4, last_error),
                 next_attempt_at = COALESCE(?5, next_attempt_at), sent_at = COALESCE(?6, sent_at),
                 check_first = ?7, owner = NULL, lease_until = NULL
             WHERE id = ?1 AND owner = ?2 AND state = 'sending'",
            params![
                step,
                owner.as_str(),
                outcome.state.to_string(),
                outcome.error,
                outcome.retry_at.map(|t| t.to_string()),
                sent_at,
                outcome.check_first
            ],
        )?;
        bump(&tx)?;
        tx.commit()?;
        self.write_marker()?;
        Ok(changed == 1)
    }

    /// Withdraw a write's undelivered steps (queued, failed or unreadable);
    /// refused while any step is being sent or may have arrived, since a
    /// cancelled step is never checked again. Returns how many were
    /// cancelled.
    pub fn cancel(&mut self, write: i64) -> Result<usize, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let busy: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM steps WHERE write_id = ?1 AND state IN ('sending', 'unknown'))",
            [write],
            |r| r.get(0),
        )?;
        if busy {
            return Err(JournalError::Invalid(format!(
                "write {write} is being sent or may already have arrived; it cannot be cancelled"
            )));
        }
        let n = tx.execute(
            "UPDATE steps SET state = 'cancelled' WHERE write_id = ?1 AND state IN ('queued', 'failed', 'unreadable')",
            [write],
        )?;
        bump(&tx)?;
        tx.commit()?;
        self.write_marker()?;
        Ok(n)
    }

    /// Record a step's new state outside the claim protocol (tests, and
    /// tools that repair a journal). `sending` or `unknown` make the step
    /// check-first; nobody owns it afterwards.
    pub fn set_state(
        &mut self,
        step: i64,
        state: StepState,
        error: Option<&str>,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        let attempts_delta = i64::from(state == StepState::Sending);
        let sent_at = (state == StepState::Sent).then(|| now.to_string());
        let uncertain = matches!(state, StepState::Sending | StepState::Unknown);
        self.conn.execute(
            "UPDATE steps SET state = ?2, attempts = attempts + ?3, last_error = COALESCE(?4, last_error),
                 next_attempt_at = COALESCE(?5, next_attempt_at), sent_at = COALESCE(?6, sent_at),
                 check_first = check_first OR ?7, owner = NULL, lease_until = NULL
             WHERE id = ?1",
            params![step, state.to_string(), attempts_delta, error, retry_at.map(|t| t.to_string()), sent_at, uncertain],
        )?;
        bump(&self.conn)?;
        self.write_marker()?;
        Ok(())
    }
}

/// Count a change (mirrored by the pending marker).
fn bump(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("UPDATE journal_seq SET seq = seq + 1 WHERE id = 1", [])?;
    Ok(())
}

/// A column as text, `None` if it is not text (a damaged row).
fn text(r: &Row<'_>, i: usize) -> Option<String> {
    match r.get_ref(i) {
        Ok(ValueRef::Text(t)) => std::str::from_utf8(t).ok().map(str::to_owned),
        _ => None,
    }
}

/// A step from its row, never failing (see [`step_from_raw`]).
fn step_from_row(r: &Row<'_>) -> Step {
    let timestamp = |i: usize| text(r, i).and_then(|t| t.parse().ok());
    step_from_raw(RawStep {
        id: r.get::<_, i64>(0).unwrap_or_default(),
        write_id: r.get::<_, i64>(1).unwrap_or_default(),
        effect: text(r, 2),
        item: text(r, 3),
        marker: text(r, 4),
        state: text(r, 5),
        attempts: r.get::<_, i64>(6).ok(),
        next_attempt_at: timestamp(7),
        last_error: text(r, 8),
        sent_at: timestamp(9),
        check_first: r.get::<_, bool>(10).ok(),
        owner: text(r, 11),
        lease_until: timestamp(12),
    })
}

impl JournalStore for SqliteJournal {
    fn describe(&self) -> String {
        format!("the journal at {}", self.path.display())
    }

    fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }

    fn changed_elsewhere(&mut self) -> Result<bool, JournalError> {
        Self::changed_elsewhere(self)
    }

    fn insert(
        &mut self,
        new: NewWrite<'_>,
        effects: Vec<SourceWrite>,
        now: Timestamp,
    ) -> Result<Write, JournalError> {
        Self::insert(self, new, effects, now)
    }

    fn write(&mut self, id: i64) -> Result<Option<Write>, JournalError> {
        Self::write(self, id)
    }

    fn recent(&mut self, limit: usize) -> Result<Vec<Write>, JournalError> {
        Self::recent(self, limit)
    }

    fn since(&mut self, from: Timestamp) -> Result<Vec<Write>, JournalError> {
        Self::since(self, from)
    }

    fn pending(&mut self) -> Result<Vec<Step>, JournalError> {
        Self::pending(self)
    }

    fn claim(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Claim, JournalError> {
        Self::claim(self, step, owner, lease, now)
    }

    fn renew(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        Self::renew(self, step, owner, lease, now)
    }

    fn settle(
        &mut self,
        step: i64,
        owner: &Owner,
        outcome: &Settle,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        Self::settle(self, step, owner, outcome, now)
    }

    fn cancel(&mut self, write: i64) -> Result<usize, JournalError> {
        Self::cancel(self, write)
    }

    fn set_state(
        &mut self,
        step: i64,
        state: StepState,
        error: Option<&str>,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        Self::set_state(self, step, state, error, retry_at, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::writes::{MAX_NOTE_BYTES, WriteKind};
    use crate::store::journal::Journal;

    fn now() -> Timestamp {
        "2026-11-21T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn targets_parse_and_print() {
        assert_eq!(
            Target::parse("inquiry:123").unwrap(),
            Target::Inquiry("123".into())
        );
        assert_eq!(
            Target::parse("incident:PABC").unwrap().to_string(),
            "incident:PABC"
        );
        assert!(
            Target::parse("ticket:1")
                .unwrap_err()
                .contains("not one of")
        );
        assert!(Target::parse("inquiry:").unwrap_err().contains("empty"));
        assert!(Target::parse("123").unwrap_err().contains("KIND:ID"));
    }

    #[test]
    fn writes_survive_reopen_with_text_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        let text = "障害の影響を確認中です 🙏\nline two";
        let id = {
            let mut j = Journal::open(&path).unwrap();
            let effects = vec![SourceWrite::DeskNote {
                ticket: "7".into(),
                body: text.into(),
                public: false,
            }];
            j.insert(
                WriteKind::Annotate,
                &Target::Inquiry("7".into()),
                text,
                effects,
                now(),
            )
            .unwrap()
            .id
        };
        let mut j = Journal::open(&path).unwrap();
        let w = j.write(id).unwrap().unwrap();
        assert_eq!(w.text, text);
        assert_eq!(w.steps.len(), 1);
        assert_eq!(w.steps[0].state, StepState::Queued);
        assert!(w.steps[0].marker.starts_with("cc-"));
        assert_eq!(j.pending().unwrap().len(), 1);
    }

    #[test]
    fn empty_and_oversized_notes_are_refused_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let target = Target::Customer("c1".into());
        let err = j
            .insert(
                WriteKind::Annotate,
                &target,
                "  \n",
                vec![SourceWrite::Local],
                now(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let big = "x".repeat(MAX_NOTE_BYTES + 1);
        let err = j
            .insert(
                WriteKind::Annotate,
                &target,
                &big,
                vec![SourceWrite::Local],
                now(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("16384 bytes"), "{err}");
        assert!(j.recent(10).unwrap().is_empty(), "nothing was written");
    }

    #[test]
    fn step_states_are_tracked_and_local_writes_need_no_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let local = j
            .insert(
                WriteKind::Annotate,
                &Target::Customer("c1".into()),
                "call booked",
                vec![SourceWrite::Local],
                now(),
            )
            .unwrap();
        assert_eq!(local.state(), StepState::Local);
        assert!(j.pending().unwrap().is_empty());

        let w = j
            .insert(
                WriteKind::Escalate,
                &Target::Inquiry("9".into()),
                "escalating",
                vec![
                    SourceWrite::DeskTags {
                        ticket: "9".into(),
                        tags: vec!["escalated".into()],
                    },
                    SourceWrite::DeskPriority {
                        ticket: "9".into(),
                        priority: "urgent".into(),
                    },
                ],
                now(),
            )
            .unwrap();
        let (a, b) = (w.steps[0].id, w.steps[1].id);
        j.set_state(a, StepState::Sending, None, None, now())
            .unwrap();
        j.set_state(a, StepState::Sent, None, None, now()).unwrap();
        j.set_state(b, StepState::Failed, Some("HTTP 422"), None, now())
            .unwrap();
        let w = j.write(w.id).unwrap().unwrap();
        assert_eq!(w.steps[0].state, StepState::Sent);
        assert_eq!(w.steps[0].attempts, 1);
        assert!(w.steps[0].sent_at.is_some());
        assert_eq!(w.steps[1].last_error.as_deref(), Some("HTTP 422"));
        assert_eq!(w.state(), StepState::Failed);
    }

    #[test]
    fn a_newer_schema_is_refused_rather_than_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        drop(Journal::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Journal::open(&path).err().unwrap();
        assert!(
            err.to_string()
                .contains("newer than this cre-cockpit knows"),
            "{err}"
        );
    }

    fn note(j: &mut Journal, ticket: &str) -> Step {
        let effects = vec![SourceWrite::DeskNote {
            ticket: ticket.into(),
            body: "checking".into(),
            public: false,
        }];
        j.insert(
            WriteKind::Annotate,
            &Target::Inquiry(ticket.into()),
            "checking",
            effects,
            now(),
        )
        .unwrap()
        .steps
        .remove(0)
    }

    const LEASE: SignedDuration = SignedDuration::from_secs(60);

    #[test]
    fn one_claim_wins_across_connections_until_the_lease_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut a = Journal::open(&path).unwrap();
        let mut b = Journal::open(&path).unwrap();
        let step = note(&mut a, "7");
        let (alice, bob) = (Owner::this_process(), Owner::this_process());
        assert_ne!(alice, bob, "two deliverers of one process are two owners");

        let Claim::Claimed(mine) = a.claim(step.id, &alice, LEASE, now()).unwrap() else {
            panic!("the first claim wins")
        };
        assert!(!mine.check_first, "a fresh step is sent without a check");
        assert!(matches!(
            b.claim(step.id, &bob, LEASE, now()).unwrap(),
            Claim::Held { .. }
        ));
        assert!(
            !b.settle(step.id, &bob, &sent(), now()).unwrap(),
            "only the holder records an outcome"
        );
        // Alice dies; her lease runs out; Bob takes over and must check.
        let later = now() + SignedDuration::from_secs(61);
        let Claim::Claimed(taken) = b.claim(step.id, &bob, LEASE, later).unwrap() else {
            panic!("an expired lease is taken over")
        };
        assert!(taken.check_first, "the dead owner may have sent it");
        assert!(
            !a.renew(step.id, &alice, LEASE, later).unwrap(),
            "Alice lost it"
        );
        assert!(!a.settle(step.id, &alice, &sent(), later).unwrap());
        assert!(b.settle(step.id, &bob, &sent(), later).unwrap());
        assert_eq!(
            a.claim(step.id, &alice, LEASE, later).unwrap(),
            Claim::Settled
        );
        assert!(a.pending().unwrap().is_empty());
    }

    fn sent() -> Settle {
        Settle {
            state: StepState::Sent,
            error: None,
            retry_at: None,
            check_first: false,
        }
    }

    #[test]
    fn uncertainty_sticks_until_a_settle_clears_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let step = note(&mut j, "7");
        let me = Owner::this_process();
        let Claim::Claimed(_) = j.claim(step.id, &me, LEASE, now()).unwrap() else {
            panic!()
        };
        let unknown = Settle {
            state: StepState::Unknown,
            error: Some("timed out".into()),
            retry_at: Some(now()),
            check_first: true,
        };
        assert!(j.settle(step.id, &me, &unknown, now()).unwrap());
        let Claim::Claimed(again) = j.claim(step.id, &me, LEASE, now()).unwrap() else {
            panic!()
        };
        assert!(again.check_first);
        assert_eq!(again.attempts, 2);
    }

    #[test]
    fn a_damaged_row_blocks_only_itself_and_shows_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut j = Journal::open(&path).unwrap();
        let bad = note(&mut j, "7");
        let good = note(&mut j, "8");
        let raw = Connection::open(&path).unwrap();
        raw.execute(
            "UPDATE steps SET effect = '{\"effect\":\"desk_note\",' WHERE id = ?1",
            [bad.id],
        )
        .unwrap();
        let pending = j.pending().unwrap();
        assert_eq!(
            pending.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![good.id]
        );
        let shown = j.write(bad.write_id).unwrap().unwrap();
        assert_eq!(shown.steps[0].state, StepState::Unreadable);
        assert!(
            shown.steps[0]
                .last_error
                .as_deref()
                .unwrap()
                .contains("does not parse"),
            "{:?}",
            shown.steps[0].last_error
        );
        assert_eq!(shown.state(), StepState::Unreadable);
        assert!(shown.cancellable());
        assert_eq!(j.cancel(bad.write_id).unwrap(), 1);
        assert_eq!(
            j.write(bad.write_id).unwrap().unwrap().state(),
            StepState::Cancelled
        );
    }

    #[test]
    fn a_write_being_sent_cannot_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let step = note(&mut j, "7");
        let me = Owner::this_process();
        j.claim(step.id, &me, LEASE, now()).unwrap();
        let err = j.cancel(step.write_id).unwrap_err();
        assert!(err.to_string().contains("cannot be cancelled"), "{err}");
        assert!(!j.write(step.write_id).unwrap().unwrap().cancellable());
    }

    #[test]
    fn a_lost_wal_is_reported_and_pending_steps_are_checked_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cockpit.db");
        let backup = dir.path().join("old.db");
        {
            let mut j = Journal::open(&path).unwrap();
            note(&mut j, "7");
            Connection::open(&path)
                .unwrap()
                .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
                .unwrap();
            note(&mut j, "8");
            assert!(j.lost().is_none());
        }
        // The database is replaced by the older copy; the marker stays.
        std::fs::copy(&backup, &path).unwrap();
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        let mut j = Journal::open(&path).unwrap();
        let lost = j.lost().expect("the loss is noticed").to_owned();
        assert!(lost.contains("1 pending write(s) are gone: 2"), "{lost}");
        assert!(j.pending().unwrap().iter().all(|s| s.check_first));
        drop(j);
        assert!(
            Journal::open(&path).unwrap().lost().is_none(),
            "said once; the database is the truth again"
        );
    }

    #[test]
    fn commits_by_another_connection_are_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut tui = Journal::open(&path).unwrap();
        let mut cli = Journal::open(&path).unwrap();
        assert!(!tui.changed_elsewhere().unwrap());
        note(&mut tui, "7");
        assert!(!tui.changed_elsewhere().unwrap(), "its own commit");
        note(&mut cli, "8");
        assert!(tui.changed_elsewhere().unwrap());
        assert!(!tui.changed_elsewhere().unwrap());
    }
}
