//! How a connection to an SMTP server is secured: the `tls` key of `[smtp]` (sending mail)
//! and of an `smtp` monitor (checking the mail server) take the same three words.

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587, or 25 between mail servers).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS at all.
    None,
}

impl SmtpTls {
    /// The words `tls` takes, for messages about a wrong one.
    pub const CHOICES: &str = "\"starttls\", \"implicit\" or \"none\"";

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "starttls" => Some(Self::StartTls),
            "implicit" => Some(Self::Implicit),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// The usual port of each for sending mail (submission).
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Implicit => 465,
            Self::None => 25,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_words_parse_and_nothing_else() {
        assert_eq!(SmtpTls::parse("starttls"), Some(SmtpTls::StartTls));
        assert_eq!(SmtpTls::parse("implicit"), Some(SmtpTls::Implicit));
        assert_eq!(SmtpTls::parse("none"), Some(SmtpTls::None));
        assert_eq!(SmtpTls::parse("STARTTLS"), None);
        assert_eq!(SmtpTls::parse("ssl"), None);
    }
}
