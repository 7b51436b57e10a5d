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
    /// The `tls` key's word, or what to write instead.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "starttls" => Ok(Self::StartTls),
            "implicit" => Ok(Self::Implicit),
            "none" => Ok(Self::None),
            _ => Err(format!(
                "tls \"{text}\" is not known; use \"starttls\", \"implicit\" or \"none\""
            )),
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
        assert_eq!(SmtpTls::parse("starttls"), Ok(SmtpTls::StartTls));
        assert_eq!(SmtpTls::parse("implicit"), Ok(SmtpTls::Implicit));
        assert_eq!(SmtpTls::parse("none"), Ok(SmtpTls::None));
        assert!(SmtpTls::parse("STARTTLS").is_err());
        assert_eq!(
            SmtpTls::parse("ssl"),
            Err("tls \"ssl\" is not known; use \"starttls\", \"implicit\" or \"none\"".to_string())
        );
    }
}
