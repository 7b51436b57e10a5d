//! The keys of a `heartbeat` monitor: a job pings us; it is not probed.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::heartbeat::HeartbeatSpec;
use crate::keys::{Collector, MonitorTable, Text, duration, required, sha256_hex};

pub const KEYS: &[&str] = &["grace", "token", "token_sha256"];

/// The shortest token we accept: it is the only secret in the ping URL.
const MIN_TOKEN: usize = 16;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeartbeatKeys {
    grace: Text,
    token: Text,
    token_sha256: Text,
}

pub fn parse(table: &MonitorTable<'_>, c: &mut Collector<'_>) -> Option<HeartbeatSpec> {
    let m: HeartbeatKeys = table.keys(c)?;
    let grace = required(
        c,
        table.span(),
        &m.grace,
        "a heartbeat monitor needs grace = \"1h\" (how late a ping may be)",
    )
    .map(|_| duration(c, &m.grace, "grace", "1h"))?;
    let token_sha256 = match (&m.token, &m.token_sha256) {
        (Some(t), None) if t.get_ref().len() >= MIN_TOKEN => {
            Some(Sha256::digest(t.get_ref().as_bytes()).into())
        }
        (Some(t), None) => {
            c.at(
                Some(t.span()),
                "token must be at least 16 characters (it is the only secret in the ping URL)",
            );
            None
        }
        (None, Some(h)) => sha256_hex(c, h, "token_sha256"),
        (Some(_), Some(h)) => {
            c.at(
                Some(h.span()),
                "give either token or token_sha256, not both",
            );
            None
        }
        (None, None) => {
            c.at(
                Some(table.span()),
                "a heartbeat monitor needs token = \"…\" (16+ characters) or token_sha256",
            );
            None
        }
    };
    Some(HeartbeatSpec {
        grace,
        token_sha256: token_sha256?,
    })
}
