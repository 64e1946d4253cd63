//! What flows into the model (`Message`) and what the model asks the world
//! to do (`Effect`). The model never does IO; the app runs effects as tasks
//! whose outcomes come back as messages.

use jiff::Timestamp;

use crate::core::domain::{
    Account, Comment, DeskUpdate, Incident, IncidentNote, MetricsSnapshot, SourceError,
};
use crate::core::source::Vendor;

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Message {
    /// A terminal event: key, mouse, resize.
    Input(crossterm::event::Event),
    /// The 1 Hz clock, for "updated 12s ago" labels and SLA countdowns.
    Tick(Timestamp),
    /// A desk poll finished.
    Desk {
        vendor: Vendor,
        at: Timestamp,
        result: Result<DeskUpdate, SourceError>,
    },
    /// A metrics poll finished.
    Metrics {
        vendor: Vendor,
        at: Timestamp,
        result: Result<MetricsSnapshot, SourceError>,
    },
    /// An incidents poll finished.
    Incidents {
        vendor: Vendor,
        at: Timestamp,
        result: Result<Vec<Incident>, SourceError>,
    },
    /// The accounts file was (re)read.
    Accounts {
        file: String,
        at: Timestamp,
        result: Result<Vec<Account>, SourceError>,
        /// Rows skipped as invalid, each with its file, line and reason.
        rejected: Vec<String>,
    },
    /// An inquiry's conversation arrived.
    Comments {
        id: String,
        result: Result<Vec<Comment>, SourceError>,
    },
    /// An incident's notes arrived.
    Notes {
        id: String,
        result: Result<Vec<IncidentNote>, SourceError>,
    },
    /// A side effect finished and has something to tell the user.
    Status(String),
    /// The handover report was written (`H`): its text, to read in place,
    /// and where it went (or why it could not be saved).
    HandoverWritten { report: String, said: String },
    /// A journalled write's delivery step changed state.
    Delivery(crate::core::writes::Delivery),
    /// The journal committed a write (or refused it, with the reason).
    Journalled(Result<crate::core::writes::Write, String>),
    /// Recent writes read from the journal at start.
    JournalLoaded(Vec<crate::core::writes::Write>),
    /// Text came back from `$EDITOR`.
    Edited(Result<String, String>),
    /// The local store's history arrived (or could not be read).
    Stored(Result<crate::insight::history::Loaded, String>),
    /// What teammates' cockpits have open (team mode), listed afresh.
    Presence(Vec<crate::core::writes::Presence>),
    /// Who polls a shared source now (team mode).
    Feed {
        kind: crate::core::domain::SourceKind,
        role: crate::core::source::FeedRole,
    },
}

/// Something the model wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the event loop and restore the terminal.
    Quit,
    /// Turn the terminal's mouse reporting on or off (`:mouse`).
    Mouse(bool),
    /// Poll every source now instead of waiting for its interval.
    Refresh,
    /// Fetch an inquiry's conversation.
    LoadComments(String),
    /// Fetch an incident's notes.
    LoadNotes(String),
    /// Open a URL in the user's browser.
    OpenUrl(String),
    /// Put text on the clipboard through the terminal (OSC 52).
    Copy(String),
    /// Commit a write to the journal (then wake the outbox).
    Journal(crate::model::WriteRequest),
    /// Withdraw a journalled write's undelivered steps.
    CancelWrite(i64),
    /// Edit text in the user's `$EDITOR`.
    ExternalEditor(String),
    /// Ring the bell / show a desktop notification.
    Notify(crate::insight::notify::Notification),
    /// Save today's health scores, action triggers and incidents seen to
    /// the local store.
    Persist(Box<crate::insight::history::Persist>),
    /// Render the handover report of the shift that ends now and write it
    /// into the data dir's `handovers/` folder.
    Handover,
    /// Tell teammates (team mode) what this cockpit has open now, or that
    /// nothing is.
    Announce(Option<(crate::core::writes::Target, crate::core::writes::Doing)>),
}
