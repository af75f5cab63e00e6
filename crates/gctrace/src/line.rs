//! One line of trace output in, one classified [`Line`] out: a hand-written byte scanner.
//!
//! A regex would be simpler to read, but `leakhound gc` must keep up with a chatty service and
//! with multi-gigabyte saved logs, so the plain format is matched field by field without
//! allocation. Only the rare Node 25+ `GC: {json}` line goes through serde_json.

use serde::Serialize;
use std::borrow::Cow;

pub use leakhound_schema::gc::{Collector, Format};

/// Incremental marking that preceded a major GC: `(+ I ms in N steps …, walltime … W ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IncrementalMarking {
    pub ms: f64,
    pub steps: u64,
    pub biggest_step_ms: Option<f64>,
    pub walltime_ms: Option<f64>,
}

/// One garbage collection, in whatever format it was printed. Sizes are in MB (2^20 bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcEvent<'a> {
    pub format: Format,
    pub pid: u32,
    /// Isolate address (the `0x…` after the pid).
    pub isolate: u64,
    /// Milliseconds since the isolate started.
    pub t_ms: f64,
    pub collector: Collector,
    /// `Shared ` prefix (a shared-heap GC, Node 18 format).
    pub shared: bool,
    /// ` (reduce)`: a memory-reducing GC.
    pub reduce: bool,
    /// ` (interleaved)` / ` (during sweeping)`: a young GC while a major GC was still sweeping.
    pub during_sweeping: bool,
    /// Live object size before and after (MB).
    pub before_mb: f64,
    pub after_mb: f64,
    /// Committed heap memory before and after (MB), when printed.
    pub before_committed_mb: Option<f64>,
    pub after_committed_mb: Option<f64>,
    /// `pooled: N MB` (Node 22+).
    pub pooled_mb: Option<f64>,
    /// Main-thread pause.
    pub pause_ms: f64,
    /// Time in embedder/external callbacks (the number after ` / `).
    pub external_ms: Option<f64>,
    pub incremental: Option<IncrementalMarking>,
    pub average_mu: Option<f64>,
    pub current_mu: Option<f64>,
    /// GC reason (`allocation failure`, `task`, …); empty when the format does not say.
    pub reason: Cow<'a, str>,
    /// Collector reason after `; ` (`scavenge might not succeed`, …), possibly empty.
    pub collector_reason: Cow<'a, str>,
    /// True when the line was cut (OOM ring buffer) and fields after the sizes are missing.
    pub truncated: bool,
}

pub use leakhound_schema::gc::FatalReason;

/// What one line of output is.
// Boxing the event would cost an allocation per GC line on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// A GC trace line in any format.
    Gc(GcEvent<'a>),
    /// Other V8 heap tracing output that is not a GC event (`--trace-gc-verbose` tables,
    /// `[HeapController]`, `Memory pool:`, NVP `action=` lines).
    GcInfo,
    /// `<--- Last few GCs --->`: the start of the OOM banner's ring buffer.
    OomBannerStart,
    /// `<--- JS stacktrace --->` (Node 18–22 OOM banner).
    JsStacktrace,
    /// `FATAL ERROR: … JavaScript heap out of memory`.
    Fatal(FatalReason),
    /// `----- Native stack trace -----`.
    NativeStackHeader,
    /// ` 1: 0xb78db3 node::Abort() [/usr/bin/node]`.
    NativeFrame,
    /// Empty or whitespace only.
    Blank,
    /// Starts like a GC line (`[pid:0x…] … ms: `) but the rest could not be parsed.
    Malformed,
    /// Anything else: the application's own output.
    Other,
}

const MB: f64 = 1024.0 * 1024.0;

/// Classify one line (with or without its trailing newline). Never panics, never allocates for
/// plain-format lines.
pub fn parse_line(line: &[u8]) -> Line<'_> {
    let s = trim_end(line);
    if s.is_empty() {
        return Line::Blank;
    }
    if s[0] == b'[' {
        return match parse_prefixed(s, false) {
            Some(l) => l,
            None => Line::Other,
        };
    }
    classify_other(s)
}

