//! Hand-written scanners for the two big shapes in a snapshot: flat arrays of unsigned
//! integers (`nodes`, `edges`, `locations`) and the string table.
//!
//! A general JSON parser spends most of its time on generality these arrays never need;
//! the integer loop below is what makes a 1 GB file parse in about a second.

use crate::error::ParseError;
use crate::graph::Strings;

mod blocks;
#[doc(hidden)]
pub mod reference;

/// Skip JSON whitespace from `pos`.
#[inline]
pub fn skip_ws(buf: &[u8], mut pos: usize) -> usize {
    while pos < buf.len() && matches!(buf[pos], b' ' | b'\n' | b'\r' | b'\t') {
        pos += 1;
    }
    pos
}

/// Expect the byte `want` (after whitespace); return the position after it.
pub fn expect(
    buf: &[u8],
    pos: usize,
    want: u8,
    section: &'static str,
) -> Result<usize, ParseError> {
    let p = skip_ws(buf, pos);
    match buf.get(p) {
        Some(&b) if b == want => Ok(p + 1),
        Some(&b) => Err(ParseError::new(
            section,
            p,
            format!(
                "expected `{}`, found `{}`",
                want as char,
                (b as char).escape_default()
            ),
        )),
        None => Err(ParseError::new(
            section,
            p,
            format!("file ends early (truncated?), expected `{}`", want as char),
        )),
    }
}

