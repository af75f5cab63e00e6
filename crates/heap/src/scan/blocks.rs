//! The number scanner's fast path: 64 bytes at a time, the way simdjson finds structure.
//!
//! The byte-wise loop spent most of its time waiting: each number's length decided where the
//! next load came from, so every number paid a load, a digit test and a multiply in sequence.
//! Here one pass of vector compares gives the block's digit and comma bitmasks; the number
//! starts and ends fall out of them with shifts, the separators are checked for the whole
//! block at once, and then each number converts independently of the others (the CPU
//! overlaps them). A block holding anything but digits, commas and newlines, a separator
//! that is not exactly one comma, or a number over 16 digits is left to the byte-wise path,
//! which reads it and reports any error as it always has.

/// Bytes classified per block.
pub const BLOCK: usize = 64;
/// Bytes a block may read from its start: a number starting in the last byte of the block
/// is read with two 8-byte loads.
pub const READ: usize = BLOCK + 16;
/// The longest number converted here; longer ones (up to 20 digits, or too large for u64)
/// go to the byte-wise path. 16 digits fit two 8-byte loads and never overflow.
const MAX_DIGITS: usize = 16;

/// `0` in every byte: XOR turns ASCII digits into their values.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// Decode the numbers of the block at `p` that are followed by a whole separator inside it,
/// handing each value and its byte offset to `each` in file order; returns where the first
/// number not decoded starts. `p` must be
/// right after a comma or the array's `[` (before a number, or newlines and a number).
///
/// Returns `p` itself when nothing can be decoded here (or fewer than [`READ`] bytes are
/// left): the caller then reads on byte-wise. Everything decoded is exactly what the
/// byte-wise path would have read: digits only, each number followed by newlines, one comma
/// and newlines, then the next number.
#[inline(always)]
pub fn block<E>(
    buf: &[u8],
    p: usize,
    mut each: impl FnMut(u64, usize) -> Result<(), E>,
) -> Result<usize, E> {
    let Some(chunk) = buf
        .get(p..p + READ)
        .and_then(|c| <&[u8; READ]>::try_from(c).ok())
    else {
        return Ok(p);
    };
    let head: &[u8; BLOCK] = chunk[..BLOCK].try_into().expect("64 bytes");
    let Classes {
        digit,
        comma,
        other,
    } = classify(head);
    let starts = digit & !(digit << 1);
    if other != 0 || starts == 0 {
        return Ok(p);
    }
    // The last number may run past the block, or its separator may: it starts the next block.
    let last = 63 - starts.leading_zeros();
    let upto = (2u64 << last).wrapping_sub(1);
    let before_last = upto >> 1;
    // Up to the block's last number, number starts and commas must alternate, a start first:
    // counting both in order, every start is an odd one and every comma an even one.
    // (Newlines may stand anywhere between.)
    let events = (starts | comma) & upto;
    let odd = prefix_xor(events);
    if ((starts & !odd) | (comma & odd)) & upto != 0 {
        return Ok(p);
    }
    let mut begin = starts & before_last;
    let mut end = !digit & (digit << 1) & before_last;
    while begin != 0 {
        let s = begin.trailing_zeros() as usize;
        let len = end.trailing_zeros() as usize - s;
        if len > MAX_DIGITS {
            return Ok(p + s);
        }
        each(value(chunk, s, len), p + s)?;
        begin &= begin - 1;
        end &= end - 1;
    }
    Ok(p + last as usize)
}

/// The value of the `len` (1..=16) digits at `chunk[s..]`.
#[inline(always)]
fn value(chunk: &[u8; READ], s: usize, len: usize) -> u64 {
    let load = |at: usize| {
        let w: [u8; 8] = chunk[at..at + 8].try_into().expect("8 bytes");
        u64::from_le_bytes(w) ^ ZEROS
    };
    let hi = load(s);
    if len <= 8 {
        // The digits moved to the top bytes; the bytes shifted in read as leading zeros.
        digits8(hi << (8 * (8 - len)))
    } else {
        digits8(hi) * POW10[len - 8] + digits8(load(s + 8) << (8 * (16 - len)))
    }
}

