//! Incident mode (`i`): one incident from the customers' side, and the
//! customer update (`u`) that goes to every linked inquiry at once.

use crossterm::event::{KeyCode, KeyEvent};

use super::{Loadable, Model, Overlay, Prompt, WriteRequest};
use crate::core::domain::{IncidentStatus, Severity};
use crate::core::writes::{SourceWrite, Target, WriteKind};
use crate::insight::notify::{Kind, Notification};
use crate::model::message::Effect as Do;

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
            scroll: 0,
        };
        vec![Do::LoadNotes(id)]
    }

    /// A new SEV1/SEV2 just rang: offer incident mode in the footer.
    pub(crate) fn offer_incident_mode(&mut self, shown: &[Notification]) {
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
        let linked = self
            .derived
            .impacts
            .get(index)
            .map_or(0, |i| i.linked.len());
        if linked == 0 {
            return self.say("no linked inquiries to update");
        }
        self.prompt = Some(Prompt::Update {
            incident: id.clone(),
            template: 0,
            confirm: None,
            visibility: Visibility::Private,
            text: String::new(),
            saving: false,
            error: None,
        });
    }

    /// The effects of a customer update: a note (or reply) on every linked
    /// inquiry, and a record on the incident itself.
    fn update_effects(&self, incident_id: &str, text: &str, public: bool) -> Vec<SourceWrite> {
        let Some(index) = self.data.incidents.iter().position(|i| i.id == incident_id) else {
            return Vec::new();
        };
        let mut effects: Vec<SourceWrite> = self.derived.impacts[index]
            .linked
            .iter()
            .map(|l| SourceWrite::DeskNote {
                ticket: l.inquiry.clone(),
                body: text.to_owned(),
                public,
            })
            .collect();
        let declared = self.data.incidents[index].status != IncidentStatus::Detected;
        let record = format!(
            "Customer update sent to {} linked inquiries ({}):\n\n{text}",
            effects.len(),
            if public {
                "public reply"
            } else {
                "private note"
            }
        );
        effects.push(if self.settings.incident_notes && declared {
            SourceWrite::IncidentNote {
                incident: incident_id.to_owned(),
                body: record,
            }
        } else {
            SourceWrite::Local
        });
        effects
    }

    /// Keys in the customer-update dialog.
    pub(crate) fn update_key(&mut self, key: &KeyEvent) -> Vec<Do> {
        let names: Vec<String> = self
            .settings
            .updates
            .names()
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        let Some(Prompt::Update {
            incident,
            template,
            confirm,
            visibility,
            text,
            saving,
            ..
        }) = self.prompt.clone()
        else {
            return Vec::new();
        };
        if saving {
            return Vec::new();
        }
        let mut next = (template, confirm, visibility, text);
        match (next.1.is_some(), key.code) {
            (false, KeyCode::Esc) => {
                self.prompt = None;
                return Vec::new();
            }
            (false, KeyCode::Down | KeyCode::Char('j')) => {
                next.0 = (next.0 + 1).min(names.len().saturating_sub(1))
            }
            (false, KeyCode::Up | KeyCode::Char('k')) => next.0 = next.0.saturating_sub(1),
            (false, KeyCode::Enter) => {
                let Some(i) = self.data.incidents.iter().find(|i| i.id == incident) else {
                    return Vec::new();
                };
                // The update promises its successor: due one interval from now.
                let next_update = self.now
                    + jiff::SignedDuration::try_from(self.settings.updates.interval)
                        .unwrap_or(jiff::SignedDuration::from_mins(20));
                let body = self
                    .settings
                    .updates
                    .names()
                    .get(next.0)
                    .map(|(_, t)| crate::insight::updates::render(t, i, next_update))
                    .unwrap_or_default();
                next.1 = Some(self.update_effects(&incident, &body, false));
                next.2 = Visibility::Private;
                next.3 = body;
            }
            // Public replies reach the customers: switching needs its own key,
            // and sending them a second `y`.
            (true, KeyCode::Char('P')) => {
                next.2 = Visibility::Public {
                    confirmed_once: false,
                };
                next.1 = Some(self.update_effects(&incident, &next.3, true));
            }
            (true, KeyCode::Char('y')) => match next.2 {
                Visibility::Public {
                    confirmed_once: false,
                } => {
                    next.2 = Visibility::Public {
                        confirmed_once: true,
                    }
                }
                _ => {
                    let effects = next.1.clone().unwrap_or_default();
                    if let Some(Prompt::Update { saving, .. }) = &mut self.prompt {
                        *saving = true;
                    }
                    return vec![Do::Journal(WriteRequest {
                        kind: WriteKind::CustomerUpdate,
                        target: Target::Incident(incident),
                        text: next.3,
                        effects,
                    })];
                }
            },
            (true, KeyCode::Char('n') | KeyCode::Esc) => {
                next.1 = None;
                next.2 = Visibility::Private;
            }
            _ => {}
        }
        if let Some(Prompt::Update {
            template,
            confirm,
            visibility,
            text,
            ..
        }) = &mut self.prompt
        {
            (*template, *confirm, *visibility, *text) = next;
        }
        Vec::new()
    }
}