/// Parse a possibly cut GC entry from the OOM ring buffer: like [`parse_line`], but a line cut
/// after its sizes still yields an event (with `truncated` set). `None` when even the sizes
/// are missing.
pub fn parse_ring_entry(entry: &[u8]) -> Option<GcEvent<'_>> {
    match parse_prefixed(trim_end(entry), true) {
        Some(Line::Gc(ev)) => Some(ev),
        _ => None,
    }
}

fn classify_other(s: &[u8]) -> Line<'_> {
    let first = s[0];
    if first == b'<' {
        if s.starts_with(b"<--- Last few GCs --->") {
            return Line::OomBannerStart;
        }
        if s.starts_with(b"<--- JS stacktrace --->") {
            return Line::JsStacktrace;
        }
        return Line::Other;
    }
    if first == b'-' && s.starts_with(b"----- Native stack trace -----") {
        return Line::NativeStackHeader;
    }
    if first == b',' && s.starts_with(b", removed zone reservations:") {
        // Second half of Node 26's two-line `Memory pool:` NVP message.
        return Line::GcInfo;
    }
    if let Some(r) = fatal_reason(s) {
        return Line::Fatal(r);
    }
    if is_native_frame(s) {
        return Line::NativeFrame;
    }
    if s.iter().all(|b| b.is_ascii_whitespace()) {
        return Line::Blank;
    }
    Line::Other
}

/// `FATAL ERROR: <reason> Allocation failed - JavaScript heap out of memory`, anywhere in `s`
/// (the ring buffer can glue it to a cut entry).
pub(crate) fn fatal_reason(s: &[u8]) -> Option<FatalReason> {
    let pos = find(s, b"JavaScript heap out of memory")?;
    let head = &s[..pos];
    Some(if find(head, b"Reached heap limit").is_some() {
        FatalReason::ReachedHeapLimit
    } else if find(head, b"Ineffective mark-compacts").is_some() {
        FatalReason::IneffectiveMarkCompacts
    } else {
        FatalReason::Other
    })
}

fn is_native_frame(s: &[u8]) -> bool {
    let mut c = Cursor::new(s);
    c.skip_spaces();
    c.digits().is_some() && c.eat(b": 0x")
}

#[inline]
fn parse_prefixed(s: &[u8], lenient: bool) -> Option<Line<'_>> {
    let mut c = Cursor::new(s);
    c.expect(b"[")?;
    let pid = c.digits()?;
    c.expect(b":0x")?;
    let isolate = c.hex()?;
    if c.eat(b":") {
        // Node 24+ NVP: `[pid:addr:0]`.
        c.digits()?;
    }
    c.expect(b"]")?;
    c.skip_spaces();
    let t_ms = match c.number() {
        Some(t) if c.eat(b" ms: ") => t,
        // `--trace-gc-verbose` tables carry the prefix but no time.
        _ => return Some(Line::GcInfo),
    };
    let head = Head {
        pid: pid.min(u32::MAX as u64) as u32,
        isolate,
        t_ms,
    };
    let rest = c.rest();
    if let Some(ev) = parse_plain(rest, &head, lenient) {
        return Some(Line::Gc(ev));
    }
    if rest.starts_with(b"pause=") {
        return Some(parse_nvp_kv(rest, &head).map_or(Line::Malformed, Line::Gc));
    }
    if rest.starts_with(b"GC: {") {
        return Some(parse_nvp_json(&rest[4..], &head).map_or(Line::Malformed, Line::Gc));
    }
    if rest.starts_with(b"[")
        || rest.starts_with(b"Memory pool")
        || rest.starts_with(b"action=")
        || rest.starts_with(b"Heap growing")
        || rest.starts_with(b"Grow:")
        || rest.starts_with(b"Memory reducer")
        || rest.starts_with(b"Fast promotion")
    {
        return Some(Line::GcInfo);
    }
    Some(Line::Malformed)
}

struct Head {
    pid: u32,
    isolate: u64,
    t_ms: f64,
}

