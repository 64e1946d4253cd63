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
