//! Durations as the config writes them (`"30s"`, `"5m"`, `"1h 30m"`), for
//! every feature's config struct.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Durations are written the friendly way: `"30s"`, `"5m"`, `"1h 30m"`.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(d)?;
    let parsed: jiff::SignedDuration = raw.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid duration {raw:?} (write e.g. \"30s\", \"5m\", \"1h\")"
        ))
    })?;
    let parsed = Duration::try_from(parsed)
        .map_err(|_| serde::de::Error::custom(format!("duration {raw:?} must not be negative")))?;
    if parsed.is_zero() {
        return Err(serde::de::Error::custom(
            "duration must be greater than zero",
        ));
    }
    Ok(parsed)
}

pub fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}
