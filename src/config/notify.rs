//! The notification settings (SPEC §7): `[smtp]`, every `[[notify]]` channel and
//! `[subscribers]`, parsed and checked. Secrets never appear in `Debug` output or logs.

use std::fmt;

use url::Url;

use crate::domain::monitor::MonitorId;
use crate::domain::notification::EventKind;
pub use crate::domain::smtp::SmtpTls;

/// A secret value (a password, a signing secret, an access token): never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// Everything about telling people.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    pub smtp: Option<SmtpConfig>,
    pub channels: Vec<ChannelSpec>,
    /// `[subscribers] email = true`: clients may sign up for e-mail updates.
    pub subscribers: bool,
    /// `[subscribers] min_interval`: at most one mail per incident this often to each
    /// recipient; automatic updates between are gathered into the next (zero: no pacing).
    pub min_interval: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    /// From `SIGNALFIRE_SMTP_PASSWORD`.
    pub password: Option<Secret>,
    /// The sender, e.g. `Social Photo Talk status <status@example.com>`.
    pub from: String,
}

/// One `[[notify]]` channel the owner configured.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    /// `[a-z0-9-]+`, unique.
    pub id: String,
    pub kind: ChannelKind,
    /// The events it hears (all by default; mastodon: incident and maintenance only).
    pub events: Vec<EventKind>,
    /// Only these monitors' events, when set.
    pub components: Option<Vec<MonitorId>>,
}

impl ChannelSpec {
    /// Who hears what, for `check-config`: `incident, maintenance; only blog, shop`.
    pub fn summary(&self) -> String {
        let events: Vec<&str> = self.events.iter().map(|e| e.as_str()).collect();
        let about = match &self.components {
            None => "every monitor".to_string(),
            Some(only) => {
                let ids: Vec<&str> = only.iter().map(MonitorId::as_str).collect();
                format!("only {}", ids.join(", "))
            }
        };
        format!("{}; {about}", events.join(", "))
    }

    /// True when this channel hears an event of `kind` about `components` (monitor ids; an
    /// event about no component in particular is heard by every channel of its kind).
    /// A public channel (mastodon) never hears what is for the owner alone — monitor alerts,
    /// reminders — whatever its `events` say.
    pub fn hears(&self, kind: EventKind, components: &[String]) -> bool {
        if !self.events.contains(&kind) || (self.kind.is_public() && !kind.for_subscribers()) {
            return false;
        }
        match &self.components {
            None => true,
            Some(only) => {
                components.is_empty()
                    || components
                        .iter()
                        .any(|c| only.iter().any(|o| o.as_str() == c))
            }
        }
    }
}

#[derive(Clone)]
pub enum ChannelKind {
    Email { to: Vec<String> },
    Webhook { url: Url, secret: Option<Secret> },
    Slack { url: Url },
    Discord { url: Url },
    Ntfy { url: Url, token: Option<Secret> },
    Mastodon { url: Url, token: Secret },
}

/// Shows the kind and where it goes, never a URL's path (Slack's and Discord's hold secrets).
impl fmt::Debug for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.destination())
    }
}

/// The kinds of channel and their names in the config, each listed once: the enum, its
/// list and its names are made from this one table, so parsing a `kind` is exhaustive.
macro_rules! channel_types {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// What `kind = "…"` of a `[[notify]]` names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ChannelType {
            $($variant),+
        }

        impl ChannelType {
            /// Every kind, in the order the config documents them.
            pub const ALL: &'static [ChannelType] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }
    };
}

channel_types! {
    Email => "email",
    Webhook => "webhook",
    Slack => "slack",
    Discord => "discord",
    Ntfy => "ntfy",
    Mastodon => "mastodon",
}

impl ChannelType {
    /// `"email", "webhook", …`: for messages that list the known kinds.
    pub fn known() -> String {
        let quoted: Vec<String> = Self::ALL
            .iter()
            .map(|k| format!("\"{}\"", k.as_str()))
            .collect();
        quoted.join(", ")
    }
}

