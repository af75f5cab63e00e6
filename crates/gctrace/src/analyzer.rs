//! The streaming state machine: feed it lines or raw chunks, ask for an analysis at any time.
//!
//! Memory is bounded whatever the log length: per-collector pauses go into fixed-size HDR
//! histograms, series are decimated ([`BoundedSeries`]), and the few raw lines kept for
//! evidence live in a small reused ring.

use crate::line::{self, Collector, FatalReason, Format, GcEvent, Line};
use crate::series::{BoundedSeries, Point};
use hdrhistogram::Histogram;
use std::collections::VecDeque;

/// Settings for an [`Analyzer`].
#[derive(Debug, Clone)]
pub struct AnalyzerConfig {
    /// The heap limit in MB when the caller knows it (`--heap-limit`, or `heap_size_limit` read
    /// over the inspector). Without it the limit is inferred from an OOM, if any.
    pub heap_limit_mb: Option<f64>,
    /// Lines longer than this are dropped (and counted) instead of buffered: a runaway
    /// application line must not make memory grow.
    pub max_line_bytes: usize,
    /// Points kept in each decimated series.
    pub series_cap: usize,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            heap_limit_mb: None,
            max_line_bytes: 64 * 1024,
            series_cap: 512,
        }
    }
}

pub use leakhound_schema::gc::{LineCounts, RingGc};

#[derive(Debug, Clone)]
pub(crate) struct CollectorAcc {
    pub count: u64,
    pub pauses_us: Histogram<u64>,
    pub pause_total_ms: f64,
    pub pause_max_ms: f64,
    pub freed_total_mb: f64,
    pub freed_share_sum: f64,
    pub incremental_ms: f64,
}

