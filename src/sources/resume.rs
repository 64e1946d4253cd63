//! What a desk adapter keeps in the data dir so a restart resumes where it
//! stopped: its change cursor and the open inquiries that cursor describes.
//! Without both, the first poll after a restart would re-download the whole
//! queue; with them it is one small "what changed since" request.
//!
//! One SQLite file per desk (`desk-<vendor>-<host>.sqlite`), one row per open
//! inquiry. A poll writes only what it changed, so a quiet poll writes
//! nothing and the adapter keeps no second copy of the queue in memory. The
//! file records the scope it was read with (URL, account, queue, query):
//! when the config changes the scope, the old state is ignored and the desk
//! is read afresh.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Url;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::domain::{DeskUpdate, Inquiry};

/// Bump when the stored shape changes; older state is then ignored.
const VERSION: &str = "2";

/// The resume file of one desk.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    scope: String,
}

/// What a previous run left behind.
#[derive(Debug)]
pub struct Resumed<C> {
    pub cursor: C,
    pub inquiries: Vec<Inquiry>,
}

impl Store {
    /// The store for a desk at `url` under `dir`; `scope` is everything that
    /// decides which tickets the cursor covers.
    #[must_use]
    pub fn new(dir: &Path, vendor: &str, url: &Url, scope: String) -> Self {
        let mut name = format!("desk-{vendor}-{}", url.host_str().unwrap_or("local"));
        if let Some(port) = url.port() {
            name.push_str(&format!("-{port}"));
        }
        let path = url.path().trim_matches('/');
        if !path.is_empty() {
            name.push('-');
            name.push_str(path);
        }
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            path: dir.join(format!("{name}.sqlite")),
            scope,
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state a previous run saved, if it is there, readable and for the
    /// same scope. Anything else is logged and treated as a first run.
    pub fn load<C: DeserializeOwned>(&self) -> Option<Resumed<C>> {
        if !self.path.exists() {
            return None;
        }
        match self.read() {
            Ok(Some(resumed)) => {
                tracing::info!(
                    path = %self.path.display(),
                    inquiries = resumed.inquiries.len(),
                    "resuming the desk from its saved cursor"
                );
                Some(resumed)
            }
            Ok(None) => {
                tracing::info!(path = %self.path.display(), "desk state is for another scope or version; reading the desk afresh");
                None
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), "desk state unreadable, reading the desk afresh: {e}");
                None
            }
        }
    }

    fn read<C: DeserializeOwned>(&self) -> Result<Option<Resumed<C>>, String> {
        let db = open(&self.path).map_err(|e| e.to_string())?;
        let setting = |key: &str| -> Result<Option<String>, String> {
            db.query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| e.to_string())
        };
        if setting("version")?.as_deref() != Some(VERSION)
            || setting("scope")?.as_deref() != Some(self.scope.as_str())
        {
            return Ok(None);
        }
        let Some(cursor) = setting("cursor")? else {
            return Ok(None);
        };
        let cursor = serde_json::from_str(&cursor).map_err(|e| format!("cursor: {e}"))?;
        let mut rows = db
            .prepare("SELECT inquiry FROM open ORDER BY id")
            .map_err(|e| e.to_string())?;
        let inquiries = rows
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| e.to_string())?
            .map(|row| {
                let json = row.map_err(|e| e.to_string())?;
                serde_json::from_str(&json).map_err(|e| format!("inquiry: {e}"))
            })
            .collect::<Result<Vec<Inquiry>, String>>()?;
        Ok(Some(Resumed { cursor, inquiries }))
    }

    /// Record a poll: the cursor reached and the open set's changes (a full
    /// update replaces the set). Runs on a blocking thread, in one
    /// transaction, and hands the update back. A failure is logged: the
    /// cockpit works without it, a restart just costs a full read.
    ///
    /// The update travels to the writer instead of being encoded up front:
    /// each inquiry is encoded into one reused buffer as its row is written,
    /// so a first read of 100k inquiries never holds 100k JSON texts (about
    /// 100 MB at the peak when it did).
    pub async fn record<C: Serialize>(&self, cursor: &C, update: DeskUpdate) -> DeskUpdate {
        let cursor = match serde_json::to_string(cursor) {
            Ok(cursor) => cursor,
            Err(e) => {
                tracing::warn!("desk state not saved: {e}");
                return update;
            }
        };
        let update = Arc::new(update);
        let (path, scope, shared) = (self.path.clone(), self.scope.clone(), Arc::clone(&update));
        let written =
            tokio::task::spawn_blocking(move || write(&path, &scope, &cursor, &shared)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(path = %self.path.display(), "desk state not saved: {e}");
            }
            Err(e) => tracing::warn!("desk state not saved: {e}"),
        }
        // The writer has let go of its handle (returned or unwound), so
        // this one is the last and no copy is made.
        Arc::try_unwrap(update).unwrap_or_else(|shared| (*shared).clone())
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS open (id TEXT PRIMARY KEY, inquiry TEXT NOT NULL);",
    )?;
    Ok(db)
}

