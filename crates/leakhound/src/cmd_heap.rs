//! `leakhound heap summary|diff|leaks`: wiring only; the work is in `leakhound-heap`.

use crate::exit::{self, Outcome};
use crate::note;
use crate::output::{Output, Outputs};
use anyhow::Context;
use leakhound_heap::Heap;
use leakhound_report::render::{heap::Top, heap_html::HeapPage, Html, Json, Markdown};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct HeapCmd {
    #[command(subcommand)]
    pub action: HeapAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum HeapAction {
    /// Totals, the biggest classes, and leak suspects with their retainer paths.
    #[command(
        after_help = "Exit codes: 0 done, 2 bad input or an output that cannot be written, \
    130 interrupted (Ctrl-C / SIGTERM)."
    )]
    Summary {
        /// A .heapsnapshot file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// How many classes to list in each table.
        #[arg(long, value_name = "N", default_value_t = 15)]
        top: usize,
        /// Write the machine-readable result to FILE; `-` is stdout, and the text then goes to
        /// stderr.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment), the
        /// inspections included, to FILE (`-`: stdout).
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// Also write the summary as an offline HTML page with a browsable dominator tree
        /// (the biggest objects, expandable, each with its retainer path) to FILE.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Per class: objects new in B and gone since A, matched by object id.
    #[command(
        after_help = "Exit codes: 0 done, 2 bad input or an output that cannot be written, \
    130 interrupted (Ctrl-C / SIGTERM)."
    )]
    Diff {
        /// The earlier .heapsnapshot.
        #[arg(value_name = "A")]
        a: PathBuf,
        /// The later .heapsnapshot.
        #[arg(value_name = "B")]
        b: PathBuf,
        /// How many classes to list.
        #[arg(long, value_name = "N", default_value_t = 20)]
        top: usize,
        /// Write the machine-readable result to FILE; `-` is stdout, and the text then goes to
        /// stderr.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment), the
        /// inspections included, to FILE (`-`: stdout).
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
    },
    /// The three-snapshot technique: objects allocated between S1 and S2 and still alive in S3.
    #[command(
        after_help = "Exit codes: 0 no significant leak, 1 leak (a group of new objects \
        survived in bulk, as `run` and `gc` exit 1 on a leak), 2 bad input or an output that \
        cannot be written, 130 interrupted (Ctrl-C / SIGTERM)."
    )]
    Leaks {
        /// The first .heapsnapshot (the baseline).
        #[arg(value_name = "S1")]
        s1: PathBuf,
        /// The second, after the suspected leak had a chance to grow.
        #[arg(value_name = "S2")]
        s2: PathBuf,
        /// The third, later still.
        #[arg(value_name = "S3")]
        s3: PathBuf,
        /// How many groups to list.
        #[arg(long, value_name = "N", default_value_t = 10)]
        top: usize,
        /// Write the machine-readable result to FILE; `-` is stdout, and the text then goes to
        /// stderr.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment), the
        /// inspections included, to FILE (`-`: stdout).
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
    },
}

/// A snapshot that could not be read, named.
fn in_file(p: &Path, e: leakhound_heap::OpenError) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("{}", p.display()))
}

/// Open the `--json` and `--markdown` outputs (checked against the snapshots read) before
/// any parsing.
fn outputs(
    inputs: &[&PathBuf],
    json: Option<&Path>,
    markdown: Option<&Path>,
) -> anyhow::Result<(Outputs, Option<Output>, Option<Output>)> {
    let mut outs = Outputs::new(inputs);
    let json = outs.open_opt("--json", json)?;
    let markdown = outs.open_opt("--markdown", markdown)?;
    Ok((outs, json, markdown))
}

/// Run the analysis `f` so that Ctrl-C / SIGTERM stop it (`None`: stopped).
fn stoppable<T>(
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    f: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    match leakhound_heap::cancel::run(stop, f) {
        Ok(r) => r.map(Some),
        Err(leakhound_heap::Interrupted) => Ok(None),
    }
}

