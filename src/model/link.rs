//! `l`: link the selected inquiry to an open incident by hand, or remove a
//! link — the CRE's answer when the join found too little (an incident that
//! names only a service) or too much (a candidate by shared terms). The
//! decision is journalled (`SourceWrite::Link`) and the join follows it.

use crossterm::event::{KeyCode, KeyEvent};

use super::{Model, Prompt, WriteRequest};
use crate::core::writes::{self, Target, WriteKind};
use crate::insight::join::Confidence;
use crate::model::message::Effect as Do;

/// One open incident in the dialog: its id, a label, and how the inquiry is
/// linked to it now (`None`: not linked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOption {
    pub incident: String,
    pub label: String,
    pub current: Option<Confidence>,
}

impl Model {
    pub(crate) fn open_link(&mut self) {
        if self.settings.read_only {
            return self.say("read-only: writes are turned off");
        }
        let Some((Target::Inquiry(inquiry), about)) = self.write_target() else {
            return self.say("select an inquiry to link it to an incident");
        };
        let options: Vec<LinkOption> = self
            .data
            .incidents
            .iter()
            .zip(&self.derived.impacts)
            .filter(|(incident, _)| incident.is_open())
            .map(|(incident, impact)| LinkOption {
                incident: incident.id.to_string(),
                label: format!("{} {} {}", incident.severity, incident.id, incident.title),
                current: impact
                    .linked
                    .iter()
                    .find(|l| l.inquiry == inquiry)
                    .map(|l| l.confidence),
            })
            .collect();
        if options.is_empty() {
            return self.say("no open incident to link to");
        }
        self.prompt = Some(Prompt::Link {
            inquiry,
            about,
            options,
            selected: 0,
            saving: false,
            error: None,
        });
    }

    /// Keys of the link dialog: j/k choose, enter links (or unlinks what is
    /// linked), esc closes.
    pub(crate) fn link_key(&mut self, key: &KeyEvent) -> Vec<Do> {
        let me = self.settings.me.clone().unwrap_or_else(|| "the CRE".into());
        let mirror = self.settings.mirror_links;
        let titles: Vec<(String, String)> = self
            .data
            .incidents
            .iter()
            .map(|i| (i.id.to_string(), i.title.clone()))
            .collect();
        let Some(Prompt::Link {
            inquiry,
            options,
            selected,
            saving,
            ..
        }) = &mut self.prompt
        else {
            return Vec::new();
        };
        if *saving {
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Char('j') | KeyCode::Down => {
                *selected = (*selected + 1).min(options.len().saturating_sub(1));
            }
            KeyCode::Char('k') | KeyCode::Up => *selected = selected.saturating_sub(1),
            KeyCode::Enter => {
                let option = &options[*selected];
                let linked = option.current.is_none();
                let text = if linked {
                    format!("linked to incident {} by {me}", option.incident)
                } else {
                    format!("unlinked from incident {} by {me}", option.incident)
                };
                let title = titles
                    .iter()
                    .find(|(id, _)| *id == option.incident)
                    .map(|(_, t)| t.as_str());
                let request = WriteRequest {
                    kind: WriteKind::Link,
                    target: Target::Inquiry(inquiry.clone()),
                    text,
                    effects: writes::link_effects(inquiry, &option.incident, title, linked, mirror),
                };
                *saving = true;
                return vec![Do::Journal(request)];
            }
            _ => {}
        }
        Vec::new()
    }
}
