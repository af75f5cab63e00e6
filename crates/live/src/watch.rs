//! The watch: connect, sample on a fixed schedule, and always detach.
//!
//! Everything leakhound changes in the process is undone in [`Session::detach`], which runs
//! whatever happened before it (an error, Ctrl-C): the sampling profiler is stopped, the GC
//! observer removed, and an inspector that leakhound opened with SIGUSR1 closed again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leakhound_inspector::{Inspector, SnapshotOptions};
use leakhound_schema::attach::{
    AttachMethod, AttachReport, AttachSample, FloorPoint, SnapshotOut, SCHEMA,
};
use leakhound_schema::run::AllocSiteOut;
use leakhound_schema::Verdict;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::discover::{self, Found};
use crate::error::{LiveError, Result};
use crate::findings;
use crate::observer::{self, Drained};
use crate::target::Target;
use crate::{analysis, headroom};

/// Calls that the target answers at once, unless its JS is busy.
const CALL: Duration = Duration::from_secs(10);
/// A forced full GC of a big heap takes seconds.
const GC_CALL: Duration = Duration::from_secs(60);
/// Allocation sites kept for the report.
const TOP_SITES: usize = 10;
/// The snapshot file names, in order.
pub const SNAPSHOT_FILES: [&str; 3] = [
    "attach-1-start.heapsnapshot",
    "attach-2-middle.heapsnapshot",
    "attach-3-end.heapsnapshot",
];

/// What to watch and how.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    pub target: Target,
    pub duration: Duration,
    pub sample_every: Duration,
    /// Force a full GC before each sample (pauses the process).
    pub force_gc: bool,
    /// Run the sampling heap profiler over the watch.
    pub alloc_sites: bool,
    pub sampling_interval: u64,
    /// Take three snapshots (start, middle, end) here and compare them.
    pub snapshots_dir: Option<PathBuf>,
    /// How long to wait for the inspector after SIGUSR1.
    pub discover_wait: Duration,
    /// Where allocation sites' file paths are shown relative to.
    pub base: Option<PathBuf>,
}

/// Where the watch tells its progress (stderr lines) and each new state (live metrics).
pub struct Hooks<'a> {
    pub progress: &'a dyn Fn(&str),
    pub update: &'a mut dyn FnMut(&AttachReport),
}

/// Watch the target and return the report. `stop` turning true (Ctrl-C) ends the watch early
/// with an `interrupted` verdict; the process is restored either way.
pub async fn attach(
    opts: &AttachOptions,
    hooks: &mut Hooks<'_>,
    mut stop: watch::Receiver<bool>,
) -> Result<AttachReport> {
    let found = discover::find(&opts.target, opts.discover_wait).await?;
    (hooks.progress)(&format!(
        "inspector at {}{}",
        found.addr,
        if found.opened {
            " (opened with SIGUSR1; closed again on detach)"
        } else {
            " (already open; left open)"
        }
    ));
    let ins = Inspector::connect(&found.ws_url, CALL).await;
    let ins = match ins {
        Ok(i) => i,
        Err(e) => {
            if found.opened {
                (hooks.progress)(&format!(
                    "cannot connect to the inspector leakhound opened at {} ({e}); it stays open",
                    found.addr
                ));
            }
            return Err(e.into());
        }
    };
    let mut session = Session {
        ins,
        found,
        observer: false,
        sampling: false,
    };
    let mut report = AttachReport {
        schema: SCHEMA.into(),
        inspector: session.found.addr.to_string(),
        opened_inspector: session.found.opened,
        method: if opts.force_gc {
            AttachMethod::ForcedGc
        } else {
            AttachMethod::GcObserver
        },
        duration_s: opts.duration.as_secs_f64(),
        sample_every_s: opts.sample_every.as_secs_f64(),
        ..Default::default()
    };
    let watched = session.watch(opts, hooks, &mut stop, &mut report).await;
    let notes = session.detach(hooks.progress).await;
    report.notes.extend(notes);
    watched?;
    analysis::analyse(&mut report);
    (hooks.update)(&report);
    Ok(report)
}

