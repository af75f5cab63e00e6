//! `leakhound.alloc/v1`: what `leakhound alloc --json` prints, the allocation sites of a V8
//! sampling heap profile.
//!
//! The producer is `leakhound-profile` (`summarize`), which re-exports these types under their
//! old paths. `leakhound.run/v1` carries a flattened copy of a site ([`crate::run::AllocSiteOut`],
//! `location` as a `path:line` string).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The JSON schema name of [`AllocSummary`].
pub const SCHEMA: &str = "leakhound.alloc/v1";

/// Where a frame's code comes from; decides who gets the blame for its allocations.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FrameKind {
    /// The application's own files: where a fix can go.
    User,
    /// Code under `node_modules`.
    Dependency,
    /// Node's own JavaScript (`node:internal/...`).
    NodeInternal,
    /// Built-ins and V8 pseudo-frames (`(root)`, `(V8 API)`, `JSON.stringify` ...): no source.
    Native,
}

/// One function at one position in one script.
///
/// The position is where the *function* starts (V8's sampling profiler records function
/// positions, not the line of each allocation). When the script has a source map (a bundle, a
/// `tsc`/`esbuild` build, TypeScript run through `tsx`), `file`, `line` and `column` are the
/// original source's and `generated` keeps the position in the code V8 ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Site {
    pub function: String,
    /// The script, relative to the base directory when it lies below it.
    pub file: String,
    /// 1-based (V8 reports 0-based lines; this is what an editor shows).
    pub line: Option<u32>,
    /// 1-based.
    pub column: Option<u32>,
    pub kind: FrameKind,
    /// The position in the generated code V8 ran, when `file:line` was mapped to the original
    /// source through a source map; absent when there was no map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
}

/// A position in generated code (a bundle, transpiled TypeScript) before source mapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Generated {
    /// The generated script, relative to the working directory when it lies below it
    /// (`dist/app.js`; for code transpiled in memory, such as `tsx`'s, the original file's
    /// path, since that is the URL V8 knows the script by).
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
}

impl Site {
    /// `file:line` as editors and terminals link it, or the file alone when unknown.
    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{}", self.file, l),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == FrameKind::Native {
            write!(f, "{}", self.function)
        } else {
            write!(f, "{} ({})", self.function, self.location())
        }
    }
}

/// Bytes charged to one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteStat {
    pub site: Site,
    pub bytes: u64,
    /// Share of all sampled bytes, 0..=1.
    pub share: f64,
    /// The heaviest call path that reached this site, outermost first, as `function (file:line)`.
    pub path: Vec<String>,
}

/// What a profile says about who allocates (`leakhound.alloc/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AllocSummary {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub total_bytes: u64,
    pub samples: usize,
    /// Sites by bytes allocated in the frame itself.
    pub top_self: Vec<SiteStat>,
    /// Sites by bytes charged to the nearest frame of application code on the stack (or, when
    /// the stack has none, of a dependency, then of Node itself): the lines to fix.
    pub top_culprits: Vec<SiteStat>,
}
