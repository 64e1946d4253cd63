//! Logs go to a file (the terminal belongs to the TUI): `cre-cockpit.log`
//! in the state dir (`$XDG_STATE_HOME/cre-cockpit`, see
//! `config::paths::log_dir`). Level from `--log-level`, else
//! `CRE_COCKPIT_LOG` (e.g. `debug`, `cre_cockpit=trace`), else `info`.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// A log grown past this is rotated when the next run starts.
const ROTATE_AT: u64 = 10 * 1024 * 1024;
/// Rotated logs kept: `cre-cockpit.log.1` (newest) … `.3`.
const KEEP: u32 = 3;

/// The log file's path.
#[must_use]
pub fn path(log_dir: &Path) -> PathBuf {
    log_dir.join("cre-cockpit.log")
}

/// Start logging; keep the guard alive until exit so buffered lines flush.
/// `level` is a filter directive (`--log-level`); an invalid one is an
/// error rather than a silent fall-back, so the user learns of the typo.
/// Lines the log writer thread may lag behind by.
const LOG_BUFFER_LINES: usize = 4096;

pub fn init(log_dir: &Path, level: Option<&str>) -> std::io::Result<WorkerGuard> {
    let filter = match level {
        Some(level) => EnvFilter::try_new(level).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("--log-level {level:?}: {e}"),
            )
        })?,
        None => {
            EnvFilter::try_from_env("CRE_COCKPIT_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
        }
    };
    std::fs::create_dir_all(log_dir)?;
    let path = path(log_dir);
    rotate(&path);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    // The log names hosts and ticket ids: the owner's alone.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path)?;
    // A few thousand lines of buffer, not the default 128k: its slots are
    // allocated and written up front (4 MB resident for a log that writes
    // a few lines a poll); past it, lines are dropped rather than waited on.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .lossy(true)
        .finish(file);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}

/// Shift `log` → `log.1` → … → `log.KEEP` (dropped) once it is too big.
/// At start only: the cockpit is one process per user, and rotating under
/// a running writer would need a rotating writer for little gain.
fn rotate(log: &Path) {
    if std::fs::metadata(log).map_or(true, |m| m.len() < ROTATE_AT) {
        return;
    }
    let numbered = |n: u32| PathBuf::from(format!("{}.{n}", log.display()));
    for n in (1..KEEP).rev() {
        let _ = std::fs::rename(numbered(n), numbered(n + 1));
    }
    let _ = std::fs::rename(log, numbered(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_log_is_rotated_and_old_ones_dropped() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let log = path(dir.path());
        for n in 1..=KEEP {
            std::fs::write(format!("{}.{n}", log.display()), n.to_string())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&log, vec![b'x'; usize::try_from(ROTATE_AT).unwrap_or(0)])
            .unwrap_or_else(|e| panic!("{e}"));
        rotate(&log);
        assert!(!log.exists());
        let read = |n: u32| std::fs::read(format!("{}.{n}", log.display())).unwrap_or_default();
        assert_eq!(read(1).len(), usize::try_from(ROTATE_AT).unwrap_or(0));
        assert_eq!(read(2), b"1");
        assert_eq!(read(3), b"2");
        // A small log stays where it is.
        std::fs::write(&log, b"small").unwrap_or_else(|e| panic!("{e}"));
        rotate(&log);
        assert!(log.exists());
    }
}
