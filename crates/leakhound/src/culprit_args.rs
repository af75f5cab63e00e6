//! `run`'s flags for naming the culprit: allocation sampling and heap snapshots.

use std::path::{Path, PathBuf};

use leakhound_session::culprit::{CulpritOptions, DEFAULT_SAMPLING_INTERVAL};

use crate::output::Outputs;

#[derive(clap::Args, Debug)]
pub struct CulpritArgs {
    /// Save the two sampling heap profiles (`alloc-all`, `alloc-survivors` .heapprofile, for
    /// Chrome DevTools) in DIR. Default: next to the --json file, named after it; not saved
    /// without --json or with --json -.
    #[arg(long = "profile-dir", value_name = "DIR")]
    profile_dir: Option<PathBuf>,
    /// Bytes between two samples of the allocation profiler (e.g. 32KB, 128KB); larger is
    /// cheaper for the target.
    #[arg(long = "sampling-interval", value_name = "SIZE", value_parser = parse_interval)]
    sampling_interval: Option<u64>,
    /// Do not sample allocation sites.
    #[arg(long = "no-alloc-sites", conflicts_with = "sampling_interval")]
    no_alloc_sites: bool,
    /// Take three heap snapshots into DIR (after warm-up, after the load rounds, after idle)
    /// and name what grew and what holds it. Slower: load pauses while a snapshot is taken.
    /// Also arms the heap at death for heaps above 64 MB (memory permitting), kept in DIR.
    #[arg(long = "snapshots", value_name = "DIR")]
    snapshots: Option<PathBuf>,
}

fn parse_interval(s: &str) -> Result<u64, String> {
    let v = leakhound_report::units::parse_size(s).map_err(|e| e.to_string())?;
    if !(1.0..=1073741824.0).contains(&v) {
        return Err(format!("`{s}` must be between 1 byte and 1 GB"));
    }
    Ok(v.round() as u64)
}

impl CulpritArgs {
    /// The session's options; `json` is the file `--json` writes, if any (not `-`). Creates
    /// and checks the output directories, so a bad one is an error before the target starts.
    pub fn options(&self, json: Option<&Path>, outs: &Outputs) -> anyhow::Result<CulpritOptions> {
        let (profile_dir, profile_prefix) = match (&self.profile_dir, json) {
            (Some(d), _) => (Some(d.clone()), String::new()),
            (None, Some(j)) => {
                let dir = j.parent().filter(|p| !p.as_os_str().is_empty());
                let stem = j.file_stem().map(|s| s.to_string_lossy().into_owned());
                (
                    Some(dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf)),
                    stem.map(|s| format!("{s}.")).unwrap_or_default(),
                )
            }
            (None, None) => (None, String::new()),
        };
        let opts = CulpritOptions {
            sampling_interval: if self.no_alloc_sites {
                0
            } else {
                self.sampling_interval.unwrap_or(DEFAULT_SAMPLING_INTERVAL)
            },
            profile_dir: if self.no_alloc_sites {
                None
            } else {
                profile_dir
            },
            profile_prefix,
            snapshots_dir: self.snapshots.clone(),
            ..CulpritOptions::default()
        };
        if let Some(d) = &opts.profile_dir {
            outs.dir("--profile-dir", d)?;
        }
        if let Some(d) = &opts.snapshots_dir {
            outs.dir("--snapshots", d)?;
        }
        opts.prepare()?;
        Ok(opts)
    }
}
