//! The incident source the config names, whichever vendor it is: the one
//! place the cockpit chooses between incident adapters.

use super::IncidentSource;
use super::alertmanager::Alertmanager;
use super::pagerduty::PagerDuty;
use crate::core::domain::{Incident, IncidentNote, SourceError};
use crate::core::source::Vendor;

/// The incident adapters, chosen by `[incidents] kind`.
pub enum Incidents {
    PagerDuty(PagerDuty),
    Alertmanager(Alertmanager),
}

impl IncidentSource for Incidents {
    fn vendor(&self) -> Vendor {
        match self {
            Self::PagerDuty(p) => p.vendor(),
            Self::Alertmanager(a) => a.vendor(),
        }
    }

    async fn poll(&mut self) -> Result<Vec<Incident>, SourceError> {
        match self {
            Self::PagerDuty(p) => p.poll().await,
            Self::Alertmanager(a) => a.poll().await,
        }
    }

    async fn notes(&mut self, id: &str) -> Result<Vec<IncidentNote>, SourceError> {
        match self {
            Self::PagerDuty(p) => p.notes(id).await,
            Self::Alertmanager(a) => a.notes(id).await,
        }
    }
}
