//! The culprit a user acts on: one sentence that says what grows and where to change it, and
//! the known library leak patterns matched on a run's evidence.
//!
//! Shared by `run` (and `attach`): the snapshot suspects and allocation sites stay in
//! [`crate::evidence`]; this holds what is concluded from them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::SourceLine;

/// The conclusion of the culprit hunt, led by one sentence: what grows, by how much per unit,
/// held by what (a variable with the line that declares it), grown by which statement (the
/// line to change), and through which app frames it got there.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CulpritOut {
    /// The sentence, as printed first in the culprit section.
    pub sentence: String,
    /// The line to change: the statement that grows the holder (`grows`), or, without
    /// snapshots, the best line found in the surviving allocation sites' functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<SourceLine>,
    /// The holder as the app names it (`responseCache (Map)`), when snapshots named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Where the holder is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<SourceLine>,
    /// The app's own frames (`function file:line`), outermost first, that led to the growth.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<String>,
    /// Where the evidence came from: `snapshots`, `allocation-sites`, `heap-at-death`.
    pub evidence: String,
}

/// A known library leak (LeakCanary's library-leak matchers, for Node) matched on this run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct LibraryPatternOut {
    /// The pattern's stable id in the table (`express-session-memory-store`).
    pub id: String,
    /// A short title (`express-session MemoryStore in production`).
    pub name: String,
    /// The npm package the pattern is about (`express-session`); empty for Node's own
    /// (EventEmitter listeners, timers).
    pub package: String,
    /// Why it leaks, one or two sentences.
    pub why: String,
    /// What to do instead.
    pub fix: String,
    /// What matched, each a short readable fact (`class MemoryStore holds 2.4 MiB`,
    /// `stderr: MaxListenersExceededWarning: … 11 request listeners added to [Bus]`).
    pub evidence: Vec<String>,
    /// The app's line that uses the library (the first app frame calling into `node_modules`,
    /// or the app line found for the matched holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_line: Option<SourceLine>,
    /// Index into `suspects[]` when the match is on a snapshot suspect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect: Option<usize>,
}
