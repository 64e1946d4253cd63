//! Named styles, grouped by what they mean rather than where they are used,
//! so severity reads the same in every pane.

use ratatui::style::{Color, Modifier, Style};

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
pub const SELECTED: Style = Style::new()
    .bg(Color::DarkGray)
    .add_modifier(Modifier::BOLD);
pub const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const BADGE_DEMO: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
pub const BADGE_MODE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Cyan)
    .add_modifier(Modifier::BOLD);
pub const BADGE_READ_ONLY: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Magenta)
    .add_modifier(Modifier::BOLD);
pub const PRIVATE_NOTE: Style = Style::new().fg(Color::Yellow);
