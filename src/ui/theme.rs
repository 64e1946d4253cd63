//! Named styles, grouped by what they mean rather than where they are used,
//! so severity reads the same in every pane.

use ratatui::style::{Color, Modifier, Style};

use crate::core::domain::{IncidentStatus, Priority, Severity};
use crate::core::writes::StepState;
use crate::insight::health::Band;
use crate::insight::slo::BurnLevel;

pub const TEXT: Style = Style::new();
pub const MUTED: Style = Style::new().fg(Color::DarkGray);
pub const ACCENT: Style = Style::new().fg(Color::Cyan);
pub const TITLE: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const OK: Style = Style::new().fg(Color::Green);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const CRITICAL: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const BORDER: Style = Style::new().fg(Color::DarkGray);
pub const BORDER_FOCUSED: Style = Style::new().fg(Color::Cyan);
pub const HEADER: Style = Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD);
/// The selected row: reverse video rather than a background colour, so no
/// foreground in the row (grey SLA suffix, `low`, segment) can equal the
/// background, and the row still stands out without colour.
pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED.union(Modifier::BOLD));
pub const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const BADGE_DEMO: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
pub const BADGE_MODE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Cyan)
    .add_modifier(Modifier::BOLD);
/// Incident mode, in the top bar and on an overdue customer update: the
/// one badge that should look like an alarm.
pub const BADGE_INCIDENT: Style = Style::new()
    .fg(Color::White)
    .bg(Color::Red)
    .add_modifier(Modifier::BOLD);
pub const BADGE_READ_ONLY: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Magenta)
    .add_modifier(Modifier::BOLD);
/// Characters the filter matched: underlined as well as coloured, so the
/// match shows without colour too.
pub const MATCH: Style = Style::new()
    .fg(Color::Yellow)
    .add_modifier(Modifier::UNDERLINED.union(Modifier::BOLD));
pub const PRIVATE_NOTE: Style = Style::new().fg(Color::Yellow);

/// A health band in its traffic-light colour.
#[must_use]
pub fn band(band: Band) -> Style {
    match band {
        Band::Green => OK,
        Band::Yellow => WARN,
        Band::Red => CRITICAL,
    }
}

#[must_use]
pub fn severity(severity: Severity) -> Style {
    match severity {
        Severity::Sev1 | Severity::Sev2 => CRITICAL,
        Severity::Sev3 => WARN,
        Severity::Sev4 => MUTED,
    }
}

/// Red while nobody has taken the incident, yellow once someone has.
#[must_use]
pub fn incident_status(status: IncidentStatus) -> Style {
    match status {
        IncidentStatus::Triggered | IncidentStatus::Firing | IncidentStatus::Detected => CRITICAL,
        IncidentStatus::Acknowledged => WARN,
        IncidentStatus::Resolved | IncidentStatus::Suppressed => MUTED,
    }
}

#[must_use]
pub fn priority(priority: Priority) -> Style {
    match priority {
        Priority::Urgent => CRITICAL,
        Priority::High => WARN,
        Priority::Normal => TEXT,
        Priority::Low => MUTED,
    }
}

/// Colour of a write's delivery state: pending yellow, sent green, failed
/// red.
#[must_use]
pub fn write_state(state: StepState) -> Style {
    match state {
        StepState::Queued | StepState::Sending | StepState::Unknown => WARN,
        StepState::Sent => OK,
        StepState::Failed | StepState::Unreadable => CRITICAL,
        StepState::Local | StepState::Cancelled => MUTED,
    }
}

/// An SLO's burn verdict: paging red, ticket yellow.
#[must_use]
pub fn burn(level: BurnLevel) -> Style {
    match level {
        BurnLevel::Page => CRITICAL,
        BurnLevel::Ticket => WARN,
        BurnLevel::Ok => OK,
    }
}

/// An SLA achievement of `percent`: green from `target` up, yellow down to
/// 80 %, red below.
#[must_use]
pub fn sla(percent: f64, target: f64) -> Style {
    if percent >= target {
        OK
    } else if percent >= 80.0 {
        WARN
    } else {
        CRITICAL
    }
}
