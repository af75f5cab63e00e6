//! `leakhound alloc FILE.heapprofile`: which code allocates, from a sampling heap profile made
//! elsewhere (`node --heap-prof`, DevTools, or one saved by `leakhound run`).

use leakhound_heap::fmt_bytes as human_bytes;
use std::path::PathBuf;

use anyhow::Context;
use leakhound_profile::{summarize, AllocSummary, SiteStat};

use crate::exit::Outcome;

#[derive(clap::Args, Debug)]
pub struct AllocCmd {
    /// A `.heapprofile` file (the JSON of V8's sampling heap profiler).
    file: PathBuf,
    /// How many sites to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    top: u16,
    /// Print one JSON object (`leakhound.alloc/v1`) instead of the summary.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: AllocCmd) -> Outcome {
    let bytes =
        std::fs::read(&cmd.file).with_context(|| format!("reading {}", cmd.file.display()))?;
    let profile =
        leakhound_profile::parse(&bytes).with_context(|| format!("{}", cmd.file.display()))?;
    let base = std::env::current_dir().ok();
    let summary = summarize(&profile, base.as_deref(), cmd.top as usize);
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", render(&summary));
    }
    Ok(0)
}

fn render(s: &AllocSummary) -> String {
    let mut out = format!(
        "{} sampled across {} samples\n\nTop allocating code (bytes charged to the nearest application frame):\n",
        human_bytes(s.total_bytes),
        s.samples
    );
    push_rows(&mut out, &s.top_culprits, true);
    out.push_str("\nTop frames by their own allocations:\n");
    push_rows(&mut out, &s.top_self, false);
    out
}

fn push_rows(out: &mut String, rows: &[SiteStat], with_path: bool) {
    for r in rows {
        out.push_str(&format!(
            "  {:>10}  {:>5.1}%  {}\n",
            human_bytes(r.bytes),
            r.share * 100.0,
            r.site
        ));
        if with_path && r.path.len() > 1 {
            let tail: Vec<&str> = r
                .path
                .iter()
                .rev()
                .take(4)
                .rev()
                .map(String::as_str)
                .collect();
            out.push_str(&format!("                      via {}\n", tail.join(" > ")));
        }
    }
}
