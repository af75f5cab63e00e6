//! Naming the culprit during `run`: allocation sites from V8's sampling heap profiler and, on
//! request, three heap snapshots compared by the three-snapshot technique.
//!
//! The sampler is one per isolate and a profile cannot tell dead samples from live ones, so the
//! two views come from two windows of the same run:
//!
//! 1. **All allocations** (collected garbage included, `includeObjectsCollectedBy*GC`): from
//!    the start of the warm-up to its end. Warm-up is load like any round, and hot-path garbage
//!    such as the seed's `getItemAssets` is the same in every round.
//! 2. **Survivors** (no include flags, so V8 drops a sample when its object dies): from the end
//!    of the warm-up to the end of the run, read after the idle phase and its forced GC. What
//!    is still sampled then was allocated during the load rounds and outlived load, idle and a
//!    full GC: where a leak shows. If the target dies before the idle phase, the profile read
//!    after the last round's forced GC stands in.
//!
//! V8's sampler records the *physical* stack: a function TurboFan inlined into its caller is
//! charged to the caller. On the seed's server, once `processData` is optimised with the
//! `items.map` callback and `getItemAssets` inlined into it, most of `getItemAssets`'s garbage
//! shows under `processData` (measured: 7 % vs 63 % after 1.5 s of load at 20k req/s, and 70 %
//! for `getItemAssets` with inlining off). The survivors' view suffers the same way (the request
//! handler swallows `processData` when inlining is back on for the rounds). So while sampling,
//! TurboFan's inlining is switched off from the start of the warm-up
//! (`v8.setFlagsFromString('--no-turbo-inlining')`). Retained memory, and so the verdict, does
//! not depend on inlining; the cost in throughput is measured in `docs/benchmarks-culprit.md`,
//! and `--no-alloc-sites` leaves the target's JIT alone.
//!
//! The snapshots follow the same boundaries (after warm-up, after the rounds, after idle), so
//! "allocated between S1 and S2, alive in S3" and the survivors profile describe one thing.
//!
//! Hooks are called from [`crate::run`] and never fail the run: a profiler or snapshot error
//! becomes a note in the output.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::error::IoContext;
use leakhound_heap::LeaksReport;
use leakhound_inspector::{Inspector, SnapshotOptions};
use serde_json::Value;

use crate::culprit_findings::significant;
pub use crate::culprit_findings::{suspects, DEFAULT_SAMPLING_INTERVAL, TOP_SUSPECTS};
pub use crate::culprit_options::{CulpritOptions, SNAPSHOT_FILES};
use crate::progress::Progress;

#[path = "culprit_fill.rs"]
mod fill;

/// Sites kept per view in the JSON.
pub const TOP_SITES: usize = 10;

