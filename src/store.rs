//! The cockpit's one local database (`cockpit.db` in the data dir): SQLite
//! in WAL mode with versioned schema migrations.
//!
//! It keeps what must survive a restart: daily health scores (the trend),
//! when each next action's trigger appeared (its deadline), and the major
//! incidents that touched each customer (reliability over 30 days). Other
//! features add their tables as further migrations.
//!
//! Only the app's effect runner and the CLI call into this module; the model
//! sends [`Persist`] batches out as effects and receives [`Loaded`] as a
//! message, so `update` stays free of IO.

pub mod db;
pub mod journal;
pub mod team_feed;
pub mod team_history;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::core::domain::Severity;
use crate::insight::health::{Band, DayScore};
use crate::insight::history::{IncidentSeen, Loaded, Persist, Trigger};

/// The database file inside a data directory.
pub const FILE: &str = "cockpit.db";

/// How long daily scores are kept: a year and a bit, for later reporting.
const KEEP_SCORE_DAYS: i64 = 400;
/// Days of scores loaded at start: Δ30 and its slack.
const LOAD_SCORE_DAYS: i64 = crate::insight::history::KEEP_SCORE_DAYS;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {message}")]
    Sqlite { path: String, message: String },
    #[error(
        "{path}: schema version {found} is newer than this cre-cockpit knows ({known}); upgrade cre-cockpit"
    )]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
    /// The team store (`[team] store`), with the place and the reason.
    #[error("{0}")]
    Team(String),
}

/// Where the health history is kept: the local SQLite file ([`Store`]), or
/// the team's PostgreSQL store in team mode ([`team_history::TeamHistory`]).
pub trait History: Send {
    /// Everything the model needs at start, as of `today`.
    fn load(&mut self, today: Date) -> Result<Loaded, StoreError>;
    /// Save a batch in one transaction, and forget what is too old to matter.
    fn save(&mut self, batch: &Persist, now: Timestamp) -> Result<(), StoreError>;
}

/// Today's score per customer, replaced while the day lasts (the same text
/// for both backends: `$n` parameters bind by position in SQLite too).
const PUT_SCORE: &str = "INSERT INTO health_score
       (account_id, day, score, band, coverage, f1, f2, f3, f4, f5, f6, f7, f8)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (account_id, day) DO UPDATE SET
       score = excluded.score, band = excluded.band, coverage = excluded.coverage,
       f1 = excluded.f1, f2 = excluded.f2, f3 = excluded.f3, f4 = excluded.f4,
       f5 = excluded.f5, f6 = excluded.f6, f7 = excluded.f7, f8 = excluded.f8";

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 => "SEV1",
        Severity::Sev2 => "SEV2",
        Severity::Sev3 => "SEV3",
        Severity::Sev4 => "SEV4",
    }
}

fn parse_severity(s: &str) -> Option<Severity> {
    Some(match s {
        "SEV1" => Severity::Sev1,
        "SEV2" => Severity::Sev2,
        "SEV3" => Severity::Sev3,
        "SEV4" => Severity::Sev4,
        _ => return None,
    })
}

