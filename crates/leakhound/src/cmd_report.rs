//! `leakhound report RUN.json -o FILE.html [--markdown FILE]`: render a saved run result.

use std::path::{Path, PathBuf};

use anyhow::Context;
use leakhound_report::run_schema::{self, RunReport};
use leakhound_report::{html, markdown};

use crate::exit::{self, Outcome};
use crate::note;
use crate::output::Outputs;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "At least one of -o and --markdown is needed; `-` writes to stdout. \
    Exit codes: 0 written, 2 bad input or I/O error."
)]
pub struct ReportCmd {
    /// A result written by `leakhound run --json` (schema leakhound.run/v1).
    run_json: PathBuf,
    /// Write the self-contained HTML report (inline CSS and SVG, works offline) here.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Write a short Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment) here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

/// Read and validate a run result; errors name the file and the reason on one line.
pub fn load_run(path: &Path) -> anyhow::Result<RunReport> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    run_schema::from_json(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn run(cmd: ReportCmd) -> Outcome {
    anyhow::ensure!(
        cmd.output.is_some() || cmd.markdown.is_some(),
        "nothing to write: give -o FILE.html and/or --markdown FILE.md"
    );
    let mut outs = Outputs::new(&[&cmd.run_json]);
    let html_out = outs.open_opt("-o", cmd.output.as_deref())?;
    let md_out = outs.open_opt("--markdown", cmd.markdown.as_deref())?;
    let report = load_run(&cmd.run_json)?;
    exit::reached(exit::OK);
    for (out, text) in [
        (html_out, html::render as fn(&RunReport) -> String),
        (md_out, markdown::render),
    ] {
        if let Some(mut o) = out {
            o.write_all(text(&report).as_bytes())?;
            if !o.is_stdout() {
                note!("leakhound: wrote {}", o.path().display());
            }
        }
    }
    Ok(exit::OK)
}
