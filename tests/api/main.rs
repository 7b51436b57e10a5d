//! One integration test binary: the real server, real fake sites, only 127.0.0.1.

mod config_cli;
mod helpers;
mod probes;
mod restart;
mod robustness;
mod status_page;
