//! WCAG AA (4.5:1) for the words people read on colour: status pills, banner text, history tags
//! and plain text, in light and in dark mode — computed from the stylesheet itself.

use std::collections::HashMap;

const CSS: &str = include_str!("../../assets/style.css");
/// WCAG 2 AA for normal text.
const AA: f64 = 4.5;

/// The stylesheet without its comments.
fn css() -> String {
    let mut out = String::new();
    let mut rest = CSS;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("comment ends") + start + 2;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The custom properties of the first `:root { … }` block found after `from`.
fn variables(from: &str) -> HashMap<String, String> {
    let css = css();
    let start = css.find(from).expect("block") + from.len();
    let root = css[start..].find(":root {").expect(":root") + start;
    let body = &css[root + ":root {".len()..];
    let body = &body[..body.find('}').expect("end of :root")];
    body.split(';')
        .filter_map(|decl| {
            let (name, value) = decl.split_once(':')?;
            let name = name.lines().last()?.trim();
            name.starts_with("--")
                .then(|| (name.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// The `background` of a rule such as `.banner--minor { background: #9a6410; }`.
fn background_of(selector: &str) -> String {
    let css = css();
    let rule = css
        .find(&format!("{selector} {{"))
        .unwrap_or_else(|| panic!("{selector} in style.css"));
    let body = &css[rule..];
    let body = &body[..body.find('}').expect("end of rule")];
    body.split(';')
        .find_map(|d| {
            d.trim()
                .split_once(':')
                .filter(|(k, _)| k.trim().ends_with("background"))
        })
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| panic!("{selector} has a background"))
}

fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    assert_eq!(hex.len(), 6, "six-digit colour: {hex}");
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn ratio(a: &str, b: &str) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn words_on_colour_meet_wcag_aa_in_light_and_dark_mode() {
    let light = variables("");
    let mut dark = light.clone();
    dark.extend(variables("@media (prefers-color-scheme: dark)"));
    let pairs = [
        ("--ok-text", "--ok-bg"),
        ("--minor-text", "--minor-bg"),
        ("--partial-text", "--partial-bg"),
        ("--major-text", "--major-bg"),
        ("--maint-text", "--maint-bg"),
        ("--waiting", "--waiting-bg"),
        ("--minor-text", "--bg"),
        ("--partial-text", "--bg"),
        ("--major-text", "--bg"),
        ("--text", "--bg"),
        ("--text", "--card"),
        ("--muted", "--bg"),
        ("--muted", "--card"),
        ("--link", "--card"),
        ("--link", "--bg"),
    ];
    let mut failures = Vec::new();
    for (mode, vars) in [("light", &light), ("dark", &dark)] {
        for (fg, bg) in pairs {
            let r = ratio(&vars[fg], &vars[bg]);
            if r < AA {
                failures.push(format!("{mode}: {fg} on {bg} is {r:.2}:1"));
            }
        }
    }
    // Banner colours do not change with the mode: white text on each.
    for banner in [
        ".banner",
        ".banner--minor",
        ".banner--major",
        ".banner--critical",
        ".banner--maintenance",
        ".banner--waiting",
    ] {
        let r = ratio("#ffffff", &background_of(banner));
        if r < AA {
            failures.push(format!("white on {banner} is {r:.2}:1"));
        }
    }
    assert!(failures.is_empty(), "below 4.5:1: {failures:#?}");
}
