#![forbid(unsafe_code)]
//! signalfire: a self-hosted outage status page server. `main.rs` only wires this library.

pub mod assets;
pub mod auth;
pub mod cli;
pub mod config;
pub mod connectivity;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod housekeeping;
pub mod incidents;
pub mod keys;
pub mod markdown;
pub mod metrics;
pub mod monitoring;
pub mod notify;
pub mod pidfile;
pub mod probe;
pub mod render;
pub mod routes;
pub mod scheduler;
pub mod startup;
pub mod state;
pub mod subscribers;
pub mod supervisor;
pub mod views;
pub mod writer;
