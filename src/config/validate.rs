//! Raw config → typed [`Config`], collecting every problem with its position.

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use url::Url;

use super::raw::{self, RawConfig};
use super::{
    AdminConfig, Config, ConfigErrors, ConnectivityConfig, ENV_ADMIN_PASSWORD_HASH,
    ENV_ADMIN_TOKEN, PageConfig, RetentionConfig, ServerConfig,
};
use crate::keys::{
    Collector, at_least, config_dir, did_you_mean, duration, number, sha256_hex, text, type_error,
};

mod heartbeat;
mod incidents;
mod monitor;
pub mod notify;
mod reminders;

/// Parses and checks config text, reporting every problem found.
pub fn parse(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let mut c = Collector::new(text);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            c.at(
                e.span(),
                format!("{} (this is not valid TOML)", e.message().trim()),
            );
            return Err(fail(c, path));
        }
    };
    let mut ignored: Vec<Vec<Segment>> = Vec::new();
    let deserializer = toml::Deserializer::from(root.clone());
    let parsed: Result<RawConfig, _> =
        serde_ignored::deserialize(deserializer, |p| ignored.push(segments(&p)));
    for key_path in &ignored {
        // A monitor's keys depend on its kind: `monitor` checks them itself.
        if matches!(key_path.first(), Some(Segment::Key(k)) if k == "monitor") {
            continue;
        }
        report_unknown_key(&mut c, root.get_ref(), key_path);
    }
    let raw = match parsed {
        Ok(raw) => raw,
        Err(e) => {
            let fix = type_error(root.get_ref(), e.span(), e.message().trim());
            c.at(e.span(), fix);
            return Err(fail(c, path));
        }
    };
    let config = build(&mut c, raw, root.get_ref(), path, env);
    c.finish(path)?;
    Ok(config)
}

fn fail(c: Collector<'_>, path: &Path) -> ConfigErrors {
    match c.finish(path) {
        Err(errors) => errors,
        Ok(()) => ConfigErrors::single(path, "invalid config"),
    }
}

fn build(
    c: &mut Collector<'_>,
    raw: RawConfig,
    root: &DeTable<'_>,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Config {
    let server = server(c, &raw.server, path);
    let mut page = page(c, &raw.page);
    let admin = admin(c, &raw.admin, env);
    let raw_checks = duration(c, &raw.retention.raw_checks, "raw_checks", "7d");
    let raw_checks = at_least(
        c,
        &raw.retention.raw_checks,
        raw_checks,
        Duration::from_secs(3_600),
        "raw_checks",
        "1h",
    );
    // Beyond ten years the cut-off date would leave chrono's range; nobody means that.
    let longest = Duration::from_secs(3_650 * 86_400);
    if raw_checks > longest {
        c.at(
            raw.retention.raw_checks.as_ref().map(Spanned::span),
            "raw_checks must be at most 3650d",
        );
    }
    let raw_checks = raw_checks.min(longest);
    let mut monitors = monitor::monitors(c, &raw.monitors, root, config_dir(path), page.timezone);
    let incidents = incidents::parse(c, &raw.incidents);
    for m in &mut monitors {
        m.reopen_within = incidents.reopen_within;
    }
    let ids: Vec<_> = monitors.iter().map(|m| m.id.clone()).collect();
    let notify = notify::parse(
        c,
        raw.smtp.as_ref(),
        &raw.channels,
        &raw.subscribers,
        &ids,
        env,
    );
    if notify.subscribers {
        let base = server.base_url.as_str().trim_end_matches('/');
        page.subscribe_url = Some(format!("{base}/subscribe"));
    }
    let connectivity = raw.connectivity.check.as_ref().and_then(|check| {
        let parsed = check
            .get_ref()
            .strip_prefix("tcp://")
            .and_then(|rest| rest.rsplit_once(':'))
            .and_then(|(host, port)| {
                Some((
                    host.trim_matches(['[', ']']).to_string(),
                    port.parse::<u16>().ok()?,
                ))
            })
            .filter(|(host, port)| !host.is_empty() && *port > 0);
        if parsed.is_none() {
            c.at(Some(check.span()), format!(
                "check \"{}\" is not a tcp://host:port address; write e.g. \"tcp://9.9.9.9:53\"",
                check.get_ref()
            ));
        }
        parsed.map(|(host, port)| ConnectivityConfig { host, port })
    });
    Config {
        path: path.to_path_buf(),
        server,
        page,
        admin,
        retention: RetentionConfig { raw_checks },
        connectivity,
        publish: raw
            .publish
            .dir
            .as_ref()
            .map(|d| config_dir(path).join(d.get_ref())),
        monitors,
        notify,
        websub_hubs: web_urls(c, &raw.feeds.websub_hubs, "websub_hubs"),
        reminders: reminders::parse(c, &raw.reminders),
        incidents,
    }
}

