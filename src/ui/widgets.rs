//! Pieces several views draw the same way. The labelled lines live here
//! rather than in the detail view, so the SLO lines (which the detail view
//! includes) can use them without the two importing each other.

use ratatui::text::{Line, Span};

use super::theme;

/// `        name  value`: a labelled line of a detail view, labels aligned.
pub fn field(name: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:>12}  "), theme::HEADER),
        Span::raw(value.into()),
    ])
}

/// A section heading inside a detail view.
pub fn heading(text: &str) -> Line<'static> {
    Line::from(Span::styled(text.to_owned(), theme::TITLE))
}

/// A one-line chart of a series, scaled to its own maximum.
#[must_use]
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let level = ((v / max) * 7.0).round().clamp(0.0, 7.0) as usize;
                BARS[level]
            }
        })
        .collect()
}
