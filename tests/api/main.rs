//! One integration test binary: the real server, real fake sites, only 127.0.0.1.

mod admin_api;
mod admin_ui;
mod checks;
mod config_cli;
mod contrast;
mod edge;
mod export;
mod fakes;
mod feeds;
mod helpers;
mod incidents;
mod metrics_badges;
mod probes;
mod restart;
mod retention;
mod robustness;
mod status_page;
mod statuspage;
