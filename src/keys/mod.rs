//! Reading TOML keys with their positions, collecting every problem as `file:line:column`.
//! Shared by the config sections and the check kinds, each of which reads its own keys
//! (`probe::http`, `probe::tcp`, …) — so this sits below both and knows neither.

mod errors;
mod fixes;

use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeTable;

pub use errors::{Collector, ConfigError, ConfigErrors, line_column};
pub use fixes::{DURATION_KEYS, LIST_KEYS, type_error};

use crate::domain::duration::parse_duration;

pub type Text = Option<Spanned<String>>;
pub type Number = Option<Spanned<i64>>;

/// One `[[monitor]]` table as written, for a check kind to read its own keys from.
pub struct MonitorTable<'a> {
    table: Spanned<DeTable<'a>>,
    /// The config file's folder: relative paths in the table start here.
    dir: &'a Path,
}

impl<'a> MonitorTable<'a> {
    pub fn new(table: Spanned<DeTable<'a>>, dir: &'a Path) -> Self {
        Self { table, dir }
    }

    /// The table as written: its keys with their positions.
    pub fn table(&self) -> &DeTable<'a> {
        self.table.get_ref()
    }

    /// Where the table is, for problems with the table as a whole (a missing key).
    pub fn span(&self) -> Range<usize> {
        self.table.span()
    }

    /// The keys a kind takes, as its own struct of `Option<Spanned<…>>` fields; keys it does
    /// not name are left to the other kinds. A value of the wrong type is reported.
    pub fn keys<T: DeserializeOwned>(&self, c: &mut Collector<'_>) -> Option<T> {
        let de = toml::Deserializer::from(self.table.clone());
        match T::deserialize(de) {
            Ok(keys) => Some(keys),
            Err(e) => {
                let fix = type_error(self.table.get_ref(), e.span(), e.message().trim());
                c.at(e.span(), fix);
                None
            }
        }
    }

    /// A path from the table, relative to the config file's folder.
    pub fn path(&self, value: &str) -> PathBuf {
        self.dir.join(value)
    }
}

/// The folder of a config file: relative paths in it (data_dir, publish dir, CA files) start
/// here, whatever the working directory.
pub fn config_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A required key: reports `what` at the table when it is missing.
pub fn required<'v, T>(
    c: &mut Collector<'_>,
    table: Range<usize>,
    value: &'v Option<Spanned<T>>,
    what: &str,
) -> Option<&'v Spanned<T>> {
    if value.is_none() {
        c.at(Some(table), what.to_string());
    }
    value.as_ref()
}

pub fn text(value: &Text) -> Option<String> {
    value.as_ref().map(|v| v.get_ref().clone())
}

/// A duration key, or its default; reports a bad one and returns the default.
pub fn duration(c: &mut Collector<'_>, value: &Text, key: &str, default: &str) -> Duration {
    let fallback = parse_duration(default).unwrap_or_default();
    match value {
        None => fallback,
        Some(v) => parse_duration(v.get_ref()).unwrap_or_else(|e| {
            c.at(Some(v.span()), format!("{key}: {e}"));
            fallback
        }),
    }
}

pub fn optional_duration(c: &mut Collector<'_>, value: &Text, key: &str) -> Option<Duration> {
    let v = value.as_ref()?;
    match parse_duration(v.get_ref()) {
        Ok(d) => Some(d),
        Err(e) => {
            c.at(Some(v.span()), format!("{key}: {e}"));
            None
        }
    }
}

pub fn at_least(
    c: &mut Collector<'_>,
    value: &Text,
    got: Duration,
    min: Duration,
    key: &str,
    min_text: &str,
) -> Duration {
    if got < min {
        c.at(
            value.as_ref().map(Spanned::span),
            format!("{key} must be at least {min_text}"),
        );
        return min;
    }
    got
}

pub fn number(
    c: &mut Collector<'_>,
    value: &Number,
    key: &str,
    default: i64,
    range: RangeInclusive<i64>,
) -> i64 {
    match value {
        None => default,
        Some(v) if range.contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            c.at(
                Some(v.span()),
                format!(
                    "{key} = {} is out of range; use a whole number from {} to {}",
                    v.get_ref(),
                    range.start(),
                    range.end()
                ),
            );
            default
        }
    }
}

/// 32 bytes from 64 hex digits (a SHA-256 in the config); reports anything else.
pub fn sha256_hex(c: &mut Collector<'_>, value: &Spanned<String>, key: &str) -> Option<[u8; 32]> {
    let decoded = hex::decode(value.get_ref())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok());
    if decoded.is_none() {
        c.at(
            Some(value.span()),
            format!("{key} must be 64 hex digits; make one with: printf %s \"$TOKEN\" | sha256sum"),
        );
    }
    decoded
}

/// Levenshtein distance, for "did you mean" hints on a handful of short keys.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// "did you mean …?" for a misspelt key, or the list of keys that are allowed.
pub fn did_you_mean(name: &str, known: &[&str]) -> String {
    let close = known
        .iter()
        .min_by_key(|k| edit_distance(name, k))
        .filter(|k| edit_distance(name, k) <= 3);
    match close {
        Some(k) => format!("did you mean \"{k}\"?"),
        None => format!("remove it, or use one of: {}", known.join(", ")),
    }
}

/// A required `host` key: a host name or IP address (IPv6 may be in brackets).
pub fn host(
    c: &mut Collector<'_>,
    table: Range<usize>,
    value: &Text,
    kind: &str,
) -> Option<String> {
    let host = required(
        c,
        table,
        value,
        &format!("a {kind} monitor needs host = \"mail.example.com\""),
    )?;
    let valid = !host.get_ref().is_empty()
        && host
            .get_ref()
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ".-_:[]".contains(ch));
    if !valid {
        c.at(
            Some(host.span()),
            format!(
                "host \"{}\" is not a host name or IP address",
                host.get_ref()
            ),
        );
        return None;
    }
    Some(host.get_ref().trim_matches(['[', ']']).to_string())
}

/// A required `port` key, 1 to 65535; `missing` says what to write when it is absent.
pub fn port(
    c: &mut Collector<'_>,
    table: Range<usize>,
    value: &Number,
    missing: &str,
) -> Option<u16> {
    let p = required(c, table, value, missing)?;
    let port = u16::try_from(*p.get_ref()).ok().filter(|p| *p > 0);
    if port.is_none() {
        c.at(
            Some(p.span()),
            format!("port {} is not a port number from 1 to 65535", p.get_ref()),
        );
    }
    port
}
