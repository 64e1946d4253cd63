//! Small text formatters shared by the panes.

use jiff::{SignedDuration, Timestamp};

/// A compact signed duration: `42s`, `17m`, `3h05m`, `2d04h`, `-1h10m`,
/// and from 100 days on whole days only (`1171d`): the hours of a ticket
/// three years old say nothing, and `1171d03h` would not fit the six-cell
/// age columns (it showed as `1171d0`, which reads as a different number).
#[must_use]
pub fn duration(d: SignedDuration) -> String {
    let sign = if d.is_negative() { "-" } else { "" };
    let secs = d.as_secs().unsigned_abs();
    let (days, hours, mins) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    if secs < 60 {
        format!("{sign}{secs}s")
    } else if secs < 3600 {
        format!("{sign}{mins}m")
    } else if secs < 86_400 {
        format!("{sign}{hours}h{mins:02}m")
    } else if days < 100 {
        format!("{sign}{days}d{hours:02}h")
    } else {
        format!("{sign}{days}d")
    }
}

/// When something happened, for a timeline: `14:05` today (UTC, like the
/// rest of the cockpit), `2023-08-14 14:05` on any other day, so a note
/// from years ago does not read as this afternoon's.
#[must_use]
pub fn stamp(now: Timestamp, at: Timestamp) -> String {
    let utc = jiff::tz::TimeZone::UTC;
    if at.to_zoned(utc.clone()).date() == now.to_zoned(utc).date() {
        at.strftime("%H:%M").to_string()
    } else {
        at.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// How long ago, e.g. `12s ago`.
#[must_use]
pub fn ago(now: Timestamp, then: Timestamp) -> String {
    format!(
        "{} ago",
        duration(now.duration_since(then).max(SignedDuration::ZERO))
    )
}

/// Money without cents: `$950`, `$12k`, `$1.2M`.
#[must_use]
pub fn money(amount: f64) -> String {
    if amount >= 1_000_000.0 {
        format!("${:.1}M", amount / 1_000_000.0)
    } else if amount >= 1_000.0 {
        format!("${:.0}k", amount / 1_000.0)
    } else {
        format!("${amount:.0}")
    }
}

/// A file size: `812 B`, `47 KB`, `3.2 MB` (binary units, as desks show).
#[must_use]
pub fn bytes(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a displayed size, not arithmetic
    let x = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.0} KB", x / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.1} MB", x / (1024.0 * 1024.0))
    } else {
        format!("{:.1} GB", x / (1024.0 * 1024.0 * 1024.0))
    }
}

/// A ratio as a percentage with one decimal.
#[must_use]
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// Cut text to at most `max` characters, marking the cut with `…`.
#[must_use]
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_compact_and_signed() {
        assert_eq!(duration(SignedDuration::from_secs(42)), "42s");
        assert_eq!(duration(SignedDuration::from_secs(17 * 60 + 5)), "17m");
        assert_eq!(
            duration(SignedDuration::from_secs(3 * 3600 + 5 * 60)),
            "3h05m"
        );
        assert_eq!(duration(SignedDuration::from_secs(-(3600 + 600))), "-1h10m");
        assert_eq!(duration(SignedDuration::from_hours(52)), "2d04h");
        assert_eq!(duration(SignedDuration::from_hours(99 * 24 + 23)), "99d23h");
        assert_eq!(duration(SignedDuration::from_hours(1171 * 24 + 3)), "1171d");
        assert_eq!(
            duration(SignedDuration::from_hours(-(1171 * 24 + 3))),
            "-1171d"
        );
    }

    #[test]
    fn ages_fit_six_cells_however_old() {
        for days in [0, 9, 10, 99, 100, 1171, 99_999] {
            let shown = duration(SignedDuration::from_hours(days * 24 + 23));
            assert!(shown.chars().count() <= 6, "{days} days shows as {shown}");
        }
    }

    #[test]
    fn stamps_carry_the_date_unless_today() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let today: Timestamp = "2026-11-21T00:05:00Z".parse().unwrap();
        let old: Timestamp = "2023-08-14T14:05:00Z".parse().unwrap();
        let yesterday: Timestamp = "2026-11-20T23:59:00Z".parse().unwrap();
        assert_eq!(stamp(now, today), "00:05");
        assert_eq!(stamp(now, old), "2023-08-14 14:05");
        assert_eq!(stamp(now, yesterday), "2026-11-20 23:59");
    }

    #[test]
    fn sizes_are_readable() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(48_213), "47 KB");
        assert_eq!(bytes(3_355_443), "3.2 MB");
    }

    #[test]
    fn money_scales() {
        assert_eq!(money(950.0), "$950");
        assert_eq!(money(12_400.0), "$12k");
        assert_eq!(money(1_250_000.0), "$1.2M");
    }
}
