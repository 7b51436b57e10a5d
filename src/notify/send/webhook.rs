//! A `webhook` channel: Statuspage's webhook body, signed the Standard Webhooks way —
//! `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp`, and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use crate::config::notify::Secret;
use crate::notify::message::Message;

/// Standard Webhooks secrets are base64 after this prefix (the config accepts no other kind).
const SECRET_PREFIX: &str = "whsec_";

/// The signing key a secret stands for.
fn key(secret: &Secret) -> Vec<u8> {
    let value = secret.expose();
    value
        .strip_prefix(SECRET_PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| value.as_bytes().to_vec())
}

/// `v1,<signature>` of one request.
pub fn signature(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key(secret)) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub fn request(
    client: &reqwest::Client,
    url: &Url,
    secret: Option<&Secret>,
    message: &Message,
    delivery: &str,
    now: DateTime<Utc>,
) -> reqwest::RequestBuilder {
    let body = serde_json::to_vec(&message.webhook).unwrap_or_default();
    let timestamp = now.timestamp();
    let mut request = client
        .post(url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", delivery)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(secret) = secret {
        request = request.header(
            "webhook-signature",
            signature(secret, delivery, timestamp, &body),
        );
    }
    request.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_id_timestamp_and_body_with_the_decoded_secret() {
        // The example of the Standard Webhooks specification.
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string());
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
