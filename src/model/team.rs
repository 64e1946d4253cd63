//! Team mode in the model: what this cockpit tells teammates it has open,
//! what theirs have open, and a teammate's recent escalation of the same
//! item. The store carries presence between cockpits (`Effect::Announce`
//! out, `Message::Presence` in); nothing here does IO.

use jiff::SignedDuration;

use super::{Model, Overlay, Prompt};
use crate::core::writes::{Doing, Presence, Target, Write, WriteKind};
use crate::model::message::Effect;

/// A teammate whose cockpit has not sent a heartbeat for this long is no
/// longer shown (the heartbeat is every 10 s; a lost database or a closed
/// laptop stops it).
pub const PRESENCE_FRESH: SignedDuration = SignedDuration::from_secs(45);

/// Escalating what a teammate escalated within this asks first.
pub const ESCALATED_RECENTLY: SignedDuration = SignedDuration::from_hours(1);

impl Model {
    /// What this cockpit has open, as teammates should see it: a dialog
    /// writes on its item; a detail or incident mode reads one.
    #[must_use]
    pub fn open_item(&self) -> Option<(Target, Doing)> {
        let writing = match &self.prompt {
            Some(Prompt::Annotate { target, .. } | Prompt::Escalate { target, .. }) => {
                Some(target.clone())
            }
            Some(Prompt::Link { inquiry, .. }) => Some(Target::Inquiry(inquiry.clone())),
            Some(Prompt::Update { incident, .. }) => Some(Target::Incident(incident.clone())),
            None => None,
        };
        if let Some(target) = writing {
            return Some((target, Doing::Writing));
        }
        match &self.overlay {
            Overlay::Detail { target, .. } => Some((target.item(), Doing::Viewing)),
            Overlay::Incident { id, .. } => Some((Target::Incident(id.clone()), Doing::Viewing)),
            _ => None,
        }
    }

    /// In team mode, an announcement when what is open changed since the
    /// last one (the store's heartbeat repeats it).
    pub(crate) fn take_announce(&mut self) -> Option<Effect> {
        if !self.settings.team {
            return None;
        }
        let open = self.open_item();
        (open != self.announced).then(|| {
            self.announced.clone_from(&open);
            Effect::Announce(open)
        })
    }

    /// The teammates' presence as the store last listed it; one's own
    /// (`[ui] me` from another cockpit) is not news.
    pub(crate) fn presence_seen(&mut self, mut list: Vec<Presence>) {
        let me = self.settings.me.as_deref();
        list.retain(|p| Some(p.who.as_str()) != me);
        self.presence = list;
    }

    /// Teammates with `target` open now, writers first.
    pub fn others_on<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = &'a Presence> + 'a {
        let fresh = self.now - PRESENCE_FRESH;
        let writing = self
            .presence
            .iter()
            .filter(move |p| p.doing == Doing::Writing);
        let viewing = self
            .presence
            .iter()
            .filter(move |p| p.doing == Doing::Viewing);
        writing
            .chain(viewing)
            .filter(move |p| &p.target == target && p.seen_at >= fresh)
    }

    /// A teammate's escalation of `target` within the last hour, newest
    /// first: escalating it again would page the same people twice.
    #[must_use]
    pub fn teammate_escalation<'a>(&'a self, target: &'a Target) -> Option<&'a Write> {
        let me = self.settings.me.as_deref();
        self.writes_for(target).find(|w| {
            w.kind == WriteKind::Escalate
                && w.author.is_some()
                && w.author.as_deref() != me
                && self.now.duration_since(w.created_at) <= ESCALATED_RECENTLY
        })
    }
}
