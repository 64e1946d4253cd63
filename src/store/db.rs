//! The one way the cockpit opens its SQLite file, and the schema it
//! migrates it to. The store and the journal share the file; they differ
//! only in how durable a commit must be.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// How durable a commit must be when it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A crash may lose the last commits, never corrupt the file: scores
    /// and trigger times are recomputed on the next poll anyway.
    Normal,
    /// Durable once the commit returns: a journalled write must never be
    /// lost or sent twice.
    Full,
}

/// How long a writer waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Open (creating if needed) the database at `path` in WAL mode: readers
/// (the TUI) never block the writer (the outbox), and a crash mid-write
/// leaves the last committed state intact. The schema is not touched;
/// call [`migrate`] next.
pub fn connect(path: &Path, durability: Durability) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    to_wal(&conn)?;
    let synchronous = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    Ok(conn)
}

/// Turn the file to WAL (a no-op once it is). On a fresh file the switch
/// upgrades a read lock to the write lock, and SQLite answers "database is
/// locked" at once rather than wait when another process starting at the
/// same moment holds a read lock too (waiting could deadlock), so the
/// switch is tried again for as long as a busy writer would be waited for.
fn to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            done => return done,
        }
    }
}

/// Schema migrations, applied in order; the database's `user_version` is
/// the number applied. Append new ones, never edit applied ones.
///
/// Hand-rolled rather than `rusqlite_migration` because that crate does not
/// yet support the rusqlite release the project uses; the logic is the same
/// `user_version` scheme.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: health trend, action deadlines, incidents seen per customer.
    "CREATE TABLE health_score (
        account_id TEXT NOT NULL,
        day        TEXT NOT NULL,          -- YYYY-MM-DD (UTC)
        score      REAL NOT NULL,
        band       TEXT NOT NULL,
        coverage   REAL NOT NULL,
        f1 REAL, f2 REAL, f3 REAL, f4 REAL,  -- sub-scores; NULL = no data
        f5 REAL, f6 REAL, f7 REAL, f8 REAL,
        PRIMARY KEY (account_id, day)
    ) WITHOUT ROWID;
    CREATE INDEX health_score_day ON health_score (day);
    CREATE TABLE action_trigger (
        account_id TEXT PRIMARY KEY,
        driver     TEXT NOT NULL,          -- the trigger's code (migration 3)
        since      TEXT NOT NULL           -- RFC 3339
    );
    CREATE TABLE incident_seen (
        incident_id TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        severity    TEXT NOT NULL,
        started_at  TEXT NOT NULL,         -- RFC 3339
        PRIMARY KEY (incident_id, account_id)
    ) WITHOUT ROWID;",
    // 2: the write journal (`crate::store::journal`): writes and their delivery steps.
    "CREATE TABLE writes (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        write_id INTEGER NOT NULL REFERENCES writes(id),
        effect TEXT NOT NULL,
        item TEXT NOT NULL,
        marker TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        sent_at TEXT
    );
    CREATE INDEX steps_by_state ON steps(state, next_attempt_at);
    CREATE INDEX steps_by_write ON steps(write_id);",
    // 3: action triggers are kept by their stable code, not their label;
    // the labels saved before map onto the codes so no deadline resets.
    "UPDATE action_trigger SET driver = CASE
        WHEN driver GLOB 'F[1-8] *' THEN substr(driver, 1, 2)
        WHEN driver = 'burn-rate page, no declared incident' THEN 'burn-page'
        WHEN driver = 'IN INCIDENT' THEN 'in-incident'
        WHEN driver = 'urgent inquiry past SLA' THEN 'urgent-past-sla'
        WHEN driver = 'error budget exhausted' THEN 'budget-exhausted'
        WHEN driver = 'cancellation intent' THEN 'cancellation-intent'
        WHEN driver = 'renewal ≤90 d, not Green' THEN 'renewal-at-risk'
        WHEN driver = 'Green, ↑, utilisation ≥80%' THEN 'expansion'
        ELSE driver END;",
    // 4: one deliverer per step across processes (a claim with an owner and
    // a lease), sticky uncertainty (`check_first`), and a change counter the
    // journal's pending marker mirrors so a lost WAL is noticed.
    "ALTER TABLE steps ADD COLUMN check_first INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE steps ADD COLUMN owner TEXT;
    ALTER TABLE steps ADD COLUMN lease_until TEXT;
    UPDATE steps SET check_first = 1 WHERE state IN ('unknown', 'sending');
    CREATE TABLE journal_seq (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
    );
    INSERT INTO journal_seq VALUES (1, 0);",
    // 5: each write records its author (`[ui] me`; NULL when not set).
    "ALTER TABLE writes ADD COLUMN author TEXT;",
    // 6: (the team store's presence table: a local journal has no
    // teammates to show.)
    "SELECT 1;",
    // 7: (the team store's poll feed: a local cockpit polls for itself.)
    "SELECT 1;",
    // 8: (the team feed's desk hand-over.)
    "SELECT 1;",
];

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(0))
}

/// Bring a database's schema up to date, one migration per transaction
/// (the store and the journal share one file and one migration list).
/// Each transaction takes the write lock first and reads the version under
/// it, so processes starting together (two `sync`s, the TUI and a runbook)
/// apply each migration once.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let err = |e: rusqlite::Error| StoreError::Sqlite {
        path: path.display().to_string(),
        message: format!("migrating the schema: {e}"),
    };
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let current = user_version(&tx).map_err(err)?;
        if current > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found: current,
                known: MIGRATIONS.len(),
            });
        }
        let Some(sql) = MIGRATIONS.get(current) else {
            return Ok(());
        };
        tx.execute_batch(sql).map_err(err)?;
        let version = i64::try_from(current + 1).unwrap_or(i64::MAX);
        tx.pragma_update(None, "user_version", version)
            .map_err(err)?;
        tx.commit().map_err(err)?;
    }
}
