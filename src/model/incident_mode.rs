//! Incident mode (`i`): one incident from the customers' side, and the
//! customer update (`u`) that goes to every linked inquiry at once.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::view::Section;
use super::{Loadable, Model, Overlay, Prompt, WriteRequest};
use crate::core::domain::{IncidentStatus, Severity};
use crate::core::writes::{SourceWrite, Target, WriteKind};
use crate::insight::notify::{Kind, Notification};
use crate::insight::updates::{Party, Recipient, Rendered, render_all, their_impact};
use crate::model::action::Action;
use crate::model::message::Effect as Do;

/// Where the customer-update dialog is.
#[derive(Debug, Clone)]
pub enum UpdateStage {
    /// Choosing a template.
    Pick,
    /// Editing the chosen template (placeholders and all).
    Edit {
        /// Boxed: the editor is large and the dialog is rarely open.
        editor: Box<TextArea<'static>>,
    },
    /// Every recipient's exact text, one page per linked inquiry.
    Review {
        /// The template as edited (journalled with the write).
        text: String,
        rendered: Vec<Rendered>,
        page: usize,
        effects: Vec<SourceWrite>,
    },
}

/// How a customer update goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Private notes on the linked inquiries (the default).
    Private,
    /// Public replies, chosen explicitly; needs a second confirmation.
    Public { confirmed_once: bool },
}

impl Model {
    /// The incident incident mode would open: the one on screen, the one
    /// offered by a notification, or the most severe open one.
    fn incident_for_mode(&self) -> Option<String> {
        if let Overlay::Detail {
            target: super::Target::Incident(id),
            ..
        } = &self.overlay
        {
            return Some(id.clone());
        }
        if self.focus == super::Pane::Incidents
            && let Some(id) = self.row_id(
                super::Pane::Incidents,
                self.panes[super::Pane::Incidents as usize].selected,
            )
        {
            return Some(id);
        }
        if let Some(id) = &self.offered_incident {
            return Some(id.clone());
        }
        self.data
            .incidents
            .iter()
            .filter(|i| i.is_open())
            .min_by_key(|i| (i.severity, std::cmp::Reverse(i.started_at)))
            .map(|i| i.id.to_string())
    }

    /// `i`: enter incident mode (and load the incident's notes).
    pub(crate) fn enter_incident_mode(&mut self) -> Vec<Do> {
        let Some(id) = self.incident_for_mode() else {
            self.say("no open incident");
            return Vec::new();
        };
        self.offered_incident = None;
        self.notes.insert(id.clone(), Loadable::Loading);
        self.overlay = Overlay::Incident {
            id: id.clone(),
            section: super::view::Section::Customers,
            rows: [0, 0],
            scroll: 0,
        };
        vec![Do::LoadNotes(id)]
    }

    /// The linked inquiries of an incident (by index), most urgent first:
    /// the order incident mode shows and its cursor walks.
    #[must_use]
    pub fn linked_in_order(&self, index: usize) -> Vec<&crate::core::domain::Inquiry> {
        let mut linked: Vec<&crate::core::domain::Inquiry> = self
            .derived
            .impacts
            .get(index)
            .map(|x| x.linked.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| self.data.inquiry(&l.inquiry))
            .collect();
        linked.sort_by_key(|i| super::view::urgency(i, self.now));
        linked
    }

