//! The one way leakhound writes figures for people: bytes in binary units named as such
//! (`KiB`, `MiB`, `GiB`: 1024-based, as V8, DevTools and `process.memoryUsage()` count them),
//! durations in one style (`850 ms`, `1.2 s`, `12.5 min`, `5.5 hours`, `3.2 days`), counts with
//! thousands separators, shares as percentages.
//!
//! A leaf crate with no dependencies so that every crate that prints (the heap analyser, the
//! session's evidence sentences, the report renderers) can use it without a dependency cycle;
//! `leakhound-report` re-exports it as `leakhound_report::format`. JSON never goes through
//! here: its numeric fields stay raw numbers.

const KIB: f64 = 1024.0;

/// Bytes with a binary unit: `12 B`, `1.5 KiB`, `38.1 MiB`, `300 MiB`, `2.0 GiB`. Three
/// significant figures at most (one decimal below 100 of a unit, none from 100 up); negative
/// values keep their sign.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if !b.is_finite() {
        return format!("{b} B");
    }
    let a = b.abs();
    if a < KIB {
        return format!("{b:.0} B");
    }
    let mut v = b / KIB;
    let mut u = 0;
    while v.abs() >= KIB && u < UNITS.len() - 1 {
        v /= KIB;
        u += 1;
    }
    // Rounding can carry to 1024.0: show the next unit instead.
    if format!("{:.0}", v.abs()) == "1024" && u < UNITS.len() - 1 {
        v /= KIB;
        u += 1;
    }
    if v.abs() >= 99.95 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// [`bytes`] for a whole number of bytes.
pub fn bytes_u64(b: u64) -> String {
    bytes(b as f64)
}

/// [`bytes`] with an explicit sign: `+1.5 KiB`, `-300 B`, `+0 B`.
pub fn bytes_signed(b: f64) -> String {
    if b < 0.0 {
        bytes(b)
    } else {
        format!("+{}", bytes(b))
    }
}

/// A quantity given in MiB (V8's `--trace-gc` "MB", `--max-old-space-size`), told as [`bytes`].
pub fn mebibytes(mib: f64) -> String {
    bytes(mib * KIB * KIB)
}

/// A rate of bytes per something: `1.5 KiB/request`, `2.0 MiB/s`.
pub fn bytes_per(b: f64, per: &str) -> String {
    format!("{}/{per}", bytes(b))
}

/// Seconds as `850 ms`, `1.2 s`, `12.5 min`, `5.5 hours` or `3.2 days`: the unit changes where
/// the number would otherwise pass 90 (under a second it is milliseconds).
pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        return format!("{s} s");
    }
    let a = s.abs();
    if a < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if a < 90.0 {
        format!("{s:.1} s")
    } else if a < 90.0 * 60.0 {
        format!("{:.1} min", s / 60.0)
    } else if a < 48.0 * 3600.0 {
        format!("{:.1} hours", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// A share 0..1 as `12.3%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_binary_units_with_their_names() {
        assert_eq!(bytes(0.0), "0 B");
        assert_eq!(bytes(12.0), "12 B");
        assert_eq!(bytes(1023.0), "1023 B");
        assert_eq!(bytes(1024.0), "1.0 KiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(38.1 * 1048576.0), "38.1 MiB");
        assert_eq!(bytes(300.0 * 1048576.0), "300 MiB");
        assert_eq!(bytes(2.0 * 1073741824.0), "2.0 GiB");
        assert_eq!(bytes(-1536.0), "-1.5 KiB");
        assert_eq!(bytes(-12.0), "-12 B");
        assert_eq!(bytes_u64(32 * 1024), "32.0 KiB");
        // 1023.9 KiB rounds to 1024 KiB: told as the next unit.
        assert_eq!(bytes(1023.9 * 1024.0), "1.0 MiB");
        assert_eq!(bytes(99.96 * 1024.0), "100 KiB");
        assert_eq!(bytes(f64::NAN), "NaN B");
    }

    #[test]
    fn signed_rates_and_mebibytes() {
        assert_eq!(bytes_signed(1536.0), "+1.5 KiB");
        assert_eq!(bytes_signed(-300.0), "-300 B");
        assert_eq!(bytes_per(1536.0, "request"), "1.5 KiB/request");
        assert_eq!(mebibytes(128.0), "128 MiB");
        assert_eq!(mebibytes(2048.0), "2.0 GiB");
    }

    #[test]
    fn durations_have_one_style() {
        assert_eq!(duration(0.85), "850 ms");
        assert_eq!(duration(1.2), "1.2 s");
        assert_eq!(duration(45.0), "45.0 s");
        assert_eq!(duration(12.5 * 60.0), "12.5 min");
        assert_eq!(duration(5.5 * 3600.0), "5.5 hours");
        assert_eq!(duration(3.2 * 86400.0), "3.2 days");
    }

    #[test]
    fn counts_and_shares() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(40146), "40,146");
        assert_eq!(thousands(117_426), "117,426");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(percent(0.123), "12.3%");
    }
}
