//! Small text formatters shared by the panes.

use jiff::{SignedDuration, Timestamp};

/// A compact signed duration: `42s`, `17m`, `3h05m`, `2d04h`, `-1h10m`.
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
    } else {
        format!("{sign}{days}d{hours:02}h")
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
    }

    #[test]
    fn money_scales() {
        assert_eq!(money(950.0), "$950");
        assert_eq!(money(12_400.0), "$12k");
        assert_eq!(money(1_250_000.0), "$1.2M");
    }
}
