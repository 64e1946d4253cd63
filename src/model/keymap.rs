//! Key bindings: parse `"ctrl-r"`-style names, map keys to actions, and
//! produce the footer hints and help lines from the same map, so what the
//! screen says is always what the keys do.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use strum::IntoEnumIterator;

use crate::model::action::Action;

/// One key with modifiers, e.g. `ctrl-r`, `shift-tab`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyBinding {
    /// Normalise a terminal key event the way bindings are stored: shift is
    /// implied by an upper-case or symbol character, so it is dropped there.
    #[must_use]
    pub fn from_event(event: &KeyEvent) -> Self {
        let mut modifiers =
            event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match event.code {
            KeyCode::Char(c) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, modifiers }
    }
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
];

impl FromStr for KeyBinding {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = raw;
        // A trailing "-" is the minus key itself, not a separator.
        while let Some((prefix, tail)) = rest.split_once('-').filter(|(_, t)| !t.is_empty()) {
            match prefix.to_ascii_lowercase().as_str() {
                "ctrl" => modifiers |= KeyModifiers::CONTROL,
                "alt" => modifiers |= KeyModifiers::ALT,
                "shift" => modifiers |= KeyModifiers::SHIFT,
                _ => break,
            }
            rest = tail;
        }
        let lower = rest.to_ascii_lowercase();
        let mut code = if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == lower) {
            *code
        } else if let Some(n) = lower
            .strip_prefix('f')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCode::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCode::Char(c),
                _ => {
                    return Err(format!(
                        "unknown key {raw:?} (use e.g. \"q\", \"ctrl-r\", \"shift-tab\", \"f5\", \"enter\")"
                    ));
                }
            }
        };
        // Shift on a letter is the upper-case letter; shift-tab is backtab.
        if modifiers.contains(KeyModifiers::SHIFT) {
            match code {
                KeyCode::Char(c) => {
                    code = KeyCode::Char(c.to_ascii_uppercase());
                    modifiers.remove(KeyModifiers::SHIFT);
                }
                KeyCode::Tab => {
                    code = KeyCode::BackTab;
                    modifiers.remove(KeyModifiers::SHIFT);
                }
                _ => {}
            }
        }
        Ok(Self { code, modifiers })
    }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map_or("?", |(n, _)| *n);
                f.write_str(name)
            }
        }
    }
}

/// The default bindings (product.md §4).
fn defaults(action: Action) -> &'static [&'static str] {
    match action {
        Action::Quit => &["q"],
        Action::Help => &["?"],
        Action::NextPane => &["tab"],
        Action::PrevPane => &["shift-tab"],
        Action::FocusInquiries => &["1"],
        Action::FocusCustomers => &["2"],
        Action::FocusIncidents => &["3"],
        Action::Down => &["j", "down"],
        Action::Up => &["k", "up"],
        Action::PageDown => &["pagedown", "ctrl-d"],
        Action::PageUp => &["pageup", "ctrl-u"],
        Action::Top => &["g", "home"],
        Action::Bottom => &["G", "end"],
        Action::Detail => &["enter"],
        Action::Back => &["esc"],
        Action::Filter => &["/"],
        Action::Sort => &["s"],
        Action::Refresh => &["r"],
        Action::OpenInBrowser => &["o"],
        Action::CopyLink => &["y"],
        Action::Annotate => &["a"],
        Action::Escalate => &["e"],
        Action::Journal => &["J"],
        Action::CancelWrite => &["x"],
        Action::LinkIncident => &["l"],
        // L as in linked; a/e/i/: are reserved (product.md §4).
        Action::JumpLinked => &["L"],
        Action::IncidentMode => &["i"],
        Action::CustomerUpdate => &["u"],
        Action::ViewAll => &["O"],
        Action::ViewMine => &["M"],
        Action::ViewUnassigned => &["U"],
        Action::ViewBreaching => &["B"],
        Action::ViewEscalated => &["E"],
        Action::NextView => &["v"],
        Action::VoiceOfCustomer => &["V"],
        Action::KpiView => &["K"],
        Action::Handover => &["H"],
        Action::Command => &[":"],
    }
}