#[inline]
fn parse_collector(c: &mut Cursor<'_>) -> Option<(Collector, bool)> {
    let shared = c.eat(b"Shared ");
    let incremental = c.eat(b"Incremental ");
    let minor = c.eat(b"Minor ");
    let collector = if c.eat(b"Scavenge") {
        if incremental || minor {
            return None;
        }
        Collector::Scavenge
    } else if c.eat(b"Mark-Compact") {
        match (incremental, minor) {
            (false, false) => Collector::MarkCompact,
            (true, false) => Collector::IncrementalMarkCompact,
            (false, true) => Collector::MinorMarkCompact,
            (true, true) => return None,
        }
    } else if c.eat(b"Mark-Sweep") {
        match (incremental, minor) {
            (false, true) => Collector::MinorMarkSweep,
            (true, true) => Collector::IncrementalMinorMarkSweep,
            // Not printed by any known version as a major name; accept as Node 18's spelling.
            (false, false) => Collector::MarkSweep,
            (true, false) => return None,
        }
    } else if c.eat(b"Mark-sweep") {
        if incremental || minor {
            return None;
        }
        Collector::MarkSweep
    } else {
        return None;
    };
    Some((collector, shared))
}

#[inline]
fn parse_plain<'a>(s: &'a [u8], head: &Head, lenient: bool) -> Option<GcEvent<'a>> {
    let mut c = Cursor::new(s);
    let (collector, shared) = parse_collector(&mut c)?;
    let mut reduce = false;
    let mut during_sweeping = false;
    loop {
        if c.eat(b" (reduce)") {
            reduce = true;
        } else if c.eat(b" (interleaved)") || c.eat(b" (during sweeping)") {
            during_sweeping = true;
        } else {
            break;
        }
    }
    c.expect(b" ")?;
    let before_mb = c.number()?;
    c.expect(b" (")?;
    let before_committed = c.number()?;
    c.expect(b") -> ")?;
    let after_mb = c.number()?;
    c.expect(b" (")?;
    let after_committed = c.number()?;
    c.expect(b") MB, ")?;
    let mut ev = GcEvent {
        format: Format::Plain,
        pid: head.pid,
        isolate: head.isolate,
        t_ms: head.t_ms,
        collector,
        shared,
        reduce,
        during_sweeping,
        before_mb,
        after_mb,
        before_committed_mb: Some(before_committed),
        after_committed_mb: Some(after_committed),
        pooled_mb: None,
        pause_ms: 0.0,
        external_ms: None,
        incremental: None,
        average_mu: None,
        current_mu: None,
        reason: Cow::Borrowed(""),
        collector_reason: Cow::Borrowed(""),
        truncated: false,
    };
    if parse_plain_tail(&mut c, &mut ev).is_none() {
        if lenient {
            ev.truncated = true;
            return Some(ev);
        }
        return None;
    }
    Some(ev)
}

/// Everything after `MB, `: pooled, pause, incremental group, mu, reasons.
#[inline]
fn parse_plain_tail<'a>(c: &mut Cursor<'a>, ev: &mut GcEvent<'a>) -> Option<()> {
    if c.eat(b"pooled: ") {
        ev.pooled_mb = Some(c.number()?);
        c.expect(b" MB, ")?;
    }
    ev.pause_ms = c.number()?;
    c.expect(b" / ")?;
    ev.external_ms = Some(c.number()?);
    c.expect(b" ms")?;
    c.skip_spaces();
    if c.eat(b"(+ ") {
        let ms = c.number()?;
        c.expect(b" ms in ")?;
        let steps = c.digits()?;
        c.expect(b" steps since start of marking, biggest step ")?;
        let biggest = c.number()?;
        c.expect(b" ms, walltime since start of marking ")?;
        let wall = c.number()?;
        c.expect(b" ms)")?;
        ev.incremental = Some(IncrementalMarking {
            ms,
            steps,
            biggest_step_ms: Some(biggest),
            walltime_ms: Some(wall),
        });
        c.skip_spaces();
    }
    c.expect(b"(average mu = ")?;
    ev.average_mu = Some(c.number()?);
    c.expect(b", current mu = ")?;
    ev.current_mu = Some(c.number()?);
    c.expect(b")")?;
    c.eat(b" ");
    let rest = c.rest();
    let semi = rest.iter().position(|&b| b == b';')?;
    ev.reason = Cow::Borrowed(as_str(trim_end(&rest[..semi]))?);
    let cr = &rest[semi + 1..];
    let cr = if cr.first() == Some(&b' ') {
        &cr[1..]
    } else {
        cr
    };
    ev.collector_reason = Cow::Borrowed(as_str(trim_end(cr))?);
    Some(())
}

