//! Layer 1, pure derivations over `core`: the join, health, SLA and SLO
//! maths, KPIs, the voice of the customer, escalation plans and the
//! notification rules. No model, no UI, no IO; each feature owns its config.

pub mod coverage;
pub mod detected;
pub mod escalation;
pub mod health;
pub mod history;
pub mod join;
pub mod kpi;
pub mod notify;
pub mod sla;
pub mod slo;
pub mod updates;
pub mod voc;
