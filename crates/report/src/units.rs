//! The size/percent parsers used by budgets (the figures they read back are printed by
//! [`crate::format`]).

// The formatters live in `crate::format` (one set for all of leakhound); re-exported here
// under their old names for callers of `units::bytes` and `units::count`.
pub use crate::format::{bytes, duration, percent, thousands as count};

/// Parse a size such as `1KB`, `512`, `2.5 MiB`, `10mb` into bytes (K = 1024, as [`bytes`]
/// prints them, so a budget reads back exactly as the report shows it).
pub fn parse_size(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 1KB, 512B, 2MB)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{s}` has an unknown unit (use B, KB, MB or GB)")),
    };
    if !n.is_finite() {
        return Err(format!("`{s}` is not a size"));
    }
    Ok(n * mult)
}

/// Parse `10%` or `0.1` into a share 0..1.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = if let Some(p) = t.strip_suffix('%') {
        p.trim().parse::<f64>().map(|v| v / 100.0)
    } else {
        t.parse::<f64>()
    }
    .map_err(|_| format!("`{s}` is not a percentage (e.g. 10%)"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("`{s}` is not between 0% and 100%"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("1KB").unwrap(), 1024.0);
        assert_eq!(parse_size("512").unwrap(), 512.0);
        assert_eq!(parse_size("2.5 MiB").unwrap(), 2.5 * 1048576.0);
        assert_eq!(parse_size("1g").unwrap(), 1073741824.0);
        assert!(parse_size("KB").is_err());
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("-1KB").is_err());
    }

    #[test]
    fn percents_parse_both_ways() {
        assert_eq!(parse_percent("10%").unwrap(), 0.1);
        assert_eq!(parse_percent("0.25").unwrap(), 0.25);
        assert!(parse_percent("150%").is_err());
        assert!(parse_percent("ten").is_err());
    }
}
