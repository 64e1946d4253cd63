//! The `:` command line (k9s-style): every action by name, and a few
//! commands that take an argument (`:note text`, `:escalate api-eng`,
//! `:view breaching`, `:filter acme priority>=high`, `:sort sla`, `:mouse off`). Names
//! complete with `tab` and match fuzzily (`:hndv` finds `handover`);
//! `↑`/`↓` recall earlier command lines.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use strum::IntoEnumIterator;

use super::Model;
use crate::model::action::Action;
use crate::model::message::Effect;

/// The command line being typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub text: String,
    /// The highlighted completion (index into [`Model::completions`]).
    pub selected: usize,
    /// Which history entry `↑` last recalled (counted from the newest).
    pub recalled: Option<usize>,
}

/// One completion: what `tab` puts on the line, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The whole command line it completes to.
    pub line: String,
    /// The name shown (the command or the argument).
    pub name: String,
    pub help: String,
}

/// Commands with an argument, beyond the actions' own names.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "note",
        "<text>",
        "write a note on the selected row, text filled in",
    ),
    (
        "escalate",
        "[target]",
        "escalate the selected row to a target",
    ),
    ("view", "<name>", "show a saved view of the inquiries"),
    (
        "filter",
        "<words|field op value>",
        "filter the focused pane: fuzzy words and rules (priority>=high), AND-ed",
    ),
    ("sort", "<order>", "sort the focused pane"),
    ("incident", "", "incident mode"),
    ("update", "", "customer update (in incident mode)"),
    ("handover", "", "write the shift handover and show it"),
    ("journal", "", "every write and its delivery state"),
    ("mouse", "[on|off]", "turn mouse reporting on or off"),
    ("q", "", "quit"),
];

/// What a command name stands for when it is not in [`COMMANDS`] with an
/// argument: an action.
fn action_of(name: &str) -> Option<Action> {
    match name {
        "q" | "quit" => Some(Action::Quit),
        "incident" => Some(Action::IncidentMode),
        "update" => Some(Action::CustomerUpdate),
        "handover" => Some(Action::Handover),
        "journal" => Some(Action::Journal),
        _ => Action::iter().find(|a| a.as_ref() == name),
    }
}

/// Every command name: the argument commands, then each action's name.
fn names() -> Vec<(String, String, String)> {
    let mut all: Vec<(String, String, String)> = COMMANDS
        .iter()
        .map(|(n, a, h)| ((*n).to_owned(), (*a).to_owned(), (*h).to_owned()))
        .collect();
    for action in Action::iter() {
        // `:` itself, and actions a command above already names.
        if action == Action::Command || all.iter().any(|(n, _, _)| n == action.as_ref()) {
            continue;
        }
        all.push((
            action.as_ref().to_owned(),
            String::new(),
            action.describe().to_owned(),
        ));
    }
    all
}

/// `candidates` that fuzzy-match `typed`, best first (all of them, in
/// order, when nothing is typed).
fn fuzzy<T: Clone>(typed: &str, candidates: &[(String, T)]) -> Vec<(String, T)> {
    if typed.is_empty() {
        return candidates.to_vec();
    }
    let pattern = Pattern::new(
        typed,
        CaseMatching::Ignore,
        Normalization::Smart,
        AtomKind::Fuzzy,
    );
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize, (String, T))> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let score = pattern.score(Utf32Str::new(&c.0, &mut buf), &mut matcher)?;
            Some((score, i, c.clone()))
        })
        .collect();
    // Best score first; an exact prefix beats a scattered match of the same
    // score, and ties keep the list's order.
    scored.sort_by_key(|(score, i, c)| (!c.0.starts_with(typed), std::cmp::Reverse(*score), *i));
    scored.into_iter().map(|(_, _, c)| c).collect()
}

impl Model {
    /// The completions for the command line as typed.
    #[must_use]
    pub fn completions(&self) -> Vec<Completion> {
        let Some(line) = &self.command else {
            return Vec::new();
        };
        let text = line.text.trim_start();
        match text.split_once(' ') {
            None => {
                let candidates: Vec<(String, (String, String))> =
                    names().into_iter().map(|(n, a, h)| (n, (a, h))).collect();
                fuzzy(text, &candidates)
                    .into_iter()
                    .map(|(name, (args, help))| Completion {
                        line: if args.is_empty() {
                            name.clone()
                        } else {
                            format!("{name} ")
                        },
                        name: if args.is_empty() {
                            name
                        } else {
                            format!("{name} {args}")
                        },
                        help,
                    })
                    .collect()
            }
            Some((command, argument)) => {
                let argument = argument.trim_start();
                let options: Vec<(String, String)> = match command {
                    "view" => self
                        .settings
                        .views
                        .iter()
                        .map(|v| (v.name.clone(), "saved view".to_owned()))
                        .collect(),
                    "sort" => self
                        .focus
                        .sorts()
                        .iter()
                        .map(|s| (s.to_string(), format!("sort {}", self.focus.title())))
                        .collect(),
                    "escalate" => self
                        .settings
                        .escalation
                        .targets
                        .iter()
                        .map(|t| (t.name.clone(), "escalation target".to_owned()))
                        .collect(),
                    "mouse" => vec![
                        ("on".to_owned(), "report clicks and the wheel".to_owned()),
                        (
                            "off".to_owned(),
                            "leave the mouse to the terminal (select text)".to_owned(),
                        ),
                    ],
                    _ => Vec::new(),
                };
                fuzzy(argument, &options)
                    .into_iter()
                    .map(|(name, help)| Completion {
                        line: format!("{command} {name}"),
                        name,
                        help,
                    })
                    .collect()
            }
        }
    }