/// A list of absolute http(s) URLs (`websub_hubs`).
fn web_urls(c: &mut Collector<'_>, raw: &raw::TextList, key: &str) -> Vec<Url> {
    let Some(list) = raw else {
        return Vec::new();
    };
    list.get_ref()
        .iter()
        .filter_map(|item| match Url::parse(item.get_ref().trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                c.at(
                    Some(item.span()),
                    format!(
                        "{key}: \"{}\" is not an absolute http(s) URL; write e.g. \"https://hub.example.net/\"",
                        item.get_ref()
                    ),
                );
                None
            }
        })
        .collect()
}

/// `embed_origins`: where `/embed` may be framed, as origins (`https://shop.example`).
fn origins(c: &mut Collector<'_>, raw: &raw::TextList) -> Vec<String> {
    let Some(list) = raw else {
        return Vec::new();
    };
    list.get_ref()
        .iter()
        .filter_map(|item| {
            let text = item.get_ref().trim();
            match Url::parse(text) {
                Ok(url)
                    if matches!(url.scheme(), "http" | "https")
                        && url.host().is_some()
                        && url.path() == "/"
                        && url.query().is_none() =>
                {
                    Some(url.origin().ascii_serialization())
                }
                _ => {
                    c.at(
                        Some(item.span()),
                        format!(
                            "embed_origins: \"{text}\" is not an origin; write scheme and host only, e.g. \"https://shop.example.com\""
                        ),
                    );
                    None
                }
            }
        })
        .collect()
}

fn server(c: &mut Collector<'_>, raw: &raw::RawServer, path: &Path) -> ServerConfig {
    let default_listen = SocketAddr::from(([127, 0, 0, 1], 8080));
    let listen = match &raw.listen {
        None => default_listen,
        Some(l) => l.get_ref().parse().unwrap_or_else(|_| {
            c.at(Some(l.span()), format!(
                "listen \"{}\" is not an address and port; write e.g. \"127.0.0.1:8080\" or \"0.0.0.0:8080\"",
                l.get_ref()
            ));
            default_listen
        }),
    };
    let default_base = {
        let host = if listen.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            listen.ip().to_string()
        };
        let host = if listen.is_ipv6() && !listen.ip().is_unspecified() {
            format!("[{host}]")
        } else {
            host
        };
        Url::parse(&format!("http://{host}:{}/", listen.port())).unwrap_or_else(|_| fallback_url())
    };
    let base_url = match &raw.base_url {
        None => default_base,
        Some(b) => match Url::parse(b.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                c.at(Some(b.span()), format!(
                    "base_url \"{}\" is not an absolute http(s) URL; write the address readers use, e.g. \"https://status.example.com\"",
                    b.get_ref()
                ));
                default_base
            }
        },
    };
    let data_dir = raw
        .data_dir
        .as_ref()
        .map_or("data", |d| d.get_ref().as_str());
    let max_concurrent_checks = number(
        c,
        &raw.max_concurrent_checks,
        "max_concurrent_checks",
        64,
        1..=10_000,
    );
    let max_connections = raw.max_connections.as_ref().map(|_| {
        number(
            c,
            &raw.max_connections,
            "max_connections",
            1_024,
            16..=1_000_000,
        ) as usize
    });
    let max_connections_per_client = number(
        c,
        &raw.max_connections_per_client,
        "max_connections_per_client",
        64,
        2..=1_000_000,
    ) as usize;
    ServerConfig {
        listen,
        base_url,
        data_dir: config_dir(path).join(data_dir),
        max_concurrent_checks: max_concurrent_checks as usize,
        trusted_proxies: trusted_proxies(c, &raw.trusted_proxies),
        max_connections,
        max_connections_per_client,
    }
}

/// `trusted_proxies`: addresses or networks (`"127.0.0.1"`, `"10.0.0.0/8"`, `"::1/128"`).
fn trusted_proxies(c: &mut Collector<'_>, raw: &raw::TextList) -> Vec<IpNet> {
    let Some(list) = raw else {
        return Vec::new();
    };
    let mut networks = Vec::new();
    for item in list.get_ref() {
        let text = item.get_ref().trim();
        let parsed = text
            .parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from));
        match parsed {
            Ok(network) => networks.push(network.trunc()),
            Err(_) => c.at(
                Some(item.span()),
                format!(
                    "trusted_proxies: \"{text}\" is not an address or a network; write e.g. \"127.0.0.1\" or \"10.0.0.0/8\""
                ),
            ),
        }
    }
    networks
}

fn fallback_url() -> Url {
    Url::parse("http://127.0.0.1:8080/").expect("a constant URL parses")
}

