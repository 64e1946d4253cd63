//! The support desk the config names, whichever vendor it is: the one place
//! the cockpit chooses between desk adapters, so the rest of the program
//! (pollers, wiring) deals with "the desk".

use std::time::Duration;

use super::DeskSource;
use super::rt::Rt;
use super::zendesk::Zendesk;
use crate::core::domain::{Comment, DeskUpdate, SourceError};
use crate::core::source::Vendor;

/// The desk adapters, chosen by `[desk] kind`. There is one per process and
/// it is moved once, into its poller, so the size difference between the
/// variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Desk {
    Zendesk(Zendesk),
    Rt(Rt),
}

impl Desk {
    /// Keep the desk's cursor and open set in `dir` and resume from them.
    #[must_use]
    pub fn resume_in(self, dir: &std::path::Path) -> Self {
        match self {
            Self::Zendesk(z) => Self::Zendesk(z.resume_in(dir)),
            Self::Rt(r) => Self::Rt(r.resume_in(dir)),
        }
    }
}

impl DeskSource for Desk {
    fn vendor(&self) -> Vendor {
        match self {
            Self::Zendesk(z) => z.vendor(),
            Self::Rt(r) => r.vendor(),
        }
    }

    async fn poll(&mut self) -> Result<DeskUpdate, SourceError> {
        match self {
            Self::Zendesk(z) => z.poll().await,
            Self::Rt(r) => r.poll().await,
        }
    }

    async fn comments(&mut self, id: &str) -> Result<Vec<Comment>, SourceError> {
        match self {
            Self::Zendesk(z) => z.comments(id).await,
            Self::Rt(r) => r.comments(id).await,
        }
    }

    fn pause_hint(&mut self) -> Option<Duration> {
        match self {
            Self::Zendesk(z) => z.pause_hint(),
            Self::Rt(r) => r.pause_hint(),
        }
    }

    fn backlog(&self) -> Option<String> {
        match self {
            Self::Zendesk(z) => z.backlog(),
            Self::Rt(r) => r.backlog(),
        }
    }

    fn hand_over(&self) -> Option<String> {
        match self {
            Self::Zendesk(z) => z.hand_over(),
            Self::Rt(r) => r.hand_over(),
        }
    }

    fn take_over(&mut self, state: &str, open: Vec<crate::core::domain::Inquiry>) -> bool {
        match self {
            Self::Zendesk(z) => z.take_over(state, open),
            Self::Rt(r) => r.take_over(state, open),
        }
    }
}
