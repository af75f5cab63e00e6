//! `run --workload FILE.js`: the leak test for a function rather than a server. leakhound starts
//! node itself on a small runner (`workload.js`, written to a temporary directory) that imports
//! FILE and calls its default export over and over; the run regresses retained memory on the
//! calls (iterations). The flags after `--` are node's own.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

const RUNNER: &str = include_str!("workload.js");

/// The runner on disk, for as long as the run lasts.
pub struct Workload {
    _dir: tempfile::TempDir,
    /// `node [node flags] RUNNER FILE CONCURRENCY`.
    pub command: Vec<String>,
}

/// Check FILE's default export is a function (exit 2 with the runner's message if not), and
/// build the command that runs it.
pub fn prepare(file: &Path, concurrency: usize, node_flags: &[String]) -> Result<Workload> {
    anyhow::ensure!(concurrency >= 1, "--concurrency must be at least 1");
    let file: PathBuf = std::fs::canonicalize(file)
        .with_context(|| format!("--workload {}: cannot read it", file.display()))?;
    let dir = tempfile::Builder::new()
        .prefix("leakhound-workload-")
        .tempdir()
        .context("creating a temporary directory")?;
    let runner = dir.path().join("workload.cjs");
    std::fs::write(&runner, RUNNER).context("writing the workload runner")?;
    let out = std::process::Command::new("node")
        .args(node_flags)
        .arg(&runner)
        .arg("--check")
        .arg(&file)
        .env_remove("NODE_OPTIONS")
        .stdin(std::process::Stdio::null())
        .output()
        .context("starting node to check the --workload module")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        bail!("--workload {}: {}", file.display(), line.trim());
    }
    let mut command = vec!["node".to_string()];
    command.extend(node_flags.iter().cloned());
    command.push(runner.to_string_lossy().into_owned());
    command.push(file.to_string_lossy().into_owned());
    command.push(concurrency.to_string());
    Ok(Workload { _dir: dir, command })
}
