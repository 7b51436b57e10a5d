//! E-mail over SMTP (lettre, rustls): a text and an HTML part, `Message-ID` from the delivery
//! id (the same on every retry), one thread per incident (`In-Reply-To`, `References`),
//! `Auto-Submitted`; subscriber mails carry RFC 8058 one-click unsubscribe headers and a
//! manage link.

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{SendError, TIMEOUT};
use crate::config::Config;
use crate::config::notify::{SmtpConfig, SmtpTls};
use crate::domain::mailbox;
use crate::notify::message::{Message, Purpose};
use crate::views::mail;

/// A header lettre has no type for: a plain text value under a fixed name.
macro_rules! raw_header {
    ($ty:ident, $name:literal) => {
        #[derive(Clone)]
        struct $ty(String);

        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_string()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

raw_header!(AutoSubmitted, "Auto-Submitted");
raw_header!(ListUnsubscribe, "List-Unsubscribe");
raw_header!(ListUnsubscribePost, "List-Unsubscribe-Post");

/// The mailbox a message goes to, as the envelope carries it: the domain in ASCII (IDNA), so
/// any mail server takes it. Refused — for good, since trying again cannot help — when it is
/// not an address lettre can send to, or its local part is not ASCII (that needs SMTPUTF8).
pub fn recipient(address: &str) -> Result<Mailbox, String> {
    let ascii = mailbox::ascii(address).ok_or_else(|| {
        "the part before the @ has letters this mailer cannot send to (only ASCII: a-z, 0-9, . _ + -)"
            .to_string()
    })?;
    ascii
        .parse::<lettre::Address>()
        .map(|a| Mailbox::new(None, a))
        .map_err(|e| format!("not an address mail can be sent to ({e})"))
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(smtp: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = match smtp.tls {
            // Allowed only to this machine (checked with the config).
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
        };
        let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: smtp.from.parse()?,
        })
    }

    /// The owner's alert, to every address of the channel in one mail.
    pub async fn to_owner(
        &self,
        config: &Config,
        to: &[String],
        message: &Message,
        delivery: &str,
    ) -> Result<String, SendError> {
        let mut builder = self.builder(config, message, delivery);
        for address in to {
            let mailbox = recipient(address)
                .map_err(|e| SendError::permanent(format!("\"{address}\": {e}")))?;
            builder = builder.to(mailbox);
        }
        let (text, html) = mail::bodies(&content(config, message), None);
        self.send(builder, text, html).await
    }

    /// A subscriber's mail: the update (or the confirmation link), with the links that manage
    /// and end the subscription.
    pub async fn to_subscriber(
        &self,
        config: &Config,
        address: &str,
        token: &str,
        message: &Message,
        delivery: &str,
    ) -> Result<String, SendError> {
        let base = config.base_url();
        let mailbox = recipient(address)
            .map_err(|e| SendError::permanent(format!("the subscriber's address: {e}")))?;
        let mut builder = self.builder(config, message, delivery).to(mailbox);
        let links = match message.purpose {
            Purpose::Confirmation => {
                mail::Links::Confirm(format!("{base}/subscribe/confirm?token={token}"))
            }
            _ => {
                let unsubscribe = format!("{base}/unsubscribe?token={token}");
                builder = builder
                    .header(ListUnsubscribe(format!("<{unsubscribe}>")))
                    .header(ListUnsubscribePost(
                        "List-Unsubscribe=One-Click".to_string(),
                    ));
                mail::Links::Manage(format!("{base}/subscribe/manage?token={token}"))
            }
        };
        let (text, html) = mail::bodies(&content(config, message), Some(&links));
        self.send(builder, text, html).await
    }

    fn builder(
        &self,
        config: &Config,
        message: &Message,
        delivery: &str,
    ) -> lettre::message::MessageBuilder {
        let host = config.server.base_url.host_str().unwrap_or("localhost");
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.title.clone())
            .message_id(Some(format!("<{delivery}@{host}>")))
            .header(AutoSubmitted("auto-generated".to_string()));
        if let Some(thread) = &message.thread {
            let root = format!("<{thread}@{host}>");
            builder = builder.in_reply_to(root.clone()).references(root);
        }
        builder
    }

    async fn send(
        &self,
        builder: lettre::message::MessageBuilder,
        text: String,
        html: String,
    ) -> Result<String, SendError> {
        let email = builder
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|_| SendError::permanent("the mail could not be built".to_string()))?;
        match self.transport.send(email).await {
            Ok(response) => Ok(format!(
                "SMTP {} {}",
                response.code(),
                response.first_line().unwrap_or("")
            )
            .trim_end()
            .to_string()),
            // A permanent refusal (5xx: no such mailbox) or what this client cannot send at
            // all is final: retrying for 24 h would only repeat it.
            Err(e) if e.is_permanent() || e.is_client() => Err(SendError::permanent(describe(&e))),
            Err(e) => Err(describe(&e).into()),
        }
    }
}

fn content<'a>(config: &'a Config, message: &'a Message) -> mail::Content<'a> {
    mail::Content {
        page: &config.page.title,
        title: &message.title,
        text: &message.text,
        html: &message.html,
        url: &message.url,
    }
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        let kind = if e.is_permanent() {
            "refused"
        } else {
            "deferred"
        };
        format!("SMTP {code}: the server {kind} the mail")
    } else if e.is_timeout() {
        format!("SMTP: timed out after {}s", TIMEOUT.as_secs())
    } else if e.is_tls() {
        "SMTP: the TLS handshake failed".to_string()
    } else {
        "SMTP: cannot reach the server".to_string()
    }
}
