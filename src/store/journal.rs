//! The write journal: every annotation and escalation is committed here
//! (SQLite, WAL) before the UI says it is saved, and delivered from here by
//! the outbox (`crate::app::outbox`). A write is one or more *steps* — a desk
//! note, a tag change, a page — each delivered and tracked on its own.
//!
//! Exactly once: a step whose outcome is unknown (the connection dropped
//! after the request went out, or the process died mid-send) is marked
//! `unknown`, and the outbox checks the source for the step's marker before
//! sending it again.

use std::path::Path;

use crate::core::writes::{
    InvalidText, SourceWrite, Step, StepState, Target, Write, WriteKind, check_text,
};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

// The journal's tables are migration 2 of the project's one database
// (`crate::store`, `cockpit.db`), next to the health history.

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("journal: stored step {id} is unreadable: {message}")]
    Corrupt { id: i64, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// A fresh random marker, e.g. `cc-5f3a9b1c2d4e6f70`.
fn new_marker() -> String {
    format!("cc-{:016x}", rand::random::<u64>())
}

/// The journal database.
pub struct Journal {
    conn: Connection,
}

impl From<InvalidText> for JournalError {
    fn from(e: InvalidText) -> Self {
        Self::Invalid(e.0)
    }
}

impl Journal {
    /// Open (creating if needed) the journal at `path` and bring its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let open_error = |source| JournalError::Open {
            path: path.display().to_string(),
            source,
        };
        // Full durability: a write is committed before anything is sent.
        let mut conn = super::db::connect(path, super::db::Durability::Full).map_err(open_error)?;
        super::db::migrate(&mut conn, path).map_err(|e| JournalError::Invalid(e.to_string()))?;
        Ok(Self { conn })
    }

    /// Commit a write and its steps; returns it as stored. Durable when
    /// this returns.
    pub fn insert(
        &mut self,
        kind: WriteKind,
        target: &Target,
        text: &str,
        effects: Vec<SourceWrite>,
        now: Timestamp,
    ) -> Result<Write, JournalError> {
        check_text(text)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO writes (created_at, kind, target, text) VALUES (?1, ?2, ?3, ?4)",
            params![now.to_string(), kind.to_string(), target.to_string(), text],
        )?;
        let write_id = tx.last_insert_rowid();
        for effect in effects {
            let state = if effect == SourceWrite::Local {
                StepState::Local
            } else {
                StepState::Queued
            };
            let json =
                serde_json::to_string(&effect).map_err(|e| JournalError::Invalid(e.to_string()))?;
            tx.execute(
                "INSERT INTO steps (write_id, effect, item, marker, state, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![write_id, json, effect.item(), new_marker(), state.to_string(), now.to_string()],
            )?;
        }
        tx.commit()?;
        self.write(write_id)?
            .ok_or_else(|| JournalError::Invalid(format!("write {write_id} vanished")))
    }

    /// One write with its steps.
    pub fn write(&self, id: i64) -> Result<Option<Write>, JournalError> {
        let head = self
            .conn
            .query_row(
                "SELECT id, created_at, kind, target, text FROM writes WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, created_at, kind, target, text)) = head else {
            return Ok(None);
        };
        let corrupt = |message: String| JournalError::Corrupt { id, message };
        Ok(Some(Write {
            id,
            created_at: created_at
                .parse()
                .map_err(|e: jiff::Error| corrupt(e.to_string()))?,
            kind: kind
                .parse()
                .map_err(|_| corrupt(format!("kind {kind:?}")))?,
            target: Target::parse(&target).map_err(corrupt)?,
            text,
            steps: self.steps_where("write_id = ?1", [id])?,
        }))
    }

    /// The most recent writes, newest first (for the journal view).
    pub fn recent(&self, limit: usize) -> Result<Vec<Write>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM writes ORDER BY id DESC LIMIT ?1")?;
        let ids: Vec<i64> = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .filter_map(|id| self.write(id).transpose())
            .collect()
    }

    /// Writes made since a moment, oldest first (for the handover).
    pub fn since(&self, from: Timestamp) -> Result<Vec<Write>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM writes WHERE created_at >= ?1 ORDER BY id")?;
        let ids: Vec<i64> = stmt
            .query_map([from.to_string()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .filter_map(|id| self.write(id).transpose())
            .collect()
    }

    /// Steps still to deliver, oldest first.
    pub fn pending(&self) -> Result<Vec<Step>, JournalError> {
        self.steps_where("state IN ('queued', 'sending', 'unknown')", [])
    }

    fn steps_where<P: rusqlite::Params>(
        &self,
        condition: &str,
        params: P,
    ) -> Result<Vec<Step>, JournalError> {
        let sql = format!(
            "SELECT id, write_id, effect, item, marker, state, attempts, next_attempt_at, last_error, sent_at FROM steps WHERE {condition} ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })?;
        let mut steps = Vec::new();
        for row in rows {
            let (id, write_id, effect, item, marker, state, attempts, next, last_error, sent_at) =
                row?;
            let corrupt = |message: String| JournalError::Corrupt { id, message };
            steps.push(Step {
                id,
                write_id,
                effect: serde_json::from_str(&effect).map_err(|e| corrupt(e.to_string()))?,
                item,
                marker,
                state: state
                    .parse()
                    .map_err(|_| corrupt(format!("state {state:?}")))?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                next_attempt_at: next
                    .parse()
                    .map_err(|e: jiff::Error| corrupt(e.to_string()))?,
                last_error,
                sent_at: sent_at
                    .map(|s| s.parse())
                    .transpose()
                    .map_err(|e: jiff::Error| corrupt(e.to_string()))?,
            });
        }
        Ok(steps)
    }

    /// Record a step's new state. `Sending` is committed before the request
    /// goes out, so a crash mid-send is found as `sending` on restart and
    /// treated as unknown.
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
        self.conn.execute(
            "UPDATE steps SET state = ?2, attempts = attempts + ?3, last_error = COALESCE(?4, last_error),
                 next_attempt_at = COALESCE(?5, next_attempt_at), sent_at = COALESCE(?6, sent_at)
             WHERE id = ?1",
            params![step, state.to_string(), attempts_delta, error, retry_at.map(|t| t.to_string()), sent_at],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::writes::MAX_NOTE_BYTES;

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
        let j = Journal::open(&path).unwrap();
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
}
