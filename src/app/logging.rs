//! Logs go to a file in the data directory (the terminal belongs to the
//! TUI). Level from `CRE_COCKPIT_LOG` (e.g. `debug`, `cre_cockpit=trace`).

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// The log file's path.
#[must_use]
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("cre-cockpit.log")
}

/// Start logging; keep the guard alive until exit so buffered lines flush.
pub fn init(data_dir: &Path) -> std::io::Result<WorkerGuard> {
    std::fs::create_dir_all(data_dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(data_dir))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter =
        EnvFilter::try_from_env("CRE_COCKPIT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}
