//! Owner notes: Markdown → HTML → sanitized HTML, once, when the note is written.

use pulldown_cmark::{Event, Options, Parser, html};

/// Blocks and inlines nest at most this deep; deeper ones keep their text but lose their
/// nesting. Sanitizing HTML nested thousands deep takes seconds (20,000 `>` took 1.1 s).
const MAX_DEPTH: usize = 32;

/// Renders Markdown to HTML that is safe to embed in pages and feeds: no script, no event
/// handlers, no `javascript:` links; links get `rel="nofollow noopener noreferrer"`; nesting
/// bounded by [`MAX_DEPTH`]; no control characters.
pub fn render(markdown: &str) -> String {
    let markdown = strip_controls(markdown);
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut unsafe_html = String::new();
    html::push_html(
        &mut unsafe_html,
        shallow(Parser::new_ext(&markdown, options)),
    );
    ammonia::Builder::default()
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

/// A note's words without its Markdown, for what shows no formatting (calendar apps):
/// blocks stay apart, list items start with "- ", a link keeps its words with its address
/// after them (http, https and mailto only, as on the page), raw HTML goes.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Tag, TagEnd};
    let markdown = strip_controls(markdown);
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut out = String::new();
    let mut links: Vec<String> = Vec::new();
    let end_line = |out: &mut String, breaks: &str| {
        let kept = out.trim_end_matches(['\n', ' ']).len();
        out.truncate(kept);
        if !out.is_empty() {
            out.push_str(breaks);
        }
    };
    for event in Parser::new_ext(&markdown, options) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("- ");
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                let url = links.pop().unwrap_or_default();
                let shown = ["http://", "https://", "mailto:"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme));
                if shown && !out.ends_with(url.as_str()) {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Event::End(TagEnd::TableCell) => out.push('\t'),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => end_line(&mut out, "\n"),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::List(_)
                | TagEnd::Table,
            ) => end_line(&mut out, "\n\n"),
            _ => {}
        }
    }
    out.trim_end().to_string()
}

/// Drops the start and end of every element nested deeper than [`MAX_DEPTH`].
fn shallow<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    // For each open element: was it kept?
    let mut open: Vec<bool> = Vec::new();
    events.filter(move |event| match event {
        Event::Start(_) => {
            let keep = open.iter().filter(|kept| **kept).count() < MAX_DEPTH;
            open.push(keep);
            keep
        }
        Event::End(_) => open.pop().unwrap_or(true),
        _ => true,
    })
}

/// Text as people typed it, without the control characters a paste can carry (terminal
/// colours, NUL, form feeds): they are invalid in XML feeds and meaningless on a page. Tabs
/// and line breaks stay.
pub fn strip_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let unwanted = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if text.chars().any(unwanted) {
        text.chars()
            .filter(|c| !unwanted(*c))
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// A serialized XML document with the characters XML 1.0 forbids removed: none can be
/// markup, so this only ever drops stray text characters (from notes stored before they
/// were stripped on input).
pub fn xml_safe(document: String) -> String {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if document.chars().all(allowed) {
        document
    } else {
        document.chars().filter(|c| allowed(*c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{plain_text, render, strip_controls, xml_safe};

    #[test]
    fn deep_nesting_is_flattened_and_fast() {
        let html = render(&">".repeat(20_000));
        assert!(html.matches("<blockquote>").count() <= 32, "{}", html.len());
        let nested: String = (0..200)
            .map(|i| format!("{}- item\n", "  ".repeat(i)))
            .collect();
        let html = render(&nested);
        assert!(html.matches("<ul>").count() <= 32);
        assert!(html.matches("item").count() == 200, "the text stays");
    }

    #[test]
    fn control_characters_go_and_line_breaks_stay() {
        let all: String = (0u8..32).map(char::from).collect();
        assert_eq!(strip_controls(&format!("a{all}b")), "a\t\n\rb");
        assert_eq!(strip_controls("plain"), "plain");
        assert_eq!(
            xml_safe("<a>x\u{1b}[31my\u{0}\u{FFFE}</a>".to_string()),
            "<a>x[31my</a>"
        );
        assert!(!render("red \u{1b}[31mtext\u{1b}[0m").contains('\u{1b}'));
    }

    #[test]
    fn plain_text_keeps_the_words_and_drops_the_markup() {
        let text = plain_text(
            "# Upgrade\n\nWe move the **blog** to a `new` host,\nsee [the plan](https://example.com/plan).\n\n\
             * one\n* two <b>bold</b>\n\n[bad](javascript:alert(1)) <https://example.com/>",
        );
        assert_eq!(
            text,
            "Upgrade\n\nWe move the blog to a new host,\nsee the plan (https://example.com/plan).\n\n\
             - one\n- two bold\n\nbad https://example.com/"
        );
        assert_eq!(plain_text("plain words"), "plain words");
        assert_eq!(plain_text(""), "");
    }

    #[test]
    fn renders_markdown() {
        assert_eq!(
            render("**Fixed** the `cache`"),
            "<p><strong>Fixed</strong> the <code>cache</code></p>\n"
        );
    }

    #[test]
    fn strips_script_handlers_and_javascript_links() {
        let html = render(
            "<script>alert(1)</script><img src=x onerror=alert(2)>\n\n[x](javascript:alert(3)) <b onclick=\"y()\">b</b>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
    }

    #[test]
    fn links_get_nofollow() {
        let html = render("[status](https://example.com/)");
        assert!(
            html.contains("rel=\"nofollow noopener noreferrer\""),
            "{html}"
        );
    }
}