struct Session {
    ins: Inspector,
    found: Found,
    observer: bool,
    sampling: bool,
}

impl Session {
    async fn watch(
        &mut self,
        opts: &AttachOptions,
        hooks: &mut Hooks<'_>,
        stop: &mut watch::Receiver<bool>,
        r: &mut AttachReport,
    ) -> Result<()> {
        let ins = &self.ins;
        let pid = ins.pid(CALL).await?;
        if let Some(wanted) = self.found.pid.filter(|&w| w != pid) {
            return Err(LiveError::WrongProcess {
                addr: self.found.addr.to_string(),
                wanted,
                found: pid,
            });
        }
        r.pid = pid;
        r.node_version = ins
            .evaluate("process.version", CALL)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        match ins.heap_statistics(CALL).await {
            Ok(s) if s.heap_size_limit > 0.0 => r.heap_limit_bytes = Some(s.heap_size_limit),
            Ok(_) => {}
            Err(e) => r.notes.push(format!("no heap limit: {e}")),
        }
        match ins.evaluate(observer::INSTALL, CALL).await {
            Ok(_) => self.observer = true,
            Err(e) => r.notes.push(format!("cannot install the GC observer: {e}")),
        }
        if opts.alloc_sites {
            match ins
                .start_sampling(opts.sampling_interval, false, CALL)
                .await
            {
                Ok(()) => {
                    self.sampling = true;
                    r.alloc_sampling_interval = Some(opts.sampling_interval);
                }
                Err(e) => r.notes.push(format!(
                    "cannot start the sampling heap profiler (another profiler running?): {e}"
                )),
            }
        }
        let t0 = Instant::now();
        let every = opts.sample_every.max(Duration::from_millis(100));
        let ticks = (opts.duration.as_secs_f64() / every.as_secs_f64()).floor() as u32;
        let mid = ticks / 2;
        let mut taken: Vec<PathBuf> = Vec::new();
        for k in 0..=ticks {
            let at = t0 + every * k;
            if stopped_before(stop, at).await {
                r.verdict = Verdict::Interrupted;
                r.reason = format!(
                    "interrupted after {:.0} s; the process was restored",
                    t0.elapsed().as_secs_f64()
                );
                break;
            }
            let s = match self.sample(opts.force_gc, t0).await {
                Ok(s) => s,
                // The process exited (an out-of-memory crash, a restart) or closed its
                // inspector: what was sampled so far still decides.
                Err(e) if !r.samples.is_empty() => {
                    r.notes.push(format!(
                        "the watch ended after {:.0} s: {e} (did the process exit?)",
                        t0.elapsed().as_secs_f64()
                    ));
                    break;
                }
                Err(e) => return Err(e),
            };
            let heap_used = s.heap_used;
            if opts.force_gc {
                r.floor.push(FloorPoint {
                    t_s: s.t_s,
                    heap_used: s.heap_used,
                });
            }
            r.samples.push(s);
            self.drain(opts.force_gc, r).await;
            r.watched_s = t0.elapsed().as_secs_f64();
            if let Some(dir) = &opts.snapshots_dir {
                let due = k == 0 || (k == mid && mid > 0) || (k == ticks && ticks > 0);
                if due && taken.len() < 3 {
                    match self
                        .snapshot(dir, taken.len(), heap_used, t0, hooks.progress, stop)
                        .await
                    {
                        Ok(Some((path, out))) => {
                            taken.push(path);
                            r.snapshots.push(out);
                        }
                        Ok(None) => {
                            r.verdict = Verdict::Interrupted;
                            r.reason =
                                "interrupted during a heap snapshot; the process was restored"
                                    .into();
                            break;
                        }
                        Err(note) => {
                            (hooks.progress)(&note);
                            r.notes.push(note);
                        }
                    }
                }
            }
            analysis::analyse(r);
            (hooks.update)(r);
            (hooks.progress)(&progress_line(r));
        }
        r.watched_s = t0.elapsed().as_secs_f64();
        if self.sampling && r.verdict != Verdict::Interrupted {
            self.sampling = false;
            match self.ins.stop_sampling(CALL).await {
                Ok(p) => r.alloc_survivors = survivors(&p, opts.base.as_deref()),
                Err(e) => r.notes.push(format!("reading the sampling profile: {e}")),
            }
            if !opts.force_gc {
                r.notes.push("without --force-gc the survivors include garbage not yet collected at the end of the watch".into());
            }
        }
        if taken.len() == 3 {
            (hooks.progress)("comparing the three heap snapshots");
            let sites = r
                .alloc_survivors
                .iter()
                .map(|s| s.location.clone())
                .collect();
            let pid = self.found_pid();
            match findings::compare(taken, pid, sites, opts.base.clone()).await {
                Ok(s) => r.suspects = s,
                Err(e) => r.notes.push(e),
            }
        } else if opts.snapshots_dir.is_some() && r.verdict != Verdict::Interrupted {
            r.notes.push(format!(
                "{} of 3 heap snapshots taken: no snapshot comparison",
                taken.len()
            ));
        }
        Ok(())
    }

