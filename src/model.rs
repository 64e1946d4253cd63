//! The application state and its one entry point, [`Model::update`].
//!
//! `update` is synchronous and does no IO: it folds a [`Message`] into the
//! state and returns the [`Effect`]s it wants run. Everything a CRE sees is
//! rendered from this struct alone.

pub mod action;
pub mod command;
pub mod escalate;
pub mod help;
pub(crate) mod incident_mode;
mod input;
pub mod keymap;
pub mod layout;
pub mod link;
pub mod message;
pub mod notify;
mod persist;
mod prompt;
pub mod query;
mod settings;
pub mod team;
mod view;
pub mod views;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

pub use self::incident_mode::{UpdateStage, Visibility};
pub use self::persist::StoreState;
pub use self::prompt::{Prompt, WriteRequest};
pub use self::settings::Settings;
pub(crate) use self::view::contains_ci;
pub use self::view::filter_highlights as view_highlights;
pub use self::view::{Overlay, Pane, PaneView, Section, SortMode, Target, URGENCY_RULE, urgency};
use crate::core::domain::{
    Account, Comment, DeskUpdate, Incident, IncidentNote, Inquiry, MetricsSnapshot, SourceError,
    SourceKind,
};
use crate::core::source::Vendor;
pub use crate::core::source::{SourceState, SourceStatus};
use crate::insight::join::{self, Derived};
use crate::model::message::{Effect, Message};

/// Something loaded on demand (a conversation, incident notes).
#[derive(Debug, Clone, PartialEq)]
pub enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(String),
}

/// A destructive key pressed once, waiting for its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Armed {
    /// `ctrl-c` while a write was being edited.
    Quit,
    /// `esc` on a typed draft.
    Discard,
}

/// How long a footer message stays: long enough to read, short enough
/// that it is not mistaken for the present state.
pub const STATUS_FOR: SignedDuration = SignedDuration::from_secs(8);

/// Metrics older than this count as no data for the health score.
const METRICS_MAX_AGE: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Source data as last received.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// Open inquiries (closed ones are dropped on arrival).
    pub inquiries: Vec<Inquiry>,
    index: HashMap<crate::core::domain::InquiryId, usize>,
    pub accounts: Vec<Account>,
    pub metrics: MetricsSnapshot,
    /// Declared incidents followed by detected ones (`crate::insight::detected`).
    pub incidents: Vec<Incident>,
    /// The incidents as the incident source reported them.
    pub declared: Vec<Incident>,
    /// Recently closed inquiries, desk events, incidents seen, daily
    /// scores and action triggers.
    pub history: crate::insight::history::History,
    /// Inquiries seen closed within `kpi::CLOSED_KEPT`, by id, for the KPIs
    /// (the panes show open inquiries only).
    pub closed: HashMap<crate::core::domain::InquiryId, Inquiry>,
    /// From when every closure is in `closed` (`Timestamp::MIN`: the desk
    /// listed its whole history); `None` until the desk first answers.
    pub closed_from: Option<Timestamp>,
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
    /// The open write dialog, if any.
    pub prompt: Option<Prompt>,
    /// What has been notified already.
    pub notified: crate::insight::notify::Notified,
    /// The SLA warnings by when they fall due, rebuilt when the inquiries
    /// change: the tick compares its clock with the next one only.
    pub(crate) breaches: notify::BreachSchedule,
    /// A SEV1/SEV2 that started since the user last looked: `i` opens it.
    pub offered_incident: Option<String>,
    /// Recent writes from the journal, newest first.
    pub writes: Vec<crate::core::writes::Write>,
    /// Which writes (indices into `writes`, newest first) are about each
    /// item: rebuilt when the writes change, so a frame's rows look their
    /// markers up instead of scanning every write per row.
    pub(crate) writes_index: HashMap<crate::core::writes::Target, Vec<usize>>,
    /// A short message for the footer, and when it was set.
    pub status: Option<(String, Timestamp)>,
    /// The write the footer's message is about (its "queued for
    /// delivery"), so its delivery replaces the message.
    status_write: Option<i64>,
    /// The incident whose customers and inquiries the other two panes are
    /// narrowed to (the jump key), if any.
    pub scope: Option<String>,
    /// Terminal size (columns, rows), for layout-dependent navigation.
    pub size: (u16, u16),
    pub quit: bool,
    /// Where `esc` returns from a detail opened inside incident mode.
    pub return_to: Option<Overlay>,
    /// The last handover report written (`H`), shown in its overlay.
    pub handover: Option<String>,
    /// The `:` command line, while open.
    pub command: Option<command::CommandLine>,
    /// Commands run from the command line, oldest first (`↑`/`↓` recall).
    pub command_history: Vec<String>,
    /// Whether the terminal reports the mouse (`[ui] mouse`, `:mouse`).
    pub mouse: bool,
    /// A first `ctrl-c` (or `esc` on a typed draft) was pressed while a
    /// write was being edited: the second one goes ahead.
    pub(crate) armed: Option<Armed>,
    last_derive: Timestamp,
    /// Moves on every change of the inquiries, so the join's text links
    /// (kept in `text_links`) are only worked out again when the desk or
    /// the incidents changed, not at every metrics poll.
    desk_generation: u64,
    text_links: join::TextLinks,
    /// The metrics or the accounts changed since the metrics chip's join
    /// coverage was worked out (10k tenants against 10k accounts: not
    /// redone for a desk change or the clock).
    metrics_coverage_due: bool,
    /// The saved view of the inquiries pane (index into `settings.views`).
    pub view: usize,
    /// What teammates' cockpits have open (team mode), as last listed.
    pub presence: Vec<crate::core::writes::Presence>,
    /// Who polls each shared source (team mode), for its chip.
    pub feed_roles: Vec<(
        crate::core::domain::SourceKind,
        crate::core::source::FeedRole,
    )>,
    /// What this cockpit last announced it has open (team mode).
    announced: Option<(crate::core::writes::Target, crate::core::writes::Doing)>,
    /// The local store: loaded yet, last saved, a save to request.
    pub store: StoreState,
    /// Support KPIs, recomputed when the desk answers and every minute.
    pub kpis: crate::insight::kpi::Kpis,
}

