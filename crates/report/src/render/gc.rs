//! `leakhound gc`'s analysis: the summary, or one line of `leakhound.gc/v1`.

use std::io;

use leakhound_gctrace::GcAnalysis;

use super::{Json, Render, Text};

/// A GC analysis and the name of the trace it was read from (`stdin`, a file name).
#[derive(Debug, Clone, Copy)]
pub struct Trace<'a> {
    pub analysis: &'a GcAnalysis,
    pub source: &'a str,
}

impl Render<Trace<'_>> for Text {
    fn render(&self, t: &Trace<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(t.analysis.render_text(t.source).as_bytes())
    }
}

/// One compact line, as `gc --json` has always printed it (easy to `jq` and to stream).
impl Render<Trace<'_>> for Json {
    fn render(&self, t: &Trace<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, t.analysis).map_err(io::Error::from)?;
        out.write_all(b"\n")
    }
}
