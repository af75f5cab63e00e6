//! `leakhound alloc FILE.heapprofile`: which code allocates, from a sampling heap profile made
//! elsewhere (`node --heap-prof`, DevTools, or one saved by `leakhound run`).

use std::path::PathBuf;

use anyhow::Context;
use leakhound_profile::summarize;

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
    leakhound_report::render::text_or_json(&summary, cmd.json, &mut std::io::stdout().lock())
        .context("writing the summary")?;
    Ok(0)
}