impl Model {
    /// A model awaiting its first data from the given sources.
    #[must_use]
    pub fn new(settings: Settings, sources: Vec<SourceState>, now: Timestamp) -> Self {
        let mut model = Self {
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
            prompt: None,
            notified: crate::insight::notify::Notified::default(),
            breaches: notify::BreachSchedule::default(),
            offered_incident: None,
            writes: Vec::new(),
            writes_index: HashMap::new(),
            status: None,
            status_write: None,
            scope: None,
            size: (80, 24),
            quit: false,
            return_to: None,
            handover: None,
            command: None,
            command_history: Vec::new(),
            mouse: true,
            armed: None,
            last_derive: now,
            desk_generation: 0,
            text_links: join::TextLinks::default(),
            metrics_coverage_due: true,
            view: crate::model::views::ALL,
            presence: Vec::new(),
            feed_roles: Vec::new(),
            announced: None,
            store: StoreState::default(),
            kpis: crate::insight::kpi::Kpis {
                at: now,
                backlog: crate::insight::kpi::Kpi::NotAvailable(String::new()),
                windows: Vec::new(),
                closed_history: crate::insight::kpi::ClosedHistory::Unknown,
                method: Vec::new(),
            },
        };
        model.mouse = model.settings.mouse;
        model.refresh_kpis();
        model
    }

    /// Fold one message into the state.
    pub fn update(&mut self, message: Message) -> Vec<Effect> {
        let mut effects = self.handle(message);
        effects.extend(self.take_persist());
        effects.extend(self.take_announce());
        effects
    }