    /// Keys inside incident mode: sections (`tab`), the cursor in each
    /// (`j`/`k`, pages, top/bottom), `enter` on a customer or an inquiry
    /// opens its detail, from which `esc` comes back here. `true` when the
    /// action was taken.
    pub(crate) fn incident_mode_action(&mut self, action: Action) -> Option<Vec<Do>> {
        let Overlay::Incident {
            id,
            section,
            rows,
            scroll,
        } = &self.overlay
        else {
            return None;
        };
        let (id, mut section, mut rows, mut scroll) = (id.clone(), *section, *rows, *scroll);
        let index = self.data.incidents.iter().position(|i| i.id == id);
        let counts = index.map_or([0, 0], |i| {
            [
                self.derived.impacts.get(i).map_or(0, |x| x.affected.len()),
                self.linked_in_order(i).len(),
            ]
        });
        let page = isize::try_from(usize::from(self.size.1 / 2).max(1)).unwrap_or(10);
        let delta: Option<isize> = match action {
            Action::Down => Some(1),
            Action::Up => Some(-1),
            Action::PageDown => Some(page),
            Action::PageUp => Some(-page),
            Action::Top => Some(isize::MIN / 2),
            Action::Bottom => Some(isize::MAX / 2),
            _ => None,
        };
        match (action, delta) {
            (_, Some(delta)) => match section {
                Section::Timeline => {
                    let d = i16::try_from(delta.clamp(-1000, 1000)).unwrap_or(0);
                    scroll = scroll.saturating_add_signed(d);
                    if action == Action::Top {
                        scroll = 0;
                    }
                }
                s => {
                    let n = counts[s as usize];
                    let row = &mut rows[s as usize];
                    *row = row.saturating_add_signed(delta).min(n.saturating_sub(1));
                }
            },
            (Action::NextPane, _) => section = section.next(),
            (Action::PrevPane, _) => section = section.prev(),
            // The pane keys pick a section directly.
            (Action::FocusInquiries, _) => section = Section::Customers,
            (Action::FocusCustomers, _) => section = Section::Inquiries,
            (Action::FocusIncidents, _) => section = Section::Timeline,
            (Action::Detail, _) => {
                let target = self.incident_cursor();
                let Some(target) = target else {
                    return Some(Vec::new());
                };
                let effect = match &target {
                    super::Target::Inquiry(q) => {
                        self.comments.insert(q.clone(), Loadable::Loading);
                        vec![Do::LoadComments(q.clone())]
                    }
                    _ => Vec::new(),
                };
                self.return_to = Some(self.overlay.clone());
                self.overlay = Overlay::Detail { target, scroll: 0 };
                return Some(effect);
            }
            _ => return None,
        }
        self.overlay = Overlay::Incident {
            id,
            section,
            rows,
            scroll,
        };
        Some(Vec::new())
    }

    /// In incident mode, the customer or inquiry under the cursor of the
    /// section that has focus (`None` on the timeline: the incident itself).
    #[must_use]
    pub fn incident_cursor(&self) -> Option<super::Target> {
        let Overlay::Incident {
            id, section, rows, ..
        } = &self.overlay
        else {
            return None;
        };
        let index = self.data.incidents.iter().position(|i| i.id == *id)?;
        match section {
            Section::Customers => self
                .derived
                .impacts
                .get(index)?
                .affected
                .get(rows[0])
                .map(|a| super::Target::Customer(self.data.accounts[a.account].id.to_string())),
            Section::Inquiries => self
                .linked_in_order(index)
                .get(rows[1])
                .map(|q| super::Target::Inquiry(q.id.to_string())),
            Section::Timeline => None,
        }
    }

    /// A new SEV1/SEV2 just rang: a banner offers incident mode (one key),
    /// the incidents pane's cursor goes to the most severe open incident
    /// and the customers pane's to its first row (the customers the
    /// incident hurts lead that pane) — unless the user moved that cursor
    /// within the last minute: attention follows the incident, but never
    /// snatches a row from under someone's hands.
    pub(crate) fn offer_incident_mode(&mut self, shown: &[Notification]) {
        if !shown.iter().any(|n| n.kind == Kind::MajorIncident) {
            return;
        }
        let recently = |view: &super::PaneView, now: jiff::Timestamp| {
            view.moved_at
                .is_some_and(|t| now.duration_since(t) < jiff::SignedDuration::from_mins(1))
        };
        if !recently(&self.panes[super::Pane::Incidents as usize], self.now)
            && let Some(worst) = self
                .data
                .incidents
                .iter()
                .filter(|i| i.is_open())
                .min_by_key(|i| (i.severity, std::cmp::Reverse(i.started_at)))
        {
            self.panes[super::Pane::Incidents as usize].selected_id = Some(worst.id.to_string());
            self.refilter(super::Pane::Incidents);
        }
        if !recently(&self.panes[super::Pane::Customers as usize], self.now) {
            let view = &mut self.panes[super::Pane::Customers as usize];
            view.selected = 0;
            view.offset = 0;
            view.selected_id = None;
            self.refilter(super::Pane::Customers);
        }
        let major = self
            .data
            .incidents
            .iter()
            .filter(|i| i.severity <= Severity::Sev2 && i.is_open())
            .max_by_key(|i| i.started_at);
        if let Some(incident) =
            major.filter(|_| shown.iter().any(|n| n.kind == Kind::MajorIncident))
            && !matches!(self.overlay, Overlay::Incident { .. })
        {
            self.offered_incident = Some(incident.id.to_string());
            let key = self
                .settings
                .keymap
                .first_key(crate::model::action::Action::IncidentMode)
                .unwrap_or_else(|| "i".into());
            self.say(format!(
                "{} started: {} — press {key} for incident mode",
                incident.severity, incident.title
            ));
        }
    }

