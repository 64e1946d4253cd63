//! Notifications: a terminal bell and a desktop notification by escape
//! sequence when a SEV1/SEV2 incident starts, a customer turns Red, or an
//! inquiry will breach its SLA within 15 minutes — at most once per item and
//! condition.
//!
//! Conditions already true when the cockpit starts are not announced: the
//! first moment every configured source has answered sets the baseline, and
//! only what becomes true after that rings.

use std::collections::HashSet;

use jiff::SignedDuration;
use serde::Deserialize;

/// How soon before an SLA breach an inquiry is announced.
pub const BREACH_WARNING: SignedDuration = SignedDuration::from_mins(15);

/// Which desktop-notification escape the terminal understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Desktop {
    Off,
    /// `ESC ] 9 ; text BEL` (iTerm2, Windows Terminal, WezTerm, kitty).
    Osc9,
    /// `ESC ] 777 ; notify ; title ; body BEL` (rxvt-unicode, foot, Ghostty).
    Osc777,
}

/// `[notify]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub bell: bool,
    pub desktop: Desktop,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            bell: true,
            desktop: Desktop::Osc9,
        }
    }
}

/// What a notification is about; with the item's id, what makes it "the
/// same" notification (announced once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A SEV1/SEV2 incident is open.
    MajorIncident,
    /// A customer's health turned Red.
    TurnedRed,
    /// An inquiry breaches its SLA within [`BREACH_WARNING`].
    BreachSoon,
}

/// A notifiable condition that is true now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub kind: Kind,
    /// The incident, customer or inquiry it is about.
    pub id: String,
    pub title: String,
    pub body: String,
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub bell: bool,
    pub desktop: Desktop,
}

/// What has been announced (or was already true at the baseline).
#[derive(Debug, Clone, Default)]
pub struct Notified {
    seen: HashSet<(Kind, String)>,
    baselined: bool,
}

impl Notified {
    /// New notifications since the last call, from the conditions true now.
    /// Nothing is announced until every configured source has answered once
    /// (`ready`); what is true then is the baseline.
    pub fn scan(
        &mut self,
        ready: bool,
        conditions: Vec<Condition>,
        config: &NotifyConfig,
    ) -> Vec<Notification> {
        if !ready {
            return Vec::new();
        }
        let baseline = !self.baselined;
        self.baselined = true;
        let quiet = !config.bell && config.desktop == Desktop::Off;
        conditions
            .into_iter()
            .filter(|c| self.seen.insert((c.kind, c.id.clone())))
            .filter(|_| !baseline && !quiet)
            .map(
                |Condition {
                     kind, title, body, ..
                 }| Notification {
                    kind,
                    title,
                    body,
                    bell: config.bell,
                    desktop: config.desktop,
                },
            )
            .collect()
    }
}

/// The bytes that show a notification: BEL and/or the desktop escape. The
/// text is sanitised (it comes from remote sources) and, for OSC 777, kept
/// free of the `;` field separator. Inside tmux the escape is wrapped for
/// passthrough (tmux ≥ 3.3 with `allow-passthrough on`).
#[must_use]
pub fn escape(n: &Notification, in_tmux: bool) -> String {
    let clean = |s: &str| crate::core::sanitize::text(s).replace(';', ",");
    let mut out = String::new();
    if n.bell {
        out.push('\x07');
    }
    let osc = match n.desktop {
        Desktop::Off => None,
        Desktop::Osc9 => Some(format!(
            "\x1b]9;{}: {}\x07",
            clean(&n.title),
            clean(&n.body)
        )),
        Desktop::Osc777 => Some(format!(
            "\x1b]777;notify;{};{}\x07",
            clean(&n.title),
            clean(&n.body)
        )),
    };
    if let Some(osc) = osc {
        if in_tmux {
            // Every ESC inside the passthrough is doubled.
            out.push_str(&format!(
                "\x1bPtmux;{}\x1b\\",
                osc.replace('\x1b', "\x1b\x1b")
            ));
        } else {
            out.push_str(&osc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(desktop: Desktop) -> Notification {
        Notification {
            kind: Kind::MajorIncident,
            title: "SEV1 incident".into(),
            body: "API \x1b[31mdown; 5xx".into(),
            bell: true,
            desktop,
        }
    }

    #[test]
    fn escapes_are_well_formed_and_carry_no_remote_control_codes() {
        assert_eq!(
            escape(&n(Desktop::Osc9), false),
            "\x07\x1b]9;SEV1 incident: API [31mdown, 5xx\x07"
        );
        assert_eq!(
            escape(&n(Desktop::Osc777), false),
            "\x07\x1b]777;notify;SEV1 incident;API [31mdown, 5xx\x07"
        );
        let off = Notification {
            bell: false,
            ..n(Desktop::Off)
        };
        assert_eq!(escape(&off, false), "");
    }

    #[test]
    fn tmux_passthrough_doubles_inner_escapes() {
        let s = escape(
            &Notification {
                bell: false,
                ..n(Desktop::Osc9)
            },
            true,
        );
        assert!(s.starts_with("\x1bPtmux;\x1b\x1b]9;"), "{s:?}");
        assert!(s.ends_with("\x07\x1b\\"), "{s:?}");
    }
}