fn nvp_collector(v: &[u8]) -> Option<Collector> {
    Some(match v {
        b"s" => Collector::Scavenge,
        b"mc" => Collector::MarkCompact,
        b"ms" => Collector::MarkSweep,
        b"mmc" => Collector::MinorMarkCompact,
        b"mms" => Collector::MinorMarkSweep,
        _ => return None,
    })
}

fn parse_nvp_kv<'a>(s: &'a [u8], head: &Head) -> Option<GcEvent<'a>> {
    let mut pause = None;
    let mut collector = None;
    let mut reduce = false;
    let mut during_sweeping = false;
    let (mut before, mut after) = (None, None);
    let (mut before_c, mut after_c) = (None, None);
    let mut incr_ms = None;
    let mut incr_steps = None;
    let mut incr_wall = None;
    let mut incr_biggest = None;
    for tok in s.split(|&b| b == b' ') {
        let Some(eq) = tok.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (k, v) = (&tok[..eq], &tok[eq + 1..]);
        let num = || Cursor::new(v).number();
        match k {
            b"pause" => pause = num(),
            b"gc" => collector = nvp_collector(v),
            b"reduce_memory" => reduce = v == b"1",
            b"interleaved" => during_sweeping = v == b"1",
            b"total_size_before" | b"start_object_size" => before = num(),
            b"total_size_after" | b"end_object_size" => after = num(),
            b"start_memory_size" => before_c = num(),
            b"end_memory_size" => after_c = num(),
            b"incremental" => incr_ms = num(),
            b"incremental_steps_count" => incr_steps = num(),
            b"incremental_walltime_duration" => incr_wall = num(),
            b"incremental_longest_step" => incr_biggest = num(),
            _ => {}
        }
    }
    let collector = collector?;
    let incremental = match (collector.is_major(), incr_ms) {
        (true, Some(ms)) if ms > 0.0 => Some(IncrementalMarking {
            ms,
            steps: incr_steps.unwrap_or(0.0) as u64,
            biggest_step_ms: incr_biggest,
            walltime_ms: incr_wall,
        }),
        _ => None,
    };
    Some(GcEvent {
        format: Format::NvpKeyValue,
        pid: head.pid,
        isolate: head.isolate,
        t_ms: head.t_ms,
        collector,
        shared: false,
        reduce,
        during_sweeping,
        before_mb: before? / MB,
        after_mb: after? / MB,
        before_committed_mb: before_c.map(|b| b / MB),
        after_committed_mb: after_c.map(|b| b / MB),
        pooled_mb: None,
        pause_ms: pause?,
        external_ms: None,
        incremental,
        average_mu: None,
        current_mu: None,
        reason: Cow::Borrowed(""),
        collector_reason: Cow::Borrowed(""),
        truncated: false,
    })
}

fn parse_nvp_json<'a>(s: &'a [u8], head: &Head) -> Option<GcEvent<'a>> {
    #[derive(serde::Deserialize)]
    struct J {
        pause: f64,
        gc: String,
        #[serde(default)]
        reduce_memory: Option<serde_json::Value>,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        collector_reason: Option<String>,
        start_object_size: f64,
        end_object_size: f64,
        #[serde(default)]
        start_memory_size: Option<f64>,
        #[serde(default)]
        end_memory_size: Option<f64>,
        #[serde(default)]
        incremental: Option<f64>,
        #[serde(default)]
        incremental_steps_count: Option<f64>,
        #[serde(default)]
        incremental_walltime_duration: Option<f64>,
        #[serde(default)]
        incremental_longest_step: Option<f64>,
    }
    let j: J = serde_json::from_slice(s).ok()?;
    let collector = nvp_collector(j.gc.as_bytes())?;
    let reduce = match j.reduce_memory {
        Some(serde_json::Value::Bool(b)) => b,
        Some(serde_json::Value::Number(n)) => n.as_f64() == Some(1.0),
        _ => false,
    };
    let incremental = match (collector.is_major(), j.incremental) {
        (true, Some(ms)) if ms > 0.0 => Some(IncrementalMarking {
            ms,
            steps: j.incremental_steps_count.unwrap_or(0.0).max(0.0) as u64,
            biggest_step_ms: j.incremental_longest_step,
            walltime_ms: j.incremental_walltime_duration,
        }),
        _ => None,
    };
    Some(GcEvent {
        format: Format::NvpJson,
        pid: head.pid,
        isolate: head.isolate,
        t_ms: head.t_ms,
        collector,
        shared: false,
        reduce,
        during_sweeping: false,
        before_mb: j.start_object_size / MB,
        after_mb: j.end_object_size / MB,
        before_committed_mb: j.start_memory_size.map(|b| b / MB),
        after_committed_mb: j.end_memory_size.map(|b| b / MB),
        pooled_mb: None,
        pause_ms: j.pause,
        external_ms: None,
        incremental,
        average_mu: None,
        current_mu: None,
        reason: Cow::Owned(j.reason.unwrap_or_default()),
        collector_reason: Cow::Owned(j.collector_reason.unwrap_or_default()),
        truncated: false,
    })
}

