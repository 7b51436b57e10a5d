#![forbid(unsafe_code)]
//! signalfire: a self-hosted outage status page server.

pub mod config;
pub mod domain;
