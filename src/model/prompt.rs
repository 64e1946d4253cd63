//! The two write dialogs: annotate (a multi-line editor) and escalate (pick
//! a target). Both end in a confirmation that previews every effect and
//! where it goes; only `y` there journals the write.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::{Model, Pane, Target as ViewTarget};
use crate::core::writes::{self, SourceWrite, Target, WriteKind};
use crate::model::message::Effect as Do;

/// An open write dialog.
#[derive(Debug, Clone)]
pub enum Prompt {
    Annotate {
        target: Target,
        /// What the note is about, for the title ("inquiry 123: Login fails").
        about: String,
        /// Boxed: the editor is large and the dialog is rarely open.
        editor: Box<TextArea<'static>>,
        /// The effects shown for confirmation, once asked to save.
        confirm: Option<Vec<SourceWrite>>,
        saving: bool,
        error: Option<String>,
    },
    Escalate {
        target: Target,
        about: String,
        /// Escalation target names, the suggested ones first.
        options: Vec<String>,
        /// A teammate escalated this within the hour (who and when, in
        /// words): asked about before anything else.
        teammate: Option<String>,
        selected: usize,
        confirm: Option<Vec<SourceWrite>>,
        /// The text journalled with the write (and its context bundle).
        text: String,
        saving: bool,
        error: Option<String>,
    },
    /// Link the inquiry to an open incident by hand, or unlink it.
    Link {
        inquiry: String,
        about: String,
        options: Vec<super::link::LinkOption>,
        selected: usize,
        saving: bool,
        error: Option<String>,
    },
    /// A customer update from incident mode.
    Update {
        incident: String,
        /// Index into the configured templates.
        template: usize,
        stage: super::incident_mode::UpdateStage,
        visibility: super::incident_mode::Visibility,
        saving: bool,
        error: Option<String>,
    },
}

/// What the journal is asked to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRequest {
    pub kind: WriteKind,
    pub target: Target,
    pub text: String,
    pub effects: Vec<SourceWrite>,
}

impl Model {
    /// Whether the open dialog holds text the user typed that `esc` would
    /// lose: a note being written, or a customer update being edited away
    /// from its template.
    fn draft_typed(&self) -> bool {
        match &self.prompt {
            Some(Prompt::Annotate {
                editor,
                confirm: None,
                ..
            }) => editor.lines().iter().any(|l| !l.trim().is_empty()),
            Some(Prompt::Update {
                template,
                stage: super::incident_mode::UpdateStage::Edit { editor },
                ..
            }) => {
                let original = self
                    .settings
                    .updates
                    .names()
                    .get(*template)
                    .map(|(_, t)| (*t).to_owned())
                    .unwrap_or_default();
                editor.lines().join("\n").trim() != original.trim()
            }
            _ => false,
        }
    }