/// Scan a JSON array of unsigned integers starting at `[` (after whitespace), handing them to
/// `push` in records of `width` values (the snapshot's field count), with the byte offset of
/// each record. Returns the position after `]`. `release(from, to)` is called now and then
/// with a range already read, so the caller can drop those pages of a memory map.
pub fn scan_records(
    buf: &[u8],
    pos: usize,
    section: &'static str,
    width: usize,
    push: impl FnMut(&[u64], usize) -> Result<(), ParseError>,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize, ParseError> {
    scan_records_into(buf, pos, section, width, &mut records(push), release)
}

/// [`scan_records`] into any [`Records`].
pub fn scan_records_into(
    buf: &[u8],
    pos: usize,
    section: &'static str,
    width: usize,
    push: &mut impl Records,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize, ParseError> {
    let p = expect(buf, pos, b'[', section)?;
    let q = skip_ws(buf, p);
    if q < buf.len() && buf[q] == b']' {
        return Ok(q + 1);
    }
    match scan_range(buf, p, usize::MAX, section, width, push, release)? {
        RangeEnd::Closed(end) => Ok(end),
        RangeEnd::Stopped(_) => unreachable!("no stop position was given"),
    }
}

/// Where the records of a number array go: the parser's columns, or any closure.
///
/// A trait rather than only closures so that the parser's column writers can be
/// `#[inline(always)]` into the scanner's loop (a closure called from the three places the
/// scanner completes a record was compiled as a call, returning its `Result` through memory).
pub trait Records {
    /// One record of `width` values; `at` is the byte offset of its first number.
    fn push(&mut self, record: &[u64], at: usize) -> Result<(), ParseError>;
}

/// [`Records`] of a closure; made by [`records`].
pub struct FnRecords<F>(F);

/// A closure as [`Records`] (a function, so that the closure's argument types are inferred).
pub fn records<F: FnMut(&[u64], usize) -> Result<(), ParseError>>(push: F) -> FnRecords<F> {
    FnRecords(push)
}

impl<F: FnMut(&[u64], usize) -> Result<(), ParseError>> Records for FnRecords<F> {
    #[inline(always)]
    fn push(&mut self, record: &[u64], at: usize) -> Result<(), ParseError> {
        (self.0)(record, at)
    }
}

/// Where [`scan_range`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeEnd {
    /// At the array's `]`; the position after it.
    Closed(usize),
    /// At `stop`, on a record boundary, right after a separator.
    Stopped(usize),
}

/// How many bytes [`scan_range`] reads between calls to `release`.
const RELEASE_EVERY: usize = 64 << 20;

/// Scan numbers from `pos` (the first number of a record, inside an array) until the array's
/// `]` or, if `stop` is reached first right after a separator, there. Stopping inside a record
/// is an error. This lets two threads scan halves of one array, the second one starting at a
/// record boundary (V8 writes one record per line).
///
/// Most of the array goes through [`blocks::block`], 64 bytes at a time; whatever it leaves
/// (the last bytes before `stop` or the end, any block with other bytes, long numbers) is read
/// byte-wise as before, which gives every error. Both read exactly what
/// [`reference::scan_range_reference`] reads, the oracle of the tests and the fuzz target.
pub fn scan_range(
    buf: &[u8],
    pos: usize,
    stop: usize,
    section: &'static str,
    width: usize,
    push: &mut impl Records,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<RangeEnd, ParseError> {
    let mut p = pos;
    let len = buf.len();
    let mut released = p;
    if width == 0 || width > MAX_WIDTH {
        return Err(ParseError::new(
            section,
            p,
            format!("unsupported field count {width}"),
        ));
    }
    let mut rec = [0u64; MAX_WIDTH];
    let mut k = 0usize;
    let mut rec_start = p;
    // Blocks read `READ` bytes and end before `stop`: each comma they pass is at least 16
    // bytes before it, so the stop is always found byte-wise, exactly where it was.
    let block_limit = stop.min(len);
    // After a block the fast path refused, read byte-wise past it before trying again.
    let mut bytewise_until = p;
    loop {
        if p >= bytewise_until {
            while p.saturating_add(blocks::READ) <= block_limit {
                let np = blocks::block(buf, p, |v, at| {
                    if k == 0 {
                        rec_start = at;
                    }
                    rec[k] = v;
                    k += 1;
                    if k == width {
                        k = 0;
                        push.push(&rec[..width], rec_start)?;
                    }
                    Ok::<(), ParseError>(())
                })?;
                if np == p {
                    bytewise_until = p + blocks::BLOCK;
                    break;
                }
                p = np;
                if p - released >= RELEASE_EVERY {
                    release(released, p);
                    released = p;
                }
            }
        }
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
            push.push(&rec[..width], rec_start)?;
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
        if p - released >= RELEASE_EVERY {
            release(released, p);
            released = p;
        }
    }
}

/// The most fields a record may have (V8 writes 7 per node, 3 per edge).
const MAX_WIDTH: usize = 32;

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

/// The error for what stands where an array's `,` or `]` should (`None`: the file ended).
fn not_a_separator(section: &'static str, p: usize, got: Option<u8>) -> ParseError {
    match got {
        Some(b) => ParseError::new(
            section,
            p,
            format!(
                "expected `,` or `]`, found `{}`",
                (b as char).escape_default()
            ),
        ),
        None => ParseError::new(section, p, "file ends early (truncated?) inside the array"),
    }
}

/// Scan a JSON array of strings. V8 writes lone surrogates (`"\udc80"`) for broken UTF-16,
/// which strict JSON parsers reject; they decode here to U+FFFD, as DevTools shows them.
pub fn scan_string_array(
    buf: &[u8],
    pos: usize,
    section: &'static str,
) -> Result<(Strings, usize), ParseError> {
    let mut p = expect(buf, pos, b'[', section)?;
    let mut out = Strings::new();
    p = skip_ws(buf, p);
    if buf.get(p) == Some(&b']') {
        return Ok((out, p + 1));
    }
    loop {
        let np = scan_string_into(buf, p, section, out.text())?;
        out.end_string();
        p = skip_ws(buf, np);
        match buf.get(p) {
            Some(b',') => p += 1,
            Some(b']') => return Ok((out, p + 1)),
            other => return Err(not_a_separator(section, p, other.copied())),
        }
    }
}

/// Scan one JSON string starting at its opening quote (after whitespace).
pub fn scan_string(
    buf: &[u8],
    pos: usize,
    section: &'static str,
) -> Result<(String, usize), ParseError> {
    let mut s = String::new();
    let np = scan_string_into(buf, pos, section, &mut s)?;
    Ok((s, np))
}

/// [`scan_string`], appending the text to `out` (no allocation per string); returns the
/// position after the closing quote.
pub fn scan_string_into(
    buf: &[u8],
    pos: usize,
    section: &'static str,
    out: &mut String,
) -> Result<usize, ParseError> {
    let start = expect(buf, pos, b'"', section)?;
    // Fast path: find the closing quote; most strings have no escapes.
    let mut p = start;
    let mut has_escape = false;
    while p < buf.len() {
        match buf[p] {
            b'"' => break,
            b'\\' => {
                has_escape = true;
                p += 2;
            }
            _ => p += 1,
        }
    }
    if p >= buf.len() {
        return Err(ParseError::new(
            section,
            start - 1,
            "file ends early (truncated?) inside a string",
        ));
    }
    let raw = &buf[start..p];
    if has_escape {
        out.push_str(&decode_escapes(raw, start, section)?);
    } else {
        match std::str::from_utf8(raw) {
            Ok(s) => out.push_str(s),
            Err(_) => out.push_str(&String::from_utf8_lossy(raw)),
        }
    }
    Ok(p + 1)
}

fn hex4(raw: &[u8], i: usize, base: usize, section: &'static str) -> Result<u32, ParseError> {
    let h = raw
        .get(i..i + 4)
        .ok_or_else(|| ParseError::new(section, base + i, "short \\u escape"))?;
    let mut v = 0u32;
    for &c in h {
        let d = (c as char)
            .to_digit(16)
            .ok_or_else(|| ParseError::new(section, base + i, "bad \\u escape"))?;
        v = v * 16 + d;
    }
    Ok(v)
}

fn decode_escapes(raw: &[u8], base: usize, section: &'static str) -> Result<String, ParseError> {
    let mut bytes: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            bytes.push(c);
            i += 1;
            continue;
        }
        let e = *raw
            .get(i + 1)
            .ok_or_else(|| ParseError::new(section, base + i, "unfinished escape"))?;
        i += 2;
        let ch: char = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw, i, base, section)?;
                i += 4;
                if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate: valid only when a low one follows.
                    if raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u') {
                        let lo = hex4(raw, i + 2, base, section)?;
                        if (0xDC00..0xE000).contains(&lo) {
                            i += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                .unwrap_or('\u{FFFD}')
                        } else {
                            '\u{FFFD}'
                        }
                    } else {
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            other => {
                return Err(ParseError::new(
                    section,
                    base + i - 1,
                    format!("bad escape `\\{}`", (other as char).escape_default()),
                ))
            }
        };
        let mut tmp = [0u8; 4];
        bytes.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], width: usize) -> Result<(Vec<u64>, usize), ParseError> {
        let mut v = vec![];
        let end = scan_records(
            text,
            0,
            "edges",
            width,
            |r, _| {
                v.extend_from_slice(r);
                Ok(())
            },
            &|_, _| {},
        )?;
        Ok((v, end))
    }

    #[test]
    fn numbers_and_errors() {
        let (v, end) = scan(b" [1, 22,\n5368709120 ] x", 1).unwrap();
        assert_eq!(v, vec![1, 22, 5_368_709_120]);
        assert_eq!(end, 21);
        assert_eq!(scan(b"[1,2\n,3,4]", 2).unwrap().0, vec![1, 2, 3, 4]);
        assert_eq!(
            scan(b"[18446744073709551615,000000000000000000000007]", 1)
                .unwrap()
                .0,
            vec![u64::MAX, 7]
        );
        let e = scan(b"[1,2", 1).unwrap_err();
        assert_eq!((e.section, e.offset), ("edges", 4));
        assert_eq!(scan(b"[1,-2]", 1).unwrap_err().offset, 3);
        assert!(scan(b"[1.5]", 1).is_err());
        assert!(scan(b"[1,2,3]", 2)
            .unwrap_err()
            .message
            .contains("inside a record"));
        assert!(scan(b"[99999999999999999999999]", 1).is_err());
    }

    /// Long arrays: every number length (1 to 20 digits), every separator V8 or a
    /// hand-edited file might write, record offsets, and errors far inside with their offsets.
    #[test]
    fn long_arrays_values_offsets_and_errors() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for layout in 0..4 {
            let mut text = String::from("[");
            let mut want = vec![];
            for i in 0..3000 {
                let digits = 1 + (rnd() % 20) as u32;
                let v = if digits == 20 {
                    u64::MAX - rnd() % 1000
                } else {
                    rnd() % 10u64.pow(digits)
                };
                if i > 0 {
                    text.push_str(match (layout, rnd() % 3) {
                        (0, _) => "\n,",
                        (1, 0) => ",",
                        (1, 1) => "\n,",
                        (1, _) => ",\n",
                        (2, 0) => ", ",
                        (2, _) => "\n\n,",
                        _ => ",",
                    });
                }
                text.push_str(&v.to_string());
                want.push(v);
            }
            text.push(']');
            let (got, end) = scan(text.as_bytes(), 3).unwrap();
            assert_eq!(got, want, "layout {layout}");
            assert_eq!(end, text.len());
            // Record offsets are where each record's first number starts.
            let mut starts = vec![];
            scan_records(
                text.as_bytes(),
                0,
                "edges",
                3,
                |_, at| {
                    starts.push(at);
                    Ok(())
                },
                &|_, _| {},
            )
            .unwrap();
            let b = text.as_bytes();
            let first_digits: Vec<usize> = (1..b.len())
                .filter(|&i| b[i].is_ascii_digit() && !b[i - 1].is_ascii_digit())
                .collect();
            let want_starts: Vec<usize> = first_digits.iter().copied().step_by(3).collect();
            assert_eq!(starts, want_starts, "layout {layout}");
            // An error far inside is found at its offset.
            for bad in [",,", ",-", ".5", ",x", "\t,", ",1e3"] {
                let at = text.len() / 2;
                let cut = at + text[at..].find(',').unwrap();
                let mut t = text.clone();
                t.insert_str(cut, bad);
                let e = scan(t.as_bytes(), 1).unwrap_err();
                assert!(
                    e.offset as usize >= cut && (e.offset as usize) < cut + 8,
                    "{bad:?}"
                );
            }
        }
        assert!(scan(b"[123456789012345678901,1]", 1).is_err());
    }

    /// The block scanner and the byte-wise reference agree on `text` from `pos`: the same
    /// records at the same offsets, the same end, the same error.
    fn agree(text: &[u8], pos: usize, stop: usize, width: usize) -> reference::Outcome {
        let got = reference::outcome(text, pos, stop, width);
        let want = reference::reference_outcome(text, pos, stop, width);
        assert_eq!(
            got,
            want,
            "width {width}, stop {stop}, text {:?}",
            String::from_utf8_lossy(text)
        );
        got
    }

    /// A number of `digits` digits (1..=20; some of 20 are past u64::MAX).
    fn number(digits: usize, salt: usize) -> String {
        (0..digits)
            .map(|i| {
                let d = if i == 0 {
                    1 + (salt + digits) % 9
                } else {
                    (salt * 7 + i * 3) % 10
                };
                char::from(b'0' + d as u8)
            })
            .collect()
    }

    /// An array with numbers of every length (1 to 20 digits) and the given separators, its
    /// first number pushed `shift` bytes right by newlines: run over every shift from 0 to
    /// 63, every number and separator lands at every offset of a 64-byte block, and the
    /// array's end at many.
    fn array(shift: usize, seps: &[&str], count: usize) -> String {
        let mut t = String::from("[");
        t.push_str(&"\n".repeat(shift));
        for i in 0..count {
            if i > 0 {
                t.push_str(seps[i % seps.len()]);
            }
            let digits = match i % 5 {
                0 => 1 + i % 20,
                1 => 1,
                2 => 8 + i % 3,
                _ => 1 + (i * 7) % 9,
            };
            t.push_str(&number(digits, i));
        }
        t.push(']');
        t
    }

    /// Numbers of 1 to 20 digits at every offset of a block, with `,`, `\n,` and other
    /// separators, records of 1, 3 and 7, the array's end at every offset: the values,
    /// record offsets and ends are the byte-wise scanner's (including `number too large`
    /// for the 20-digit numbers past u64::MAX).
    #[test]
    fn blocks_agree_with_the_bytewise_scanner_at_every_offset() {
        let layouts: [&[&str]; 5] = [
            &[","],
            &["\n,"],
            &[",", ",", "\n,"],
            &[",\n", "\n\n,\n"],
            &[",", " , ", "\r\n,"],
        ];
        let mut ok = 0;
        for seps in layouts {
            for shift in 0..64 {
                for count in [1, 2, 3, 7, 40, 41, 42, 120] {
                    let t = array(shift, seps, count);
                    for width in [1, 3, 7] {
                        if agree(t.as_bytes(), 1, usize::MAX, width).end.is_ok() {
                            ok += 1;
                        }
                    }
                }
            }
        }
        // Most of them parse (the rest end inside a record or hold a 20-digit overflow).
        assert!(ok > 1500, "{ok}");
        // Every length alone, at every offset, with no overflow: they all parse.
        for digits in 1..=19 {
            for shift in 0..64 {
                let mut t = String::from("[");
                t.push_str(&"\n".repeat(shift));
                let n = number(digits, shift);
                let want: u64 = n.parse().unwrap();
                for i in 0..30 {
                    if i > 0 {
                        t.push_str(if i % 3 == 0 { "\n," } else { "," });
                    }
                    t.push_str(&n);
                }
                t.push(']');
                let o = agree(t.as_bytes(), 1, usize::MAX, 1);
                assert!(o.end.is_ok(), "{t:?}");
                assert!(o.records.iter().all(|(_, r)| r == &[want]), "{t:?}");
            }
        }
    }

    /// Any byte at any position of an array that the fast path would otherwise read whole
    /// (stray whitespace, a second comma, a sign, a fraction, the end bracket, a quote, a
    /// high byte): the same error at the same offset, or the same records, as before.
    #[test]
    fn bad_bytes_at_every_offset_give_the_bytewise_errors() {
        let t = array(0, &[",", ",", "\n,"], 60);
        let bytes = [
            b' ', b',', b'\n', b'\r', b'\t', b'.', b'e', b'E', b'-', b'+', b']', b'[', b'"', b'x',
            0x80, 0xff, 0, b'0', b'9',
        ];
        let mut errors = 0;
        for at in 1..t.len() - 1 {
            for &b in &bytes {
                let mut bad = t.clone().into_bytes();
                bad[at] = b;
                for width in [1, 3] {
                    if agree(&bad, 1, usize::MAX, width).end.is_err() {
                        errors += 1;
                    }
                }
            }
        }
        assert!(errors > 1000, "{errors}");
        // Cut short at every length: the same `truncated` error.
        for cut in 2..t.len() {
            let o = agree(&t.as_bytes()[..cut], 1, usize::MAX, 1);
            assert!(o.end.is_err(), "{cut}");
        }
    }

    /// A record the caller refuses stops the scan at that record in both scanners, before
    /// any syntax error after it; the refused value at every offset of a block.
    #[test]
    fn refused_records_stop_both_scanners_alike() {
        for at in 0..70 {
            let mut t = String::from("[");
            for i in 0..80 {
                if i > 0 {
                    t.push(',');
                }
                t.push_str(if i == at { "4242" } else { "7" });
            }
            t.push_str(",x]");
            let o = agree(t.as_bytes(), 1, usize::MAX, 1);
            assert_eq!(o.end.unwrap_err().message, "record refused");
        }
    }

    /// Every stop position in a V8-layout array (records of 3 on lines of their own): the
    /// same stop, records and `split point` errors as the byte-wise scanner.
    #[test]
    fn stops_agree_at_every_position() {
        let mut t = String::from("[");
        for i in 0..600u64 {
            if i > 0 {
                t.push_str(if i % 3 == 0 { "\n," } else { "," });
            }
            t.push_str(&(i * 7919 % 100_000_003).to_string());
        }
        t.push(']');
        let mut stopped = 0;
        for stop in 1..=t.len() + 1 {
            if let Ok(RangeEnd::Stopped(_)) = agree(t.as_bytes(), 1, stop, 3).end {
                stopped += 1;
            }
            // From byte 0 too (a stop before the first block's end, found by the fuzzer).
            agree(&t.as_bytes()[1..], 0, stop - 1, 3);
        }
        assert!(stopped > 150, "{stopped}");
    }

    /// Against a plain split-and-parse (from the `scan3` branch): every digit count from 1 to
    /// 20, each separator V8 or an edited file writes, each position of the number relative
    /// to the end of the buffer, and values just past u64::MAX.
    #[test]
    fn every_length_separator_and_buffer_end() {
        let seps = [",", "\n,", ",\n", " , ", "\r\n,", "\n\n,", ",\t"];
        for digits in 1..=20u32 {
            let v = if digits == 20 {
                u64::MAX - 12_345
            } else {
                10u64.pow(digits - 1) + 7 * (digits as u64)
            };
            let num = v.to_string();
            assert_eq!(num.len() as u32, digits);
            for sep in seps {
                // 0..9 numbers after this one: the last numbers sit at every distance from `]`.
                for tail in 0..9usize {
                    let mut text = String::from("[");
                    let mut want = vec![];
                    for i in 0..=tail {
                        if i > 0 {
                            text.push_str(sep);
                        }
                        let w = if i % 2 == 0 { v } else { (i as u64) * 3 };
                        text.push_str(&w.to_string());
                        want.push(w);
                    }
                    text.push(']');
                    let (got, end) = scan(text.as_bytes(), 1).unwrap();
                    assert_eq!(got, want, "{text:?}");
                    assert_eq!(end, text.len(), "{text:?}");
                    // Width 2: records of two, or an odd count ending inside a record.
                    let r = scan(text.as_bytes(), 2);
                    if want.len() % 2 == 0 {
                        assert_eq!(r.unwrap().0, want, "{text:?}");
                    } else {
                        assert!(r.unwrap_err().message.contains("inside a record"));
                    }
                    // Truncated right after the last number or its separator.
                    let cut = &text.as_bytes()[..text.len() - 1];
                    assert!(scan(cut, 1).unwrap_err().message.contains("truncated"));
                }
            }
        }
        // Overflow is an error at any distance from the buffer's end; u64::MAX is not.
        for pad in 0..10 {
            let tail = ",1".repeat(pad);
            let ok = format!("[18446744073709551615{tail}]");
            assert_eq!(scan(ok.as_bytes(), 1).unwrap().0[0], u64::MAX);
            for bad in [
                "18446744073709551616",
                "99999999999999999999",
                "100000000000000000000",
            ] {
                let t = format!("[1,{bad}{tail}]");
                let e = scan(t.as_bytes(), 1).unwrap_err();
                assert_eq!(
                    (e.message.as_str(), e.offset),
                    ("number too large", 3),
                    "{t}"
                );
            }
        }
        // A non-digit, a fraction or a sign right after 1..7 digits, inside one 8-byte load.
        for (text, at) in [
            ("[1234567x,1,1,1]", 8),
            ("[12.5,1,1,1,1,1]", 3),
            ("[12e3,1,1,1,1,1]", 3),
            ("[1,-2,1,1,1,1,1]", 3),
            ("[123\n\n1,1,1,1,1]", 6),
        ] {
            let e = scan(text.as_bytes(), 1).unwrap_err();
            assert_eq!(e.offset as usize, at, "{text:?}: {}", e.message);
        }
    }

    /// Stops and release calls land where the byte-wise path put them, with the fast path
    /// taking most numbers (records of 3 on lines of their own, as V8 writes edges).
    #[test]
    fn stop_and_release_on_fast_path() {
        let mut text = String::from("[");
        for i in 0..3000u64 {
            if i > 0 {
                text.push_str(if i % 3 == 0 { "\n," } else { "," });
            }
            text.push_str(&(i * 7919 % 1_000_003).to_string());
        }
        text.push(']');
        let b = text.as_bytes();
        let (all, _) = scan(b, 3).unwrap();
        // Every record boundary is a valid stop; any other separator is refused.
        let mut seps = vec![];
        for (i, w) in b.windows(1).enumerate() {
            if w[0] == b',' {
                seps.push(i + 1);
            }
        }
        for (j, &stop) in seps.iter().enumerate().step_by(7) {
            let mut got = vec![];
            let r = scan_range(
                b,
                1,
                stop,
                "edges",
                3,
                &mut records(|r, _| {
                    got.extend_from_slice(r);
                    Ok(())
                }),
                &|_, _| {},
            );
            if (j + 1) % 3 == 0 {
                assert_eq!(r.unwrap(), RangeEnd::Stopped(stop));
                assert_eq!(got, all[..j + 1], "stop {stop}");
            } else {
                assert!(
                    r.unwrap_err().message.contains("split point"),
                    "stop {stop}"
                );
            }
        }
        // The release at the end covers everything read.
        let released = std::sync::Mutex::new((usize::MAX, 0));
        scan_records(b, 0, "edges", 3, |_, _| Ok(()), &|from, to| {
            let mut r = released.lock().unwrap();
            *r = (r.0.min(from), r.1.max(to));
        })
        .unwrap();
        assert_eq!(*released.lock().unwrap(), (1, b.len() - 1));
    }

    #[test]
    fn eight_digit_words() {
        for text in [
            "0,", "7]", "12,", "123\n", "99999999", "12345678", "1234567,", "10203040", "00000001",
            "5,6,7,8,",
        ] {
            let mut b = [b'x'; 8];
            b[..text.len()].copy_from_slice(text.as_bytes());
            let n = text.bytes().take_while(|c| c.is_ascii_digit()).count();
            let want = text[..n].parse::<u64>().unwrap_or(0);
            assert_eq!(eight_digits(u64::from_le_bytes(b)), (want, n), "{text}");
        }
        assert_eq!(eight_digits(u64::from_le_bytes(*b",1234567")), (0, 0));
    }

    #[test]
    fn split_ranges_match_one_scan() {
        let text = b"[1,2,3\n,44,55,66\n,7,8,9\n,100000000000,11,12]";
        let (all, _) = scan(text, 3).unwrap();
        let split = text.windows(2).position(|w| w == b"\n,").unwrap() + 2;
        let mut a = vec![];
        let r = scan_range(
            text,
            1,
            split,
            "edges",
            3,
            &mut records(|r, _| {
                a.extend_from_slice(r);
                Ok(())
            }),
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(r, RangeEnd::Stopped(split));
        let r = scan_range(
            text,
            split,
            usize::MAX,
            "edges",
            3,
            &mut records(|r, _| {
                a.extend_from_slice(r);
                Ok(())
            }),
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(r, RangeEnd::Closed(text.len()));
        assert_eq!(a, all);
        // A stop inside a record is refused (the caller then scans in one piece).
        assert!(scan_range(
            text,
            1,
            3,
            "edges",
            3,
            &mut records(|_, _| Ok(())),
            &|_, _| {}
        )
        .is_err());
    }

    #[test]
    fn strings_with_lossy_escapes() {
        let (v, _) = scan_string_array(
            br#"["a", "b\"c", "\udc80x", "\ud83d\ude00", "\u00e9\n"]"#,
            0,
            "strings",
        )
        .unwrap();
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            vec!["a", "b\"c", "\u{FFFD}x", "😀", "é\n"]
        );
        let e = scan_string_array(br#"["abc"#, 0, "strings").unwrap_err();
        assert_eq!(e.section, "strings");
        assert!(e.message.contains("truncated"));
    }
}
