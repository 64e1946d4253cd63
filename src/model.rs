//! The application state and its one entry point, [`Model::update`].
//!
//! `update` is synchronous and does no IO: it folds a [`Message`] into the
//! state and returns the [`Effect`]s it wants run. Everything a CRE sees is
//! rendered from this struct alone.

mod input;
mod persist;
mod sources;
mod view;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

pub use self::persist::StoreState;
pub use self::sources::{SourceState, SourceStatus};
pub use self::view::{Overlay, Pane, PaneView, SortMode, Target};
use crate::config::{Config, SlaConfig};
use crate::domain::{
    Account, Comment, DeskUpdate, Incident, IncidentNote, Inquiry, InquiryStatus, MetricsSnapshot,
    Priority, SlaClock, SlaMetric, SourceError, SourceKind,
};
use crate::join::{self, Derived};
use crate::keymap::Keymap;
use crate::message::{Effect, Message};

/// Something loaded on demand (a conversation, incident notes).
#[derive(Debug, Clone, PartialEq)]
pub enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(String),
}

/// Metrics older than this count as no data for the health score.
const METRICS_MAX_AGE: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Settings the model needs from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keymap: Keymap,
    pub sla: SlaConfig,
    pub me: Option<String>,
    pub impact_error_ratio: f64,
    pub demo: bool,
    pub read_only: bool,
    pub health: crate::health::HealthConfig,
}

impl Settings {
    /// Settings from a validated config.
    #[must_use]
    pub fn from_config(config: &Config, demo: bool) -> Self {
        Self {
            // Config::parse already validated the bindings.
            keymap: Keymap::from_config(&config.keys).unwrap_or_default(),
            sla: config.sla.clone(),
            me: config.ui.me.clone(),
            impact_error_ratio: config
                .ui
                .impact_error_ratio
                .unwrap_or(join::DEFAULT_IMPACT_ERROR_RATIO),
            demo,
            read_only: config.read_only,
            health: config.health.clone(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_config(&Config::default(), false)
    }
}

/// Source data as last received.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// Open inquiries (closed ones are dropped on arrival).
    pub inquiries: Vec<Inquiry>,
    index: HashMap<String, usize>,
    pub accounts: Vec<Account>,
    pub metrics: MetricsSnapshot,
    pub incidents: Vec<Incident>,
    /// Recently closed inquiries, desk events, incidents seen, daily
    /// scores and action triggers.
    pub history: crate::history::History,
}

impl Data {
    #[must_use]
    pub fn inquiry(&self, id: &str) -> Option<&Inquiry> {
        self.index.get(id).map(|&i| &self.inquiries[i])
    }
}

/// The whole state of the cockpit.
#[derive(Debug, Clone)]
pub struct Model {
    pub now: Timestamp,
    pub settings: Settings,
    /// One entry per configured source, in chip order.
    pub sources: Vec<SourceState>,
    pub data: Data,
    pub derived: Derived,
    pub focus: Pane,
    pub panes: [PaneView; 3],
    pub overlay: Overlay,
    /// Text being typed into the filter prompt (`/`), if open.
    pub filter_input: Option<String>,
    pub comments: HashMap<String, Loadable<Vec<Comment>>>,
    pub notes: HashMap<String, Loadable<Vec<IncidentNote>>>,
    /// A short message for the footer, and when it was set.
    pub status: Option<(String, Timestamp)>,
    /// Terminal size (columns, rows), for layout-dependent navigation.
    pub size: (u16, u16),
    pub quit: bool,
    last_derive: Timestamp,
    /// The local store: loaded yet, last saved, a save to request.
    pub store: StoreState,
}

impl Model {
    /// A model awaiting its first data from the given sources.
    #[must_use]
    pub fn new(settings: Settings, sources: Vec<SourceState>, now: Timestamp) -> Self {
        Self {
            now,
            settings,
            sources,
            data: Data::default(),
            derived: Derived::default(),
            focus: Pane::Inquiries,
            panes: Default::default(),
            overlay: Overlay::None,
            filter_input: None,
            comments: HashMap::new(),
            notes: HashMap::new(),
            status: None,
            size: (80, 24),
            quit: false,
            last_derive: now,
            store: StoreState::default(),
        }
    }