    fn handle(&mut self, message: Message) -> Vec<Effect> {
        // Data can make a notifiable condition true; the clock only an SLA
        // warning, which the tick finds in the schedule.
        let tick = matches!(message, Message::Tick(_));
        let may_notify = matches!(
            message,
            Message::Desk { .. }
                | Message::Metrics { .. }
                | Message::Incidents { .. }
                | Message::Accounts { .. }
        );
        match message {
            Message::Input(event) => return self.handle_input(&event),
            Message::Tick(now) => {
                self.now = now;
                // Expired here, by the clock, so the frame only draws what
                // the state says.
                if self
                    .status
                    .as_ref()
                    .is_some_and(|(_, at)| now.duration_since(*at) >= STATUS_FOR)
                {
                    self.status = None;
                    self.status_write = None;
                }
                // SLA breaches and renewal distances move with the clock.
                if now.duration_since(self.last_derive) >= SignedDuration::from_mins(1) {
                    self.recompute();
                    self.refresh_kpis();
                }
            }
            Message::Desk { vendor, at, result } => {
                let ok = result
                    .as_ref()
                    .map(|u| format!("{} changed", u.changed.len() + u.removed.len()))
                    .ok();
                match self.record(SourceKind::Desk, vendor, at, result.map(|u| (u, ok))) {
                    // Most polls are quiet: nothing derived can change (the
                    // clock's own effects are recomputed every minute).
                    Ok(update) if !update.changes_anything() => {}
                    Ok(update) => {
                        self.apply_desk(update, at);
                        self.breaches =
                            notify::BreachSchedule::build(&self.data.inquiries, self.now);
                        self.recompute();
                        self.refresh_kpis();
                    }
                    // After a failure the KPIs say why they are missing.
                    Err(()) => self.refresh_kpis(),
                }
            }
            Message::Metrics { vendor, at, result } => {
                let result = result.map(|mut m| {
                    crate::insight::slo::judge(&mut m);
                    let detail = (!m.warnings.is_empty()).then(|| {
                        format!("{} warnings: {}", m.warnings.len(), m.warnings.join("; "))
                    });
                    (m, detail)
                });
                if let Ok(snapshot) = self.record(SourceKind::Metrics, vendor, at, result) {
                    self.data.metrics = snapshot;
                    self.metrics_coverage_due = true;
                    self.merge_detected();
                    self.recompute();
                }
            }
            Message::Incidents { vendor, at, result } => {
                if let Ok(incidents) =
                    self.record(SourceKind::Incidents, vendor, at, result.map(|i| (i, None)))
                    && incidents != self.data.declared
                {
                    self.data.declared = incidents;
                    self.merge_detected();
                    self.recompute();
                }
            }
            Message::Accounts {
                file,
                at,
                result,
                rejected,
            } => {
                let vendor = if file.ends_with(".csv") {
                    Vendor::Csv
                } else {
                    Vendor::File
                };
                if let Ok(accounts) =
                    self.record(SourceKind::Accounts, vendor, at, result.map(|a| (a, None)))
                {
                    // Skipped rows are the accounts chip's warnings (and
                    // `check`'s), so a customer missing from the panes has a
                    // visible reason.
                    let skipped = rejected.len();
                    let coverage = crate::core::source::Coverage {
                        summary: if skipped == 0 {
                            format!("{} accounts", accounts.len())
                        } else {
                            format!(
                                "{} accounts, {skipped} bad row{} skipped",
                                accounts.len(),
                                if skipped == 1 { "" } else { "s" }
                            )
                        },
                        warnings: rejected,
                    };
                    if let Some(state) = self
                        .sources
                        .iter_mut()
                        .find(|s| s.kind == SourceKind::Accounts)
                    {
                        state.coverage = Some(coverage);
                    }
                    if accounts != self.data.accounts {
                        self.data.accounts = accounts;
                        self.metrics_coverage_due = true;
                        self.recompute();
                    }
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
            Message::HandoverWritten { report, said } => {
                self.handover = Some(report);
                if self.prompt.is_none() {
                    self.overlay = Overlay::Handover { scroll: 0 };
                }
                self.say(said);
            }
            Message::Stored(result) => self.stored(result),
            Message::Delivery(delivery) => self.delivered(&delivery),
            Message::Journalled(result) => {
                let link = result
                    .as_ref()
                    .is_ok_and(|w| w.kind == crate::core::writes::WriteKind::Link);
                self.journalled(result);
                // A link by hand changes the join.
                if link {
                    self.recompute();
                }
            }
            Message::JournalLoaded(writes) => {
                self.writes = writes;
                self.index_writes();
                self.recompute();
            }
            Message::Edited(result) => self.edited(result),
            Message::Presence(list) => self.presence_seen(list),
            Message::Feed { kind, role } => {
                self.feed_roles.retain(|(k, _)| *k != kind);
                self.feed_roles.push((kind, role));
            }
        }
        if may_notify || tick {
            let conditions = if may_notify {
                // Warnings due since the last tick are in the full scan.
                notify::breaches_due(self);
                notify::conditions(self)
            } else {
                notify::breaches_due(self)
            };
            if tick && conditions.is_empty() {
                return Vec::new();
            }
            let mut notified = std::mem::take(&mut self.notified);
            let shown = notified.scan(notify::ready(self), conditions, &self.settings.notify);
            self.notified = notified;
            self.offer_incident_mode(&shown);
            return shown.into_iter().map(Effect::Notify).collect();
        }
        Vec::new()
    }

    /// Show a short message in the footer.
    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some((text.into(), self.now));
        self.status_write = None;
    }

    /// Update the chip of a source; on failure keep the last good data.
    fn record<T>(
        &mut self,
        kind: SourceKind,
        vendor: Vendor,
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
                tracing::warn!(source = %kind, vendor = %vendor, error = %error, "poll failed");
                state.failed(at, error.message);
                Err(())
            }
        }
    }

    fn apply_desk(&mut self, update: DeskUpdate, at: Timestamp) {
        self.desk_generation += 1;
        let data = &mut self.data;
        if update.full {
            data.inquiries.clear();
            data.index.clear();
            data.history.desk_reloaded();
            data.closed.clear();
            // A full update that carries closed inquiries comes from a read
            // of the desk's whole history (Zendesk's export from the start).
            // One with open inquiries only (RT, or a desk resumed from its
            // saved open set) says nothing about what closed before: the
            // closed history starts now.
            let whole = update.changed.iter().any(|i| !i.status.is_open());
            data.closed_from = Some(if whole { Timestamp::MIN } else { at });
        } else if data.closed_from.is_none() {
            data.closed_from = Some(at);
        }
        let keep_from = self.now - crate::insight::kpi::CLOSED_KEPT;
        // Room for every arrival up front, with a sixteenth to spare rather
        // than the doubling `reserve` does on a queue that holds some: that
        // left up to half the queue's capacity unused, 50 MB of it at 100k.
        // (The spare keeps a poll with a few new inquiries from moving the
        // whole queue each time.)
        let open = update.changed.iter().filter(|i| i.status.is_open()).count();
        let spare = data.inquiries.capacity() - data.inquiries.len();
        if open > spare {
            let room = open.max(data.inquiries.len() / 16);
            data.inquiries.reserve_exact(room);
        }
        data.index.reserve(open);
        for mut inquiry in update.changed {
            if inquiry.sla.is_none() {
                inquiry.sla = self.settings.sla.clock(&inquiry);
            }
            let open = inquiry.status.is_open();
            let held = data.index.get(inquiry.id.as_str()).copied();
            // Closed inquiries leave the queue but stay in the history the
            // support factors read; reopens and late answers are noted.
            let previous = held.map(|i| &data.inquiries[i]);
            if open {
                data.history.opened(&inquiry, previous);
            } else {
                data.history.close(&inquiry, previous, self.now);
            }
            if open {
                // Reopened: it counts as open again.
                data.closed.remove(inquiry.id.as_str());
            }
            match (held, open) {
                (Some(i), true) => data.inquiries[i] = inquiry,
                (None, true) => {
                    data.index.insert(inquiry.id.clone(), data.inquiries.len());
                    data.inquiries.push(inquiry);
                }
                (index, false) => {
                    if index.is_some() {
                        remove(data, &inquiry.id);
                    }
                    if inquiry.history.solved_at.unwrap_or(inquiry.updated_at) >= keep_from {
                        data.closed
                            .insert(inquiry.id.clone(), crate::insight::kpi::kept(inquiry));
                    }
                }
            }
        }
        for id in &update.removed {
            remove(data, id);
            data.history.deleted(id);
            data.closed.remove(id.as_str());
        }
        data.closed
            .retain(|_, i| i.history.solved_at.unwrap_or(i.updated_at) >= keep_from);
    }

    /// Recompute the KPIs from the inquiries open and recently closed.
    fn refresh_kpis(&mut self) {
        let closed: Vec<&Inquiry> = self.data.closed.values().collect();
        self.kpis = crate::insight::kpi::compute(&crate::insight::kpi::Inputs {
            open: &self.data.inquiries,
            closed: &closed,
            closed_from: self.data.closed_from,
            desk: self.source(SourceKind::Desk),
            policy: &self.settings.sla,
            shift: self.settings.kpi.shift,
            now: self.now,
        });
    }

    /// The incident list: what the source declared, then the page-level
    /// SLO burns no declared incident covers.
    fn merge_detected(&mut self) {
        let detected = crate::insight::detected::detected(
            &self.data.metrics.slos,
            &self.data.declared,
            &self.data.incidents,
            self.now,
        );
        let mut incidents = self.data.declared.clone();
        incidents.extend(detected);
        self.data.incidents = incidents;
    }

    /// Re-derive the join and every pane's order after data changed.
    fn recompute(&mut self) {
        self.last_derive = self.now;
        self.data.history.prune(self.now);
        self.text_links.refresh(
            self.desk_generation,
            &self.data.inquiries,
            &self.data.incidents,
            &self.settings.service_areas,
        );
        // The last view goes before the next is built (nothing below reads
        // it): both held at once were the peak of a fold at 100k.
        self.derived = join::Derived::default();
        self.derived = join::derive_with(
            &join::Sources {
                accounts: &self.data.accounts,
                inquiries: &self.data.inquiries,
                metrics: &self.data.metrics,
                incidents: &self.data.incidents,
                impact_error_ratio: self.settings.impact_error_ratio,
                now: self.now,
                service_tenants: &self.settings.service_tenants,
                service_areas: &self.settings.service_areas,
                manual_links: &join::ManualLink::from_writes(&self.writes),
                history: &self.data.history,
                health: &self.settings.health,
                metrics_stale: self
                    .source(SourceKind::Metrics)
                    .and_then(|s| s.last_ok)
                    .is_some_and(|t| self.now.duration_since(t) > METRICS_MAX_AGE),
            },
            &self.text_links,
        );
        self.remember();
        self.refresh_coverage();
        if matches!(self.overlay, Overlay::Voc { .. }) {
            self.refresh_voc();
        }
        for pane in Pane::ALL {
            self.refresh_order(pane);
        }
    }

    /// Each source's join coverage, once it and the accounts have answered
    /// (before that there is nothing to compare).
    fn refresh_coverage(&mut self) {
        use crate::insight::coverage;
        // Without an accounts file nothing is meant to join: no coverage
        // (`check` says so once) rather than a warning on every source.
        let accounts_in = self
            .source(SourceKind::Accounts)
            .is_some_and(|s| s.last_ok.is_some());
        let data = &self.data;
        let hints = &self.settings.join_hints;
        for state in &mut self.sources {
            if state.last_ok.is_none() || !accounts_in {
                continue;
            }
            state.coverage = match state.kind {
                SourceKind::Desk => Some(coverage::desk(
                    state.vendor,
                    &data.accounts,
                    &data.inquiries,
                    &self.derived.inquiry_account,
                    hints,
                )),
                SourceKind::Metrics if !self.metrics_coverage_due => state.coverage.take(),
                SourceKind::Metrics => {
                    self.metrics_coverage_due = false;
                    Some(coverage::metrics(&data.accounts, &data.metrics, hints))
                }
                SourceKind::Incidents => Some(coverage::incidents(
                    &data.accounts,
                    &data.incidents,
                    &self.derived.impacts,
                )),
                SourceKind::Accounts => state.coverage.take(),
            };
        }
    }

    /// Recompute the voice-of-the-customer groups (while that view is open).
    pub(crate) fn refresh_voc(&mut self) {
        let mut bands = vec![crate::insight::health::Band::Yellow; self.data.accounts.len()];
        for row in &self.derived.customers {
            bands[row.account] = row.health.band;
        }
        self.derived.voc = crate::insight::voc::groups(&crate::insight::voc::Sources {
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
