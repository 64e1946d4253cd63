//! What a user can bind to a key. Names are the `[keys]` table's keys.

use serde::Deserialize;

/// A user intent. `snake_case` names are what `[keys]` in the config uses,
/// and what `?` lists.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    strum::Display,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    FocusInquiries,
    FocusCustomers,
    FocusIncidents,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Detail,
    Back,
    Filter,
    Sort,
    Refresh,
    OpenInBrowser,
    CopyLink,
    Annotate,
    Escalate,
    Journal,
    /// In the journal view: withdraw the selected write before delivery.
    CancelWrite,
    /// Link the selected inquiry to an incident by hand (or unlink it).
    LinkIncident,
    JumpLinked,
    IncidentMode,
    CustomerUpdate,
    /// Saved views of the inquiries pane (`crate::model::views`).
    ViewAll,
    ViewMine,
    ViewUnassigned,
    ViewBreaching,
    ViewEscalated,
    NextView,
    VoiceOfCustomer,
    /// The support KPIs for the shift, 24 h and 7 days (`crate::insight::kpi`).
    KpiView,
    /// Write the shift handover report to the data dir (`crate::report::handover`).
    Handover,
    /// The `:` command line.
    Command,
}

impl Action {
    /// One line for the help screen.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Quit => "quit",
            Self::Help => "show this help",
            Self::NextPane => "focus the next pane",
            Self::PrevPane => "focus the previous pane",
            Self::FocusInquiries => "focus open inquiries",
            Self::FocusCustomers => "focus at-risk customers",
            Self::FocusIncidents => "focus incidents",
            Self::Down => "move down",
            Self::Up => "move up",
            Self::PageDown => "page down",
            Self::PageUp => "page up",
            Self::Top => "go to the first row",
            Self::Bottom => "go to the last row",
            Self::Detail => "open the selected row",
            Self::Back => "close / go back / clear filter",
            Self::Filter => "filter the focused pane",
            Self::Sort => "change the sort order",
            Self::Refresh => "poll every source now",
            Self::OpenInBrowser => "open the selected row in the browser",
            Self::CopyLink => "copy the selected row's link (OSC 52)",
            Self::Annotate => "write a note on the selected row",
            Self::Escalate => "escalate the selected row (previewed, then confirmed)",
            Self::Journal => "show every write and its delivery state",
            Self::CancelWrite => "journal: cancel the selected write (asks first)",
            Self::LinkIncident => "link the selected inquiry to an incident, or unlink it",
            Self::JumpLinked => "incident → its customers and inquiries, and back",
            Self::IncidentMode => {
                "incident mode: who is hit, what they ask, when the next update is due"
            }
            Self::CustomerUpdate => {
                "in incident mode: post a customer update to every linked inquiry"
            }
            Self::ViewAll => "view: all open inquiries",
            Self::ViewMine => "view: inquiries assigned to me ([ui] me)",
            Self::ViewUnassigned => "view: unassigned inquiries",
            Self::ViewBreaching => "view: SLA breached or breaching within 1h",
            Self::ViewEscalated => "view: escalated inquiries",
            Self::NextView => "next saved view (built-in, then [[views]])",
            Self::VoiceOfCustomer => "voice of the customer: inquiries by feature area × segment",
            Self::KpiView => "KPIs: first reply, SLA, backlog, reopen, escalation, one-touch",
            Self::Handover => "write the shift handover report (markdown) and show it",
            Self::Command => "command line: every action by name, tab completes, ↑ history",
        }
    }

    /// Short label for the footer hints; `None` keeps it out of the footer.
    #[must_use]
    pub fn hint(self) -> Option<&'static str> {
        match self {
            Self::Quit => Some("quit"),
            Self::Help => Some("help"),
            Self::NextPane => Some("pane"),
            Self::Detail => Some("detail"),
            Self::Filter => Some("filter"),
            Self::Sort => Some("sort"),
            Self::Refresh => Some("refresh"),
            Self::OpenInBrowser => Some("open"),
            Self::Annotate => Some("note"),
            Self::Escalate => Some("escalate"),
            Self::IncidentMode => Some("incident"),
            Self::KpiView => Some("KPIs"),
            Self::Command => Some("command"),
            _ => None,
        }
    }
}
