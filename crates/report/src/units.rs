//! Human-readable figures and the size/percent parsers used by budgets.

/// `1536` -> `1.5 KB` (binary units, as DevTools and `process.memoryUsage()` users expect).
pub fn bytes(b: f64) -> String {
    let a = b.abs();
    let (v, u) = if a >= 1024.0 * 1024.0 * 1024.0 {
        (b / (1024.0 * 1024.0 * 1024.0), "GB")
    } else if a >= 1024.0 * 1024.0 {
        (b / (1024.0 * 1024.0), "MB")
    } else if a >= 1024.0 {
        (b / 1024.0, "KB")
    } else {
        return format!("{b:.0} B");
    };
    if v.abs() >= 100.0 {
        format!("{v:.0} {u}")
    } else {
        format!("{v:.1} {u}")
    }
}

/// `40146` -> `40,146`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::with_capacity(s.len() + s.len() / 3);
    // Digits before the first comma: 1..=3.
    let mut next = (s.len() - 1) % 3 + 1;
    for (i, c) in s.chars().enumerate() {
        if i == next {
            o.push(',');
            next += 3;
        }
        o.push(c);
    }
    o
}

/// `0.123` -> `12.3%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Seconds as `45 s`, `12.5 min`, `5.5 hours`, `3.2 days`.
pub fn duration(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.1} s")
    } else if s < 90.0 * 60.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} hours", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

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

    #[test]
    fn figures_read_well() {
        assert_eq!(bytes(1536.0), "1.5 KB");
        assert_eq!(bytes(12.0), "12 B");
        assert_eq!(bytes(300.0 * 1048576.0), "300 MB");
        assert_eq!(percent(0.123), "12.3%");
        assert_eq!(count(40146), "40,146");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(duration(5.5 * 3600.0), "5.5 hours");
    }
}
