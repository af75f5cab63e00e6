//! Hand-written scanners for the two big shapes in a snapshot: flat arrays of unsigned
//! integers (`nodes`, `edges`, `locations`) and the string table.
//!
//! A general JSON parser spends most of its time on generality these arrays never need;
//! the integer loop below is what makes a 1 GB file parse in about a second.

use crate::error::ParseError;

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
    mut push: impl FnMut(&[u64], usize) -> Result<(), ParseError>,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize, ParseError> {
    let mut p = expect(buf, pos, b'[', section)?;
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
    p = skip_ws(buf, p);
    if p < len && buf[p] == b']' {
        return Ok(p + 1);
    }
    loop {
        // One number. V8 writes no leading whitespace except newlines before commas.
        if p < len && !buf[p].is_ascii_digit() {
            p = skip_ws(buf, p);
        }
        let start = p;
        let mut v: u64 = 0;
        while p < len {
            let d = buf[p].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(d as u64);
            p += 1;
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
            continue;
        }
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
                return Ok(p + 1);
            }
            Some(&b) => {
                return Err(ParseError::new(
                    section,
                    p,
                    format!(
                        "expected `,` or `]`, found `{}`",
                        (b as char).escape_default()
                    ),
                ))
            }
            None => {
                return Err(ParseError::new(
                    section,
                    p,
                    "file ends early (truncated?) inside the array",
                ))
            }
        }
        if p - released >= 64 << 20 {
            release(released, p);
            released = p;
        }
    }
}

/// Scan a JSON array of strings. V8 writes lone surrogates (`"\udc80"`) for broken UTF-16,
/// which strict JSON parsers reject; they decode here to U+FFFD, as DevTools shows them.
pub fn scan_string_array(
    buf: &[u8],
    pos: usize,
    section: &'static str,
) -> Result<(Vec<String>, usize), ParseError> {
    let mut p = expect(buf, pos, b'[', section)?;
    let mut out = Vec::new();
    p = skip_ws(buf, p);
    if buf.get(p) == Some(&b']') {
        return Ok((out, p + 1));
    }
    loop {
        let (s, np) = scan_string(buf, p, section)?;
        out.push(s);
        p = skip_ws(buf, np);
        match buf.get(p) {
            Some(b',') => p += 1,
            Some(b']') => return Ok((out, p + 1)),
            Some(&b) => {
                return Err(ParseError::new(
                    section,
                    p,
                    format!(
                        "expected `,` or `]`, found `{}`",
                        (b as char).escape_default()
                    ),
                ))
            }
            None => {
                return Err(ParseError::new(
                    section,
                    p,
                    "file ends early (truncated?) inside the array",
                ))
            }
        }
    }
}

/// Scan one JSON string starting at its opening quote (after whitespace).
pub fn scan_string(
    buf: &[u8],
    pos: usize,
    section: &'static str,
) -> Result<(String, usize), ParseError> {
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
    let s = if has_escape {
        decode_escapes(raw, start, section)?
    } else {
        String::from_utf8_lossy(raw).into_owned()
    };
    Ok((s, p + 1))
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

    #[test]
    fn strings_with_lossy_escapes() {
        let (v, _) = scan_string_array(
            br#"["a", "b\"c", "\udc80x", "\ud83d\ude00", "\u00e9\n"]"#,
            0,
            "strings",
        )
        .unwrap();
        assert_eq!(v, vec!["a", "b\"c", "\u{FFFD}x", "😀", "é\n"]);
        let e = scan_string_array(br#"["abc"#, 0, "strings").unwrap_err();
        assert_eq!(e.section, "strings");
        assert!(e.message.contains("truncated"));
    }
}
