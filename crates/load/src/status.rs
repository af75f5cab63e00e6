//! Which HTTP statuses count as a success: `--expect-status LIST`.
//!
//! A user who aims at an error path on purpose (a 404 handler, a validation route answering
//! 400) says so, and those answers count as successes; everything else (and every transport
//! error) is a failure. The default is 2xx and 3xx: a redirect is an answer, not a fault.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// A set of HTTP statuses, as inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<RangeInclusive<u16>>,
    /// The text it was parsed from (or `2xx,3xx`), for messages.
    text: String,
}

impl Default for StatusSet {
    /// 2xx and 3xx.
    fn default() -> Self {
        StatusSet {
            ranges: vec![200..=399],
            text: "2xx,3xx".into(),
        }
    }
}

impl StatusSet {
    pub fn contains(&self, status: u16) -> bool {
        self.ranges.iter().any(|r| r.contains(&status))
    }

    /// Whether this is the default (2xx/3xx), so messages can say "--expect-status" only when
    /// the user gave one.
    pub fn is_default(&self) -> bool {
        *self == StatusSet::default()
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn code(s: &str, whole: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(c) if (100..=599).contains(&c) => Ok(c),
        _ => Err(format!(
            "{whole:?}: `{}` is not an HTTP status (expected codes like 404, classes like 4xx, \
             or ranges like 200-299, comma-separated)",
            s.trim()
        )),
    }
}

impl FromStr for StatusSet {
    type Err = String;

    /// `400`, `4xx`, `200-299`, comma-separated.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let p = part.trim();
            let lower = p.to_ascii_lowercase();
            let range = if let Some(c) = lower.strip_suffix("xx") {
                match c.parse::<u16>() {
                    Ok(d @ 1..=5) if c.len() == 1 => d * 100..=d * 100 + 99,
                    _ => return Err(format!("{s:?}: `{p}` is not a status class (1xx to 5xx)")),
                }
            } else if let Some((a, b)) = p.split_once('-') {
                let (a, b) = (code(a, s)?, code(b, s)?);
                if a > b {
                    return Err(format!("{s:?}: the range `{p}` is empty"));
                }
                a..=b
            } else {
                let c = code(p, s)?;
                c..=c
            };
            ranges.push(range);
        }
        Ok(StatusSet {
            ranges,
            text: s.split(',').map(str::trim).collect::<Vec<_>>().join(","),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classes_and_ranges() {
        let s: StatusSet = "400, 5xx,200-204".parse().unwrap();
        assert!(s.contains(400) && !s.contains(401));
        assert!(s.contains(500) && s.contains(599));
        assert!(s.contains(204) && !s.contains(205));
        assert_eq!(s.to_string(), "400,5xx,200-204");
        assert!(!s.is_default());
    }

    #[test]
    fn the_default_is_2xx_and_3xx() {
        let d = StatusSet::default();
        assert!(d.contains(200) && d.contains(302) && !d.contains(404) && !d.contains(101));
        assert!(d.is_default());
    }

    #[test]
    fn bad_lists_say_what_is_wrong() {
        for (bad, says) in [
            ("", "not an HTTP status"),
            ("6xx", "not a status class"),
            ("4x", "not an HTTP status"),
            ("299-200", "is empty"),
            ("200,abc", "`abc` is not an HTTP status"),
            ("99", "not an HTTP status"),
        ] {
            let e = bad.parse::<StatusSet>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
