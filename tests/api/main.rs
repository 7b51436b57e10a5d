//! One integration test binary: the real server, real fake sites, only 127.0.0.1.

mod admin_api;
mod admin_ui;
mod browser;
mod checks;
mod config_cli;
mod contrast;
mod crash;
mod edge;
mod export;
mod fakes;
mod feeds;
mod hardening;
mod helpers;
mod incidents;
mod metrics_badges;
mod notify;
mod openapi;
mod probes;
mod process;
mod receivers;
mod restart;
mod retention;
mod robustness;
mod status_page;
mod statuspage;
