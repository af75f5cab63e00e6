//! The size/percent parsers used by budgets (the figures they read back are printed by
//! [`crate::format`]).

// The formatters live in `crate::format` (one set for all of leakhound); re-exported here
// under their old names for callers of `units::bytes` and `units::count`.
pub use crate::format::{bytes, duration, percent, thousands as count};

/// A value on the command line that does not parse: the message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError(pub String);

impl std::fmt::Display for UnitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnitError {}

const KIB: f64 = 1024.0;

/// Parse a size such as `1KB`, `512`, `2.5 MiB`, `4GB`, `10mb` into bytes. A bare number is
/// bytes. K = 1024 (KB and KiB alike), as [`bytes`] prints them, so a budget reads back
/// exactly as the report shows it.
pub fn parse_size(s: &str) -> Result<f64, UnitError> {
    parse_size_default(s, 1.0)
}

/// Parse a size for a flag documented in MB (`--heap-mb`, `gc --heap-limit`): a bare number
/// is MB, and `4GB`, `512MB`, `1.5GiB` are converted. Returns MB.
pub fn parse_size_mb(s: &str) -> Result<f64, UnitError> {
    let b = parse_size_default(s, KIB * KIB)?;
    if b <= 0.0 {
        return Err(UnitError(format!("`{s}` must be above zero")));
    }
    Ok(b / (KIB * KIB))
}

fn parse_size_default(s: &str, bare: f64) -> Result<f64, UnitError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        UnitError(format!(
            "`{s}` is not a size (e.g. 4GB, 512MB, 1.5GiB, 100KB, 512B)"
        ))
    })?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" => bare,
        "b" => 1.0,
        "k" | "kb" | "kib" => KIB,
        "m" | "mb" | "mib" => KIB * KIB,
        "g" | "gb" | "gib" => KIB * KIB * KIB,
        "t" | "tb" | "tib" => KIB * KIB * KIB * KIB,
        _ => {
            return Err(UnitError(format!(
                "`{s}` has an unknown unit (use B, KB, MB, GB or KiB, MiB, GiB)"
            )))
        }
    };
    if !n.is_finite() {
        return Err(UnitError(format!("`{s}` is not a size")));
    }
    Ok(n * mult)
}

/// Parse a share into 0..1: `10%` and `10` are 10% (a bare number above 1 is a percent), `0.1`
/// is a share (10%); `1` is 100%.
pub fn parse_percent(s: &str) -> Result<f64, UnitError> {
    let t = s.trim();
    let v = if let Some(p) = t.strip_suffix('%') {
        p.trim().parse::<f64>().map(|v| v / 100.0)
    } else {
        t.parse::<f64>()
            .map(|v| if v > 1.0 { v / 100.0 } else { v })
    }
    .map_err(|_| UnitError(format!("`{s}` is not a percentage (e.g. 10%)")))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(UnitError(format!("`{s}` is not between 0% and 100%")));
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
        assert_eq!(parse_percent("10").unwrap(), 0.1);
        assert_eq!(parse_percent("1").unwrap(), 1.0);
        assert!(parse_percent("150%").is_err());
        assert!(parse_percent("150").is_err());
        assert!(parse_percent("-5").is_err());
        assert!(parse_percent("ten").is_err());
    }

    #[test]
    fn sizes_in_mb_take_units_and_bare_mb() {
        assert_eq!(parse_size_mb("4GB").unwrap(), 4096.0);
        assert_eq!(parse_size_mb("512").unwrap(), 512.0);
        assert_eq!(parse_size_mb("512MB").unwrap(), 512.0);
        assert_eq!(parse_size_mb("1.5GiB").unwrap(), 1536.0);
        assert_eq!(parse_size_mb("100KB").unwrap(), 100.0 / 1024.0);
        assert!(parse_size_mb("0").is_err());
        assert!(parse_size_mb("4 parsecs").is_err());
        assert_eq!(parse_size("100KB").unwrap(), 102400.0);
        assert_eq!(parse_size("4GB").unwrap(), 4.0 * 1073741824.0);
    }
}