    /// `:` opens the command line.
    pub(crate) fn open_command(&mut self) {
        self.command = Some(CommandLine::default());
    }

    /// Keys while the command line is open.
    pub(crate) fn command_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let completions = self.completions();
        let history = self.command_history.clone();
        let Some(line) = &mut self.command else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.command = None,
            KeyCode::Tab | KeyCode::BackTab if !completions.is_empty() => {
                // The first tab takes the highlighted completion; the next
                // ones walk the list.
                let n = completions.len();
                if line.text.trim() == completions[line.selected % n].line.trim() {
                    line.selected = if key.code == KeyCode::Tab {
                        (line.selected + 1) % n
                    } else {
                        (line.selected + n - 1) % n
                    };
                }
                let pick = &completions[line.selected % n];
                line.text.clone_from(&pick.line);
                // Keep the walk going over the same list.
                if pick.line.ends_with(' ') {
                    line.selected = 0;
                }
            }
            KeyCode::Up | KeyCode::Down if !history.is_empty() => {
                let last = history.len() - 1;
                let at = match (key.code, line.recalled) {
                    (KeyCode::Up, None) => Some(0),
                    (KeyCode::Up, Some(i)) => Some((i + 1).min(last)),
                    (_, Some(0) | None) => None,
                    (_, Some(i)) => Some(i - 1),
                };
                line.recalled = at;
                line.text = at.map_or_else(String::new, |i| history[last - i].clone());
                line.selected = 0;
            }
            KeyCode::Backspace => {
                if line.text.pop().is_none() {
                    self.command = None;
                } else {
                    line.selected = 0;
                }
            }
            KeyCode::Enter => {
                let typed = line.text.trim().to_owned();
                self.command = None;
                if typed.is_empty() {
                    return Vec::new();
                }
                // A name typed in part runs the best completion.
                let run = match typed.split_once(' ') {
                    None if action_of(&typed).is_none()
                        && !COMMANDS.iter().any(|(n, _, _)| *n == typed) =>
                    {
                        completions
                            .first()
                            .map_or(typed.clone(), |c| c.line.trim().to_owned())
                    }
                    _ => typed.clone(),
                };
                self.command_history.retain(|h| *h != run);
                self.command_history.push(run.clone());
                return self.run_command(&run);
            }
            KeyCode::Char(c) if !ctrl => {
                line.text.push(c);
                line.selected = 0;
                line.recalled = None;
            }
            _ => {}
        }
        Vec::new()
    }

    /// Run one command line (without its `:`).
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let (command, argument) = line
            .split_once(' ')
            .map_or((line, ""), |(c, a)| (c, a.trim()));
        match command {
            "note" => {
                self.apply(Action::Annotate);
                if let Some(super::Prompt::Annotate { editor, .. }) = &mut self.prompt
                    && !argument.is_empty()
                {
                    editor.insert_str(argument);
                }
            }
            "escalate" => {
                self.apply(Action::Escalate);
                if let Some(super::Prompt::Escalate {
                    options, selected, ..
                }) = &mut self.prompt
                    && !argument.is_empty()
                {
                    let candidates: Vec<(String, usize)> = options
                        .iter()
                        .enumerate()
                        .map(|(i, o)| (o.clone(), i))
                        .collect();
                    match fuzzy(argument, &candidates).first() {
                        Some((_, i)) => *selected = *i,
                        None => self.say(format!("no escalation target matches {argument:?}")),
                    }
                }
            }
            "view" => {
                let candidates: Vec<(String, usize)> = self
                    .settings
                    .views
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.name.clone(), i))
                    .collect();
                match fuzzy(argument, &candidates).first() {
                    Some((_, i)) => self.set_view(*i),
                    None => self.say(format!("no saved view matches {argument:?}")),
                }
            }
            "filter" => {
                let pane = self.focus;
                // A rule that does not parse leaves the pane as it was:
                // applying the rest would look like a filter that worked.
                if let (_, Some(error)) = super::query::parse(pane.into(), argument) {
                    self.say(format!("{error} · not applied"));
                    return Vec::new();
                }
                self.panes[pane as usize].filter = argument.to_owned();
                self.refilter(pane);
                let shown = self.panes[pane as usize].order.len();
                self.say(if argument.is_empty() {
                    format!("{}: filter cleared", pane.title())
                } else {
                    format!(
                        "{}: {shown} of {} match {argument}",
                        pane.title(),
                        self.total(pane)
                    )
                });
            }
            "sort" => {
                let pane = self.focus;
                let argument = if argument.eq_ignore_ascii_case("sla") {
                    "urgency"
                } else {
                    argument
                };
                let candidates: Vec<(String, usize)> = pane
                    .sorts()
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.to_string(), i))
                    .collect();
                match fuzzy(argument, &candidates).first() {
                    Some((name, i)) => {
                        self.panes[pane as usize].sort = *i;
                        self.refresh_order(pane);
                        self.say(format!("{} sorted by {name}", pane.title()));
                    }
                    None => self.say(format!(
                        "{} sorts by {}",
                        pane.title(),
                        candidates
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            "mouse" => {
                let on = match argument {
                    "on" => true,
                    "off" => false,
                    _ => !self.mouse,
                };
                self.mouse = on;
                self.say(if on {
                    "mouse on: click rows and tabs, wheel scrolls"
                } else {
                    "mouse off: the terminal selects text again"
                });
                return vec![Effect::Mouse(on)];
            }
            name => match action_of(name) {
                Some(action) => return self.apply(action),
                None => self.say(format!("unknown command :{name} (tab lists them)")),
            },
        }
        Vec::new()
    }
}