    /// One sample, after a forced full GC when asked.
    async fn sample(&self, force_gc: bool, t0: Instant) -> Result<AttachSample> {
        let mut pause = None;
        if force_gc {
            let t = Instant::now();
            self.ins.collect_garbage(GC_CALL).await?;
            pause = Some(t.elapsed().as_secs_f64());
        }
        let m = self.ins.memory_usage(CALL).await?;
        Ok(AttachSample {
            t_s: t0.elapsed().as_secs_f64(),
            heap_used: m.heap_used,
            heap_total: m.heap_total,
            external: m.external,
            rss: m.rss,
            after_forced_gc: force_gc,
            gc_pause_s: pause,
        })
    }

    /// Read the observer's counters, and its post-major-GC points when they are the floor.
    async fn drain(&self, force_gc: bool, r: &mut AttachReport) {
        if !self.observer {
            return;
        }
        let Some(d): Option<Drained> = self
            .ins
            .evaluate(observer::DRAIN, CALL)
            .await
            .ok()
            .as_ref()
            .and_then(observer::parse_drained)
        else {
            return;
        };
        r.gc.count = d.count;
        r.gc.major_count = d.major_count;
        r.gc.pause_s = d.pause_s;
        if !force_gc {
            r.floor.extend(
                d.major
                    .iter()
                    .filter(|(t, _)| *t >= 0.0)
                    .map(|&(t_s, heap_used)| FloorPoint { t_s, heap_used }),
            );
        }
    }

    /// Snapshot `i` into `dir`, after the headroom check. `Ok(None)`: interrupted.
    async fn snapshot(
        &self,
        dir: &Path,
        i: usize,
        heap_used: f64,
        t0: Instant,
        progress: &dyn Fn(&str),
        stop: &mut watch::Receiver<bool>,
    ) -> std::result::Result<Option<(PathBuf, SnapshotOut)>, String> {
        headroom::check(&headroom::read(Some(self.found_pid())), heap_used)?;
        let path = dir.join(SNAPSHOT_FILES[i]);
        progress(&format!(
            "heap snapshot {} of 3 -> {}",
            i + 1,
            path.display()
        ));
        let t_s = t0.elapsed().as_secs_f64();
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let opts = SnapshotOptions::default();
        let written = tokio::select! {
            w = self.ins.take_heap_snapshot(&mut out, opts) => Some(w),
            () = until_stopped(stop) => None,
        };
        let Some(written) = written else {
            drop(out);
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        };
        match written {
            Ok(stats) => {
                progress(&format!(
                    "heap snapshot {}: {:.1} MiB; the process paused {:.2} s",
                    i + 1,
                    stats.bytes as f64 / 1048576.0,
                    stats.seconds
                ));
                Ok(Some((
                    path.clone(),
                    SnapshotOut {
                        path: path.display().to_string(),
                        bytes: stats.bytes,
                        pause_s: stats.seconds,
                        t_s,
                    },
                )))
            }
            Err(e) => {
                drop(out);
                let _ = std::fs::remove_file(&path);
                Err(format!("heap snapshot {} failed: {e}", i + 1))
            }
        }
    }

