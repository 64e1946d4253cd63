//! Terminal input → state changes. Keys go through the keymap to an
//! [`Action`]; the filter prompt and overlays take keys first.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::{Loadable, Model, Overlay, Pane, Target};
use crate::action::Action;
use crate::layout;
use crate::message::Effect;

impl Model {
    pub(super) fn handle_input(&mut self, event: &Event) -> Vec<Effect> {
        match event {
            // Windows reports releases too; only presses (and repeats) act.
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(key),
            Event::Mouse(mouse) => {
                self.handle_mouse(mouse);
                Vec::new()
            }
            Event::Resize(w, h) => {
                self.size = (*w, *h);
                for pane in Pane::ALL {
                    self.scroll_into_view(pane);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn handle_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if let Some(text) = &mut self.filter_input {
            match key.code {
                KeyCode::Esc => {
                    self.filter_input = None;
                    self.set_filter(String::new());
                }
                KeyCode::Enter => self.filter_input = None,
                KeyCode::Backspace => {
                    text.pop();
                    let text = text.clone();
                    self.set_filter(text);
                }
                KeyCode::Char(c)
                    if !key
                        .modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL) =>
                {
                    text.push(c);
                    let text = text.clone();
                    self.set_filter(text);
                }
                _ => {}
            }
            return Vec::new();
        }
        let Some(action) = self.settings.keymap.action(key) else {
            return Vec::new();
        };
        self.apply(action)
    }

    /// Perform a user action.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        // Overlays take the actions that make sense inside them.
        match (&mut self.overlay, action) {
            (_, Action::Quit) => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            (Overlay::Help { .. }, Action::Help | Action::Back)
            | (Overlay::Detail { .. }, Action::Back)
            | (Overlay::Voc { .. }, Action::VoiceOfCustomer | Action::Back) => {
                self.overlay = Overlay::None;
                self.derived.voc = Vec::new();
                return Vec::new();
            }
            (
                Overlay::Help { scroll } | Overlay::Detail { scroll, .. } | Overlay::Voc { scroll },
                Action::Down,
            ) => {
                *scroll = scroll.saturating_add(1);
                return Vec::new();
            }
            (
                Overlay::Help { scroll } | Overlay::Detail { scroll, .. } | Overlay::Voc { scroll },
                Action::Up,
            ) => {
                *scroll = scroll.saturating_sub(1);
                return Vec::new();
            }
            (
                Overlay::Help { scroll } | Overlay::Detail { scroll, .. } | Overlay::Voc { scroll },
                Action::PageDown,
            ) => {
                *scroll = scroll.saturating_add(10);
                return Vec::new();
            }
            (
                Overlay::Help { scroll } | Overlay::Detail { scroll, .. } | Overlay::Voc { scroll },
                Action::PageUp,
            ) => {
                *scroll = scroll.saturating_sub(10);
                return Vec::new();
            }
            (Overlay::Help { .. } | Overlay::Voc { .. }, _) => return Vec::new(),
            _ => {}
        }
        let pane = self.focus;
        match action {
            Action::Help => self.overlay = Overlay::Help { scroll: 0 },
            Action::NextPane => self.focus = pane.next(),
            Action::PrevPane => self.focus = pane.prev(),
            Action::FocusInquiries => self.focus = Pane::Inquiries,
            Action::FocusCustomers => self.focus = Pane::Customers,
            Action::FocusIncidents => self.focus = Pane::Incidents,
            Action::Down => self.move_selection(pane, 1),
            Action::Up => self.move_selection(pane, -1),
            Action::PageDown => self.move_selection(pane, self.page(pane)),
            Action::PageUp => self.move_selection(pane, -self.page(pane)),
            Action::Top => self.move_selection(pane, isize::MIN / 2),
            Action::Bottom => self.move_selection(pane, isize::MAX / 2),
            Action::Detail => return self.open_detail(),
            Action::Back => {
                if !self.panes[pane as usize].filter.is_empty() {
                    self.set_filter(String::new());
                }
            }
            Action::Filter => self.filter_input = Some(self.panes[pane as usize].filter.clone()),
            Action::Sort => {
                let view = &mut self.panes[pane as usize];
                view.sort = (view.sort + 1) % pane.sorts().len();
                let name = pane.sorts()[view.sort];
                self.refresh_order(pane);
                self.say(format!("{} sorted by {name}", pane.title()));
            }
            Action::Refresh => {
                self.say("refreshing every source");
                return vec![Effect::Refresh];
            }
            Action::OpenInBrowser => match self.selected_url() {
                Some(url) => return vec![Effect::OpenUrl(url)],
                None => self.say("this row has no link"),
            },
            Action::CopyLink => match self.selected_url() {
                Some(url) => {
                    self.say(format!("copied {url}"));
                    return vec![Effect::Copy(url)];
                }
                None => self.say("this row has no link"),
            },
            Action::VoiceOfCustomer => {
                self.overlay = Overlay::Voc { scroll: 0 };
                self.refresh_voc();
            }
            Action::Quit => {}
        }
        Vec::new()
    }

    fn set_filter(&mut self, text: String) {
        let pane = self.focus;
        self.panes[pane as usize].filter = text;
        self.refilter(pane);
    }

    /// What the detail overlay would show for the focused pane's selection.
    fn selected_target(&self) -> Option<Target> {
        let pane = self.focus;
        let id = self.row_id(pane, self.panes[pane as usize].selected)?;
        Some(match pane {
            Pane::Inquiries => Target::Inquiry(id),
            Pane::Customers => Target::Customer(id),
            Pane::Incidents => Target::Incident(id),
        })
    }

    fn open_detail(&mut self) -> Vec<Effect> {
        let Some(target) = self.selected_target() else {
            return Vec::new();
        };
        let effect = match &target {
            Target::Inquiry(id) => {
                self.comments.insert(id.clone(), Loadable::Loading);
                Some(Effect::LoadComments(id.clone()))
            }
            Target::Incident(id) => {
                self.notes.insert(id.clone(), Loadable::Loading);
                Some(Effect::LoadNotes(id.clone()))
            }
            Target::Customer(_) => None,
        };
        self.overlay = Overlay::Detail { target, scroll: 0 };
        effect.into_iter().collect()
    }

    fn selected_url(&self) -> Option<String> {
        let target = match &self.overlay {
            Overlay::Detail { target, .. } => Some(target.clone()),
            _ => self.selected_target(),
        }?;
        match target {
            Target::Inquiry(id) => self.data.inquiry(&id)?.url.clone(),
            Target::Incident(id) => self.data.incidents.iter().find(|i| i.id == id)?.url.clone(),
            Target::Customer(_) => None,
        }
    }

    fn handle_mouse(&mut self, mouse: &MouseEvent) {
        if self.overlay != Overlay::None {
            match mouse.kind {
                MouseEventKind::ScrollDown => {
                    self.apply(Action::Down);
                }
                MouseEventKind::ScrollUp => {
                    self.apply(Action::Up);
                }
                _ => {}
            }
            return;
        }
        let area = Rect::new(0, 0, self.size.0, self.size.1);
        let areas = layout::areas(area, self.focus);
        // A click on the tab strip switches tabs.
        if let Some(tabs) = areas.tabs
            && mouse.row == tabs.y
            && matches!(mouse.kind, MouseEventKind::Down(MouseButton::Left))
        {
            let third = (tabs.width / 3).max(1);
            self.focus =
                Pane::ALL[usize::from((mouse.column.saturating_sub(tabs.x) / third).min(2))];
            return;
        }
        let Some((pane, row)) = areas.hit(mouse.column, mouse.row) else {
            return;
        };
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                if let Some(row) = row {
                    self.select_visible_row(pane, row);
                }
            }
            MouseEventKind::ScrollDown => self.move_selection(pane, 3),
            MouseEventKind::ScrollUp => self.move_selection(pane, -3),
            _ => {}
        }
    }
}
