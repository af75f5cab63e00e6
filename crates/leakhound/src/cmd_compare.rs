//! `leakhound compare BEFORE.json AFTER.json`: prove (or not) that a fix stopped a leak.

use std::path::PathBuf;

use leakhound_report::compare;

use crate::cmd_report::load_run;
use crate::exit::{self, Outcome};
use crate::output::Outputs;
use leakhound_report::render::{Html, Json, Markdown};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "The test: a one-sided z-test on the two retained-heap slopes, each \
    slope's standard error taken from its 95% interval in the JSON (or, without one, from a \
    least-squares fit over its load samples).\n\
    `fix proven`: BEFORE leaked (or its slope was significantly positive), AFTER is no-leak, \
    and AFTER's slope is significantly lower (p < 0.05).\n\
    `regression`: AFTER leaks (or ran out of memory) where BEFORE did not, or leaks \
    significantly and materially (> 1.5x) more.\n\
    `not proven`: anything else.\n\
    Beside the test, each heap suspect of BEFORE (runs with --snapshots, or that ran out of \
    memory) is matched by its signature: the same leak still there, gone, or new in AFTER. \
    The verdict and exit code stay the slope test's.\n\n\
    Exit codes: 0 fix proven, 5 not proven, 6 regression, 2 bad input (missing file, not a \
    leakhound.run/v1 result)."
)]
pub struct CompareCmd {
    /// Result of `leakhound run --json` before the fix.
    before: PathBuf,
    /// Result of `leakhound run --json` after the fix.
    after: PathBuf,
    /// Write the leakhound.compare/v1 JSON to FILE; `-` is stdout, and the table then goes
    /// to stderr.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the verdict, its reasons and the leaks matched by signature as Markdown to FILE
    /// (`-` is stdout).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write the same as a self-contained HTML page to FILE (`-` is stdout).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub fn run(cmd: CompareCmd) -> Outcome {
    let mut outs = Outputs::new(&[&cmd.before, &cmd.after]);
    let mut json = outs.open_opt("--json", cmd.json.as_deref())?;
    let mut markdown = outs.open_opt("--markdown", cmd.markdown.as_deref())?;
    let mut html = outs.open_opt("--html", cmd.html.as_deref())?;
    let before = load_run(&cmd.before)?;
    let after = load_run(&cmd.after)?;
    let c = compare::compare(&before, &after);
    let code = c.verdict.exit_code();
    exit::reached(code);
    if let Some(j) = &mut json {
        j.render(&Json, &c)?;
    }
    if let Some(m) = &mut markdown {
        m.render(&Markdown, &c)?;
    }
    if let Some(h) = &mut html {
        h.render(&Html, &c)?;
    }
    outs.human().render(&c)?;
    Ok(code)
}