    /// `u` in incident mode: pick a template for the customer update.
    pub(crate) fn open_customer_update(&mut self) {
        let Overlay::Incident { id, .. } = &self.overlay else {
            return self.say("customer updates are posted from incident mode (i)");
        };
        if self.settings.read_only {
            return self.say("read-only: writes are turned off");
        }
        let Some(index) = self.data.incidents.iter().position(|i| &i.id == id) else {
            return self.say("this incident is no longer open");
        };
        let linked = self.derived.impacts.get(index).map_or(0, |i| {
            i.linked.iter().filter(|l| l.confidence.counts()).count()
        });
        if linked == 0 {
            return self
                .say("no linked inquiries to update (candidates by shared terms need confirming)");
        }
        self.prompt = Some(Prompt::Update {
            incident: id.clone(),
            template: 0,
            stage: UpdateStage::Pick,
            visibility: Visibility::Private,
            saving: false,
            error: None,
        });
    }

    /// Who an incident's customer update goes to: every affected account
    /// (the parties none may be named to another) and one recipient per
    /// linked inquiry, with what that customer experiences.
    fn audience(&self, index: usize) -> (Vec<Party>, Vec<Recipient>) {
        let Some(impact) = self.derived.impacts.get(index) else {
            return (Vec::new(), Vec::new());
        };
        let incident = &self.data.incidents[index];
        let service = self
            .settings
            .updates
            .service_name(incident.service.as_deref());
        // Only confident links receive an update; a candidate by shared
        // terms may be about something else entirely.
        let confident = || impact.linked.iter().filter(|l| l.confidence.counts());
        let linked: Vec<&crate::core::domain::Inquiry> = confident()
            .filter_map(|l| self.data.inquiry(&l.inquiry))
            .collect();
        let mut accounts: Vec<usize> = impact.affected.iter().map(|a| a.account).collect();
        for inquiry in &linked {
            if let Some(a) = self.derived.account_of(inquiry)
                && !accounts.contains(&a)
            {
                accounts.push(a);
            }
        }
        let parties = accounts
            .iter()
            .map(|&a| {
                let account = &self.data.accounts[a];
                Party {
                    name: account.name.clone(),
                    tenant: account.tenant.clone(),
                    desk_org: account.desk_org.clone(),
                }
            })
            .collect();
        let recipients = confident()
            .map(|l| {
                let inquiry = self.data.inquiry(&l.inquiry);
                let account = inquiry.and_then(|i| self.derived.account_of(i));
                let ratio = account.and_then(|a| {
                    impact
                        .affected
                        .iter()
                        .find(|x| x.account == a)
                        .and_then(|x| x.error_ratio)
                });
                // The feature areas of this customer's own linked inquiries.
                let mut areas: Vec<String> = linked
                    .iter()
                    .filter(|i| account.is_some() && self.derived.account_of(i) == account)
                    .chain(inquiry.iter().filter(|_| account.is_none()))
                    .filter_map(|i| i.feature_area.as_deref())
                    // Areas are named as customers know them where the
                    // config maps them; one that is the service is said once.
                    .map(|a| {
                        self.settings
                            .updates
                            .public_name(a)
                            .unwrap_or_else(|| a.to_owned())
                    })
                    .filter(|a| *a != service && incident.service.as_deref() != Some(a.as_str()))
                    .collect();
                areas.sort();
                areas.dedup();
                Recipient {
                    inquiry: l.inquiry.clone(),
                    party: account.and_then(|a| accounts.iter().position(|&x| x == a)),
                    fallback_name: inquiry.and_then(|i| i.requester.as_deref().map(str::to_owned)),
                    impact: their_impact(&service, ratio, &areas),
                }
            })
            .collect();
        (parties, recipients)
    }

