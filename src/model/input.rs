//! Terminal input → state changes. Keys go through the keymap to an
//! [`Action`]; the filter prompt and overlays take keys first.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::{Armed, Loadable, Model, Overlay, Pane, Target};
use crate::model::action::Action;
use crate::model::layout;
use crate::model::message::Effect;

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
        // Ctrl-C quits from anywhere, as in every terminal program (raw mode
        // turns it into a key, so it must be handled here or it does
        // nothing). While a write is being edited it asks first: the
        // second ctrl-c discards the draft and quits.
        let armed = self.armed.take();
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            if self.prompt.is_some() && armed != Some(Armed::Quit) {
                self.armed = Some(Armed::Quit);
                self.say("a write is being edited: ctrl-c again quits and discards it");
                return Vec::new();
            }
            self.quit = true;
            return vec![Effect::Quit];
        }
        if self.prompt.is_some() {
            self.armed = armed;
            return self.prompt_key(key);
        }
        if self.command.is_some() {
            return self.command_key(key);
        }
        if let Overlay::Journal {
            selected,
            confirm: confirm @ true,
        } = &mut self.overlay
        {
            // The question is literal: `y` cancels, anything else keeps it.
            *confirm = false;
            let id = self.writes.get(*selected).map(|w| w.id);
            return match (key.code, id) {
                (KeyCode::Char('y'), Some(id)) => {
                    self.say(format!("cancelling write {id}…"));
                    vec![Effect::CancelWrite(id)]
                }
                _ => {
                    self.say("kept; nothing was cancelled");
                    Vec::new()
                }
            };
        }
        if let Some(text) = &mut self.filter_input {
            match key.code {
                KeyCode::Esc => {
                    self.filter_input = None;
                    self.set_filter(String::new());
                }
                KeyCode::Enter => {
                    self.filter_input = None;
                    // The footer showed it while typing; keep it in view.
                    if let Some(error) = self.panes[self.focus as usize].filter_error.clone() {
                        self.say(error);
                    }
                }
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
        // Keys of `[[views]]` (validated not to clash with the keymap).
        if let Some(index) = self
            .settings
            .views
            .by_key(&crate::model::keymap::KeyBinding::from_event(key))
        {
            self.set_view(index);
            return Vec::new();
        }
        let Some(action) = self.settings.keymap.action(key) else {
            return Vec::new();
        };
        self.apply(action)
    }

    /// Perform a user action.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        if let (Overlay::Journal { selected, .. }, Action::CancelWrite) = (&self.overlay, action) {
            self.ask_to_cancel(*selected);
            return Vec::new();
        }
        if matches!(self.overlay, Overlay::Incident { .. })
            && let Some(effects) = self.incident_mode_action(action)
        {
            return effects;
        }
        let last_write = self.writes.len().saturating_sub(1);
        // Overlays take the actions that make sense inside them.
        match (&mut self.overlay, action) {
            (_, Action::Quit) => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            (Overlay::Help { .. }, Action::Help | Action::Back)
            | (
                Overlay::Detail { .. }
                | Overlay::Journal { .. }
                | Overlay::Incident { .. }
                | Overlay::Kpi { .. }
                | Overlay::Handover { .. },
                Action::Back,
            )
            | (Overlay::Journal { .. }, Action::Journal)
            | (Overlay::Kpi { .. }, Action::KpiView)
            | (Overlay::Handover { .. }, Action::Handover)
            | (Overlay::Incident { .. }, Action::IncidentMode)
            | (Overlay::Voc { .. }, Action::VoiceOfCustomer | Action::Back) => {
                // A detail opened from incident mode goes back there.
                self.overlay = match (&self.overlay, action) {
                    (Overlay::Detail { .. }, Action::Back) => {
                        self.return_to.take().unwrap_or(Overlay::None)
                    }
                    _ => Overlay::None,
                };
                self.derived.voc = Vec::new();
                return Vec::new();
            }
            (
                Overlay::Journal { selected, .. },
                Action::Down | Action::Up | Action::PageDown | Action::PageUp,
            ) => {
                *selected = match action {
                    Action::Down => selected.saturating_add(1),
                    Action::Up => selected.saturating_sub(1),
                    Action::PageDown => selected.saturating_add(10),
                    _ => selected.saturating_sub(10),
                }
                .min(last_write);
                return Vec::new();
            }
            (
                Overlay::Help { .. },
                Action::Down
                | Action::Up
                | Action::PageDown
                | Action::PageUp
                | Action::Top
                | Action::Bottom,
            ) => {
                self.scroll_help(action);
                return Vec::new();
            }
            (
                Overlay::Kpi { scroll }
                | Overlay::Handover { scroll }
                | Overlay::Voc { scroll }
                | Overlay::Detail { scroll, .. },
                Action::Down | Action::Up | Action::PageDown | Action::PageUp,
            ) => {
                *scroll = match action {
                    Action::Down => scroll.saturating_add(1),
                    Action::Up => scroll.saturating_sub(1),
                    Action::PageDown => scroll.saturating_add(10),
                    _ => scroll.saturating_sub(10),
                };
                return Vec::new();
            }
            // Incident mode takes the write actions (about its incident) and
            // little else.
            (
                Overlay::Incident { .. },
                Action::CustomerUpdate
                | Action::Annotate
                | Action::Escalate
                | Action::Refresh
                | Action::Help
                | Action::Command
                | Action::Handover
                | Action::Journal,
            ) => {}
            (Overlay::Incident { .. }, _) => return Vec::new(),
            (
                Overlay::Help { .. }
                | Overlay::Journal { .. }
                | Overlay::Voc { .. }
                | Overlay::Handover { .. }
                | Overlay::Kpi { .. },
                _,
            ) => {
                return Vec::new();
            }
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
                } else if self.scope.is_some() && pane != Pane::Incidents {
                    self.set_scope(None);
                } else if self.offered_incident.take().is_some() {
                    // Dismisses the major-incident banner.
                }
            }
            Action::JumpLinked => self.jump_linked(),
            Action::CancelWrite => self.say("x cancels a write in the journal view (J)"),
            Action::LinkIncident => self.open_link(),
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
                    // OSC 52 asks the terminal to copy: nothing confirms it
                    // did (tmux only passes it on with set-clipboard on).
                    self.say(format!(
                        "asked the terminal to copy {url} (OSC 52; in tmux: set-clipboard on)"
                    ));
                    return vec![Effect::Copy(url)];
                }
                None => self.say("this row has no link"),
            },
            Action::Annotate => self.open_annotate(),
            Action::Escalate => self.open_escalate(),
            Action::Journal => {
                self.overlay = Overlay::Journal {
                    selected: 0,
                    confirm: false,
                }
            }
            Action::IncidentMode => return self.enter_incident_mode(),
            // Outside incident mode, `u` goes there first (the incident
            // the banner offers, or the most severe): one key from any
            // screen to the customer update.
            Action::CustomerUpdate if matches!(self.overlay, Overlay::Incident { .. }) => {
                self.open_customer_update();
            }
            Action::CustomerUpdate => {
                let effects = self.enter_incident_mode();
                if matches!(self.overlay, Overlay::Incident { .. }) {
                    self.open_customer_update();
                }
                return effects;
            }
            Action::ViewAll => self.set_view(crate::model::views::ALL),
            Action::ViewMine => self.set_view(crate::model::views::MINE),
            Action::ViewUnassigned => self.set_view(crate::model::views::UNASSIGNED),
            Action::ViewBreaching => self.set_view(crate::model::views::BREACHING),
            Action::ViewEscalated => self.set_view(crate::model::views::ESCALATED),
            Action::KpiView => self.overlay = Overlay::Kpi { scroll: 0 },
            Action::Handover => {
                self.say("writing the handover report…");
                return vec![Effect::Handover];
            }
            Action::NextView => {
                let count = self.settings.views.len().max(1);
                self.set_view((self.view + 1) % count);
            }
            Action::VoiceOfCustomer => {
                self.overlay = Overlay::Voc { scroll: 0 };
                self.refresh_voc();
            }
            Action::Command => self.open_command(),
            Action::Quit => {}
        }
        Vec::new()
    }

    /// Narrow (or widen again) the customers and inquiries panes.
    fn set_scope(&mut self, scope: Option<String>) {
        self.scope = scope;
        self.refilter(Pane::Customers);
        self.refilter(Pane::Inquiries);
    }

    /// From an incident to its customers and inquiries; from there (or
    /// from any customer or inquiry in an incident) to the incident.
    fn jump_linked(&mut self) {
        let from_detail = match &self.overlay {
            Overlay::Detail {
                target: Target::Incident(id),
                ..
            } => Some(id.clone()),
            _ => None,
        };
        if let Some(id) = from_detail.or_else(|| match self.focus {
            Pane::Incidents => self.row_id(
                Pane::Incidents,
                self.panes[Pane::Incidents as usize].selected,
            ),
            _ => None,
        }) {
            let Some(index) = self.data.incidents.iter().position(|i| i.id == id) else {
                return;
            };
            let (customers, inquiries) = self
                .derived
                .impacts
                .get(index)
                .map_or((0, 0), |x| (x.affected.len(), x.linked.len()));
            self.overlay = Overlay::None;
            self.set_scope(Some(id.clone()));
            self.focus = if customers == 0 && inquiries > 0 {
                Pane::Inquiries
            } else {
                Pane::Customers
            };
            let back = self
                .settings
                .keymap
                .first_key(Action::JumpLinked)
                .unwrap_or_default();
            self.say(format!(
                "incident {id}: {customers} customers, {inquiries} inquiries · {back} back"
            ));
            return;
        }
        // Back to the incident in scope, or to the selected row's incident.
        let target = self.scope.clone().or_else(|| self.incident_of_selection());
        let Some(id) = target else {
            self.say("no incident linked to this row");
            return;
        };
        self.overlay = Overlay::None;
        self.set_scope(None);
        self.focus = Pane::Incidents;
        let view = &mut self.panes[Pane::Incidents as usize];
        view.filter.clear();
        view.selected_id = Some(id);
        self.refilter(Pane::Incidents);
    }

    /// The first incident linked to the selected customer or inquiry.
    fn incident_of_selection(&self) -> Option<String> {
        let pane = self.focus;
        let id = self.row_id(pane, self.panes[pane as usize].selected)?;
        let index = self.derived.impacts.iter().position(|x| match pane {
            Pane::Customers => x.affected.iter().any(|a| {
                self.data
                    .accounts
                    .get(a.account)
                    .is_some_and(|acc| acc.id == id)
            }),
            Pane::Inquiries => x.linked.iter().any(|l| l.inquiry == id),
            Pane::Incidents => false,
        })?;
        self.data.incidents.get(index).map(|i| i.id.to_string())
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
        self.return_to = None;
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

impl Model {
    /// `x` in the journal: ask before withdrawing the selected write, or
    /// say why it cannot be.
    fn ask_to_cancel(&mut self, selected: usize) {
        match self.writes.get(selected) {
            Some(w) if w.cancellable() => {
                self.overlay = Overlay::Journal {
                    selected,
                    confirm: true,
                };
            }
            Some(w) if w.state().is_pending() => self.say(format!(
                "write {} is being sent or may already have arrived: it cannot be cancelled",
                w.id
            )),
            Some(w) => self.say(format!("write {} has nothing left to deliver", w.id)),
            None => self.say("no write selected"),
        }
    }
}
