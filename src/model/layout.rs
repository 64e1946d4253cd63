//! Screen geometry, shared by rendering and by mouse hit-testing so that a
//! click lands on the row that was drawn there.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::model::Pane;

/// Below this the three panes become tabs (80×24 must stay usable).
pub const GRID_MIN_WIDTH: u16 = 120;
pub const GRID_MIN_HEIGHT: u16 = 30;

/// Lines a pane spends on its border and header row.
pub const PANE_CHROME: u16 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub top_bar: Rect,
    /// One line of KPIs under the top bar.
    pub kpi_strip: Rect,
    /// The tab strip, only in tab mode.
    pub tabs: Option<Rect>,
    /// Where each pane is drawn (`None` when hidden behind another tab).
    pub panes: [Option<Rect>; 3],
    /// Everything between the bars: where overlays go.
    pub body: Rect,
    pub footer: Rect,
}

impl Areas {
    /// Whether the panes are laid out as a grid (all visible).
    #[must_use]
    pub fn is_grid(&self) -> bool {
        self.tabs.is_none()
    }

    /// Visible data rows of a pane.
    #[must_use]
    pub fn rows(&self, pane: Pane) -> usize {
        self.panes[pane as usize].map_or(0, |r| usize::from(r.height.saturating_sub(PANE_CHROME)))
    }

    /// The pane under a screen position, and the data row (0-based, before
    /// scrolling) if the position is on one.
    #[must_use]
    pub fn hit(&self, column: u16, row: u16) -> Option<(Pane, Option<usize>)> {
        Pane::ALL.into_iter().find_map(|pane| {
            let r = self.panes[pane as usize]?;
            let inside =
                column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height;
            inside.then(|| {
                let first = r.y + 2; // border + header
                let last = r.y + r.height.saturating_sub(1);
                (
                    pane,
                    (row >= first && row < last).then(|| usize::from(row - first)),
                )
            })
        })
    }
}

/// Split the terminal into the top bar, panes and footer.
#[must_use]
pub fn areas(area: Rect, focus: Pane) -> Areas {
    let [top_bar, kpi_strip, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    if area.width >= GRID_MIN_WIDTH && area.height >= GRID_MIN_HEIGHT {
        let [upper, lower] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let [customers, incidents] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(lower);
        Areas {
            top_bar,
            kpi_strip,
            tabs: None,
            panes: [Some(upper), Some(customers), Some(incidents)],
            body,
            footer,
        }
    } else {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        let mut panes = [None; 3];
        panes[focus as usize] = Some(pane);
        Areas {
            top_bar,
            kpi_strip,
            tabs: Some(tabs),
            panes,
            body,
            footer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_terminal_shows_all_panes() {
        let a = areas(Rect::new(0, 0, 200, 50), Pane::Inquiries);
        assert!(a.is_grid());
        assert!(a.panes.iter().all(Option::is_some));
    }

    #[test]
    fn small_terminal_shows_focused_pane_as_tab() {
        let a = areas(Rect::new(0, 0, 80, 24), Pane::Customers);
        assert!(!a.is_grid());
        assert_eq!(a.panes.iter().filter(|p| p.is_some()).count(), 1);
        assert!(a.panes[Pane::Customers as usize].is_some());
        // Top bar, KPI strip, tabs and footer take a line each.
        assert_eq!(a.rows(Pane::Customers), 24 - 4 - PANE_CHROME as usize);
    }

    #[test]
    fn hit_maps_rows_below_the_header() {
        let a = areas(Rect::new(0, 0, 80, 24), Pane::Inquiries);
        let pane = a.panes[0].unwrap();
        assert_eq!(a.hit(5, pane.y + 2), Some((Pane::Inquiries, Some(0))));
        assert_eq!(a.hit(5, pane.y + 1), Some((Pane::Inquiries, None)));
        assert_eq!(a.hit(5, 0), None);
    }
}
