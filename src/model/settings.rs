//! What the model needs from the config, already built and validated:
//! `config` parses the file once and hands these values over, so nothing
//! here re-parses or falls back to a default on a value it was given.

use crate::insight::join;
use crate::model::keymap::Keymap;

/// Settings the model needs from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keymap: Keymap,
    /// Service → tenants it serves, for the incident join.
    pub service_tenants: std::collections::BTreeMap<String, Vec<String>>,
    /// Service → the feature areas its inquiries are about (`[service_areas]`).
    pub service_areas: std::collections::BTreeMap<String, Vec<String>>,
    pub sla: crate::insight::sla::Policy,
    pub me: Option<String>,
    /// Team mode (`[team] store`): presence is announced and shown.
    pub team: bool,
    pub impact_error_ratio: f64,
    pub demo: bool,
    pub read_only: bool,
    /// Where escalations can go.
    pub escalation: crate::insight::escalation::EscalationConfig,
    /// Whether incident notes go to the incident source (PagerDuty) rather
    /// than the journal only.
    pub incident_notes: bool,
    /// Links made by hand are mirrored on the desk (Zendesk problem
    /// tickets, `[desk] mirror_links`).
    pub mirror_links: bool,
    pub notify: crate::insight::notify::NotifyConfig,
    pub updates: crate::insight::updates::UpdatesConfig,
    /// Whether escalations can tag tickets on the desk.
    pub desk_tags: bool,
    /// Saved views of the inquiries pane, built-ins first.
    pub views: crate::model::views::Views,
    pub health: crate::insight::health::HealthConfig,
    /// KPI windows (`[kpi]`).
    pub kpi: crate::insight::kpi::KpiConfig,
    /// Whether the terminal reports the mouse (`[ui] mouse`, default on;
    /// off leaves text selection to the terminal).
    pub mouse: bool,
    /// Draw without colour (the `NO_COLOR` convention): selection and
    /// severity then rest on symbols, reverse video and words.
    pub no_color: bool,
    /// The settings the join depends on, named in coverage warnings.
    pub join_hints: crate::insight::coverage::JoinHints,
}

impl Default for Settings {
    /// What an empty config gives (the tests' and benchmarks' starting point).
    fn default() -> Self {
        Self {
            keymap: Keymap::default(),
            service_tenants: std::collections::BTreeMap::new(),
            service_areas: std::collections::BTreeMap::new(),
            sla: crate::insight::sla::Policy::default(),
            me: None,
            team: false,
            impact_error_ratio: join::DEFAULT_IMPACT_ERROR_RATIO,
            demo: false,
            read_only: false,
            escalation: crate::insight::escalation::EscalationConfig::default(),
            incident_notes: false,
            mirror_links: false,
            notify: crate::insight::notify::NotifyConfig::default(),
            updates: crate::insight::updates::UpdatesConfig::default(),
            desk_tags: false,
            views: crate::model::views::Views::default(),
            health: crate::insight::health::HealthConfig::default(),
            kpi: crate::insight::kpi::KpiConfig::default(),
            mouse: true,
            no_color: false,
            join_hints: crate::insight::coverage::JoinHints::default(),
        }
    }
}
