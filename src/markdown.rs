//! Owner notes: Markdown → HTML → sanitized HTML, once, when the note is written.

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown to HTML that is safe to embed in pages and feeds: no script, no event
/// handlers, no `javascript:` links; links get `rel="nofollow noopener noreferrer"`.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

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
