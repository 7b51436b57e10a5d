//! E-mail addresses as mailboxes: one person's many spellings of one address, and the form a
//! mail server without SMTPUTF8 can be sent to.

/// The mailbox an address reaches, for limits only (the address is stored and used as
/// written): quotes removed, case folded, a `+tag` dropped, dots in the local part dropped, the
/// domain in its ASCII (IDNA) form. `"Victim+x"@Bücher.example`, `v.ictim@xn--bcher-kva.example`
/// and `victim@bücher.example` are one mailbox, so a stranger cannot mail one person once per
/// spelling. Over-merging is harmless here: two people who share a key only share the
/// one-mail-an-hour limit of sign-up mails.
pub fn key(address: &str) -> String {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let local: String = local
        .chars()
        .filter(|c| !matches!(c, '"' | '\\'))
        .take_while(|c| *c != '+')
        .filter(|c| *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    format!("{local}@{}", ascii_domain(domain))
}

/// The domain in ASCII, lowercased (`Bücher.Example.` → `xn--bcher-kva.example`); as it is,
/// lowercased, when IDNA refuses it.
fn ascii_domain(domain: &str) -> String {
    let domain = domain.trim_end_matches('.');
    idna::domain_to_ascii(domain)
        .unwrap_or_else(|_| domain.to_string())
        .to_ascii_lowercase()
}

/// The address with its domain in ASCII (IDNA), or `None` when it still is not ASCII — a
/// local part with non-ASCII letters, which only a server with SMTPUTF8 takes.
pub fn ascii(address: &str) -> Option<String> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    let domain = idna::domain_to_ascii(domain.trim_end_matches('.')).ok()?;
    let ascii = format!("{local}@{domain}");
    ascii.is_ascii().then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_mailbox_have_one_key() {
        let one = key("victim@xn--bcher-kva.example");
        for spelling in [
            "\"victim\"@xn--bcher-kva.example",
            "Victim@Bücher.example",
            "victim+news@bücher.example",
            "v.i.c.t.i.m@XN--BCHER-KVA.EXAMPLE",
            "\"VICTIM+1\"@bücher.example.",
            "  vic.tim+a+b@bücher.example ",
        ] {
            assert_eq!(key(spelling), one, "{spelling}");
        }
        assert_eq!(one, "victim@xn--bcher-kva.example");
        assert_ne!(key("other@bücher.example"), one);
        assert_ne!(key("victim@bucher.example"), one);
    }

    #[test]
    fn the_domain_goes_to_ascii_and_a_non_ascii_local_part_cannot() {
        assert_eq!(
            ascii("Ann@Bücher.example").as_deref(),
            Some("Ann@xn--bcher-kva.example")
        );
        assert_eq!(ascii("ann@example.com").as_deref(), Some("ann@example.com"));
        assert_eq!(ascii("jöhn@example.com"), None);
        assert_eq!(ascii("no-at-sign"), None);
    }
}
