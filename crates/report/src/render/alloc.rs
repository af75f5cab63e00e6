//! `leakhound alloc`'s summary of a sampling heap profile: text, or `leakhound.alloc/v1`.

use std::io;

use leakhound_profile::{AllocSummary, SiteStat};

use super::{write_json, Json, Render, Text};
use crate::format;

pub use leakhound_schema::alloc::SCHEMA;

impl Render<AllocSummary> for Text {
    fn render(&self, s: &AllocSummary, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(
            out,
            "{} sampled across {} samples\n\nTop allocating code (bytes charged to the nearest application frame):",
            format::bytes_u64(s.total_bytes),
            s.samples
        )?;
        rows(out, &s.top_culprits, true)?;
        writeln!(out, "\nTop frames by their own allocations:")?;
        rows(out, &s.top_self, false)
    }
}

fn rows(out: &mut dyn io::Write, rows: &[SiteStat], with_path: bool) -> io::Result<()> {
    for r in rows {
        writeln!(
            out,
            "  {:>10}  {:>5.1}%  {}",
            format::bytes_u64(r.bytes),
            r.share * 100.0,
            r.site
        )?;
        if with_path && r.path.len() > 1 {
            let tail: Vec<&str> = r
                .path
                .iter()
                .rev()
                .take(4)
                .rev()
                .map(String::as_str)
                .collect();
            writeln!(out, "                      via {}", tail.join(" > "))?;
        }
    }
    Ok(())
}

/// The summary carries its own `schema` (`leakhound.alloc/v1`, the schema crate's type).
impl Render<AllocSummary> for Json {
    fn render(&self, s: &AllocSummary, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(s, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;

    fn summary() -> AllocSummary {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/heapprofile/node20-heap-prof.heapprofile"
        );
        let profile = leakhound_profile::parse(&std::fs::read(path).unwrap()).unwrap();
        leakhound_profile::summarize(&profile, None, 5)
    }

    #[test]
    fn text_lists_sites_with_binary_units() {
        let s = summary();
        let t = to_string(&Text, &s);
        assert!(t.starts_with(&format::bytes_u64(s.total_bytes)), "{t}");
        assert!(t.contains("Top allocating code") && t.contains("Top frames by their own"));
        assert!(t.contains(&s.top_self[0].site.to_string()), "{t}");
        assert!(!t.contains(" KB") && !t.contains(" MB"), "{t}");
    }

    #[test]
    fn json_carries_the_schema_and_every_field() {
        let s = summary();
        let v: serde_json::Value = serde_json::from_str(&to_string(&Json, &s)).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["total_bytes"], s.total_bytes);
        assert_eq!(v["top_self"].as_array().unwrap().len(), s.top_self.len());
    }
}
