//! Sending one delivery: each channel kind shapes the message its own way (one module each);
//! any 2xx (or SMTP's acceptance) is success, anything else — a status, a timeout, a refused
//! connection — is an error to retry. Errors say what happened in a few words and never carry
//! a URL (Slack's and Discord's paths are secrets) or a credential.

mod chat;
pub mod email;
mod mastodon;
mod ntfy;
mod webhook;
pub mod websub;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::message::Message;
use crate::config::Config;
use crate::config::notify::{ChannelKind, ChannelSpec};

/// Every send gives up after this (SPEC §7: a timeout of 10 s is retried).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Who a delivery goes to.
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    Channel(&'a ChannelSpec),
    /// A subscriber's address and the link token of this mail.
    Subscriber {
        email: &'a str,
        token: &'a str,
    },
    /// A WebSub hub (`[feeds] websub_hubs`), told which feeds gained an item.
    Hub(&'a url::Url),
}

/// The channel name of a hub's deliveries (`websub:<url>`): its own lane, listed with the
/// owner's channels.
pub fn hub_channel(hub: &url::Url) -> String {
    format!("{HUB_PREFIX}{hub}")
}

const HUB_PREFIX: &str = "websub:";

/// The hub a delivery's channel name stands for, if it is one and still configured.
pub fn hub_of<'a>(config: &'a Config, channel: &str) -> Option<&'a url::Url> {
    let url = channel.strip_prefix(HUB_PREFIX)?;
    config.websub_hubs.iter().find(|h| h.as_str() == url)
}

/// True when a delivery's channel name is a hub's, configured or not.
pub fn is_hub(channel: &str) -> bool {
    channel.starts_with(HUB_PREFIX)
}

/// The clients every delivery shares, built once.
pub struct Senders {
    config: Arc<Config>,
    http: reqwest::Client,
    smtp: Option<email::Mailer>,
}

impl Senders {
    /// Needs a rustls crypto provider installed.
    pub fn new(config: Arc<Config>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "signalfire/",
                env!("CARGO_PKG_VERSION"),
                " (notifications)"
            ))
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the notification HTTP client")?;
        let smtp = config
            .notify
            .smtp
            .as_ref()
            .map(email::Mailer::new)
            .transpose()?;
        Ok(Self { config, http, smtp })
    }

    /// Sends one delivery; `Ok` carries what the receiver said (`200 OK`, `250 queued`).
    pub async fn send(
        &self,
        recipient: Recipient<'_>,
        message: &Message,
        delivery: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SendError> {
        let request = match recipient {
            Recipient::Hub(hub) => websub::request(&self.http, hub, &self.config, message),
            Recipient::Subscriber { email, token } => {
                let mailer = self.smtp()?;
                return mailer
                    .to_subscriber(&self.config, email, token, message, delivery)
                    .await;
            }
            Recipient::Channel(channel) => match &channel.kind {
                ChannelKind::Email { to } => {
                    let mailer = self.smtp()?;
                    return mailer.to_owner(&self.config, to, message, delivery).await;
                }
                ChannelKind::Webhook { url, secret } => {
                    webhook::request(&self.http, url, secret.as_ref(), message, delivery, now)
                }
                ChannelKind::Slack { url } => chat::slack(&self.http, url, &self.config, message),
                ChannelKind::Discord { url } => chat::discord(&self.http, url, message),
                ChannelKind::Ntfy { url, token } => {
                    ntfy::request(&self.http, url, token.as_ref(), message)
                }
                ChannelKind::Mastodon { url, token } => {
                    mastodon::request(&self.http, url, token, message, delivery)
                }
            },
        };
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let line = format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_string();
        if status.is_success() {
            Ok(line)
        } else {
            Err(line.into())
        }
    }

    fn smtp(&self) -> Result<&email::Mailer, String> {
        self.smtp
            .as_ref()
            .ok_or_else(|| "no [smtp] server is configured".to_string())
    }
}

/// What one channel said to its test message: what the receiver answered, or the error.
pub struct Tried {
    pub channel: String,
    pub result: Result<String, String>,
}

/// Sends a test message to every channel of `config` at once, each within [`TIMEOUT`]
/// (`signalfire check-config --try`): nothing is written, no server needs to run.
pub async fn try_channels(config: Arc<Config>, now: DateTime<Utc>) -> anyhow::Result<Vec<Tried>> {
    let senders = Senders::new(config.clone())?;
    let tries = config.notify.channels.iter().map(|channel| {
        let senders = &senders;
        let config = &config;
        async move {
            let message = super::message::test(config, &channel.id, now);
            // A delivery id as the outbox makes them (`msg_` and 128 random bits).
            let result = match crate::auth::random_token() {
                Ok(token) => {
                    let delivery = format!("msg_{}", token.get(..32).unwrap_or(&token));
                    senders
                        .send(Recipient::Channel(channel), &message, &delivery, now)
                        .await
                        .map_err(|e| e.reason)
                }
                Err(e) => Err(format!("{e:#}")),
            };
            Tried {
                channel: channel.id.clone(),
                result,
            }
        }
    });
    Ok(futures_util::future::join_all(tries).await)
}

/// Why a send failed, in a few words, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub reason: String,
    /// True when the receiver refused for good (SMTP 5xx, an address it cannot take): the
    /// delivery fails at once instead of being retried for 24 hours.
    pub permanent: bool,
}

impl SendError {
    pub fn permanent(reason: String) -> Self {
        Self {
            reason,
            permanent: true,
        }
    }
}

/// Anything not known to be final is worth another try.
impl From<String> for SendError {
    fn from(reason: String) -> Self {
        Self {
            reason,
            permanent: false,
        }
    }
}

/// A failed request in a few words, without its URL.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("timed out after {}s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else if error.is_redirect() {
        "too many redirects".to_string()
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read".to_string()
    } else {
        "the request failed".to_string()
    }
}