impl CollectorAcc {
    fn new() -> Self {
        CollectorAcc {
            count: 0,
            // 1 µs .. 1 hour at 3 significant digits: a few tens of KB, fixed.
            pauses_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            pause_total_ms: 0.0,
            pause_max_ms: 0.0,
            freed_total_mb: 0.0,
            freed_share_sum: 0.0,
            incremental_ms: 0.0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct OomState {
    pub seen_banner: bool,
    pub fatal: Option<FatalReason>,
    pub fatal_line: Option<String>,
    pub ring: Vec<RingGc>,
    pub native_frames: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Ring,
    Stack,
}

const LAST_LINES: usize = 8;
/// V8's ring buffer is 512 bytes; allow for the blank lines around it.
const RING_MAX_BYTES: usize = 2048;
const RING_MAX_LINES: usize = 24;
const RECENT_ALLOC: usize = 64;
const MAX_REASONS: usize = 32;
/// A major GC that frees less than this share of the heap is "ineffective".
pub(crate) const INEFFECTIVE_SHARE: f64 = 0.05;

/// Streaming analyzer for `--trace-gc` / `--trace-gc-nvp` output mixed with anything else.
#[derive(Debug, Clone)]
pub struct Analyzer {
    pub(crate) cfg: AnalyzerConfig,
    pub(crate) lines: LineCounts,
    pub(crate) formats: Vec<Format>,
    pub(crate) primary: Option<(u32, u64)>,
    pub(crate) other_isolate_events: u64,
    pub(crate) first_t_ms: Option<f64>,
    pub(crate) last_t_ms: f64,
    pub(crate) collectors: Vec<Option<CollectorAcc>>,
    pub(crate) prev: Option<(f64, f64)>,
    pub(crate) alloc_mb: f64,
    pub(crate) alloc_ms: f64,
    pub(crate) recent_alloc: VecDeque<(f64, f64)>,
    pub(crate) live: BoundedSeries,
    pub(crate) peak_before_mb: f64,
    pub(crate) peak_live_mb: f64,
    pub(crate) ineffective_current: u64,
    pub(crate) ineffective_max: u64,
    pub(crate) majors_freed_share: VecDeque<f64>,
    pub(crate) mu: Option<(f64, f64)>,
    pub(crate) reasons: Vec<(String, u64)>,
    pub(crate) oom: OomState,
    last_lines: Vec<Vec<u8>>,
    last_lines_next: usize,
    last_lines_len: usize,
    mode: Mode,
    ring_bytes: usize,
    ring_lines: usize,
    partial: [Vec<u8>; 2],
    skipping: [bool; 2],
}

/// Which output stream a chunk came from (see [`Analyzer::push_stream_bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        Self::with_config(AnalyzerConfig::default())
    }

    pub fn with_config(cfg: AnalyzerConfig) -> Self {
        let cap = cfg.series_cap;
        Analyzer {
            cfg,
            lines: LineCounts::default(),
            formats: Vec::new(),
            primary: None,
            other_isolate_events: 0,
            first_t_ms: None,
            last_t_ms: 0.0,
            collectors: (0..Collector::ALL.len()).map(|_| None).collect(),
            prev: None,
            alloc_mb: 0.0,
            alloc_ms: 0.0,
            recent_alloc: VecDeque::with_capacity(RECENT_ALLOC),
            live: BoundedSeries::new(cap),
            peak_before_mb: 0.0,
            peak_live_mb: 0.0,
            ineffective_current: 0,
            ineffective_max: 0,
            majors_freed_share: VecDeque::with_capacity(16),
            mu: None,
            reasons: Vec::new(),
            oom: OomState::default(),
            last_lines: Vec::new(),
            last_lines_next: 0,
            last_lines_len: 0,
            mode: Mode::Normal,
            ring_bytes: 0,
            ring_lines: 0,
            partial: [Vec::new(), Vec::new()],
            skipping: [false, false],
        }
    }

    /// Set or change the heap limit (MB) used for "near the limit" and time-to-OOM.
    pub fn set_heap_limit_mb(&mut self, mb: Option<f64>) {
        self.cfg.heap_limit_mb = mb.filter(|m| m.is_finite() && *m > 0.0);
    }

    /// GC events seen so far (cheap: use it to decide when to refresh a status line).
    pub fn gc_events(&self) -> u64 {
        self.lines.gc_events
    }

    /// Line counters so far.
    pub fn line_counts(&self) -> &LineCounts {
        &self.lines
    }

    /// True once an out-of-memory `FATAL ERROR` line was seen.
    pub fn oom(&self) -> bool {
        self.oom.fatal.is_some()
    }

    /// Feed an arbitrary chunk of output; lines may span chunks. Call [`Analyzer::finish`] at
    /// the end of input to flush a last line without a newline.
    pub fn push_bytes(&mut self, chunk: &[u8]) {
        self.push_stream_bytes(Stream::Stdout, chunk);
    }

    /// Like [`Analyzer::push_bytes`], for one of two streams read separately (a child's stdout
    /// and stderr): each keeps its own partial line, so chunks of the two can arrive in any
    /// order without gluing half-lines together.
    pub fn push_stream_bytes(&mut self, stream: Stream, mut chunk: &[u8]) {
        let k = stream as usize;
        while !chunk.is_empty() {
            match memchr::memchr(b'\n', chunk) {
                Some(nl) => {
                    let seg = &chunk[..nl];
                    chunk = &chunk[nl + 1..];
                    if self.skipping[k] {
                        self.skipping[k] = false;
                        continue;
                    }
                    if self.partial[k].is_empty() {
                        if seg.len() > self.cfg.max_line_bytes {
                            self.count_overlong();
                        } else {
                            self.push_line(seg);
                        }
                    } else if self.partial[k].len() + seg.len() > self.cfg.max_line_bytes {
                        self.partial[k].clear();
                        self.count_overlong();
                    } else {
                        let mut buf = std::mem::take(&mut self.partial[k]);
                        buf.extend_from_slice(seg);
                        self.push_line(&buf);
                        buf.clear();
                        self.partial[k] = buf;
                    }
                }
                None => {
                    if !self.skipping[k] {
                        if self.partial[k].len() + chunk.len() > self.cfg.max_line_bytes {
                            self.partial[k].clear();
                            self.skipping[k] = true;
                            self.count_overlong();
                        } else {
                            self.partial[k].extend_from_slice(chunk);
                        }
                    }
                    chunk = &[];
                }
            }
        }
    }

    /// Flush trailing lines that had no newline (both streams).
    pub fn finish(&mut self) {
        for k in 0..2 {
            self.skipping[k] = false;
            if !self.partial[k].is_empty() {
                let buf = std::mem::take(&mut self.partial[k]);
                self.push_line(&buf);
            }
        }
    }

    fn count_overlong(&mut self) {
        self.lines.total += 1;
        self.lines.overlong += 1;
    }

    /// Feed one complete line (a trailing `\n` or `\r\n` is allowed).
    pub fn push_line(&mut self, raw: &[u8]) {
        self.lines.total += 1;
        if self.mode == Mode::Ring {
            // The ring holds 512 bytes: a "banner" that goes on much longer was not one (or its
            // end was lost), so go back to reading normally rather than swallow GC lines.
            self.ring_bytes += raw.len() + 1;
            self.ring_lines += 1;
            if self.ring_bytes <= RING_MAX_BYTES && self.ring_lines <= RING_MAX_LINES {
                self.push_ring_line(raw);
                return;
            }
            self.mode = Mode::Normal;
        }
        match line::parse_line(raw) {
            Line::Gc(ev) => {
                self.lines.gc_events += 1;
                self.remember_line(raw);
                self.on_event(&ev);
            }
            Line::GcInfo => self.lines.gc_info += 1,
            Line::Malformed => self.lines.malformed_gc += 1,
            Line::Blank => self.lines.blank += 1,
            Line::Other => {
                // Whatever follows the banner is ordinary output again.
                self.mode = Mode::Normal;
                self.lines.unrecognised += 1
            }
            Line::OomBannerStart => {
                self.lines.oom_banner += 1;
                self.oom.seen_banner = true;
                self.mode = Mode::Ring;
                self.ring_bytes = 0;
                self.ring_lines = 0;
            }
            Line::JsStacktrace | Line::NativeStackHeader => {
                self.lines.oom_banner += 1;
                self.mode = Mode::Stack;
            }
            Line::Fatal(r) => self.on_fatal(r, raw),
            Line::NativeFrame => {
                self.lines.oom_banner += 1;
                self.oom.native_frames += 1;
            }
        }
    }

    fn on_fatal(&mut self, r: FatalReason, raw: &[u8]) {
        self.lines.oom_banner += 1;
        self.oom.fatal = Some(r);
        let text = line::trim_end(raw);
        let start = line::find(text, b"FATAL ERROR").unwrap_or(0);
        let text = &text[start..text.len().min(start + 300)];
        self.oom.fatal_line = Some(String::from_utf8_lossy(text).into_owned());
        self.mode = Mode::Stack;
    }

    /// A line inside `<--- Last few GCs --->`: raw bytes of a 512-byte ring, entries possibly
    /// cut and glued together. Entries are found by their `[pid:0x` prefix; they are copies of
    /// GCs already printed, so they do not feed the statistics.
    fn push_ring_line(&mut self, raw: &[u8]) {
        self.lines.oom_banner += 1;
        let s = line::trim_end(raw);
        if s.starts_with(b"<--- JS stacktrace --->") || s.starts_with(b"----- Native stack") {
            self.mode = Mode::Stack;
            return;
        }
        let fatal_at = line::find(s, b"FATAL ERROR");
        let body = &s[..fatal_at.unwrap_or(s.len())];
        let starts = ring_entry_starts(body);
        for (k, &st) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(body.len());
            let entry = &body[st..end];
            if let Some(ev) = line::parse_ring_entry(entry) {
                if self.oom.ring.len() >= 16 {
                    self.oom.ring.remove(0);
                }
                let raw = String::from_utf8_lossy(&entry[..entry.len().min(300)]).into_owned();
                self.oom.ring.push(RingGc {
                    collector: ev.collector,
                    t_ms: ev.t_ms,
                    before_mb: ev.before_mb,
                    after_mb: ev.after_mb,
                    truncated: ev.truncated,
                    raw: raw.trim_end().to_string(),
                });
            }
        }
        if let Some(at) = fatal_at {
            if let Some(r) = line::fatal_reason(&s[at..]) {
                self.lines.oom_banner -= 1;
                self.on_fatal(r, &s[at..]);
            }
        }
    }