/// Powers of ten for joining a second 8-byte group of digits to the first.
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The value of eight digit values (0..=9, one per byte, the first byte most significant):
/// the classic multiply-and-shift combining (simdjson's `parse_eight_digits_unrolled`).
#[inline(always)]
pub(super) fn digits8(x: u64) -> u64 {
    let v = x.wrapping_mul(10).wrapping_add(x >> 8);
    ((v & 0x0000_00ff_0000_00ff)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

/// Bit `i` of each mask is byte `i` of the block.
#[derive(Debug, PartialEq, Eq)]
struct Classes {
    digit: u64,
    comma: u64,
    /// Neither a digit, a comma nor a newline.
    other: u64,
}

/// Each bit becomes the XOR of itself and all lower bits (the parity of the set bits up to
/// and including it).
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(b: &[u8; BLOCK]) -> Classes {
    classify_sse2(b)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(b: &[u8; BLOCK]) -> Classes {
    classify_swar(b)
}

/// [`classify`] with 16-byte compares (SSE2 is part of every x86_64).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify_sse2(b: &[u8; BLOCK]) -> Classes {
    use std::arch::x86_64::*;
    let (mut digit, mut comma, mut known) = (0u64, 0u64, 0u64);
    // SAFETY: SSE2 is always available on x86_64, and each unaligned 16-byte load reads
    // inside `b` (offsets 0, 16, 32 and 48 of 64 bytes).
    unsafe {
        let below0 = _mm_set1_epi8(b'0' as i8 - 1);
        let above9 = _mm_set1_epi8(b'9' as i8 + 1);
        let commas = _mm_set1_epi8(b',' as i8);
        let newlines = _mm_set1_epi8(b'\n' as i8);
        for i in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * i) as *const __m128i);
            // Signed compares: bytes >= 0x80 are negative, below `0`, so not digits.
            let d = _mm_and_si128(_mm_cmpgt_epi8(v, below0), _mm_cmplt_epi8(v, above9));
            let c = _mm_cmpeq_epi8(v, commas);
            let k = _mm_or_si128(_mm_or_si128(d, c), _mm_cmpeq_epi8(v, newlines));
            let bits = |m: __m128i| (_mm_movemask_epi8(m) as u32 as u64 & 0xffff) << (16 * i);
            digit |= bits(d);
            comma |= bits(c);
            known |= bits(k);
        }
    }
    Classes {
        digit,
        comma,
        other: !known,
    }
}

/// [`classify`] eight bytes at a time in a `u64` (SWAR), for targets without the x86_64
/// path (the aarch64 build); tested on every target against the byte-by-byte definition.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn classify_swar(b: &[u8; BLOCK]) -> Classes {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The high bit of each byte that is zero.
    let zero = |x: u64| !((((x & LO7).wrapping_add(LO7)) | x) & HI) & HI;
    // The high bits of the eight bytes as eight low bits.
    let gather = |m: u64| ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) & 0xff;
    let (mut digit, mut comma, mut other) = (0u64, 0u64, 0u64);
    for i in 0..8 {
        let w = u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        let x = w ^ ZEROS;
        // A digit's value is below 10: adding 0x76 to the low seven bits leaves bit 7 clear.
        let d = !((((x & LO7).wrapping_add(0x7676_7676_7676_7676)) | x) & HI) & HI;
        let c = zero(w ^ (b',' as u64 * ONES));
        let n = zero(w ^ (b'\n' as u64 * ONES));
        digit |= gather(d) << (8 * i);
        comma |= gather(c) << (8 * i);
        other |= gather(!(d | c | n) & HI) << (8 * i);
    }
    Classes {
        digit,
        comma,
        other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_bytes(b: &[u8; BLOCK]) -> Classes {
        let mask = |f: &dyn Fn(u8) -> bool| {
            b.iter()
                .enumerate()
                .filter(|(_, &c)| f(c))
                .fold(0u64, |m, (i, _)| m | 1 << i)
        };
        Classes {
            digit: mask(&|c| c.is_ascii_digit()),
            comma: mask(&|c| c == b','),
            other: mask(&|c| !c.is_ascii_digit() && c != b',' && c != b'\n'),
        }
    }

    /// Every byte value at every position of a block of digits, commas and newlines,
    /// classified as the byte-by-byte definition says, by the target's path and by SWAR.
    #[test]
    fn classes_of_every_byte_at_every_position() {
        let base: Vec<u8> = b"12,\n9".iter().copied().cycle().take(BLOCK).collect();
        for at in 0..BLOCK {
            for byte in 0..=255u8 {
                let mut b: [u8; BLOCK] = base.clone().try_into().unwrap();
                b[at] = byte;
                let want = classify_bytes(&b);
                assert_eq!(classify(&b), want, "byte {byte:#x} at {at}");
                assert_eq!(classify_swar(&b), want, "SWAR: byte {byte:#x} at {at}");
            }
        }
        // Blocks of one byte value throughout (all bits of a mask at once).
        for byte in 0..=255u8 {
            let b = [byte; BLOCK];
            assert_eq!(classify(&b), classify_bytes(&b), "all {byte:#x}");
            assert_eq!(classify_swar(&b), classify_bytes(&b), "SWAR: all {byte:#x}");
        }
    }

    #[test]
    fn prefix_parity() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let want = (0..64).fold(0u64, |m, i| {
                m | (((seed & (u64::MAX >> (63 - i))).count_ones() as u64 & 1) << i)
            });
            assert_eq!(prefix_xor(seed), want, "{seed:#x}");
        }
    }

    /// Every length from 1 to 16 digits, with leading 1, 9 or 0, at the first, a middle and
    /// the last byte of the block.
    #[test]
    fn values_of_every_length() {
        for len in 1..=MAX_DIGITS {
            for lead in [b'1', b'9', b'0'] {
                let text: Vec<u8> = (0..len)
                    .map(|i| {
                        if i == 0 {
                            lead
                        } else {
                            b'0' + (i * 7 % 10) as u8
                        }
                    })
                    .collect();
                let want: u64 = std::str::from_utf8(&text).unwrap().parse().unwrap();
                for s in [0, 5, BLOCK - 1] {
                    let mut c = [b','; READ];
                    c[s..s + len].copy_from_slice(&text);
                    assert_eq!(value(&c, s, len), want, "{len} digits at {s}");
                }
            }
        }
        assert_eq!(
            digits8(u64::from_le_bytes(*b"12345678") ^ ZEROS),
            12_345_678
        );
    }
}