    /// Fold one message into the state.
    pub fn update(&mut self, message: Message) -> Vec<Effect> {
        let mut effects = self.handle(message);
        effects.extend(self.take_persist());
        effects
    }

    fn handle(&mut self, message: Message) -> Vec<Effect> {
        match message {
            Message::Input(event) => return self.handle_input(&event),
            Message::Tick(now) => {
                self.now = now;
                if self
                    .status
                    .as_ref()
                    .is_some_and(|(_, at)| now.duration_since(*at) > SignedDuration::from_secs(5))
                {
                    self.status = None;
                }
                // SLA breaches and renewal distances move with the clock.
                if now.duration_since(self.last_derive) >= SignedDuration::from_mins(1) {
                    self.recompute();
                }
            }
            Message::Desk { vendor, at, result } => {
                let ok = result
                    .as_ref()
                    .map(|u| format!("{} changed", u.changed.len() + u.removed.len()))
                    .ok();
                if let Ok(update) =
                    self.record(SourceKind::Desk, vendor, at, result.map(|u| (u, ok)))
                {
                    self.apply_desk(update);
                    self.recompute();
                }
            }
            Message::Metrics { vendor, at, result } => {
                if let Ok(snapshot) =
                    self.record(SourceKind::Metrics, vendor, at, result.map(|m| (m, None)))
                {
                    self.data.metrics = snapshot;
                    self.recompute();
                }
            }
            Message::Incidents { vendor, at, result } => {
                if let Ok(incidents) =
                    self.record(SourceKind::Incidents, vendor, at, result.map(|i| (i, None)))
                {
                    self.data.incidents = incidents;
                    self.recompute();
                }
            }
            Message::Accounts { file, at, result } => {
                let vendor: &'static str = if file.ends_with(".csv") {
                    "csv"
                } else {
                    "file"
                };
                if let Ok(accounts) =
                    self.record(SourceKind::Accounts, vendor, at, result.map(|a| (a, None)))
                {
                    self.data.accounts = accounts;
                    self.recompute();
                }
            }
            Message::Comments { id, result } => {
                self.comments.insert(
                    id,
                    result.map_or_else(|e| Loadable::Failed(e.message), Loadable::Ready),
                );
            }
            Message::Notes { id, result } => {
                self.notes.insert(
                    id,
                    result.map_or_else(|e| Loadable::Failed(e.message), Loadable::Ready),
                );
            }
            Message::Status(text) => self.say(text),
            Message::Stored(result) => self.stored(result),
        }
        Vec::new()
    }

