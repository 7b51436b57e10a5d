//! `[smtp]`, `[[notify]]` and `[subscribers]` → [`NotifyConfig`], every mistake reported at
//! its key. Secrets and URLs may come from the environment instead of the file:
//! `SIGNALFIRE_SMTP_PASSWORD`, `SIGNALFIRE_NOTIFY_<ID>_URL`, `_SECRET` and `_TOKEN`.

use std::collections::HashSet;
use std::ops::Range;

use toml::Spanned;
use url::Url;

use super::super::notify::{
    ChannelKind, ChannelSpec, ChannelType, NotifyConfig, Secret, SmtpConfig, SmtpTls,
};
use super::super::raw::{RawNotify, RawSmtp, RawSubscribers, TextList};
use crate::domain::monitor::MonitorId;
use crate::domain::notification::EventKind;
use crate::keys::{Collector, optional_duration, text};

/// The environment variable holding the SMTP password.
pub const ENV_SMTP_PASSWORD: &str = "SIGNALFIRE_SMTP_PASSWORD";

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `SIGNALFIRE_NOTIFY_<ID>_<WHAT>`: the id upper-cased, `-` as `_`.
pub fn env_name(id: &str, what: &str) -> String {
    format!(
        "SIGNALFIRE_NOTIFY_{}_{what}",
        id.to_ascii_uppercase().replace('-', "_")
    )
}

pub fn parse(
    c: &mut Collector<'_>,
    smtp: Option<&Spanned<RawSmtp>>,
    channels: &[Spanned<RawNotify>],
    subscribers: &RawSubscribers,
    monitors: &[MonitorId],
    env: Env<'_>,
) -> NotifyConfig {
    let smtp = smtp.and_then(|s| parse_smtp(c, s, env));
    let mut seen = HashSet::new();
    let channels = channels
        .iter()
        .filter_map(|raw| {
            let channel = channel(c, raw, smtp.is_some(), monitors, env)?;
            if !seen.insert(channel.id.clone()) {
                let span = raw.get_ref().id.as_ref().map(Spanned::span);
                c.at(
                    span,
                    format!(
                        "duplicate channel id \"{}\"; give every [[notify]] its own id",
                        channel.id
                    ),
                );
                return None;
            }
            Some(channel)
        })
        .collect();
    let wants_subscribers = subscribers.email.as_ref().is_some_and(|e| *e.get_ref());
    if wants_subscribers && smtp.is_none() {
        c.at(
            subscribers.email.as_ref().map(Spanned::span),
            "subscribers get e-mail: add an [smtp] section (host, port, tls, from)",
        );
    }
    let min_interval = optional_duration(c, &subscribers.min_interval, "min_interval")
        .unwrap_or(crate::config::DEFAULT_MIN_INTERVAL);
    if min_interval > LONGEST_INTERVAL {
        c.at(
            subscribers.min_interval.as_ref().map(Spanned::span),
            "min_interval must be at most 1d; write e.g. \"10m\", or \"0s\" to send every update at once",
        );
    }
    NotifyConfig {
        subscribers: wants_subscribers && smtp.is_some(),
        min_interval: min_interval.min(LONGEST_INTERVAL),
        smtp,
        channels,
    }
}

/// Mails paced more than a day apart would hide an incident's story.
const LONGEST_INTERVAL: std::time::Duration = std::time::Duration::from_secs(86_400);

/// True for addresses of this machine: the only place plain SMTP may go.
fn is_local(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]")
}