    /// A customer update rendered for every linked inquiry, and the writes
    /// that post it: a note (or public reply) per inquiry with that
    /// inquiry's own text, and a record on the incident. Refused, with the
    /// reason, if any one text may not go out. The TUI and `update` share it.
    pub fn customer_update(
        &self,
        incident_id: &str,
        template: &str,
        public: bool,
    ) -> Result<(Vec<Rendered>, Vec<SourceWrite>), String> {
        let Some(index) = self.data.incidents.iter().position(|i| i.id == incident_id) else {
            return Err(format!("incident {incident_id} is not open"));
        };
        let incident = &self.data.incidents[index];
        let (parties, recipients) = self.audience(index);
        if recipients.is_empty() {
            return Err(format!("incident {incident_id} has no linked inquiries"));
        }
        // The update promises its successor: due one interval from now.
        let next_update = self.now
            + jiff::SignedDuration::try_from(self.settings.updates.interval)
                .unwrap_or(jiff::SignedDuration::from_mins(20));
        let rendered = render_all(
            &self.settings.updates,
            template,
            incident,
            next_update,
            public,
            &parties,
            &recipients,
        )
        .map_err(|e| e.to_string())?;
        for r in &rendered {
            crate::core::writes::check_text(&r.body)
                .map_err(|e| format!("inquiry {}: {e}", r.inquiry))?;
        }
        let mut effects: Vec<SourceWrite> = rendered
            .iter()
            .map(|r| SourceWrite::DeskNote {
                ticket: r.inquiry.clone(),
                body: r.body.clone(),
                public,
            })
            .collect();
        let declared = incident.status != IncidentStatus::Detected;
        let record = format!(
            "Customer update sent to {} linked inquiries ({}): {}\n\nTemplate:\n{template}",
            rendered.len(),
            if public {
                "public reply"
            } else {
                "private note"
            },
            rendered
                .iter()
                .map(|r| r.inquiry.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        effects.push(if self.settings.incident_notes && declared {
            SourceWrite::IncidentNote {
                incident: incident_id.to_owned(),
                body: record,
            }
        } else {
            SourceWrite::Local
        });
        Ok((rendered, effects))
    }

    /// Keys in the customer-update dialog: pick a template, edit it, review
    /// every recipient's text, confirm (twice for public replies).
    pub(crate) fn update_key(&mut self, key: &KeyEvent) -> Vec<Do> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let templates: Vec<String> = self
            .settings
            .updates
            .names()
            .iter()
            .map(|(_, t)| (*t).to_owned())
            .collect();
        let Some(Prompt::Update {
            incident,
            template,
            stage,
            visibility,
            saving: false,
            ..
        }) = &mut self.prompt
        else {
            return Vec::new();
        };
        let incident = incident.clone();
        // What to render after the borrow of the prompt ends.
        let mut render: Option<(String, bool)> = None;
        match (&mut *stage, key.code) {
            (UpdateStage::Pick, KeyCode::Esc) => {
                self.prompt = None;
                return Vec::new();
            }
            (UpdateStage::Pick, KeyCode::Down | KeyCode::Char('j')) => {
                *template = (*template + 1).min(templates.len().saturating_sub(1));
            }
            (UpdateStage::Pick, KeyCode::Up | KeyCode::Char('k')) => {
                *template = template.saturating_sub(1);
            }
            (UpdateStage::Pick, KeyCode::Enter) => {
                let text = templates.get(*template).cloned().unwrap_or_default();
                *stage = UpdateStage::Edit {
                    editor: Box::new(update_editor(&text)),
                };
            }
            (UpdateStage::Pick, _) => {}
            (UpdateStage::Edit { .. }, KeyCode::Esc) => *stage = UpdateStage::Pick,
            (UpdateStage::Edit { editor }, KeyCode::Char('e')) if ctrl => {
                return vec![Do::ExternalEditor(editor.lines().join("\n"))];
            }
            (UpdateStage::Edit { editor }, KeyCode::Char('s')) if ctrl => {
                render = Some((editor.lines().join("\n"), false));
            }
            (UpdateStage::Edit { editor }, _) => {
                editor.input(*key);
            }
            (
                UpdateStage::Review { rendered, page, .. },
                KeyCode::Right | KeyCode::PageDown | KeyCode::Char('l'),
            ) => {
                *page = (*page + 1).min(rendered.len().saturating_sub(1));
            }
            (
                UpdateStage::Review { page, .. },
                KeyCode::Left | KeyCode::PageUp | KeyCode::Char('h'),
            ) => {
                *page = page.saturating_sub(1);
            }
            // Public replies reach the customers: switching needs its own
            // key (which re-renders under the public rules), and sending
            // them a second `y`.
            (UpdateStage::Review { text, .. }, KeyCode::Char('P'))
                if *visibility == Visibility::Private =>
            {
                render = Some((text.clone(), true));
            }
            (UpdateStage::Review { text, effects, .. }, KeyCode::Char('y')) => match visibility {
                Visibility::Public {
                    confirmed_once: false,
                } => {
                    *visibility = Visibility::Public {
                        confirmed_once: true,
                    }
                }
                _ => {
                    let request = WriteRequest {
                        kind: WriteKind::CustomerUpdate,
                        target: Target::Incident(incident),
                        text: text.clone(),
                        effects: effects.clone(),
                    };
                    if let Some(Prompt::Update { saving, .. }) = &mut self.prompt {
                        *saving = true;
                    }
                    return vec![Do::Journal(request)];
                }
            },
            (UpdateStage::Review { text, .. }, KeyCode::Char('n') | KeyCode::Esc) => {
                *stage = UpdateStage::Edit {
                    editor: Box::new(update_editor(text)),
                };
                *visibility = Visibility::Private;
            }
            (UpdateStage::Review { .. }, _) => {}
        }
        if let Some((text, public)) = render {
            let result = self.customer_update(&incident, &text, public);
            // Switching to public keeps the recipient being read on screen:
            // by inquiry, not by page number, since links found in between
            // re-order the pages.
            let (kept, reading) = match &self.prompt {
                Some(Prompt::Update {
                    stage: UpdateStage::Review { page, rendered, .. },
                    ..
                }) => (*page, rendered.get(*page).map(|r| r.inquiry.clone())),
                _ => (0, None),
            };
            if let Some(Prompt::Update {
                stage,
                visibility,
                error,
                ..
            }) = &mut self.prompt
            {
                match result {
                    Ok((rendered, effects)) => {
                        let page = reading
                            .and_then(|id| rendered.iter().position(|r| r.inquiry == id))
                            .unwrap_or(kept.min(rendered.len().saturating_sub(1)));
                        *stage = UpdateStage::Review {
                            text,
                            page,
                            rendered,
                            effects,
                        };
                        *visibility = if public {
                            Visibility::Public {
                                confirmed_once: false,
                            }
                        } else {
                            Visibility::Private
                        };
                        *error = None;
                    }
                    // Refused: nothing changes but the reason on screen.
                    Err(e) => *error = Some(format!("not sent: {e}")),
                }
            }
        } else if let Some(Prompt::Update { error, .. }) = &mut self.prompt {
            *error = None;
        }
        Vec::new()
    }
}

/// The editor of a customer update, holding `text`.
pub(crate) fn update_editor(text: &str) -> TextArea<'static> {
    let mut editor = TextArea::new(text.lines().map(str::to_owned).collect());
    editor.set_placeholder_text(
        "Type the update. ctrl-s: review each customer's text · ctrl-e: $EDITOR · esc: back",
    );
    editor
}
