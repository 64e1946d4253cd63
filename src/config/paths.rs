//! Where the cockpit keeps its files, from `directories` (XDG on Linux).

use std::path::PathBuf;

use directories::ProjectDirs;

/// The project's standard directories (`~/.config/cre-cockpit`,
/// `~/.local/share/cre-cockpit`, …); `None` when no home directory is known.
#[must_use]
pub fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "cre-cockpit")
}

/// The data directory (log, journal, cursors), overridable with
/// `CRE_COCKPIT_DATA` for tests and unusual setups.
#[must_use]
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRE_COCKPIT_DATA") {
        return PathBuf::from(dir);
    }
    project().map_or_else(
        || std::env::temp_dir().join("cre-cockpit"),
        |p| p.data_dir().to_owned(),
    )
}

/// Where the log goes: `$XDG_STATE_HOME/cre-cockpit` (on Linux
/// `~/.local/state/cre-cockpit`), where logs belong by the XDG spec; the
/// data dir when `CRE_COCKPIT_DATA` is set (tests keep everything in one
/// folder) or no state dir is known.
#[must_use]
pub fn log_dir() -> PathBuf {
    if std::env::var_os("CRE_COCKPIT_DATA").is_some() {
        return data_dir();
    }
    project()
        .and_then(|p| p.state_dir().map(std::path::Path::to_owned))
        .unwrap_or_else(data_dir)
}
