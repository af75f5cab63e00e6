//! `leakhound heap summary|diff|leaks`: wiring only; the work is in `leakhound-heap`.

use crate::exit::Outcome;
use anyhow::Context;
use leakhound_heap::Heap;
use leakhound_report::render::{heap::Top, Render, Text};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct HeapCmd {
    #[command(subcommand)]
    pub action: HeapAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum HeapAction {
    /// Totals, the biggest classes, and leak suspects with their retainer paths.
    Summary {
        file: PathBuf,
        /// How many classes to list in each table.
        #[arg(long, default_value_t = 15)]
        top: usize,
        /// Write the machine-readable result to this file (`-` for stdout).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Per class: objects new in B and gone since A, matched by object id.
    Diff {
        a: PathBuf,
        b: PathBuf,
        #[arg(long, default_value_t = 20)]
        top: usize,
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// The three-snapshot technique: objects allocated between S1 and S2 and still alive in S3.
    Leaks {
        s1: PathBuf,
        s2: PathBuf,
        s3: PathBuf,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
}

fn open(p: &Path) -> anyhow::Result<Heap> {
    Heap::open(p).with_context(|| format!("{}", p.display()))
}

fn write_json<T: serde::Serialize>(dest: &Path, v: &T) -> anyhow::Result<()> {
    let s = serde_json::to_string_pretty(v)?;
    if dest == Path::new("-") {
        println!("{s}");
    } else {
        std::fs::write(dest, s + "\n").with_context(|| format!("writing {}", dest.display()))?;
    }
    Ok(())
}

pub fn run(cmd: HeapCmd) -> Outcome {
    match cmd.action {
        HeapAction::Summary { file, top, json } => {
            let h = open(&file)?;
            let t0 = std::time::Instant::now();
            let s = leakhound_heap::summary(&h, top);
            if std::env::var_os("LEAKHOUND_HEAP_TIMING").is_some() {
                eprintln!("[heap] summary: {:.3}s", t0.elapsed().as_secs_f64());
            }
            let to_stdout = json.as_deref() == Some(Path::new("-"));
            if let Some(j) = &json {
                write_json(j, &s)?;
            }
            if !to_stdout {
                Text.render(&s, &mut std::io::stdout().lock())?;
            }
            Ok(0)
        }
        HeapAction::Diff { a, b, top, json } => {
            let ha = open(&a)?;
            let hb = open(&b)?;
            let d = leakhound_heap::diff(&ha, &hb);
            let to_stdout = json.as_deref() == Some(Path::new("-"));
            if let Some(j) = &json {
                write_json(j, &d)?;
            }
            if !to_stdout {
                Text.render(&Top { doc: &d, top }, &mut std::io::stdout().lock())?;
            }
            Ok(0)
        }
        HeapAction::Leaks {
            s1,
            s2,
            s3,
            top,
            json,
        } => {
            let h1 = open(&s1)?;
            let h2 = open(&s2)?;
            let h3 = open(&s3)?;
            let r = leakhound_heap::leaks(&h1, &h2, &h3);
            let to_stdout = json.as_deref() == Some(Path::new("-"));
            if let Some(j) = &json {
                write_json(j, &r)?;
            }
            if !to_stdout {
                Text.render(&Top { doc: &r, top }, &mut std::io::stdout().lock())?;
            }
            Ok(0)
        }
    }
}