    /// Show a short message in the footer.
    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some((text.into(), self.now));
    }

    /// Update the chip of a source; on failure keep the last good data.
    fn record<T>(
        &mut self,
        kind: SourceKind,
        vendor: &'static str,
        at: Timestamp,
        result: Result<(T, Option<String>), SourceError>,
    ) -> Result<T, ()> {
        let Some(state) = self.sources.iter_mut().find(|s| s.kind == kind) else {
            // A source the model was not told about: still show it.
            self.sources.push(SourceState::new(kind, vendor));
            return self.record(kind, vendor, at, result);
        };
        state.vendor = vendor;
        match result {
            Ok((value, detail)) => {
                state.succeeded(at, detail);
                Ok(value)
            }
            Err(error) => {
                tracing::warn!(source = %kind, vendor, error = %error, "poll failed");
                state.failed(at, error.message);
                Err(())
            }
        }
    }

    fn apply_desk(&mut self, update: DeskUpdate) {
        let data = &mut self.data;
        if update.full {
            data.inquiries.clear();
            data.index.clear();
            data.history.desk_reloaded();
        }
        for mut inquiry in update.changed {
            if inquiry.sla.is_none() {
                inquiry.sla = sla_clock(&inquiry, &self.settings.sla);
            }
            let open = inquiry.status.is_open();
            let held = data.index.get(&inquiry.id).copied();
            // Closed inquiries leave the queue but stay in the history the
            // support factors read; reopens and late answers are noted.
            let previous = held.map(|i| &data.inquiries[i]);
            if open {
                data.history.opened(&inquiry, previous);
            } else {
                data.history.close(&inquiry, previous, self.now);
            }
            match (held, open) {
                (Some(i), true) => data.inquiries[i] = inquiry,
                (None, true) => {
                    data.index.insert(inquiry.id.clone(), data.inquiries.len());
                    data.inquiries.push(inquiry);
                }
                (Some(_), false) => remove(data, &inquiry.id),
                (None, false) => {}
            }
        }
        for id in &update.removed {
            remove(data, id);
            data.history.deleted(id);
        }
    }

    /// Re-derive the join and every pane's order after data changed.
    fn recompute(&mut self) {
        self.last_derive = self.now;
        self.data.history.prune(self.now);
        self.derived = join::derive(&join::Sources {
            accounts: &self.data.accounts,
            inquiries: &self.data.inquiries,
            metrics: &self.data.metrics,
            incidents: &self.data.incidents,
            impact_error_ratio: self.settings.impact_error_ratio,
            now: self.now,
            history: &self.data.history,
            health: &self.settings.health,
            metrics_stale: self
                .source(SourceKind::Metrics)
                .and_then(|s| s.last_ok)
                .is_some_and(|t| self.now.duration_since(t) > METRICS_MAX_AGE),
        });
        self.remember();
        if matches!(self.overlay, Overlay::Voc { .. }) {
            self.refresh_voc();
        }
        for pane in Pane::ALL {
            self.refresh_order(pane);
        }
    }

    /// Recompute the voice-of-the-customer groups (while that view is open).
    pub(crate) fn refresh_voc(&mut self) {
        let mut bands = vec![crate::health::Band::Yellow; self.data.accounts.len()];
        for row in &self.derived.customers {
            bands[row.account] = row.health.band;
        }
        self.derived.voc = crate::voc::groups(&crate::voc::Sources {
            accounts: &self.data.accounts,
            inquiries: &self.data.inquiries,
            inquiry_account: &self.derived.inquiry_account,
            closed: self.data.history.closed(),
            org_index: &self.derived.org_index,
            bands: &bands,
            now: self.now,
        });
    }

    /// The inquiry a row of the inquiries pane shows.
    #[must_use]
    pub fn inquiry_at(&self, row: usize) -> Option<&Inquiry> {
        self.panes[Pane::Inquiries as usize]
            .order
            .get(row)
            .map(|&i| &self.data.inquiries[i])
    }

    /// The account of an inquiry, if the join found one.
    #[must_use]
    pub fn account_of(&self, inquiry: &Inquiry) -> Option<&Account> {
        self.derived
            .account_of(inquiry)
            .map(|a| &self.data.accounts[a])
    }

    /// The state of one source's chip.
    #[must_use]
    pub fn source(&self, kind: SourceKind) -> Option<&SourceState> {
        self.sources.iter().find(|s| s.kind == kind)
    }
}

fn remove(data: &mut Data, id: &str) {
    if let Some(i) = data.index.remove(id) {
        data.inquiries.swap_remove(i);
        if let Some(moved) = data.inquiries.get(i) {
            data.index.insert(moved.id.clone(), i);
        }
    }
}

/// The SLA clock from the configured policy, for desks that report none:
/// first reply counts from creation until an agent has replied; after that
/// the next reply counts from the last update. Pending and on-hold inquiries
/// wait on the customer, so their clock is paused (none shown).
#[must_use]
pub fn sla_clock(inquiry: &Inquiry, policy: &SlaConfig) -> Option<SlaClock> {
    if matches!(inquiry.status, InquiryStatus::Pending | InquiryStatus::Hold)
        || !inquiry.status.is_open()
    {
        return None;
    }
    let target = match inquiry.priority {
        Priority::Urgent => policy.urgent,
        Priority::High => policy.high,
        Priority::Normal => policy.normal,
        Priority::Low => policy.low,
    };
    let target = SignedDuration::try_from(target).ok()?;
    let (metric, from) = if inquiry.replied {
        (SlaMetric::NextReply, inquiry.updated_at)
    } else {
        (SlaMetric::FirstReply, inquiry.created_at)
    };
    Some(SlaClock {
        metric,
        due: from + target,
        business_hours: false,
    })
}