fn parse_smtp(c: &mut Collector<'_>, raw: &Spanned<RawSmtp>, env: Env<'_>) -> Option<SmtpConfig> {
    let s = raw.get_ref();
    let host = text(&s.host).filter(|h| !h.trim().is_empty());
    if host.is_none() {
        c.at(Some(raw.span()), "[smtp] needs host = \"smtp.example.net\"");
    }
    let tls = match &s.tls {
        None => Some(SmtpTls::StartTls),
        Some(t) => SmtpTls::parse(t.get_ref())
            .map_err(|e| c.at(Some(t.span()), e))
            .ok(),
    };
    if let (Some(SmtpTls::None), Some(h)) = (tls, &host)
        && !is_local(h)
    {
        let span = s.tls.as_ref().map(Spanned::span);
        c.at(span, format!(
            "tls = \"none\" sends mail and passwords in the clear: only allowed to 127.0.0.1, not to {h}; use \"starttls\" or \"implicit\""
        ));
    }
    let port = match &s.port {
        None => tls.map(SmtpTls::default_port),
        Some(p) => u16::try_from(*p.get_ref())
            .ok()
            .filter(|p| *p > 0)
            .or_else(|| {
                c.at(
                    Some(p.span()),
                    format!("port {} is not a port number from 1 to 65535", p.get_ref()),
                );
                None
            }),
    };
    let from =
        match &s.from {
            None => {
                c.at(
                    Some(raw.span()),
                    "[smtp] needs from = \"Status <status@example.com>\"",
                );
                None
            }
            Some(f) => match f.get_ref().parse::<lettre::message::Mailbox>() {
                Ok(_) => Some(f.get_ref().clone()),
                Err(_) => {
                    c.at(Some(f.span()), format!(
                    "from \"{}\" is not an address; write e.g. \"Status <status@example.com>\"",
                    f.get_ref()
                ));
                    None
                }
            },
        };
    Some(SmtpConfig {
        host: host?,
        port: port?,
        tls: tls?,
        username: text(&s.username).filter(|u| !u.is_empty()),
        password: env(ENV_SMTP_PASSWORD)
            .filter(|p| !p.is_empty())
            .map(Secret::new),
        from: from?,
    })
}

fn channel(
    c: &mut Collector<'_>,
    raw: &Spanned<RawNotify>,
    have_smtp: bool,
    monitors: &[MonitorId],
    env: Env<'_>,
) -> Option<ChannelSpec> {
    let n = raw.get_ref();
    let id = match &n.id {
        None => {
            c.at(
                Some(raw.span()),
                "this [[notify]] has no id; add e.g. id = \"owner-mail\" (a-z, 0-9 and -)",
            );
            None
        }
        Some(id) => MonitorId::parse(id.get_ref())
            .map(|valid| valid.to_string())
            .map_err(|e| c.at(Some(id.span()), e))
            .ok(),
    };
    let kind_span = n.kind.as_ref().map(Spanned::span);
    let kind_name = match &n.kind {
        None => {
            c.at(
                Some(raw.span()),
                format!(
                    "this [[notify]] has no kind; use one of {}",
                    ChannelType::known()
                ),
            );
            None
        }
        Some(k) => k
            .get_ref()
            .parse::<ChannelType>()
            .map_err(|e| c.at(Some(k.span()), e))
            .ok(),
    };
    // Every key is checked, even when another is wrong: all problems at once.
    let mastodon = kind_name == Some(ChannelType::Mastodon);
    let events = events(c, &n.events, mastodon);
    let components = components(c, &n.components, monitors);
    let id = id?;
    let kind_name = kind_name?;
    let from_env = |what: &str| env(&env_name(&id, what)).filter(|v| !v.is_empty());
    let url = if kind_name == ChannelType::Email {
        None
    } else {
        url(c, n, raw.span(), kind_name.as_str(), from_env("URL"))
    };
    let kind = match kind_name {
        ChannelType::Email => {
            if !have_smtp {
                c.at(kind_span.clone(), "an email channel sends through [smtp]: add an [smtp] section (host, port, tls, from)");
            }
            let to = addresses(c, &n.to, raw.span());
            ChannelKind::Email { to: to? }
        }
        ChannelType::Webhook => {
            let secret = webhook_secret(c, &n.secret, from_env("SECRET"), &id, raw.span());
            ChannelKind::Webhook {
                url: url?,
                secret: secret?,
            }
        }
        ChannelType::Slack => ChannelKind::Slack { url: url? },
        ChannelType::Discord => ChannelKind::Discord { url: url? },
        ChannelType::Ntfy => ChannelKind::Ntfy {
            url: url?,
            token: from_env("TOKEN").map(Secret::new),
        },
        ChannelType::Mastodon => {
            let token = from_env("TOKEN").map(Secret::new);
            if token.is_none() {
                c.at(
                    kind_span.clone(),
                    format!(
                        "a mastodon channel needs its access token in the environment: {}",
                        env_name(&id, "TOKEN")
                    ),
                );
            }
            ChannelKind::Mastodon {
                url: url?,
                token: token?,
            }
        }
    };
    Some(ChannelSpec {
        id,
        kind,
        events: events?,
        components: components?,
    })
}

