//! `leakhound gc`'s analysis: the summary, or one line of `leakhound.gc/v1`.

use std::io;

use leakhound_gctrace::{GcAnalysis, GcAnalysisText};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{text_or_json, to_string};
    use leakhound_gctrace::Analyzer;

    fn analysis() -> GcAnalysis {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/gc-traces/node20-leak-oom.log"
        );
        let mut a = Analyzer::new();
        a.push_bytes(&std::fs::read(path).unwrap());
        a.finish();
        a.analysis()
    }

    #[test]
    fn text_is_the_summary_and_json_one_line() {
        let an = analysis();
        let doc = Trace {
            analysis: &an,
            source: "oom.log",
        };
        assert_eq!(to_string(&Text, &doc), an.render_text("oom.log"));
        let j = to_string(&Json, &doc);
        assert_eq!(j.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["gc_events"], an.gc_events);
        let mut both = Vec::new();
        text_or_json(&doc, true, &mut both).unwrap();
        assert_eq!(String::from_utf8(both).unwrap(), j);
    }
}
