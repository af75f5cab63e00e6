//! `leakhound alloc FILE.heapprofile`: which code allocates, from a sampling heap profile made
//! elsewhere (`node --heap-prof`, DevTools, or one saved by `leakhound run`).

use std::path::PathBuf;

use anyhow::Context;
use leakhound_profile::{summarize_mapped, SourceMaps};

use crate::exit::{self, Outcome};
use crate::output::Outputs;
use leakhound_report::render::Json;

#[derive(clap::Args, Debug)]
pub struct AllocCmd {
    /// A `.heapprofile` file (the JSON of V8's sampling heap profiler).
    file: PathBuf,
    /// How many sites to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    top: u16,
    /// Write one JSON object (`leakhound.alloc/v1`) to FILE; `-` is stdout, and the summary
    /// then goes to stderr.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub fn run(cmd: AllocCmd) -> Outcome {
    let mut outs = Outputs::new(&[&cmd.file]);
    let mut json = outs.open_opt("--json", cmd.json.as_deref())?;
    let bytes =
        std::fs::read(&cmd.file).with_context(|| format!("reading {}", cmd.file.display()))?;
    let profile =
        leakhound_profile::parse(&bytes).with_context(|| format!("{}", cmd.file.display()))?;
    let base = std::env::current_dir().ok();
    // Scripts with a source map (a `.map` beside them or an inline one) are shown in their
    // original sources; the generated position stays in the JSON.
    let mut maps = SourceMaps::new(base.as_deref());
    let summary = summarize_mapped(&profile, base.as_deref(), cmd.top as usize, &mut maps);
    exit::reached(exit::OK);
    if let Some(j) = &mut json {
        j.render(&Json, &summary)?;
    }
    outs.human().render(&summary)?;
    Ok(exit::OK)
}