/// Standard Webhooks signing secrets: this prefix, then the key in base64.
const WEBHOOK_SECRET_PREFIX: &str = "whsec_";
/// The key lengths Standard Webhooks recommends (24 to 64 bytes).
const WEBHOOK_KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// A webhook's signing secret, from the environment or the file: `whsec_` + base64 of a
/// 24-64 byte key, as Standard Webhooks receivers expect. `Some(None)` when there is none;
/// `None` when it is refused (the value is never repeated: it is a secret).
fn webhook_secret(
    c: &mut Collector<'_>,
    in_file: &super::super::raw::Text,
    from_env: Option<String>,
    id: &str,
    table: Range<usize>,
) -> Option<Option<Secret>> {
    use base64::Engine;
    let (value, origin, span) = match (from_env, in_file) {
        (Some(v), _) => (v, env_name(id, "SECRET"), table),
        (None, Some(s)) => (s.get_ref().clone(), "secret".to_string(), s.span()),
        (None, None) => return Some(None),
    };
    let key = value
        .strip_prefix(WEBHOOK_SECRET_PREFIX)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    match key {
        Some(key) if WEBHOOK_KEY_BYTES.contains(&key.len()) => Some(Some(Secret::new(value))),
        _ => {
            c.at(Some(span), format!(
                "{origin} is not a Standard Webhooks secret: write \"whsec_\" followed by the base64 of 24 to 64 random bytes; make one with: echo \"whsec_$(openssl rand -base64 32)\""
            ));
            None
        }
    }
}

/// The channel's URL: from the environment, else the file; absolute http(s).
fn url(
    c: &mut Collector<'_>,
    n: &RawNotify,
    table: Range<usize>,
    kind: &str,
    from_env: Option<String>,
) -> Option<Url> {
    let (value, span) = match (from_env, &n.url) {
        (Some(v), _) => (v, None),
        (None, Some(u)) => (u.get_ref().clone(), Some(u.span())),
        (None, None) => {
            c.at(Some(table), format!(
                "a {kind} channel needs url = \"https://…\" (or the environment variable SIGNALFIRE_NOTIFY_<ID>_URL)"
            ));
            return None;
        }
    };
    match Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        _ => {
            // The value may be a secret from the environment: it is not repeated.
            let shown = if span.is_some() {
                format!(" \"{value}\"")
            } else {
                String::new()
            };
            c.at(
                span.or(Some(table)),
                format!("url{shown} is not an absolute http:// or https:// URL"),
            );
            None
        }
    }
}

fn addresses(c: &mut Collector<'_>, to: &TextList, table: Range<usize>) -> Option<Vec<String>> {
    let Some(list) = to.as_ref().filter(|l| !l.get_ref().is_empty()) else {
        c.at(
            to.as_ref().map(Spanned::span).or(Some(table)),
            "an email channel needs to = [\"owner@example.com\"]",
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in list.get_ref() {
        match item.get_ref().parse::<lettre::Address>() {
            Ok(_) => out.push(item.get_ref().clone()),
            Err(_) => {
                ok = false;
                c.at(
                    Some(item.span()),
                    format!("to: \"{}\" is not an e-mail address", item.get_ref()),
                );
            }
        }
    }
    ok.then_some(out)
}

fn events(c: &mut Collector<'_>, events: &TextList, mastodon: bool) -> Option<Vec<EventKind>> {
    let public = [EventKind::Incident, EventKind::Maintenance];
    let Some(list) = events else {
        return Some(if mastodon {
            public.to_vec()
        } else {
            EventKind::ALL.to_vec()
        });
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in list.get_ref() {
        match EventKind::parse(item.get_ref()) {
            Some(kind) if mastodon && !public.contains(&kind) => {
                ok = false;
                c.at(Some(item.span()), format!(
                    "events: a mastodon channel posts in public, so only \"incident\" and \"maintenance\", not \"{}\"",
                    item.get_ref()
                ));
            }
            Some(kind) => out.push(kind),
            None => {
                ok = false;
                c.at(Some(item.span()), format!(
                    "events: \"{}\" is not an event; use \"monitor\", \"incident\", \"maintenance\" or \"reminder\"",
                    item.get_ref()
                ));
            }
        }
    }
    ok.then_some(out)
}

fn components(
    c: &mut Collector<'_>,
    components: &TextList,
    monitors: &[MonitorId],
) -> Option<Option<Vec<MonitorId>>> {
    let Some(list) = components else {
        return Some(None);
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in list.get_ref() {
        match monitors.iter().find(|m| m.as_str() == item.get_ref()) {
            Some(m) => out.push(m.clone()),
            None => {
                ok = false;
                let known: Vec<&str> = monitors.iter().map(MonitorId::as_str).collect();
                c.at(
                    Some(item.span()),
                    format!(
                        "components: \"{}\" is not a monitor id; known monitors: {}",
                        item.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
    }
    ok.then_some(Some(out))
}
