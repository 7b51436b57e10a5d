//! serde's type errors, turned into what to write: `interval = 20` is reported as
//! `interval: write a duration as a string, like "20s"`, not as serde's
//! ``invalid type: integer `20`, expected a string``. Every section and every check kind reads
//! its keys through serde, so this one place knows each duration and list key.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// Keys whose value is a duration string (`"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"14d"`).
pub const DURATION_KEYS: &[&str] = &[
    "interval",
    "timeout",
    "degraded_after",
    "grace",
    "max_runtime",
    "period",
    "raw_checks",
    "tls_expiry_warn",
    "incident_without_update",
    "recovered_but_open",
];

/// Keys whose value is a list: the key, what its items are, and an example list.
pub const LIST_KEYS: &[(&str, &str, &str)] = &[
    ("to", "addresses", "[\"owner@example.com\"]"),
    ("events", "events", "[\"incident\", \"maintenance\"]"),
    ("components", "monitor ids", "[\"blog\"]"),
    (
        "trusted_proxies",
        "addresses",
        "[\"127.0.0.1\", \"10.0.0.0/8\"]",
    ),
    ("websub_hubs", "URLs", "[\"https://hub.example.net/\"]"),
    ("embed_origins", "origins", "[\"https://shop.example.com\"]"),
    ("expect_status", "status codes", "[200, 301]"),
    ("expect_address", "addresses", "[\"203.0.113.7\"]"),
];

/// What to write instead, for serde's `message` about the value at `span`; the message as
/// it is when it is not a type error or its key cannot be found.
pub fn type_error(root: &DeTable<'_>, span: Option<Range<usize>>, message: &str) -> String {
    let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    else {
        return message.to_string();
    };
    let Some((key, in_list)) = span.and_then(|s| key_at(root, &s)) else {
        return message.to_string();
    };
    fix(&key, in_list, found, expected).unwrap_or_else(|| format!("{key}: {message}"))
}

fn fix(key: &str, in_list: bool, found: &str, expected: &str) -> Option<String> {
    if let Some((_, items, example)) = LIST_KEYS.iter().find(|(k, _, _)| *k == key) {
        let as_list = match quoted(found) {
            Some(text) if !in_list => format!("[\"{text}\"]"),
            _ => (*example).to_string(),
        };
        return Some(format!(
            "{key}: write a list of {items}, like {key} = {as_list}"
        ));
    }
    if DURATION_KEYS.contains(&key) {
        let example = number(found).map_or_else(|| "30s".to_string(), |n| format!("{n}s"));
        return Some(format!(
            "{key}: write a duration as a string, like \"{example}\" (units: ms, s, m, h, d)"
        ));
    }
    match expected {
        "a string" => Some(format!(
            "{key}: write it as a string in quotes, like {key} = \"{}\"",
            number(found).unwrap_or("…")
        )),
        "a boolean" => Some(format!(
            "{key}: write true or false, without quotes, like {key} = true"
        )),
        e if e.starts_with('i') || e.starts_with('u') || e == "an integer" => Some(format!(
            "{key}: write a whole number without quotes, like {key} = {}",
            quoted(found)
                .filter(|t| t.parse::<i64>().is_ok())
                .unwrap_or("3")
        )),
        "a sequence" if key == "monitor" || key == "notify" => Some(format!(
            "{key}: write each one as a [[{key}]] section with its keys below"
        )),
        "a sequence" => Some(format!("{key}: write a list, like {key} = [\"…\"]")),
        e if e.starts_with("struct ") || e == "a map" => Some(format!(
            "{key}: write it as a section: [{key}] on a line of its own, its keys below"
        )),
        _ => None,
    }
}

/// The text of serde's ``string "x"``.
fn quoted(found: &str) -> Option<&str> {
    found.strip_prefix("string \"")?.strip_suffix('"')
}

/// The number of serde's ``integer `20` `` or ``floating point `1.5` ``.
fn number(found: &str) -> Option<&str> {
    let value = found
        .strip_prefix("integer `")
        .or_else(|| found.strip_prefix("floating point `"))?;
    value.strip_suffix('`')
}

/// The key whose value (or one of whose list items) is at `span`, and whether it is an item.
fn key_at(table: &DeTable<'_>, span: &Range<usize>) -> Option<(String, bool)> {
    for (key, value) in table.iter() {
        if value.span() == *span {
            return Some((key.get_ref().to_string(), false));
        }
        // No pruning by span: a `[section]`'s or `[[array]]`'s span need not cover its keys.
        match value.get_ref() {
            DeValue::Table(inner) => {
                if let Some(found) = key_at(inner, span) {
                    return Some(found);
                }
            }
            DeValue::Array(items) => {
                for item in items {
                    if item.span() == *span {
                        return Some((key.get_ref().to_string(), true));
                    }
                    if let DeValue::Table(inner) = item.get_ref()
                        && let Some(found) = key_at(inner, span)
                    {
                        return Some(found);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> String {
        let root = DeTable::parse(text).expect("toml");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Keys {
            interval: Option<toml::Spanned<String>>,
            to: Option<toml::Spanned<Vec<toml::Spanned<String>>>>,
            port: Option<toml::Spanned<i64>>,
        }
        let de = toml::Deserializer::from(root.clone());
        let e = <Keys as serde::Deserialize>::deserialize(de).expect_err("a type error");
        type_error(root.get_ref(), e.span(), e.message().trim())
    }

    #[test]
    fn type_errors_say_what_to_write() {
        assert_eq!(
            fixed("interval = 20"),
            "interval: write a duration as a string, like \"20s\" (units: ms, s, m, h, d)"
        );
        assert_eq!(
            fixed("to = \"a@example.com\""),
            "to: write a list of addresses, like to = [\"a@example.com\"]"
        );
        assert_eq!(
            fixed("to = [1]"),
            "to: write a list of addresses, like to = [\"owner@example.com\"]"
        );
        assert_eq!(
            fixed("port = \"25\""),
            "port: write a whole number without quotes, like port = 25"
        );
    }
}
