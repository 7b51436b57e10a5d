//! Human durations as written in the config: `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"14d"`.

use std::time::Duration;

/// Parses `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"14d"` (one number, one unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        format!("\"{text}\" has no unit; write e.g. \"30s\", \"5m\", \"2h\" or \"14d\"")
    })?;
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().map_err(|_| {
        format!("\"{text}\" does not start with a whole number; write e.g. \"30s\"")
    })?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "\"{text}\" has unknown unit \"{unit}\"; use ms, s, m, h or d (e.g. \"30s\")"
            ));
        }
    };
    value
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("\"{text}\" is too long"))
}

/// Formats a duration the way the config writes it, choosing the largest exact unit.
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    if ms >= 1_000 {
        return format!("{:.1}s", duration.as_secs_f64());
    }
    format!("{ms}ms")
}

/// Formats a span of time for people, the one formatter of every duration shown: its two
/// largest units, so nothing useful is cut and nothing is noise — "45 s", "2 min 55 s",
/// "1 h 5 min", "3 days 2 h" (a unit that is zero is left out: "3 min", "2 h"); under a
/// second, milliseconds ("900 ms").
pub fn format_span(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (days, hours, mins, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    let day_word = if days == 1 { "day" } else { "days" };
    match (days, hours, mins, s) {
        (0, 0, 0, 0) if duration.subsec_millis() > 0 => {
            format!("{} ms", duration.subsec_millis())
        }
        (0, 0, 0, s) => format!("{s} s"),
        (0, 0, m, 0) => format!("{m} min"),
        (0, 0, m, s) => format!("{m} min {s} s"),
        (0, h, 0, _) => format!("{h} h"),
        (0, h, m, _) => format!("{h} h {m} min"),
        (d, 0, _, _) => format!("{d} {day_word}"),
        (d, h, _, _) => format!("{d} {day_word} {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse_duration("14d"), Ok(Duration::from_secs(14 * 86_400)));
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("30 seconds")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("s").unwrap_err().contains("whole number"));
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn formats_back_to_config_units() {
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(800)), "800ms");
        assert_eq!(format_duration(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(7_200)), "2h");
    }

    #[test]
    fn spans_keep_two_units_so_nothing_useful_is_cut() {
        assert_eq!(format_span(Duration::from_secs(175)), "2 min 55 s");
        assert_eq!(format_span(Duration::from_secs(45)), "45 s");
        assert_eq!(format_span(Duration::from_secs(60)), "1 min");
        assert_eq!(format_span(Duration::from_secs(3_900)), "1 h 5 min");
        assert_eq!(format_span(Duration::from_secs(3_905)), "1 h 5 min");
        assert_eq!(format_span(Duration::from_secs(3_601)), "1 h");
        assert_eq!(format_span(Duration::from_secs(86_400 + 59)), "1 day");
        assert_eq!(format_span(Duration::from_millis(900)), "900 ms");
        assert_eq!(format_span(Duration::ZERO), "0 s");
    }

    #[test]
    fn formats_spans_for_people() {
        assert_eq!(format_span(Duration::from_secs(42)), "42 s");
        assert_eq!(format_span(Duration::from_secs(180)), "3 min");
        assert_eq!(format_span(Duration::from_secs(7_500)), "2 h 5 min");
        assert_eq!(
            format_span(Duration::from_secs(3 * 86_400 + 7_200)),
            "3 days 2 h"
        );
    }
}
