//! What a desk adapter keeps in the data dir so a restart resumes where it
//! stopped: its change cursor and the open inquiries that cursor describes.
//! Without both, the first poll after a restart would re-download the whole
//! queue; with them it is one small "what changed since" request.
//!
//! One file per desk (`desk-<vendor>-<host>.json`). The file records the
//! scope it was read with (URL, account, queue, query): when the config
//! changes the scope, the old state is ignored and the desk is read afresh.

use std::path::{Path, PathBuf};

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::Inquiry;

/// Bump when the stored shape changes; older files are then ignored.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Stored<C> {
    version: u32,
    scope: String,
    cursor: C,
    inquiries: Vec<Inquiry>,
}

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
            path: dir.join(format!("{name}.json")),
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
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), "desk state unreadable, reading the desk afresh: {e}");
                return None;
            }
        };
        match serde_json::from_slice::<Stored<C>>(&bytes) {
            Ok(stored) if stored.version == VERSION && stored.scope == self.scope => {
                tracing::info!(
                    path = %self.path.display(),
                    inquiries = stored.inquiries.len(),
                    "resuming the desk from its saved cursor"
                );
                Some(Resumed {
                    cursor: stored.cursor,
                    inquiries: stored.inquiries,
                })
            }
            Ok(_) => {
                tracing::info!(path = %self.path.display(), "desk state is for another scope or version; reading the desk afresh");
                None
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), "desk state corrupt, reading the desk afresh: {e}");
                None
            }
        }
    }

    /// Save the cursor and the open set, atomically (write, then rename), on
    /// a blocking thread. A failure is logged: the cockpit works without it,
    /// a restart just costs a full read.
    pub async fn save<'a, C: Serialize>(
        &self,
        cursor: &C,
        inquiries: impl Iterator<Item = &'a Inquiry>,
    ) {
        let stored = Stored {
            version: VERSION,
            scope: self.scope.clone(),
            cursor,
            inquiries: inquiries.cloned().collect(),
        };
        let bytes = match serde_json::to_vec(&stored) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!("desk state not saved: {e}");
                return;
            }
        };
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(path = %self.path.display(), "desk state not saved: {e}");
            }
            Err(e) => tracing::warn!("desk state not saved: {e}"),
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_scope_change() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://acme.zendesk.com").unwrap();
        let store = Store::new(dir.path(), "zendesk", &url, "a".into());
        assert!(store.load::<String>().is_none());
        store.save(&"cursor-1".to_owned(), std::iter::empty()).await;
        let resumed = store.load::<String>().unwrap();
        assert_eq!(resumed.cursor, "cursor-1");
        assert!(store.path().ends_with("desk-zendesk-acme.zendesk.com.json"));
        let other = Store::new(dir.path(), "zendesk", &url, "b".into());
        assert!(
            other.load::<String>().is_none(),
            "another scope starts afresh"
        );
        std::fs::write(store.path(), b"{not json").unwrap();
        assert!(
            store.load::<String>().is_none(),
            "corrupt file starts afresh"
        );
    }
}