fn write(path: &Path, scope: &str, cursor: &str, update: &DeskUpdate) -> rusqlite::Result<()> {
    if let Some(dir) = path.parent() {
        // A missing directory shows up as the open error below.
        let _ = std::fs::create_dir_all(dir);
    }
    let mut db = open(path)?;
    let tx = db.transaction()?;
    let stored_scope: Option<String> = tx
        .query_row("SELECT value FROM state WHERE key = 'scope'", [], |r| {
            r.get(0)
        })
        .optional()?;
    // Rows from another scope or version must not survive into this one.
    if update.full || stored_scope.as_deref() != Some(scope) {
        tx.execute("DELETE FROM open", [])?;
    }
    {
        let mut upsert = tx.prepare("INSERT OR REPLACE INTO open (id, inquiry) VALUES (?1, ?2)")?;
        let mut delete = tx.prepare("DELETE FROM open WHERE id = ?1")?;
        let mut json = Vec::new();
        for inquiry in &update.changed {
            if inquiry.status.is_open() {
                json.clear();
                serde_json::to_writer(&mut json, inquiry)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                // serde_json writes UTF-8 only.
                let text = std::str::from_utf8(&json)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                upsert.execute(params![inquiry.id.as_str(), text])?;
            } else {
                delete.execute([inquiry.id.as_str()])?;
            }
        }
        for id in &update.removed {
            delete.execute([id])?;
        }
        let mut set = tx.prepare("INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)")?;
        set.execute(params!["version", VERSION])?;
        set.execute(params!["scope", scope])?;
        set.execute(params!["cursor", cursor])?;
    }
    tx.commit()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn inquiry(id: &str, status: crate::core::domain::InquiryStatus) -> Inquiry {
        Inquiry {
            subject: format!("subject {id}"),
            status,
            ..Inquiry::bare(id)
        }
    }

    fn update(full: bool, changed: Vec<Inquiry>, removed: &[&str]) -> DeskUpdate {
        DeskUpdate {
            full,
            changed,
            removed: removed.iter().map(|&r| r.to_owned()).collect(),
            requests: 1,
        }
    }

    fn ids(resumed: &Resumed<String>) -> Vec<&str> {
        resumed.inquiries.iter().map(|i| i.id.as_str()).collect()
    }

    #[tokio::test]
    async fn polls_are_recorded_as_changes_and_read_back() {
        use crate::core::domain::InquiryStatus::{Open, Pending, Solved};
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://acme.zendesk.com").unwrap();
        let store = Store::new(dir.path(), "zendesk", &url, "a".into());
        assert!(store.load::<String>().is_none());
        assert!(
            store
                .path()
                .ends_with("desk-zendesk-acme.zendesk.com.sqlite")
        );

        let first = vec![
            inquiry("1", Open),
            inquiry("2", Pending),
            inquiry("3", Open),
        ];
        store
            .record(&"c1".to_owned(), update(true, first, &[]))
            .await;
        let resumed = store.load::<String>().unwrap();
        assert_eq!(
            (resumed.cursor.as_str(), ids(&resumed)),
            ("c1", vec!["1", "2", "3"])
        );

        // 2 solved, 3 deleted, 4 new, 1 edited: only those rows change.
        let mut edited = inquiry("1", Open);
        edited.subject = "edited".into();
        let next = vec![edited, inquiry("2", Solved), inquiry("4", Open)];
        store
            .record(&"c2".to_owned(), update(false, next, &["3"]))
            .await;
        let resumed = store.load::<String>().unwrap();
        assert_eq!(
            (resumed.cursor.as_str(), ids(&resumed)),
            ("c2", vec!["1", "4"])
        );
        assert_eq!(resumed.inquiries[0].subject, "edited");

        // A full update replaces the set.
        store
            .record(
                &"c3".to_owned(),
                update(true, vec![inquiry("9", Open)], &[]),
            )
            .await;
        assert_eq!(ids(&store.load::<String>().unwrap()), ["9"]);
    }

    #[tokio::test]
    async fn another_scope_or_a_corrupt_file_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://acme.zendesk.com").unwrap();
        let store = Store::new(dir.path(), "zendesk", &url, "a".into());
        let open = vec![inquiry("1", crate::core::domain::InquiryStatus::Open)];
        store
            .record(&"c1".to_owned(), update(true, open, &[]))
            .await;
        let other = Store::new(dir.path(), "zendesk", &url, "b".into());
        assert!(
            other.load::<String>().is_none(),
            "another scope starts afresh"
        );
        // Its first (incremental) record must not inherit scope a's rows.
        other
            .record(&"b1".to_owned(), update(false, Vec::new(), &[]))
            .await;
        assert!(ids(&other.load::<String>().unwrap()).is_empty());

        std::fs::write(store.path(), b"not a database").unwrap();
        assert!(
            store.load::<String>().is_none(),
            "corrupt file starts afresh"
        );
    }
}
