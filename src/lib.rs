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

pub mod accounts;
pub mod action;
pub mod adapters;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod detected;
pub mod domain;
pub mod escalation;
pub mod handover;
pub mod health;
pub mod history;
pub mod join;
pub mod journal;
pub mod keymap;
pub mod kpi;
pub mod layout;
pub mod logging;
pub mod message;
pub mod model;
pub mod notify;
pub mod outbox;
pub mod paths;
pub mod poll;
pub mod sanitize;
pub mod simulator;
pub mod sla;
pub mod slo;
pub mod snapshot;
pub mod sources;
pub mod store;
pub mod terminal;
pub mod ui;
pub mod updates;
pub mod views;
pub mod voc;