    fn found_pid(&self) -> u32 {
        self.found.pid.unwrap_or(0)
    }

    /// Undo everything: profiler, observer, and the inspector when leakhound opened it.
    /// Returns what could not be undone.
    async fn detach(self, progress: &dyn Fn(&str)) -> Vec<String> {
        let t = Duration::from_secs(5);
        let mut notes = Vec::new();
        if self.sampling {
            if let Err(e) = self.ins.stop_sampling(t).await {
                notes.push(format!("stopping the sampling heap profiler: {e}"));
            }
        }
        if self.observer {
            if let Err(e) = self.ins.evaluate(observer::REMOVE, t).await {
                notes.push(format!("removing the GC observer: {e}"));
            }
        }
        let close = if self.found.opened {
            Some(self.ins.evaluate(observer::CLOSE_INSPECTOR, t).await)
        } else {
            None
        };
        self.ins.close().await;
        match close {
            Some(Ok(_)) => {
                // The timer closes it 200 ms after the answer; confirm it is gone.
                let deadline = Instant::now() + Duration::from_secs(3);
                let mut open = true;
                while Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if discover::json_list(self.found.addr, Duration::from_millis(300))
                        .await
                        .is_err()
                    {
                        open = false;
                        break;
                    }
                }
                if open {
                    notes.push(format!(
                        "the inspector at {} still answers after process._debugEnd()",
                        self.found.addr
                    ));
                } else {
                    progress(&format!(
                        "detached; inspector at {} closed",
                        self.found.addr
                    ));
                }
            }
            Some(Err(e)) => notes.push(format!(
                "closing the inspector at {} failed ({e}); it stays open",
                self.found.addr
            )),
            None => progress("detached; the inspector stays open as it was"),
        }
        notes
    }
}

/// Sleep until `at`; `true` when `stop` turned true first (or already was).
async fn stopped_before(stop: &mut watch::Receiver<bool>, at: Instant) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep_until(at) => *stop.borrow(),
        () = until_stopped(stop) => true,
    }
}

/// Resolves once `stop` is true; never when its sender is gone without stopping.
async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn progress_line(r: &AttachReport) -> String {
    let Some(s) = r.samples.last() else {
        return String::new();
    };
    let mib = |b: f64| b / 1048576.0;
    format!(
        "{:>5.1}s  heap {:.1} MiB  external {:.1} MiB  rss {:.1} MiB  GCs {} ({} major){}",
        s.t_s,
        mib(s.heap_used),
        mib(s.external),
        mib(s.rss),
        r.gc.count,
        r.gc.major_count,
        r.bytes_per_hour
            .map(|b| format!("  floor {:+.1} MiB/hour", mib(b)))
            .unwrap_or_default()
    )
}

/// The survivors' allocation sites from a sampling profile.
fn survivors(profile: &serde_json::Value, base: Option<&Path>) -> Vec<AllocSiteOut> {
    let Ok(bytes) = serde_json::to_vec(profile) else {
        return Vec::new();
    };
    let Ok(p) = leakhound_profile::parse(&bytes) else {
        return Vec::new();
    };
    leakhound_profile::summarize(&p, base, TOP_SITES)
        .top_culprits
        .iter()
        .map(AllocSiteOut::from)
        .collect()
}