const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// `v8.setFlagsFromString(FLAG)` in the target, whichever way Node reaches `v8`.
fn set_v8_flag(flag: &str) -> String {
    format!(
        "(typeof process.getBuiltinModule === 'function' \
         ? process.getBuiltinModule('v8') \
         : process.mainModule.require('v8')).setFlagsFromString('{flag}')"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sampling {
    Off,
    All,
    Survivors,
}

/// The capture's state across the phases of one run.
pub struct Culprit {
    opts: CulpritOptions,
    sampling: Sampling,
    all: Option<Value>,
    survivors: Option<Value>,
    snapshots: Vec<PathBuf>,
    notes: Vec<String>,
    leaks: Option<LeaksReport>,
    saved_profiles: Vec<PathBuf>,
    /// The snapshot being written, so an interrupted run leaves no half file behind.
    writing: Option<PathBuf>,
    /// The source maps V8 saw, by script URL (see [`crate::script_maps`]).
    script_maps: Vec<(String, String)>,
}

impl Culprit {
    pub fn new(opts: &CulpritOptions) -> Culprit {
        Culprit {
            opts: opts.clone(),
            sampling: Sampling::Off,
            all: None,
            survivors: None,
            snapshots: Vec::new(),
            notes: Vec::new(),
            leaks: None,
            saved_profiles: Vec::new(),
            writing: None,
            script_maps: Vec::new(),
        }
    }

    fn note(&mut self, progress: Progress<'_>, msg: String) {
        progress(&msg);
        self.notes.push(msg);
    }

    /// Before the warm-up's load: start sampling everything, garbage included.
    pub async fn before_warmup(&mut self, ins: Option<&Inspector>, progress: Progress<'_>) {
        let Some(ins) = ins else { return };
        if self.opts.sampling_interval == 0 {
            return;
        }
        if let Ok(v) = ins.evaluate("process.versions.node", CALL_TIMEOUT).await {
            let major = v
                .as_str()
                .and_then(|s| s.split('.').next()?.parse::<u32>().ok());
            if major.is_some_and(|m| m < 20) {
                self.note(progress, format!(
                    "Node {} ignores includeObjectsCollectedByMajorGC: the all-allocations view shows only what survived the warm-up",
                    v.as_str().unwrap_or("?")
                ));
            }
        }
        // Inlined callees would be charged to their callers (see the module's doc).
        let _ = ins
            .evaluate(&set_v8_flag("--no-turbo-inlining"), CALL_TIMEOUT)
            .await;
        match ins
            .start_sampling(self.opts.sampling_interval, true, CALL_TIMEOUT)
            .await
        {
            Ok(()) => self.sampling = Sampling::All,
            Err(e) => self.note(progress, format!("allocation sampling unavailable: {e}")),
        }
    }

    /// After the warm-up sample: keep the all-allocations profile, start the survivors'
    /// sampler, then snapshot 1.
    pub async fn after_warmup(&mut self, ins: Option<&Inspector>, progress: Progress<'_>) {
        let Some(ins) = ins else { return };
        if self.sampling == Sampling::All {
            self.sampling = Sampling::Off;
            match ins.stop_sampling(CALL_TIMEOUT).await {
                Ok(p) => self.all = Some(p),
                Err(e) => self.note(progress, format!("reading the warm-up's allocations: {e}")),
            }
            match ins
                .start_sampling(self.opts.sampling_interval, false, CALL_TIMEOUT)
                .await
            {
                Ok(()) => self.sampling = Sampling::Survivors,
                Err(e) => self.note(progress, format!("sampling the survivors: {e}")),
            }
        }
        self.snapshot(ins, 0, progress).await;
    }

    /// After the last load round (and its forced GC): a stand-in survivors profile, in case
    /// the target does not live through the idle phase, then snapshot 2.
    pub async fn after_load(&mut self, ins: Option<&Inspector>, progress: Progress<'_>) {
        let Some(ins) = ins else { return };
        if self.sampling == Sampling::Survivors {
            if let Ok(p) = ins.sampling_profile(CALL_TIMEOUT).await {
                self.survivors = Some(p);
            }
        }
        self.snapshot(ins, 1, progress).await;
    }

    /// After the idle phase's forced GC: the survivors profile, the scripts' source maps,
    /// then snapshot 3.
    pub async fn after_idle(&mut self, ins: Option<&Inspector>, progress: Progress<'_>) {
        let Some(ins) = ins else { return };
        if self.sampling == Sampling::Survivors {
            self.sampling = Sampling::Off;
            match ins.stop_sampling(CALL_TIMEOUT).await {
                Ok(p) => self.survivors = Some(p),
                Err(e) => self.note(progress, format!("reading the survivors' allocations: {e}")),
            }
        }
        if self.all.is_some() || self.survivors.is_some() {
            self.script_maps = crate::script_maps::collect(ins, CALL_TIMEOUT).await;
        }
        self.snapshot(ins, 2, progress).await;
    }

    /// Snapshot `i` (0-based), streamed to its file. Snapshots are taken in order; one that
    /// fails ends the series.
    async fn snapshot(&mut self, ins: &Inspector, i: usize, progress: Progress<'_>) {
        let Some(dir) = self.opts.snapshots_dir.clone() else {
            return;
        };
        if self.snapshots.len() != i {
            return;
        }
        let path = dir.join(SNAPSHOT_FILES[i]);
        progress(&format!(
            "heap snapshot {} of 3 -> {}",
            i + 1,
            path.display()
        ));
        self.writing = Some(path.clone());
        let written = write_snapshot(ins, &path, self.opts.snapshot).await;
        self.writing = None;
        match written {
            Ok(stats) => {
                progress(&format!(
                    "heap snapshot {}: {:.1} MiB in {:.1}s{}",
                    i + 1,
                    stats.bytes as f64 / 1048576.0,
                    stats.seconds,
                    if stats.paused {
                        " (the target's JS was paused to let it run)"
                    } else {
                        ""
                    }
                ));
                self.snapshots.push(path);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                self.note(progress, format!("heap snapshot {} failed: {e:#}", i + 1));
            }
        }
    }

    /// The run was interrupted (perhaps in the middle of a snapshot): remove the partial file.
    pub fn abandon(&mut self) {
        if let Some(p) = self.writing.take() {
            let _ = std::fs::remove_file(p);
        }
    }

    /// After the target is gone: save the profiles and compare the snapshots, unless `stop`
    /// is set (Ctrl-C / SIGTERM during the comparison): then whether it was.
    pub async fn finish(&mut self, stop: &Arc<AtomicBool>, progress: Progress<'_>) -> bool {
        if let Some(paths) = self.opts.profile_paths() {
            let mut failed = Vec::new();
            for (p, path) in [&self.all, &self.survivors].into_iter().zip(paths) {
                let Some(p) = p else { continue };
                let text = serde_json::to_vec(p).expect("a JSON value serialises");
                match std::fs::write(&path, text) {
                    Ok(()) => self.saved_profiles.push(path),
                    Err(e) => failed.push(format!("cannot write {}: {e}", path.display())),
                }
            }
            for msg in failed {
                self.note(progress, msg);
            }
        }
        if self.snapshots.len() == 3 {
            progress("comparing the three heap snapshots");
            let files = self.snapshots.clone();
            let stop = stop.clone();
            let r = tokio::task::spawn_blocking(move || {
                leakhound_heap::cancel::run(&stop, || -> crate::error::Result<LeaksReport> {
                    // One whole heap at a time (see `leaks_of_files`).
                    let files = [&*files[0], &*files[1], &*files[2]];
                    leakhound_heap::leaks::leaks_of_files(files, |_, e| e.into())
                })
            })
            .await;
            match r {
                Ok(Ok(Ok(l))) => self.leaks = Some(l),
                Ok(Ok(Err(e))) => self.note(progress, format!("comparing the snapshots: {e:#}")),
                Ok(Err(leakhound_heap::Interrupted)) => {
                    self.note(progress, "comparing the snapshots: interrupted".into());
                    return true;
                }
                Err(e) => self.note(progress, format!("comparing the snapshots: {e}")),
            }
        } else if self.opts.snapshots_dir.is_some() {
            let n = self.snapshots.len();
            self.note(
                progress,
                format!("only {n} of 3 heap snapshots were taken: no snapshot comparison"),
            );
        }
        false
    }

    /// The survivors' raw profile and the directory paths are shown relative to, for the
    /// library patterns ([`crate::library_patterns`]), which need whole stacks.
    pub(crate) fn survivors(&self) -> (Option<&Value>, Option<PathBuf>) {
        let base = self
            .opts
            .base
            .clone()
            .or_else(|| std::env::current_dir().ok());
        (self.survivors.as_ref(), base)
    }
}

pub(crate) fn shown(p: &Path) -> String {
    p.display().to_string()
}

async fn write_snapshot(
    ins: &Inspector,
    path: &Path,
    opts: SnapshotOptions,
) -> crate::error::Result<leakhound_inspector::SnapshotStats> {
    let file = tokio::fs::File::create(path)
        .await
        .io_context(|| format!("creating {}", path.display()))?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let stats = ins.take_heap_snapshot(&mut out, opts).await?;
    out.into_inner().sync_all().await.ok();
    Ok(stats)
}
