//! Writing iCalendar (RFC 5545) text: content lines ending in CRLF, folded so that no line is
//! longer than 75 octets, TEXT values escaped. Written by hand rather than with the
//! `icalendar` crate (0.17), whose writer lets the last piece of a folded line reach 76 octets
//! and passes carriage returns through in TEXT values; the tests read our output with its
//! parser.

use chrono::{DateTime, Utc};

/// RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.
const MAX_LINE_OCTETS: usize = 75;

/// A calendar being written, one content line at a time.
#[derive(Debug, Default)]
pub struct Ics {
    out: String,
}

impl Ics {
    pub fn new() -> Self {
        Self::default()
    }

    /// A line whose value is written as it is: `name` may carry parameters
    /// (`REFRESH-INTERVAL;VALUE=DURATION`). Only for values made here (numbers, durations,
    /// URLs, words), never for what people typed.
    pub fn raw(&mut self, name: &str, value: &str) {
        let line = format!("{name}:{}", without_controls(value));
        self.push_folded(&line);
    }

    /// A TEXT value (RFC 5545 §3.3.11), escaped.
    pub fn text(&mut self, name: &str, value: &str) {
        let line = format!("{name}:{}", escape_text(value));
        self.push_folded(&line);
    }

    /// A DATE-TIME in UTC (`20261201T220000Z`), whole seconds.
    pub fn utc(&mut self, name: &str, at: DateTime<Utc>) {
        self.raw(name, &utc(at));
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// Folds at 75 octets, never inside a UTF-8 sequence: the rest goes on lines that start
    /// with one space (which readers remove when they unfold).
    fn push_folded(&mut self, line: &str) {
        let mut rest = line;
        let mut limit = MAX_LINE_OCTETS;
        while rest.len() > limit {
            let mut cut = limit;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            // Nor inside an escape (`\n`): allowed, but naive readers trip on it.
            let backslashes = rest[..cut]
                .bytes()
                .rev()
                .take_while(|b| *b == b'\\')
                .count();
            if backslashes % 2 == 1 {
                cut -= 1;
            }
            self.out.push_str(&rest[..cut]);
            self.out.push_str("\r\n ");
            rest = &rest[cut..];
            // Continuation lines begin with the space.
            limit = MAX_LINE_OCTETS - 1;
        }
        self.out.push_str(rest);
        self.out.push_str("\r\n");
    }
}

/// `20261201T220000Z`
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 §3.3.11: backslash, semicolon and comma are escaped, a line break becomes `\n`;
/// TEXT holds no other control character but a tab.
fn escape_text(value: &str) -> String {
    let value = value.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn without_controls(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(ics: &str) -> Vec<&str> {
        ics.strip_suffix("\r\n")
            .expect("ends in CRLF")
            .split("\r\n")
            .collect()
    }

    #[test]
    fn text_is_escaped_and_line_breaks_become_backslash_n() {
        let mut ics = Ics::new();
        ics.text("SUMMARY", "a;b,c\\d\r\ne\rf\ng\u{7}h\ti");
        assert_eq!(ics.finish(), "SUMMARY:a\\;b\\,c\\\\d\\ne\\nf\\ngh\ti\r\n");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        for text in [
            "x".repeat(300),
            "é".repeat(150),
            "漢".repeat(100),
            "a".repeat(149),
        ] {
            let mut ics = Ics::new();
            ics.text("DESCRIPTION", &text);
            let out = ics.finish();
            let lines = lines(&out);
            assert!(lines.len() > 1, "{out}");
            for (i, line) in lines.iter().enumerate() {
                assert!(line.len() <= 75, "line {i} has {} octets", line.len());
                assert_eq!(i > 0, line.starts_with(' '), "line {i}");
            }
            let unfolded = out.replace("\r\n ", "");
            assert_eq!(unfolded, format!("DESCRIPTION:{text}\r\n"));
        }
    }

    #[test]
    fn escapes_are_not_split_by_a_fold() {
        for prefix in ["", "x", "\\"] {
            let mut ics = Ics::new();
            ics.text("DESCRIPTION", &format!("{prefix}{}", "a\n".repeat(80)));
            let out = ics.finish();
            for line in lines(&out) {
                let backslashes = line.bytes().rev().take_while(|b| *b == b'\\').count();
                assert_eq!(backslashes % 2, 0, "{line:?}");
                assert!(line.len() <= 75);
            }
        }
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded() {
        let mut ics = Ics::new();
        ics.raw("X", &"y".repeat(73));
        assert_eq!(lines(&ics.finish()).len(), 1);
    }

    #[test]
    fn times_are_utc_with_a_z() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T23:30:05.250+01:00")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(utc(at), "20261201T223005Z");
    }
}