/// Action ⇄ keys, in both directions.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<KeyBinding, Action>,
    by_action: BTreeMap<Action, Vec<KeyBinding>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::from_config(&BTreeMap::new()).expect("default key bindings are valid")
    }
}

impl Keymap {
    /// Defaults, with the actions named in `[keys]` replaced. Errors name
    /// the action whose bindings are wrong.
    pub fn from_config(
        overrides: &BTreeMap<Action, Vec<String>>,
    ) -> Result<Self, (Action, String)> {
        let mut by_action = BTreeMap::new();
        for action in Action::iter() {
            let bindings = match overrides.get(&action) {
                Some(keys) => keys
                    .iter()
                    .map(|k| k.parse())
                    .collect::<Result<Vec<KeyBinding>, _>>()
                    .map_err(|e| (action, e))?,
                None => defaults(action)
                    .iter()
                    .map(|k| k.parse().expect("default key parses"))
                    .collect(),
            };
            by_action.insert(action, bindings);
        }
        let mut by_key = HashMap::new();
        for (action, bindings) in &by_action {
            for binding in bindings {
                if let Some(other) = by_key.insert(*binding, *action) {
                    let culprit = if overrides.contains_key(action) {
                        *action
                    } else {
                        other
                    };
                    return Err((
                        culprit,
                        format!("key {binding} is bound to both {other} and {action}"),
                    ));
                }
            }
        }
        Ok(Self { by_key, by_action })
    }

    /// The action bound to a key press, if any.
    #[must_use]
    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        self.by_key.get(&KeyBinding::from_event(event)).copied()
    }

    /// The action bound to a key, if any.
    #[must_use]
    pub fn action_of(&self, key: &KeyBinding) -> Option<Action> {
        self.by_key.get(key).copied()
    }

    /// The keys bound to an action.
    #[must_use]
    pub fn keys(&self, action: Action) -> &[KeyBinding] {
        self.by_action.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The first key of an action, as text (`"?"`), for hints.
    #[must_use]
    pub fn first_key(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(ToString::to_string)
    }

    /// Every action with at least one key, in declaration order.
    pub fn bound(&self) -> impl Iterator<Item = (Action, &[KeyBinding])> {
        self.by_action
            .iter()
            .filter(|(_, k)| !k.is_empty())
            .map(|(a, k)| (*a, k.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn parses_names_and_modifiers() {
        assert_eq!(
            "ctrl-r".parse::<KeyBinding>().unwrap(),
            KeyBinding {
                code: KeyCode::Char('r'),
                modifiers: KeyModifiers::CONTROL
            }
        );
        assert_eq!(
            "shift-tab".parse::<KeyBinding>().unwrap().code,
            KeyCode::BackTab
        );
        assert_eq!(
            "shift-e".parse::<KeyBinding>().unwrap().code,
            KeyCode::Char('E')
        );
        assert_eq!("-".parse::<KeyBinding>().unwrap().code, KeyCode::Char('-'));
        assert_eq!("f5".parse::<KeyBinding>().unwrap().code, KeyCode::F(5));
        assert!("hyper-x".parse::<KeyBinding>().is_err());
    }

    #[test]
    fn uppercase_event_matches_uppercase_binding() {
        let map = Keymap::default();
        assert_eq!(
            map.action(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn override_replaces_only_named_action() {
        let overrides = BTreeMap::from([(Action::Quit, vec!["Z".to_owned()])]);
        let map = Keymap::from_config(&overrides).unwrap();
        assert_eq!(
            map.action(&key(KeyCode::Char('Z'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
    }

    #[test]
    fn conflicting_binding_is_an_error_naming_the_override() {
        let overrides = BTreeMap::from([(Action::Refresh, vec!["q".to_owned()])]);
        let (action, message) = Keymap::from_config(&overrides).unwrap_err();
        assert_eq!(action, Action::Refresh);
        assert!(message.contains("bound to both"), "{message}");
    }
}
