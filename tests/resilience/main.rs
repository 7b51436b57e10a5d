//! The heavy half of the integration tests: attacks as an attacker makes them (floods of
//! connections, tokens, pings and logins; slow and unread bodies), SIGKILL and SIGTERM,
//! reloads and backups — on the real server, only 127.0.0.1. Their own binary, so that
//! `cargo test --test api` stays the quick loop; `cargo test` runs both.

// The shared harness lives with the API tests; not every helper is used here.
#[allow(dead_code)]
#[path = "../api/browser.rs"]
mod browser;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod process;
#[allow(dead_code)]
#[path = "../api/receivers.rs"]
mod receivers;

mod crash;
mod hardening;
mod push;
mod reload;
