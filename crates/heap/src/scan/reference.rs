//! The byte-wise number scanner as it was before the block fast path: the oracle the
//! block scanner is checked against (unit tests and the `scan_numbers` fuzz target). Kept
//! verbatim on purpose; do not optimise it.

use super::{not_a_separator, skip_ws, RangeEnd};
use crate::error::ParseError;

/// [`super::scan_range`] before the block fast path. Scan numbers from `pos` (the first number of a record, inside an array) until the array's
/// `]` or, if `stop` is reached first right after a separator, there. Stopping inside a record
/// is an error. This lets two threads scan halves of one array, the second one starting at a
/// record boundary (V8 writes one record per line).
pub fn scan_range_reference(
    buf: &[u8],
    pos: usize,
    stop: usize,
    section: &'static str,
    width: usize,
    mut push: impl FnMut(&[u64], usize) -> Result<(), ParseError>,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<RangeEnd, ParseError> {
    let mut p = pos;
    let len = buf.len();
    let mut released = p;
    let mut rec = [0u64; 32];
    if width == 0 || width > rec.len() {
        return Err(ParseError::new(
            section,
            p,
            format!("unsupported field count {width}"),
        ));
    }
    let mut k = 0usize;
    let mut rec_start = p;
    loop {
        // One number. V8 writes no leading whitespace except newlines before commas.
        if p < len && !buf[p].is_ascii_digit() {
            p = skip_ws(buf, p);
        }
        let start = p;
        let mut v: u64 = 0;
        // Eight bytes at a time: most numbers end inside the first word.
        if p + 8 <= len {
            let word = u64::from_le_bytes(buf[p..p + 8].try_into().expect("8 bytes"));
            let (val, n) = eight_digits(word);
            v = val;
            p += n;
            if n == 8 {
                while p < len {
                    let d = buf[p].wrapping_sub(b'0');
                    if d > 9 {
                        break;
                    }
                    v = v.wrapping_mul(10).wrapping_add(d as u64);
                    p += 1;
                }
            }
        } else {
            while p < len {
                let d = buf[p].wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                v = v.wrapping_mul(10).wrapping_add(d as u64);
                p += 1;
            }
        }
        let digits = p - start;
        if digits == 0 {
            return Err(match buf.get(p) {
                None => {
                    ParseError::new(section, p, "file ends early (truncated?) inside the array")
                }
                Some(&b) => ParseError::new(
                    section,
                    p,
                    format!(
                        "expected an unsigned integer, found `{}`",
                        (b as char).escape_default()
                    ),
                ),
            });
        }
        if digits > 19 {
            // Re-check precisely: only values above u64::MAX are errors.
            let text = std::str::from_utf8(&buf[start..p]).unwrap_or("");
            v = text
                .trim_start_matches('0')
                .parse::<u64>()
                .or_else(|e| {
                    if text.bytes().all(|b| b == b'0') {
                        Ok(0)
                    } else {
                        Err(e)
                    }
                })
                .map_err(|_| ParseError::new(section, start, "number too large"))?;
        }
        // Fractions and exponents never appear in these arrays; reject rather than misread.
        if p < len && matches!(buf[p], b'.' | b'e' | b'E') {
            return Err(ParseError::new(
                section,
                p,
                "expected an unsigned integer, found a fraction",
            ));
        }
        if k == 0 {
            rec_start = start;
        }
        rec[k] = v;
        k += 1;
        if k == width {
            push(&rec[..width], rec_start)?;
            k = 0;
        }
        if p < len && buf[p] == b',' {
            p += 1;
        } else {
            p = skip_ws(buf, p);
            match buf.get(p) {
                Some(b',') => p += 1,
                Some(b']') => {
                    if k != 0 {
                        return Err(ParseError::new(
                            section,
                            p,
                            format!("the array ends inside a record ({k} of {width} fields)"),
                        ));
                    }
                    release(released, p);
                    return Ok(RangeEnd::Closed(p + 1));
                }
                other => return Err(not_a_separator(section, p, other.copied())),
            }
        }
        if p >= stop {
            if k != 0 {
                return Err(ParseError::new(
                    section,
                    p,
                    "the split point is inside a record",
                ));
            }
            release(released, p);
            return Ok(RangeEnd::Stopped(p));
        }
        if p - released >= 64 << 20 {
            release(released, p);
            released = p;
        }
    }
}

/// The value of the leading ASCII digits of `word` (bytes in file order, little-endian) and
/// how many there are (0..=8), without a loop: SWAR digit test and the classic
/// multiply-and-shift digit combining (as in simdjson's `parse_eight_digits_unrolled`).
#[inline]
fn eight_digits(word: u64) -> (u64, usize) {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    let x = word ^ 0x3030_3030_3030_3030;
    // High bit set in each byte that is not a digit (x >= 10 there).
    let nondigit = (((x & LO7).wrapping_add(0x7676_7676_7676_7676)) | x) & HI;
    let n = (nondigit.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // Keep the n digit bytes, moved to the top so the missing ones read as leading zeros.
    let mut v = x << (8 * (8 - n));
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    v = ((v & 0x0000_00ff_0000_00ff)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    (v, n)
}

/// What one scan did, for comparing two scanners: each record handed over (its offset and
/// values) and how the scan ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub records: Vec<(usize, Vec<u64>)>,
    pub end: Result<RangeEnd, ParseError>,
}

/// The record value the comparison's `push` refuses (with an error), so that the order of a
/// refused record and a syntax error after it is compared too.
pub const REFUSED: u64 = 4242;

fn keep(records: &mut Vec<(usize, Vec<u64>)>, r: &[u64], at: usize) -> Result<(), ParseError> {
    records.push((at, r.to_vec()));
    if r[0] == REFUSED {
        return Err(ParseError::new("test", at, "record refused"));
    }
    Ok(())
}

/// [`super::scan_range`] on `buf` from `pos`, as an [`Outcome`].
pub fn outcome(buf: &[u8], pos: usize, stop: usize, width: usize) -> Outcome {
    let mut records = Vec::new();
    let end = super::scan_range(
        buf,
        pos,
        stop,
        "edges",
        width,
        &mut super::records(|r, at| keep(&mut records, r, at)),
        &|_, _| {},
    );
    Outcome { records, end }
}

/// [`scan_range_reference`] on `buf` from `pos`, as an [`Outcome`].
pub fn reference_outcome(buf: &[u8], pos: usize, stop: usize, width: usize) -> Outcome {
    let mut records = Vec::new();
    let end = scan_range_reference(
        buf,
        pos,
        stop,
        "edges",
        width,
        |r, at| keep(&mut records, r, at),
        &|_, _| {},
    );
    Outcome { records, end }
}