pub fn run(cmd: HeapCmd) -> Outcome {
    // Before any work: a 1 GB snapshot takes tens of seconds, and Ctrl-C must stop it.
    let stop = crate::interrupt::flag()?;
    match cmd.action {
        HeapAction::Summary {
            file,
            top,
            json,
            markdown,
            report,
        } => {
            let (mut outs, mut json, mut markdown) =
                outputs(&[&file], json.as_deref(), markdown.as_deref())?;
            let mut report = outs.open_opt("--report", report.as_deref())?;
            let page = report.is_some();
            let Some((s, tree)) = stoppable(&stop, || {
                // The inspections run beside the dominators, the class table beside the BFS.
                let (h, stats) = Heap::open_with(&file, &leakhound_heap::summary::ForSummary)
                    .with_context(|| format!("{}", file.display()))?;
                let t0 = std::time::Instant::now();
                let s = leakhound_heap::summary::summary_with(&h, top, stats);
                if std::env::var_os("LEAKHOUND_HEAP_TIMING").is_some() {
                    note!("[heap] summary: {:.3}s", t0.elapsed().as_secs_f64());
                }
                let tree = page.then(|| {
                    leakhound_heap::domtree::dominator_tree(
                        &h,
                        leakhound_heap::domtree::DEFAULT_MAX_NODES,
                        leakhound_heap::domtree::default_floor(h.total),
                    )
                });
                Ok((s, tree))
            })?
            else {
                return Ok(crate::interrupt::stopped());
            };
            exit::reached(exit::OK);
            if let Some(j) = &mut json {
                j.render(&Json, &s)?;
            }
            if let Some(m) = &mut markdown {
                m.render(&Markdown, &s)?;
            }
            if let (Some(r), Some(tree)) = (&mut report, &tree) {
                let name = file.display().to_string();
                r.render(
                    &Html,
                    &HeapPage {
                        summary: &s,
                        tree,
                        file: &name,
                    },
                )?;
            }
            outs.human().render(&s)?;
            Ok(exit::OK)
        }
        HeapAction::Diff {
            a,
            b,
            top,
            json,
            markdown,
        } => {
            let (outs, mut json, mut markdown) =
                outputs(&[&a, &b], json.as_deref(), markdown.as_deref())?;
            let Some(d) = stoppable(&stop, || {
                leakhound_heap::diff::diff_of_files(&a, &b, in_file)
            })?
            else {
                return Ok(crate::interrupt::stopped());
            };
            exit::reached(exit::OK);
            if let Some(j) = &mut json {
                j.render(&Json, &d)?;
            }
            if let Some(m) = &mut markdown {
                m.render(&Markdown, &Top { doc: &d, top })?;
            }
            {
                outs.human().render(&Top { doc: &d, top })?;
            }
            Ok(exit::OK)
        }
        HeapAction::Leaks {
            s1,
            s2,
            s3,
            top,
            json,
            markdown,
        } => {
            let (outs, mut json, mut markdown) =
                outputs(&[&s1, &s2, &s3], json.as_deref(), markdown.as_deref())?;
            let Some(r) = stoppable(&stop, || {
                leakhound_heap::leaks::leaks_of_files([&s1, &s2, &s3], in_file)
            })?
            else {
                return Ok(crate::interrupt::stopped());
            };
            // A leak is exit 1 here as in `run` and `gc`.
            let code = if r.significant { exit::LEAK } else { exit::OK };
            exit::reached(code);
            if let Some(j) = &mut json {
                j.render(&Json, &r)?;
            }
            if let Some(m) = &mut markdown {
                m.render(&Markdown, &Top { doc: &r, top })?;
            }
            {
                outs.human().render(&Top { doc: &r, top })?;
            }
            Ok(code)
        }
    }
}