fn as_str(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

pub(crate) fn trim_end(mut s: &[u8]) -> &[u8] {
    while let Some((&last, rest)) = s.split_last() {
        if last == b'\n' || last == b'\r' || last == b' ' || last == b'\t' {
            s = rest;
        } else {
            break;
        }
    }
    s
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..hay.len() - needle.len() + 1]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(p) => {
                i += p;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A forward-only reader over a byte slice.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a [u8]) -> Self {
        Cursor { s, i: 0 }
    }

    /// [`Cursor::eat`] for a literal the line must have: `None` (not this shape) otherwise.
    #[inline]
    fn expect(&mut self, lit: &[u8]) -> Option<()> {
        self.eat(lit).then_some(())
    }

    #[inline]
    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s.len() - self.i >= lit.len() && &self.s[self.i..self.i + lit.len()] == lit {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    #[inline]
    fn skip_spaces(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }

    /// Unsigned decimal integer (saturating).
    #[inline]
    fn digits(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&b) = self.s.get(self.i) {
            if !b.is_ascii_digit() {
                break;
            }
            v = v.saturating_mul(10).saturating_add((b - b'0') as u64);
            self.i += 1;
        }
        (self.i > start).then_some(v)
    }

    fn hex(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&b) = self.s.get(self.i) {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => break,
            };
            v = v.wrapping_shl(4) | d as u64;
            self.i += 1;
        }
        (self.i > start).then_some(v)
    }

    /// `digits[.digits]` as f64 (the only number shape V8 prints in these lines).
    #[inline]
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        let mut int: u64 = 0;
        let mut nd = 0;
        while let Some(&b) = self.s.get(self.i) {
            if !b.is_ascii_digit() {
                break;
            }
            if nd < 18 {
                int = int * 10 + (b - b'0') as u64;
            } else {
                // Too many digits for exact integer math: fall back to the slow path.
                return self.number_slow(start);
            }
            nd += 1;
            self.i += 1;
        }
        if nd == 0 {
            self.i = start;
            return None;
        }
        if self.s.get(self.i) == Some(&b'.')
            && self.s.get(self.i + 1).is_some_and(|b| b.is_ascii_digit())
        {
            self.i += 1;
            // int.frac as one integer over a power of ten: a single correctly rounded
            // division while everything fits in 2^53 (always, for what V8 prints).
            let mut total = int;
            let mut nf = 0usize;
            while let Some(&b) = self.s.get(self.i) {
                if !b.is_ascii_digit() {
                    break;
                }
                if nf >= 15 || total >= (1u64 << 49) {
                    return self.number_slow(start);
                }
                total = total * 10 + (b - b'0') as u64;
                nf += 1;
                self.i += 1;
            }
            return Some(total as f64 / POW10[nf]);
        }
        Some(int as f64)
    }

    fn number_slow(&mut self, start: usize) -> Option<f64> {
        self.i = start;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
        {
            self.i += 1;
        }
        as_str(&self.s[start..self.i])?.parse().ok()
    }

    fn rest(&self) -> &'a [u8] {
        &self.s[self.i..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gc(line: &str) -> GcEvent<'_> {
        match parse_line(line.as_bytes()) {
            Line::Gc(ev) => ev,
            other => panic!("not a GC line: {other:?}\n{line}"),
        }
    }

    #[test]
    fn node18_mark_sweep_with_incremental_group() {
        let ev = gc("[4139:0x21120d00]       47 ms: Mark-sweep 12.6 (25.5) -> 11.7 (29.0) MB, 3.8 / 0.0 ms  (+ 4.4 ms in 29 steps since start of marking, biggest step 3.4 ms, walltime since start of marking 11 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via task; GC in old space requested");
        assert_eq!(ev.pid, 4139);
        assert_eq!(ev.isolate, 0x21120d00);
        assert_eq!(ev.t_ms, 47.0);
        assert_eq!(ev.collector, Collector::MarkSweep);
        assert!(ev.collector.is_major());
        assert_eq!((ev.before_mb, ev.after_mb), (12.6, 11.7));
        assert_eq!(ev.after_committed_mb, Some(29.0));
        assert_eq!(ev.pause_ms, 3.8);
        let inc = ev.incremental.unwrap();
        assert_eq!((inc.ms, inc.steps, inc.walltime_ms), (4.4, 29, Some(11.0)));
        assert_eq!(ev.reason, "finalize incremental marking via task");
        assert_eq!(ev.collector_reason, "GC in old space requested");
    }

    #[test]
    fn node20_scavenge_trailing_space() {
        let ev = gc("[4147:0x9ad3cb0]       11 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \n");
        assert_eq!(ev.collector, Collector::Scavenge);
        assert_eq!(ev.pause_ms, 0.75);
        assert_eq!(ev.reason, "allocation failure");
        assert_eq!(ev.collector_reason, "");
        assert_eq!(ev.average_mu, Some(1.0));
    }

    #[test]
    fn node26_incremental_reduce_pooled() {
        let ev = gc("[30599:0x420cb000]     1007 ms: Incremental Mark-Compact (reduce) 62.4 (65.8) -> 59.4 (62.3) MB, pooled: 0.0 MB, 30.44 / 0.00 ms (+ 0.6 ms in 39 steps since start of marking, biggest step 0.1 ms, walltime since start of marking 36 ms) (average mu = 0.190, current mu = 0.224) allocation failure; Incremental marking forced finalization");
        assert_eq!(ev.collector, Collector::IncrementalMarkCompact);
        assert!(ev.reduce);
        assert_eq!(ev.pooled_mb, Some(0.0));
        assert_eq!(ev.current_mu, Some(0.224));
        assert_eq!(
            ev.collector_reason,
            "Incremental marking forced finalization"
        );
    }

    #[test]
    fn young_suffixes_and_minor_names() {
        let ev = gc("[1:0xa]      379 ms: Scavenge (during sweeping) 60.9 (63.6) -> 59.5 (63.6) MB, pooled: 0.0 MB, 0.20 / 0.00 ms (average mu = 0.132, current mu = 0.051) allocation failure; ");
        assert!(ev.during_sweeping);
        let ev = gc("[1:0xa]      379 ms: Minor Mark-Sweep (reduce) (interleaved) 6.9 (6.6) -> 5.5 (6.6) MB, pooled: 0 MB, 0.20 / 0.00 ms  (average mu = 0.132, current mu = 0.051) task; ");
        assert_eq!(ev.collector, Collector::MinorMarkSweep);
        assert!(ev.reduce && ev.during_sweeping);
        assert_eq!(ev.pooled_mb, Some(0.0));
        let ev = gc("[1:0xa]      379 ms: Minor Mark-Compact 6.9 (6.6) -> 5.5 (6.6) MB, 0.20 / 0.00 ms  (average mu = 0.132, current mu = 0.051) task; ");
        assert_eq!(ev.collector, Collector::MinorMarkCompact);
    }

    #[test]
    fn nvp_key_value_with_v24_prefix() {
        let ev = gc("[30691:0x3561e000:0]       12 ms: pause=0.3 mutator=9.7 gc=s reduce_memory=0 interleaved=0 start_object_size=4947592 end_object_size=4227448 start_memory_size=6070272 end_memory_size=7118848");
        assert_eq!(ev.format, Format::NvpKeyValue);
        assert_eq!(ev.collector, Collector::Scavenge);
        assert!((ev.before_mb - 4947592.0 / MB).abs() < 1e-9);
        assert_eq!(ev.pause_ms, 0.3);
        let ev = gc("[1:0x2]       12 ms: pause=1.5 mutator=4.9 gc=mc reduce_memory=1 incremental=3.8 incremental_steps_count=49 incremental_walltime_duration=6 total_size_before=12750168 total_size_after=10342480");
        assert_eq!(ev.collector, Collector::MarkCompact);
        assert!(ev.reduce);
        assert_eq!(ev.incremental.unwrap().steps, 49);
    }

    #[test]
    fn nvp_json() {
        let ev = gc(
            r#"[30701:0xfdc4000:0]       16 ms: GC: {"pause":3.429,"mutator":10.453,"gc":"mc","reduce_memory":false,"reason":"allocation failure","collector_reason":"scavenge might not succeed","start_object_size":5003728,"end_object_size":4316224,"incremental":1.5,"incremental_steps_count":3}"#,
        );
        assert_eq!(ev.format, Format::NvpJson);
        assert_eq!(ev.collector, Collector::MarkCompact);
        assert_eq!(ev.reason, "allocation failure");
        assert_eq!(ev.collector_reason, "scavenge might not succeed");
        assert_eq!(ev.incremental.unwrap().steps, 3);
    }

    #[test]
    fn banner_and_other_lines() {
        assert_eq!(
            parse_line(b"<--- Last few GCs --->\n"),
            Line::OomBannerStart
        );
        assert_eq!(parse_line(b"<--- JS stacktrace --->"), Line::JsStacktrace);
        assert_eq!(
            parse_line(b"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"),
            Line::Fatal(FatalReason::ReachedHeapLimit)
        );
        assert_eq!(
            parse_line(b"FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory"),
            Line::Fatal(FatalReason::IneffectiveMarkCompacts)
        );
        assert_eq!(
            parse_line(b"----- Native stack trace -----"),
            Line::NativeStackHeader
        );
        assert_eq!(
            parse_line(b" 1: 0xb78db3 node::Abort() [/usr/bin/node]"),
            Line::NativeFrame
        );
        assert_eq!(
            parse_line(b"10: 0x1ae5a76  [/usr/local/bin/node]"),
            Line::NativeFrame
        );
        assert_eq!(parse_line(b"   \r\n"), Line::Blank);
        assert_eq!(parse_line(b"listening on 3000"), Line::Other);
        assert_eq!(parse_line(b"[MEM] processData START: 85 MB"), Line::Other);
        assert_eq!(
            parse_line(b"[30711:0x312e6d70]       45 ms: [HeapController] factor 1.3"),
            Line::GcInfo
        );
        assert_eq!(
            parse_line(b"[1:0x2] New space,  used:  603 KB, available:  403 KB"),
            Line::GcInfo
        );
        assert_eq!(
            parse_line(b"[1:0x2]       45 ms: Scavenge 1.0 (2.0) -> 0.5"),
            Line::Malformed
        );
    }

    #[test]
    fn ring_entries_cut_midway() {
        let ev = parse_ring_entry(b"[30553:0x16727000]      407 ms: Mark-Compact 67.2 (86.3) -> 51.3 (124.8) MB, pooled: 0 MB, 12.15 / 0.00 ms  (+ 3.6 ms in 253 steps since start of marking, biggest step 0.2 ms, walltime since start o").unwrap();
        assert!(ev.truncated);
        assert_eq!(ev.collector, Collector::MarkCompact);
        assert_eq!(ev.after_mb, 51.3);
        assert!(
            parse_ring_entry(b"[30553:0x16727000]      407 ms: Mark-Compact 67.2 (86").is_none()
        );
    }

    #[test]
    fn numbers() {
        let mut c = Cursor::new(b"12.345 x");
        assert_eq!(c.number(), Some(12.345));
        let mut c = Cursor::new(b"7. x");
        assert_eq!(c.number(), Some(7.0));
        let mut c = Cursor::new(b"123456789012345678901234.5");
        assert_eq!(c.number(), Some(123456789012345678901234.5));
        for text in [
            "0.1",
            "0.29",
            "646.7",
            "1.000",
            "0.033",
            "43.76",
            "123456.789012",
            "9.999999999999999",
        ] {
            let mut c = Cursor::new(text.as_bytes());
            assert_eq!(c.number(), Some(text.parse::<f64>().unwrap()), "{text}");
        }
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abd"), None);
    }
}
