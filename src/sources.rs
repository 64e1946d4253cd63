//! The edge: one trait per kind of source, and the HTTP plumbing they share.
//!
//! Each adapter owns its own cursor/state and converts wire types (`*Dto`
//! structs private to its module) into `crate::core::domain` types before anything
//! else sees them. Pollers (`crate::app::poll`) are generic over these traits, so a
//! new vendor is a new module, not a new code path.

pub mod accounts;
pub mod alertmanager;
pub mod config;
pub mod desk;
pub mod events;
pub mod http;
pub mod incidents;
pub mod lenient;
pub mod pagerduty;
pub mod prometheus;
pub mod resume;
pub mod rt;
pub mod token;
pub mod zendesk;

use std::future::Future;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::core::domain::{
    Comment, DeskUpdate, Incident, IncidentNote, MetricsSnapshot, SourceError,
};
use crate::core::source::Vendor;

/// Decode a response body the way [`http::fetch_json`] does once it has the
/// bytes, for the `read_*` entry points that take a body rather than a
/// request (the ingest benchmark, the fuzz targets).
pub(crate) fn decode_body<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| {
        let kind = if e.is_eof() { "truncated" } else { "malformed" };
        SourceError::new(format!("{what}: {kind} JSON ({e})"))
    })
}

/// A support desk: Zendesk, Request Tracker.
pub trait DeskSource: Send + 'static {
    /// Short vendor name for the chip ("zendesk").
    fn vendor(&self) -> Vendor;
    /// Fetch what changed since the last poll. The first call (and any call
    /// after the desk refused the stored cursor) returns `full = true`.
    fn poll(&mut self) -> impl Future<Output = Result<DeskUpdate, SourceError>> + Send;
    /// The conversation of one inquiry, oldest first (loaded when opened).
    fn comments(
        &mut self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<Comment>, SourceError>> + Send;
    /// A pause the desk asked for on its last answer without refusing it
    /// (rate-limit headers nearly spent); the poller waits this long.
    fn pause_hint(&mut self) -> Option<Duration> {
        None
    }
    /// Why the last poll's read is not the whole desk yet (a first read
    /// that continues on the next poll), if it is not: `snapshot` polls
    /// again, or reports the desk as partial with this reason.
    fn backlog(&self) -> Option<String> {
        None
    }
    /// Team mode: where this desk's reading stands (its change cursor and
    /// the scope it was read with), for a teammate's cockpit to continue
    /// from when it takes the polling over.
    fn hand_over(&self) -> Option<String> {
        None
    }
    /// Continue from a teammate's [`DeskSource::hand_over`] and the open
    /// inquiries it describes: the next poll returns them whole and asks
    /// only what changed since. `false` when the state is not this desk's
    /// (another URL, account or scope), which then reads as before.
    fn take_over(&mut self, _state: &str, _open: Vec<crate::core::domain::Inquiry>) -> bool {
        false
    }
}

/// A desk's [`DeskSource::hand_over`]: its cursor, under the scope it
/// was read with (the resume file's).
#[derive(serde::Serialize, serde::Deserialize)]
struct HandOver {
    scope: String,
    cursor: serde_json::Value,
}

/// Wrap a cursor for a teammate.
fn hand_over<C: serde::Serialize>(scope: String, cursor: Option<&C>) -> Option<String> {
    let cursor = serde_json::to_value(cursor?).ok()?;
    serde_json::to_string(&HandOver { scope, cursor }).ok()
}

/// A teammate's cursor, if it was read with `scope`.
fn taken_over<C: serde::de::DeserializeOwned>(state: &str, scope: &str) -> Option<C> {
    let state: HandOver = serde_json::from_str(state).ok()?;
    if state.scope != scope {
        tracing::warn!("team feed: the poller's desk is not this one's; reading it afresh");
        return None;
    }
    serde_json::from_value(state.cursor).ok()
}

/// A metrics backend speaking the Prometheus HTTP API.
pub trait MetricsSource: Send + 'static {
    fn vendor(&self) -> Vendor;
    fn poll(&mut self) -> impl Future<Output = Result<MetricsSnapshot, SourceError>> + Send;
}

/// An incident source: PagerDuty, Alertmanager. Returns the open incidents.
pub trait IncidentSource: Send + 'static {
    fn vendor(&self) -> Vendor;
    fn poll(&mut self) -> impl Future<Output = Result<Vec<Incident>, SourceError>> + Send;
    /// The notes/timeline of one incident, oldest first (loaded when opened).
    fn notes(
        &mut self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<IncidentNote>, SourceError>> + Send;
}
