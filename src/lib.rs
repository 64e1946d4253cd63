//! cre-cockpit: a terminal cockpit for Customer Reliability Engineers.
//!
//! ```text
//!  crossterm events ─┐                    ┌──────── app::run (single owner) ────────┐
//!  1 Hz clock ───────┼──── Message ──────▶│ Model::update(msg) -> Vec<Effect>  no IO │
//!  pollers (1/source)┘                    │ effects run as tokio tasks → Message     │
//!    adapters: wire → domain              │ redraw when dirty: ui::render(&Model)    │
//!                                         └──────────────────────────────────────────┘
//! ```
//!
//! Adapters (`adapters`) are the only code that sees vendor JSON; they hand
//! `domain` types to the pollers (`poll`), whose results arrive at the model
//! as messages. Rendering (`ui`) is a pure function of the model.

pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod insight;
pub mod model;
pub mod report;
pub mod simulator;
pub mod sources;
pub mod store;
pub mod ui;

// glibc's allocator keeps an arena per thread and consolidates its free
// lists at the cost of a third of a metrics-poll fold (freeing the last
// derived view, allocating the next); mimalloc makes those small
// allocations cheap. Its v2 without transparent huge pages: v3 (the
// crate's default) held 60-100 MB more at the peak of a 100k snapshot.
// Set here, in the library, so the tests and benchmarks run on what the
// binary ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