fn page(c: &mut Collector<'_>, raw: &raw::RawPage) -> PageConfig {
    let timezone = match &raw.timezone {
        None => chrono_tz::UTC,
        Some(tz) => tz.get_ref().parse().unwrap_or_else(|_| {
            c.at(Some(tz.span()), format!(
                "timezone \"{}\" is not an IANA time zone name; write e.g. \"Europe/Berlin\" or \"UTC\"",
                tz.get_ref()
            ));
            chrono_tz::UTC
        }),
    };
    PageConfig {
        title: text(&raw.title).unwrap_or_else(|| "Status".to_string()),
        description: text(&raw.description).unwrap_or_default(),
        timezone,
        history_days: number(c, &raw.history_days, "history_days", 90, 1..=365) as u32,
        subscribe_url: None,
        embed_origins: origins(c, &raw.embed_origins),
    }
}

/// An admin token shorter than this is refused.
const MIN_TOKEN_CHARS: usize = 24;

fn admin(
    c: &mut Collector<'_>,
    raw: &raw::RawAdmin,
    env: &dyn Fn(&str) -> Option<String>,
) -> AdminConfig {
    let from_env = env(ENV_ADMIN_TOKEN).filter(|t| !t.is_empty());
    let n = from_env.as_ref().map_or(0, |t| t.trim().chars().count());
    if from_env.is_some() && n < MIN_TOKEN_CHARS {
        c.at(
            None,
            format!(
                "{ENV_ADMIN_TOKEN} has only {n} character{}, too easy to guess; use at least {MIN_TOKEN_CHARS} random characters, e.g. from: openssl rand -hex 32",
                if n == 1 { "" } else { "s" }
            ),
        );
    }
    let token_sha256 = match (from_env, &raw.token_sha256) {
        (Some(token), _) => Some(Sha256::digest(token.as_bytes()).into()),
        (None, Some(hash)) => sha256_hex(c, hash, "token_sha256"),
        (None, None) => None,
    };
    // The hash in effect is checked: the environment's overrides the file's.
    let (password_hash, origin, span) = match env(ENV_ADMIN_PASSWORD_HASH).filter(|h| !h.is_empty())
    {
        Some(hash) => (Some(hash), ENV_ADMIN_PASSWORD_HASH, None),
        None => (
            text(&raw.password_hash),
            "password_hash",
            raw.password_hash.as_ref().map(Spanned::span),
        ),
    };
    if let Some(hash) = &password_hash {
        if !hash.starts_with("$argon2id$") {
            c.at(span, format!("{origin} must be an argon2id PHC string; make one with: signalfire hash-password"));
        } else if let Some(problem) = crate::auth::password_hash_problem(hash) {
            c.at(span, format!("{origin} cannot be used: {problem}; make a new one with: signalfire hash-password"));
        }
    }
    AdminConfig {
        username: text(&raw.username).unwrap_or_else(|| "admin".to_string()),
        token_sha256,
        password_hash,
    }
}

// ---- unknown keys ----

#[derive(Debug, Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    use serde_ignored::Path as P;
    let mut out = match path {
        P::Root => return Vec::new(),
        P::Seq { parent, .. } | P::Map { parent, .. } => segments(parent),
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            return segments(parent);
        }
    };
    match path {
        P::Seq { index, .. } => out.push(Segment::Index(*index)),
        // Spanned<T> shows up as a private wrapper field; it is not a key in the file.
        P::Map { key, .. } if key.starts_with("$__") => {}
        P::Map { key, .. } => out.push(Segment::Key(key.clone())),
        _ => {}
    }
    out
}

fn report_unknown_key(c: &mut Collector<'_>, root: &DeTable<'_>, path: &[Segment]) {
    let mut table = root;
    let mut section = String::new();
    let mut span: Option<Range<usize>> = None;
    let mut name = String::new();
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match seg {
            Segment::Key(key) => {
                let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == key) else {
                    break;
                };
                if last {
                    span = Some(k.span());
                    name = key.clone();
                    break;
                }
                section = key.clone();
                match v.get_ref() {
                    DeValue::Table(t) => table = t,
                    DeValue::Array(a) => match path.get(i + 1) {
                        Some(Segment::Index(n)) => match a.get(*n).map(|x| x.get_ref()) {
                            Some(DeValue::Table(t)) => table = t,
                            _ => break,
                        },
                        _ => break,
                    },
                    _ => break,
                }
            }
            Segment::Index(_) => {}
        }
    }
    let place = if section.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in [{section}]")
    };
    let hint = did_you_mean(&name, raw::known_keys(&section));
    c.at(span, format!("unknown key \"{name}\" {place}; {hint}"));
}
