//! Read V8 `--trace-gc` output like an expert: parse every line shape Node 18–26 prints and
//! judge the live set.
//!
//! Pure: text in, data out. The crate does no I/O of its own, so the same code reads a saved
//! log (`leakhound gc FILE`), a pipe (`--follow`), or a live child's stdout/stderr inside
//! `leakhound run`.
//!
//! # Use
//!
//! ```
//! use leakhound_gctrace::{Analyzer, Verdict};
//!
//! let mut a = Analyzer::new();
//! // Chunks may split lines anywhere; application output in between is counted and skipped.
//! a.push_bytes(b"[4147:0x9ad3cb0]       11 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 0.75 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \nserver listening\n");
//! a.finish();
//! let report = a.analysis(); // callable at any time, serde::Serialize
//! assert_eq!(report.gc_events, 1);
//! assert_eq!(report.verdict, Verdict::Inconclusive);
//! ```
//!
//! - [`parse_line`] classifies one line ([`Line`]): a GC event ([`GcEvent`]) in the plain,
//!   NVP `key=value` or NVP `GC: {json}` format, the OOM banner parts, or other output.
//! - [`Analyzer`] streams lines ([`Analyzer::push_line`]) or raw chunks
//!   ([`Analyzer::push_bytes`] + [`Analyzer::finish`]) with bounded memory, and
//!   [`Analyzer::analysis`] returns a [`GcAnalysis`]: verdict, OOM, evidence sentences,
//!   per-collector statistics, the live-set series and trend, GC share, allocation rate, time
//!   to OOM and the last GC lines.
//! - [`stats`] holds Theil–Sen, Mann–Kendall and least squares for reuse on other series.
//!
//! Feed stdout and stderr of one process to one `Analyzer` (the OOM banner goes to stderr):
//! read separately, use [`Analyzer::push_stream_bytes`] with [`Stream::Stdout`] /
//! [`Stream::Stderr`] so each stream keeps its own partial line. Only the first pid/isolate
//! seen is analysed; events of others are counted. Memory stays bounded however long the
//! input: lines over [`AnalyzerConfig::max_line_bytes`] are skipped, series are decimated, and
//! pauses go to fixed-size histograms.
//!
//! # Exit-code mapping used by `leakhound gc`
//!
//! `healthy` and `allocation-pressure` → 0, `leak` → 1, `inconclusive` → 3 (errors → 2).

pub mod analysis;
pub mod analyzer;
pub mod line;
pub mod series;
pub mod share;
pub mod stats;
pub mod summary;

pub use analysis::{GcAnalysis, Verdict, SCHEMA};
pub use analyzer::{Analyzer, AnalyzerConfig, LineCounts, RingGc, Stream};
pub use line::{parse_line, parse_ring_entry, Collector, FatalReason, Format, GcEvent, Line};
pub use share::{gc_share, gc_time_ms};
pub use summary::GcAnalysisText;
