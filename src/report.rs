//! Layer 4, renderings other than the terminal: the shift handover and the
//! `snapshot` JSON, both pure functions of the model.

pub mod handover;
pub mod snapshot;