impl std::str::FromStr for ChannelType {
    type Err = String;

    /// An unknown kind is an error listing the known ones.
    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| format!("kind \"{name}\" is not known; use one of {}", Self::known()))
    }
}

impl ChannelKind {
    pub fn channel_type(&self) -> ChannelType {
        match self {
            Self::Email { .. } => ChannelType::Email,
            Self::Webhook { .. } => ChannelType::Webhook,
            Self::Slack { .. } => ChannelType::Slack,
            Self::Discord { .. } => ChannelType::Discord,
            Self::Ntfy { .. } => ChannelType::Ntfy,
            Self::Mastodon { .. } => ChannelType::Mastodon,
        }
    }

    pub fn name(&self) -> &'static str {
        self.channel_type().as_str()
    }

    /// True for a channel anyone can read (a mastodon account posts in public).
    pub fn is_public(&self) -> bool {
        matches!(self, Self::Mastodon { .. })
    }

    /// Where it goes, safe to show the owner: the host of a URL (the path may hold a secret, as
    /// Slack's and Discord's do), the addresses of an e-mail channel.
    pub fn destination(&self) -> String {
        match self {
            Self::Email { to } => to.join(", "),
            Self::Webhook { url, .. }
            | Self::Slack { url }
            | Self::Discord { url }
            | Self::Ntfy { url, .. }
            | Self::Mastodon { url, .. } => url.host_str().unwrap_or("?").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_kind_name_parses_to_itself_and_no_other_does() {
        for kind in ChannelType::ALL {
            assert_eq!(kind.as_str().parse::<ChannelType>(), Ok(*kind));
        }
        assert_eq!(ChannelType::ALL.len(), 6);
        let names: std::collections::HashSet<&str> =
            ChannelType::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ChannelType::ALL.len(), "each name once");
        assert_eq!(
            "pigeon".parse::<ChannelType>(),
            Err("kind \"pigeon\" is not known; use one of \"email\", \"webhook\", \"slack\", \"discord\", \"ntfy\", \"mastodon\"".to_string())
        );
        let url = Url::parse("https://example.net/x").expect("url");
        let built = [
            ChannelKind::Email { to: Vec::new() },
            ChannelKind::Webhook {
                url: url.clone(),
                secret: None,
            },
            ChannelKind::Slack { url: url.clone() },
            ChannelKind::Discord { url: url.clone() },
            ChannelKind::Ntfy {
                url: url.clone(),
                token: None,
            },
            ChannelKind::Mastodon {
                url,
                token: Secret::new("t".to_string()),
            },
        ];
        for kind in built {
            assert_eq!(kind.name().parse::<ChannelType>(), Ok(kind.channel_type()));
        }
    }

    #[test]
    fn debug_output_shows_no_secret_url_or_token() {
        let kind = ChannelKind::Slack {
            url: Url::parse("https://hooks.slack.com/services/T000/B000/XXXXSECRET").expect("url"),
        };
        assert_eq!(format!("{kind:?}"), "slack(hooks.slack.com)");
        let token = Secret::new("abc123".to_string());
        assert_eq!(format!("{token:?}"), "<secret>");
    }

    #[test]
    fn a_public_channel_never_hears_what_is_for_the_owner_alone() {
        let url = Url::parse("https://photog.social").expect("url");
        let mut channel = ChannelSpec {
            id: "toot".to_string(),
            kind: ChannelKind::Mastodon {
                url: url.clone(),
                token: Secret::new("t".to_string()),
            },
            events: EventKind::ALL.to_vec(),
            components: None,
        };
        let heard = |c: &ChannelSpec| -> Vec<EventKind> {
            EventKind::ALL
                .into_iter()
                .filter(|k| c.hears(*k, &[]))
                .collect()
        };
        assert_eq!(
            heard(&channel),
            vec![EventKind::Incident, EventKind::Maintenance]
        );
        channel.kind = ChannelKind::Webhook { url, secret: None };
        assert_eq!(heard(&channel), EventKind::ALL.to_vec());
    }
}
