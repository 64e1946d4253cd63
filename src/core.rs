//! Layer 0, the vocabulary: the domain types, identities, writes and source
//! states every other layer speaks, and the text helpers they share. It
//! imports nothing from the crate and no IO crate (terminal, SQLite, HTTP).

pub mod domain;
pub mod durations;
pub mod ids;
pub mod name;
pub mod sanitize;
pub mod slo;
pub mod source;
pub mod text;
pub mod writes;