impl Store {
    /// Open (creating if needed) the database in `dir`, migrated to the
    /// latest schema.
    pub fn open_in(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sqlite {
            path: dir.display().to_string(),
            message: format!("cannot create the data directory: {e}"),
        })?;
        Self::open(&dir.join(FILE))
    }

    /// Open (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let err = |e: rusqlite::Error| StoreError::Sqlite {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut conn = db::connect(path, db::Durability::Normal).map_err(err)?;
        db::migrate(&mut conn, path)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    /// The schema version the database is at.
    pub fn version(&self) -> Result<usize, StoreError> {
        db::user_version(&self.conn).map_err(|e| self.error(&e))
    }

    fn error(&self, e: &rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Everything the model needs at start, as of `today`.
    pub fn load(&self, today: Date) -> Result<Loaded, StoreError> {
        self.load_inner(today).map_err(|e| self.error(&e))
    }

    fn load_inner(&self, today: Date) -> rusqlite::Result<Loaded> {
        let from = today
            .checked_sub(jiff::Span::new().days(LOAD_SCORE_DAYS))
            .unwrap_or(today)
            .to_string();
        let mut loaded = Loaded::default();
        let mut stmt = self.conn.prepare(
            "SELECT account_id, day, score, band, coverage, f1, f2, f3, f4, f5, f6, f7, f8
             FROM health_score WHERE day >= ?1 ORDER BY account_id, day",
        )?;
        let rows = stmt.query_map(params![from], |r| {
            let mut sub_scores = [None; 8];
            for (i, s) in sub_scores.iter_mut().enumerate() {
                *s = r.get::<_, Option<f64>>(5 + i)?;
            }
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, f64>(4)?,
                sub_scores,
            ))
        })?;
        for row in rows {
            let (account, day, score, band, coverage, sub_scores) = row?;
            // A row this build cannot read is skipped, not fatal: the trend
            // is a convenience and must not stop the cockpit.
            let (Ok(day), Ok(band)) = (day.parse::<Date>(), band.parse::<Band>()) else {
                tracing::warn!(%account, "store: unreadable health_score row skipped");
                continue;
            };
            loaded.scores.push((
                account,
                DayScore {
                    day,
                    score,
                    band,
                    coverage,
                    sub_scores,
                },
            ));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT account_id, driver, since FROM action_trigger")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (account, driver, since) = row?;
            if let Ok(since) = since.parse::<Timestamp>() {
                loaded.triggers.push((
                    account,
                    Trigger {
                        code: driver,
                        since,
                    },
                ));
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT incident_id, account_id, severity, started_at FROM incident_seen")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (incident, account, severity, started_at) = row?;
            if let (Some(severity), Ok(started_at)) =
                (parse_severity(&severity), started_at.parse::<Timestamp>())
            {
                loaded.incidents.push(IncidentSeen {
                    incident,
                    account,
                    severity,
                    started_at,
                });
            }
        }
        Ok(loaded)
    }

    /// Save a batch in one transaction, and forget what is too old to matter.
    pub fn save(&mut self, batch: &Persist, now: Timestamp) -> Result<(), StoreError> {
        self.save_inner(batch, now).map_err(|e| self.error(&e))
    }

    fn save_inner(&mut self, batch: &Persist, now: Timestamp) -> rusqlite::Result<()> {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(PUT_SCORE)?;
            for (account, d) in &batch.scores {
                let s = &d.sub_scores;
                put.execute(params![
                    account,
                    d.day.to_string(),
                    d.score,
                    d.band.to_string(),
                    d.coverage,
                    s[0],
                    s[1],
                    s[2],
                    s[3],
                    s[4],
                    s[5],
                    s[6],
                    s[7]
                ])?;
            }
            tx.execute("DELETE FROM action_trigger", [])?;
            let mut put = tx.prepare_cached(
                "INSERT INTO action_trigger (account_id, driver, since) VALUES (?1, ?2, ?3)",
            )?;
            for (account, t) in &batch.triggers {
                put.execute(params![account, t.code, t.since.to_string()])?;
            }
            let mut put = tx.prepare_cached(
                "INSERT OR IGNORE INTO incident_seen (incident_id, account_id, severity, started_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for s in &batch.incidents {
                put.execute(params![
                    s.incident,
                    s.account,
                    severity_text(s.severity),
                    s.started_at.to_string()
                ])?;
            }
            let oldest_day = today
                .checked_sub(jiff::Span::new().days(KEEP_SCORE_DAYS))
                .unwrap_or(today)
                .to_string();
            tx.execute(
                "DELETE FROM health_score WHERE day < ?1",
                params![oldest_day],
            )?;
            let oldest_incident = (now - crate::insight::history::KEEP_EVENTS).to_string();
            tx.execute(
                "DELETE FROM incident_seen WHERE started_at < ?1",
                params![oldest_incident],
            )?;
        }
        tx.commit()
    }
}

impl History for Store {
    fn load(&mut self, today: Date) -> Result<Loaded, StoreError> {
        Self::load(self, today)
    }
    fn save(&mut self, batch: &Persist, now: Timestamp) -> Result<(), StoreError> {
        Self::save(self, batch, now)
    }
}

/// A history shared by the tasks that save to it; both backends block, so
/// callers run them on the blocking pool.
#[derive(Clone)]
pub struct Handle(std::sync::Arc<std::sync::Mutex<Box<dyn History>>>);

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("store::Handle")
    }
}

impl Handle {
    #[must_use]
    pub fn new(store: impl History + 'static) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(Box::new(store))))
    }

    /// Save a batch (blocking).
    pub fn save(&self, batch: &Persist, now: Timestamp) -> Result<(), StoreError> {
        // A panic while saving poisons the lock; the store itself is still
        // consistent (SQLite rolled the transaction back), so carry on.
        let mut store = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store.save(batch, now)
    }

    /// Load the history (blocking).
    pub fn load(&self, today: Date) -> Result<Loaded, StoreError> {
        let mut store = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store.load(today)
    }
}

/// Open the store in `dir` and read its history (or say why not). Returns
/// the handle for later saves when the store opened.
pub fn open_and_load(dir: &Path, now: Timestamp) -> (Option<Handle>, Result<Loaded, String>) {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    match Store::open_in(dir) {
        Ok(store) => {
            let handle = Handle::new(store);
            let loaded = handle.load(today).map_err(|e| e.to_string());
            (Some(handle), loaded)
        }
        Err(e) => (None, Err(e.to_string())),
    }
}

/// Connect to the team's history (team mode) and read it, or say why not;
/// as [`open_and_load`] otherwise.
pub fn open_and_load_team(
    target: &journal::TeamTarget,
    now: Timestamp,
) -> (Option<Handle>, Result<Loaded, String>) {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    match team_history::TeamHistory::connect(target) {
        Ok(history) => {
            let handle = Handle::new(history);
            let loaded = handle.load(today).map_err(|e| e.to_string());
            (Some(handle), loaded)
        }
        Err(e) => (None, Err(e.to_string())),
    }
}

/// Whether a table exists (for tests and diagnostics).
pub fn has_table(store: &Store, name: &str) -> bool {
    store
        .conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            params![name],
            |_| Ok(()),
        )
        .optional()
        .ok()
        .flatten()
        .is_some()
}

/// The journal mode in force (`wal` once opened).
pub fn journal_mode(store: &Store) -> Option<String> {
    store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .ok()
}

/// The number of schema migrations this build knows.
#[must_use]
pub fn latest_version() -> usize {
    db::MIGRATIONS.len()
}
