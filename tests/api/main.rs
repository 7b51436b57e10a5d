//! The integration tests: the real server, real fake sites, only 127.0.0.1. The heavy ones —
//! attacks, kills, signals — are in `tests/resilience`, which shares this harness.

mod admin_api;
mod admin_ui;
mod browser;
mod calendar;
mod checks;
mod config_cli;
mod contrast;
mod edge;
mod export;
mod fakes;
mod feeds;
mod follow;
mod helpers;
mod incidents;
mod jobs;
mod lifecycle;
mod metrics_badges;
mod notify;
mod openapi;
mod probes;
mod receivers;
mod records;
mod reminders;
mod restart;
mod retention;
mod robustness;
mod smtp_check;
mod status_page;
mod statuspage;
mod write_cost;