    /// The journal target and a one-line description of the selected row.
    pub(super) fn write_target(&self) -> Option<(Target, String)> {
        let pane = self.focus;
        // In incident mode a note or escalation is about what the cursor
        // is on: the customer or inquiry of the focused section, else the
        // incident.
        let under_cursor = self.incident_cursor().map(|target| match target {
            ViewTarget::Inquiry(id) => (Pane::Inquiries, id),
            ViewTarget::Customer(id) => (Pane::Customers, id),
            ViewTarget::Incident(id) => (Pane::Incidents, id),
        });
        let id = match &self.overlay {
            _ if under_cursor.is_some() => under_cursor.as_ref().map(|(_, id)| id.clone())?,
            super::Overlay::Incident { id, .. } => id.clone(),
            super::Overlay::Detail { target, .. } => match target {
                ViewTarget::Inquiry(id) | ViewTarget::Customer(id) | ViewTarget::Incident(id) => {
                    id.clone()
                }
            },
            _ => self.row_id(pane, self.panes[pane as usize].selected)?,
        };
        let pane = match &self.overlay {
            _ if under_cursor.is_some() => under_cursor.map_or(pane, |(p, _)| p),
            super::Overlay::Incident { .. } => Pane::Incidents,
            super::Overlay::Detail {
                target: ViewTarget::Inquiry(_),
                ..
            } => Pane::Inquiries,
            super::Overlay::Detail {
                target: ViewTarget::Customer(_),
                ..
            } => Pane::Customers,
            super::Overlay::Detail {
                target: ViewTarget::Incident(_),
                ..
            } => Pane::Incidents,
            _ => pane,
        };
        Some(match pane {
            Pane::Inquiries => {
                let subject = self
                    .data
                    .inquiry(&id)
                    .map(|i| i.subject.clone())
                    .unwrap_or_default();
                (
                    Target::Inquiry(id.clone()),
                    format!("inquiry {id}: {subject}"),
                )
            }
            Pane::Customers => {
                let name = self
                    .data
                    .accounts
                    .iter()
                    .find(|a| a.id == id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                (Target::Customer(id), format!("customer {name}"))
            }
            Pane::Incidents => {
                let title = self
                    .data
                    .incidents
                    .iter()
                    .find(|i| i.id == id)
                    .map(|i| i.title.clone())
                    .unwrap_or_default();
                (
                    Target::Incident(id.clone()),
                    format!("incident {id}: {title}"),
                )
            }
        })
    }

    /// `a`: open the note editor for the selected row.
    pub(crate) fn open_annotate(&mut self) {
        if self.settings.read_only {
            return self.say("read-only: writes are turned off");
        }
        let Some((target, about)) = self.write_target() else {
            return self.say("nothing selected to annotate");
        };
        let mut editor = TextArea::default();
        editor.set_placeholder_text(
            "Type the note. ctrl-s: review and save · ctrl-e: $EDITOR · esc: cancel",
        );
        self.prompt = Some(Prompt::Annotate {
            target,
            about,
            editor: Box::new(editor),
            confirm: None,
            saving: false,
            error: None,
        });
    }

    /// `e`: open the escalation dialog for the selected row.
    pub(crate) fn open_escalate(&mut self) {
        if self.settings.read_only {
            return self.say("read-only: writes are turned off");
        }
        let Some((target, about)) = self.write_target() else {
            return self.say("nothing selected to escalate");
        };
        let area = match &target {
            Target::Inquiry(id) => self.data.inquiry(id).and_then(|i| i.feature_area.clone()),
            _ => None,
        };
        let options: Vec<String> = self
            .settings
            .escalation
            .suggest(area.as_deref())
            .iter()
            .map(|t| t.name.clone())
            .collect();
        if options.is_empty() {
            return self.say("no escalation targets: add [[escalation.targets]] to the config");
        }
        let teammate = self.teammate_escalation(&target).map(|w| {
            format!(
                "{} escalated this {}",
                w.author.as_deref().unwrap_or_default(),
                crate::core::text::ago(self.now, w.created_at)
            )
        });
        self.prompt = Some(Prompt::Escalate {
            target,
            about,
            options,
            teammate,
            selected: 0,
            confirm: None,
            text: String::new(),
            saving: false,
            error: None,
        });
    }

    /// Keys while a dialog is open; returns effects to run.
    pub(crate) fn prompt_key(&mut self, key: &KeyEvent) -> Vec<Do> {
        // `esc` on a typed draft asks before throwing it away: only the
        // very next key may be the second `esc`.
        let armed = self.armed.take() == Some(super::Armed::Discard);
        if key.code == KeyCode::Esc && !armed && self.draft_typed() {
            self.armed = Some(super::Armed::Discard);
            self.say("esc again discards what you typed; any other key keeps editing");
            return Vec::new();
        }
        if matches!(self.prompt, Some(Prompt::Update { .. })) {
            return self.update_key(key);
        }
        if matches!(self.prompt, Some(Prompt::Link { .. })) {
            return self.link_key(key);
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let incident_notes = self.settings.incident_notes && self.prompt_incident_is_declared();
        // Escalation previews are computed from the model, before borrowing
        // the prompt mutably.
        let escalation_preview = match &self.prompt {
            Some(Prompt::Escalate {
                target,
                options,
                selected,
                confirm: None,
                ..
            }) if key.code == KeyCode::Enter => self
                .settings
                .escalation
                .target(&options[*selected])
                .map(|dest| super::escalate::preview(self, target, dest, incident_notes)),
            _ => None,
        };
        let Some(prompt) = &mut self.prompt else {
            return Vec::new();
        };
        match prompt {
            // Handled by `update_key` and `link_key` above.
            Prompt::Update { .. } | Prompt::Link { .. } => {}
            Prompt::Annotate { saving: true, .. } | Prompt::Escalate { saving: true, .. } => {}
            Prompt::Annotate {
                target,
                editor,
                confirm,
                saving,
                error,
                ..
            } => match (confirm.is_some(), key.code) {
                (false, KeyCode::Esc) => self.prompt = None,
                (false, KeyCode::Char('s')) if ctrl => {
                    let text = editor.lines().join("\n");
                    match writes::check_text(&text) {
                        Ok(()) => {
                            *confirm = Some(writes::note_effects(target, &text, incident_notes));
                            *error = None;
                        }
                        Err(e) => *error = Some(e.to_string()),
                    }
                }
                (false, KeyCode::Char('e')) if ctrl => {
                    return vec![Do::ExternalEditor(editor.lines().join("\n"))];
                }
                (false, _) => {
                    editor.input(*key);
                }
                (true, KeyCode::Char('y')) => {
                    *saving = true;
                    let effects = confirm.clone().unwrap_or_default();
                    let text = editor.lines().join("\n");
                    return vec![Do::Journal(WriteRequest {
                        kind: WriteKind::Annotate,
                        target: target.clone(),
                        text,
                        effects,
                    })];
                }
                (true, KeyCode::Char('n') | KeyCode::Esc) => *confirm = None,
                (true, _) => {}
            },
            // A teammate's escalation within the hour: `y` goes on to pick
            // a target, anything else leaves it at theirs.
            Prompt::Escalate {
                teammate: teammate @ Some(_),
                ..
            } => match key.code {
                KeyCode::Char('y') => *teammate = None,
                KeyCode::Char('n') | KeyCode::Esc => self.prompt = None,
                _ => {}
            },
            Prompt::Escalate {
                target,
                options,
                selected,
                confirm,
                text,
                saving,
                ..
            } => match (confirm.is_some(), key.code) {
                (false, KeyCode::Esc) => self.prompt = None,
                (false, KeyCode::Down | KeyCode::Char('j')) => {
                    *selected = (*selected + 1).min(options.len() - 1)
                }
                (false, KeyCode::Up | KeyCode::Char('k')) => *selected = selected.saturating_sub(1),
                (false, KeyCode::Enter) => {
                    if let Some((effects, bundle)) = escalation_preview {
                        *confirm = Some(effects);
                        *text = bundle;
                    }
                }
                (true, KeyCode::Char('y')) => {
                    *saving = true;
                    let effects = confirm.clone().unwrap_or_default();
                    return vec![Do::Journal(WriteRequest {
                        kind: WriteKind::Escalate,
                        target: target.clone(),
                        text: text.clone(),
                        effects,
                    })];
                }
                (true, KeyCode::Char('n') | KeyCode::Esc) => *confirm = None,
                _ => {}
            },
        }
        Vec::new()
    }

    /// Whether the dialog's incident (if it is about one) exists at the
    /// incident source: a *detected* incident is the cockpit's own row, with
    /// nowhere to put a note but the journal.
    fn prompt_incident_is_declared(&self) -> bool {
        let id = match &self.prompt {
            Some(
                Prompt::Annotate {
                    target: Target::Incident(id),
                    ..
                }
                | Prompt::Escalate {
                    target: Target::Incident(id),
                    ..
                },
            ) => id,
            _ => return true,
        };
        self.data
            .incidents
            .iter()
            .any(|i| &i.id == id && i.status != crate::core::domain::IncidentStatus::Detected)
    }

    /// The journal answered: close the dialog on success, keep it (and the
    /// text) with the reason on failure.
    pub(crate) fn journalled(&mut self, result: Result<writes::Write, String>) {
        match result {
            Ok(write) => {
                self.say(format!(
                    "saved (write {}): {} step(s) queued for delivery",
                    write.id,
                    write.steps.len()
                ));
                self.status_write = Some(write.id);
                self.writes.insert(0, write);
                self.index_writes();
                self.prompt = None;
            }
            Err(e) => match &mut self.prompt {
                Some(
                    Prompt::Annotate { saving, error, .. }
                    | Prompt::Escalate { saving, error, .. }
                    | Prompt::Link { saving, error, .. }
                    | Prompt::Update { saving, error, .. },
                ) => {
                    *saving = false;
                    *error = Some(format!("not saved: {e}"));
                }
                None => self.say(format!("not saved: {e}")),
            },
        }
    }

    /// Text came back from `$EDITOR`.
    pub(crate) fn edited(&mut self, result: Result<String, String>) {
        if let Some(Prompt::Update {
            stage: super::incident_mode::UpdateStage::Edit { editor },
            error,
            ..
        }) = &mut self.prompt
        {
            match result {
                Ok(text) => {
                    **editor = super::incident_mode::update_editor(&text);
                    *error = None;
                }
                Err(e) => *error = Some(e),
            }
            return;
        }
        if let Some(Prompt::Annotate { editor, error, .. }) = &mut self.prompt {
            match result {
                Ok(text) => {
                    let mut fresh = TextArea::new(text.lines().map(str::to_owned).collect());
                    fresh.set_placeholder_text(
                        "Type the note. ctrl-s: review and save · ctrl-e: $EDITOR · esc: cancel",
                    );
                    **editor = fresh;
                    *error = None;
                }
                Err(e) => *error = Some(e),
            }
        }
    }

    /// A step's delivery state changed: update the write it belongs to.
    pub(crate) fn delivered(&mut self, d: &crate::core::writes::Delivery) {
        if let Some(step) = self
            .writes
            .iter_mut()
            .filter(|w| w.id == d.write_id)
            .flat_map(|w| w.steps.iter_mut())
            .find(|s| s.id == d.step_id)
        {
            step.state = d.state;
            if d.error.is_some() {
                step.last_error.clone_from(&d.error);
            }
        }
        if d.state == writes::StepState::Failed {
            let error = d.error.clone().unwrap_or_default();
            self.say(format!("write {} failed: {error}", d.write_id));
            return;
        }
        // The footer still says this write is queued: once nothing of it
        // is pending, say what became of it instead.
        if self.status_write == Some(d.write_id)
            && let Some(write) = self.writes.iter().find(|w| w.id == d.write_id)
            && !write.state().is_pending()
        {
            let sent = write
                .steps
                .iter()
                .filter(|s| s.state == writes::StepState::Sent)
                .count();
            self.say(match write.state() {
                writes::StepState::Cancelled => format!("write {} cancelled", d.write_id),
                _ => format!("write {} delivered: {sent} step(s) sent", d.write_id),
            });
        }
    }

    /// Rebuild the per-item index of the writes (after they changed).
    pub(crate) fn index_writes(&mut self) {
        self.writes_index.clear();
        for (i, write) in self.writes.iter().enumerate() {
            self.writes_index
                .entry(write.target.clone())
                .or_default()
                .push(i);
        }
    }

    /// Writes about an item, newest first (from the index: a row's marker
    /// costs a look-up, not a scan of every write).
    pub fn writes_for<'a>(
        &'a self,
        target: &'a Target,
    ) -> impl Iterator<Item = &'a writes::Write> + 'a {
        self.writes_index
            .get(target)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.writes.get(i))
            // The index is rebuilt whenever `writes` changes; the check
            // keeps a stale entry from showing another item's write.
            .filter(move |w| &w.target == target)
    }
}