    fn remember_line(&mut self, raw: &[u8]) {
        let raw = line::trim_end(raw);
        let raw = &raw[..raw.len().min(512)];
        if self.last_lines.len() < LAST_LINES {
            self.last_lines.push(raw.to_vec());
        } else {
            let slot = &mut self.last_lines[self.last_lines_next];
            slot.clear();
            slot.extend_from_slice(raw);
        }
        self.last_lines_next = (self.last_lines_next + 1) % LAST_LINES;
        self.last_lines_len = self.last_lines.len();
    }

    /// The last GC lines seen (oldest first), for evidence.
    pub fn last_gc_lines(&self) -> Vec<String> {
        let n = self.last_lines_len;
        let start = if n < LAST_LINES {
            0
        } else {
            self.last_lines_next
        };
        (0..n)
            .map(|i| String::from_utf8_lossy(&self.last_lines[(start + i) % n]).into_owned())
            .collect()
    }

    fn on_event(&mut self, ev: &GcEvent<'_>) {
        if !self.formats.contains(&ev.format) {
            self.formats.push(ev.format);
        }
        let key = (ev.pid, ev.isolate);
        match self.primary {
            None => self.primary = Some(key),
            Some(p) if p != key => {
                self.other_isolate_events += 1;
                return;
            }
            _ => {}
        }
        let t = ev.t_ms;
        if self.first_t_ms.is_none() {
            self.first_t_ms = Some(t);
        }
        self.last_t_ms = self.last_t_ms.max(t);
        let freed = ev.before_mb - ev.after_mb;
        let freed_share = if ev.before_mb > 0.0 {
            (freed / ev.before_mb).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let acc = self.collectors[ev.collector.index()].get_or_insert_with(CollectorAcc::new);
        acc.count += 1;
        let pause = if ev.pause_ms.is_finite() {
            ev.pause_ms.max(0.0)
        } else {
            0.0
        };
        let _ = acc
            .pauses_us
            .record(((pause * 1000.0).round() as u64).clamp(1, 3_600_000_000));
        acc.pause_total_ms += pause;
        acc.pause_max_ms = acc.pause_max_ms.max(pause);
        if freed.is_finite() {
            acc.freed_total_mb += freed;
        }
        acc.freed_share_sum += freed_share;
        if let Some(inc) = ev.incremental {
            if inc.ms.is_finite() {
                acc.incremental_ms += inc.ms.max(0.0);
            }
        }
        // Allocation between GCs: the heap grew from the end of the previous GC to the start
        // of this one, in the time between their timestamps.
        if let Some((pt, pafter)) = self.prev {
            let grown = ev.before_mb - pafter;
            let dt = t - pt;
            if grown.is_finite() && dt.is_finite() && dt >= 0.0 {
                let grown = grown.max(0.0);
                self.alloc_mb += grown;
                self.alloc_ms += dt;
                if self.recent_alloc.len() == RECENT_ALLOC {
                    self.recent_alloc.pop_front();
                }
                self.recent_alloc.push_back((grown, dt));
            }
        }
        self.prev = Some((t, ev.after_mb));
        if ev.before_mb.is_finite() {
            self.peak_before_mb = self.peak_before_mb.max(ev.before_mb);
        }
        if let (Some(a), Some(c)) = (ev.average_mu, ev.current_mu) {
            self.mu = Some((a, c));
        }
        self.count_reason(&ev.reason);
        if ev.collector.is_major() {
            self.live.push(Point {
                t_s: t / 1000.0,
                mb: ev.after_mb,
            });
            if ev.after_mb.is_finite() {
                self.peak_live_mb = self.peak_live_mb.max(ev.after_mb);
            }
            if self.majors_freed_share.len() == 16 {
                self.majors_freed_share.pop_front();
            }
            self.majors_freed_share.push_back(freed_share);
            let near = match self.cfg.heap_limit_mb {
                Some(limit) => ev.after_mb >= 0.8 * limit,
                None => ev.after_mb >= 0.85 * self.peak_before_mb,
            };
            if freed_share < INEFFECTIVE_SHARE && near {
                self.ineffective_current += 1;
                self.ineffective_max = self.ineffective_max.max(self.ineffective_current);
            } else {
                self.ineffective_current = 0;
            }
        }
    }

    fn count_reason(&mut self, reason: &str) {
        if reason.is_empty() {
            return;
        }
        if let Some(r) = self.reasons.iter_mut().find(|(r, _)| r == reason) {
            r.1 += 1;
        } else if self.reasons.len() < MAX_REASONS {
            self.reasons.push((reason.to_string(), 1));
        }
    }
}

/// Offsets of `[digits:0x` in a ring-buffer line.
fn ring_entry_starts(s: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'[', &s[i..]) {
        let at = i + p;
        let mut j = at + 1;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > at + 1 && s[j..].starts_with(b":0x") {
            out.push(at);
        }
        i = at + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_anywhere_give_the_same_result() {
        let text = b"hello\n[1:0x2]       10 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \n[1:0x2]       20 ms: Scavenge 4.9 (5.0) -> 3.8 (5.0) MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \nbye";
        let mut whole = Analyzer::new();
        whole.push_bytes(text);
        whole.finish();
        for split in [1, 2, 7, 33, 100] {
            let mut a = Analyzer::new();
            for c in text.chunks(split) {
                a.push_bytes(c);
            }
            a.finish();
            assert_eq!(a.lines.gc_events, 2);
            assert_eq!(a.lines.unrecognised, 2);
            assert_eq!(a.lines.total, whole.lines.total);
        }
        // 1.2 MB grown (4.9 - 3.7) in 10 ms.
        assert!((whole.alloc_mb - 1.2).abs() < 1e-9);
        assert_eq!(whole.alloc_ms, 10.0);
    }

    #[test]
    fn two_streams_keep_their_own_partial_lines() {
        let gc = b"[1:0x2]       10 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \n";
        let mut a = Analyzer::new();
        a.push_stream_bytes(Stream::Stdout, &gc[..40]);
        a.push_stream_bytes(Stream::Stderr, b"<--- Last few GCs --->\n\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n");
        a.push_stream_bytes(Stream::Stdout, &gc[40..]);
        a.finish();
        assert_eq!(a.lines.gc_events, 1);
        assert!(a.oom());
    }

    #[test]
    fn overlong_lines_are_skipped_not_buffered() {
        let mut a = Analyzer::with_config(AnalyzerConfig {
            max_line_bytes: 100,
            ..Default::default()
        });
        let long = vec![b'x'; 1000];
        for c in long.chunks(30) {
            a.push_bytes(c);
            assert!(a.partial[0].len() <= 100);
        }
        a.push_bytes(b"\nok\n");
        a.finish();
        assert_eq!(a.lines.overlong, 1);
        assert_eq!(a.lines.unrecognised, 1);
        assert_eq!(a.lines.total, 2);
    }

    #[test]
    fn ring_entries_are_split_on_pid_prefix() {
        let mut a = Analyzer::new();
        a.push_line(b"<--- Last few GCs --->");
        a.push_line(b", walltime since start of marking 31 ms) (average mu = 0.103,[30665:0x1e671000]     1475 ms: Incremental Mark-Compact (reduce) 62.2 (64.8) -> 61.3 (64.1) MB, pooled: 0.0 MB, 31.17 / 0.00 ms (+ 0.3 ms ");
        a.push_line(b"");
        a.push_line(b"FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory");
        a.push_line(b" 1: 0x840e50  [/usr/local/bin/node]");
        assert_eq!(a.oom.ring.len(), 1);
        assert!(a.oom.ring[0].truncated);
        assert_eq!(a.oom.ring[0].after_mb, 61.3);
        assert_eq!(a.oom.fatal, Some(FatalReason::IneffectiveMarkCompacts));
        assert_eq!(a.oom.native_frames, 1);
        assert_eq!(a.lines.gc_events, 0);
        assert_eq!(ring_entry_starts(b"x[1:0xa] y [2:0xb]"), vec![1, 11]);
    }

    #[test]
    fn a_banner_without_an_end_does_not_swallow_the_log() {
        let gc = b"[1:0x2]       10 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";
        let mut a = Analyzer::new();
        a.push_line(b"<--- Last few GCs --->");
        for _ in 0..100 {
            a.push_line(gc);
        }
        assert!(a.lines.gc_events >= 70, "{}", a.lines.gc_events);
        assert!(!a.oom());
    }
}
