//! Worker threads (`worker_threads`) of the serving process, followed through the inspector's
//! `NodeWorker` domain: each is attached when it appears (at attach time or later), sampled
//! after its own forced GC right after the main isolate's, and gets its own allocation sampler
//! and snapshots (one [`Culprit`] per thread, the same hooks as the main thread's). Threads
//! that end are kept, marked, with the samples they had. The decision per thread is in
//! [`crate::thread_verdicts`].
//!
//! Every call here is bounded and never fails the run: a worker that does not answer misses a
//! sample and says so.

use std::time::Duration;

use leakhound_inspector::{Inspector, WorkerTarget};

use crate::culprit::Culprit;
use crate::culprit_options::CulpritOptions;
use crate::progress::Progress;
use crate::verdict::{assess, Phase, Sample, Thresholds, MIB};

const GC_TIMEOUT: Duration = Duration::from_secs(5);
const T: Duration = Duration::from_secs(5);
/// How long attaching waits for a first worker thread to be reported (a run without worker
/// threads pays it once).
const FIRST_WORKER_WAIT: Duration = Duration::from_millis(150);

/// How far the run's culprit hooks have gone, so a thread that appears late catches up (its
/// sampler starts in the mode the main thread's is in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Start,
    Warmup,
    Rounds,
    Ended,
}

/// One worker thread.
pub(crate) struct Thread {
    pub(crate) target: WorkerTarget,
    ins: Inspector,
    /// After each of its forced GCs, on the run's clock and request count.
    pub(crate) samples: Vec<Sample>,
    /// The worker isolate's own `heap_size_limit` (`resourceLimits` or the process's flags).
    pub(crate) heap_limit: f64,
    pub(crate) culprit: Culprit,
    /// Samples missed in a row (a worker whose JS never yields cannot run a forced GC).
    misses: u32,
    /// Why it is no longer followed, once it missed [`MAX_MISSES`] samples.
    pub(crate) note: Option<String>,
}

/// A thread that missed this many samples in a row is no longer followed, so a busy worker
/// costs the run two GC timeouts, not one per round.
const MAX_MISSES: u32 = 2;

impl Thread {
    /// Still attached and still answering.
    fn followed(&self) -> bool {
        self.target.attached && self.misses < MAX_MISSES
    }

    pub(crate) fn label(&self) -> String {
        thread_label(&self.target)
    }
}

/// `[worker 1] audit-worker.js` style: the inspector's title, with the script when the title
/// does not already name it.
pub(crate) fn thread_label(t: &WorkerTarget) -> String {
    let url = shown_url(&t.url);
    if url.is_empty() || t.title.contains(&url) {
        format!("worker thread {}", t.title)
    } else {
        format!("worker thread {} ({url})", t.title)
    }
}

/// A worker's `file://` URL as a path, relative to the working directory when inside it.
pub(crate) fn shown_url(url: &str) -> String {
    let Some(path) = url.strip_prefix("file://") else {
        return url.to_string();
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    std::path::Path::new(path)
        .strip_prefix(&cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// Every worker thread of the serving process.
pub(crate) struct Threads {
    pub(crate) list: Vec<Thread>,
    opts: CulpritOptions,
    stage: Stage,
    enabled: bool,
}

impl Threads {
    pub(crate) fn new(opts: &CulpritOptions) -> Threads {
        Threads {
            list: Vec::new(),
            opts: opts.clone(),
            stage: Stage::Start,
            enabled: false,
        }
    }

    /// `NodeWorker.enable` on the main session; the workers already running attach now.
    pub(crate) async fn enable(&mut self, ins: &Inspector, progress: Progress<'_>) {
        match ins.enable_workers(T).await {
            Ok(()) => self.enabled = true,
            Err(e) => progress(&format!("worker threads cannot be followed: {e}")),
        }
        // A service often starts its workers as it listens, and a worker is reported once it
        // has booted (measured: at once, or up to ~50 ms later): wait a little for the first,
        // so the baseline and the warm-up's sampler include it. Later ones are picked up at
        // each sample.
        if self.enabled {
            let t0 = tokio::time::Instant::now();
            while ins.workers().is_empty() && t0.elapsed() < FIRST_WORKER_WAIT {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// Start following the workers that attached since the last look, and mark the ended.
    async fn refresh(&mut self, ins: &Inspector, progress: Progress<'_>) {
        if !self.enabled {
            return;
        }
        for w in ins.workers() {
            if let Some(t) = self
                .list
                .iter_mut()
                .find(|t| t.target.session_id == w.session_id)
            {
                if t.target.attached && !w.attached {
                    progress(&format!("{} ended", t.label()));
                }
                t.target = w;
                continue;
            }
            let Some(handle) = ins.worker(&w.session_id) else {
                continue;
            };
            // One that came and went between two samples is listed, ended, with no samples.
            let heap_limit = match handle.heap_statistics(T).await {
                Ok(s) => s.heap_size_limit,
                Err(_) => 0.0,
            };
            let mut t = Thread {
                culprit: Culprit::new(&self.thread_culprit(&w)),
                target: w,
                ins: handle,
                samples: Vec::new(),
                heap_limit,
                misses: 0,
                note: None,
            };
            if !t.target.attached {
                progress(&format!(
                    "{} started and ended between two samples",
                    t.label()
                ));
                self.list.push(t);
                continue;
            }
            progress(&format!(
                "following {}, heap limit {:.0} MiB",
                t.label(),
                heap_limit / MIB
            ));
            // A late thread's sampler starts where the main thread's is.
            if self.stage >= Stage::Warmup {
                t.culprit.before_warmup(Some(&t.ins), progress).await;
            }
            if self.stage >= Stage::Rounds {
                t.culprit.after_warmup(Some(&t.ins), progress).await;
            }
            self.list.push(t);
        }
    }

    /// Each thread's profiles and snapshots go beside the main thread's, named after it.
    fn thread_culprit(&self, w: &WorkerTarget) -> CulpritOptions {
        let mut o = self.opts.clone();
        o.profile_prefix = format!("{}thread-{}.", o.profile_prefix, w.worker_id);
        o.snapshots_dir = o.snapshots_dir.map(|d| {
            let d = d.join(format!("thread-{}", w.worker_id));
            let _ = std::fs::create_dir_all(&d);
            d
        });
        o
    }

    /// After the main isolate's sample `main`: force a GC in each live thread and read its
    /// heap, tagged like `main` (time, requests, phase). A thread has no RSS of its own: its
    /// samples carry the process's.
    pub(crate) async fn sample(&mut self, ins: &Inspector, main: &Sample, progress: Progress<'_>) {
        self.refresh(ins, progress).await;
        for t in self.list.iter_mut().filter(|t| t.followed()) {
            let mem = match t.ins.collect_garbage(GC_TIMEOUT).await {
                Ok(()) => t.ins.memory_usage(T).await,
                Err(e) => Err(e),
            };
            let mem = match mem {
                Ok(m) => m,
                Err(e) => {
                    t.misses += 1;
                    let more = if t.misses >= MAX_MISSES {
                        t.note = Some(format!("no longer followed: it stopped answering ({e})"));
                        "; no longer followed"
                    } else {
                        ""
                    };
                    progress(&format!("{}: no sample ({e}){more}", t.label()));
                    continue;
                }
            };
            let s = Sample {
                heap_used: mem.heap_used,
                external: mem.external,
                array_buffers: mem.array_buffers,
                ..*main
            };
            progress(&format!(
                "{:>31}  heap {:>7.2} MiB  external {:>7.2} MiB  thread {}",
                "",
                s.heap_used / MIB,
                s.external / MIB,
                t.target.title
            ));
            t.misses = 0;
            t.samples.push(s);
        }
    }

    /// `samples` (the main isolate's) with every followed thread's heap taken at the same
    /// moment added to the heap: a thread's isolate lives in the process's RSS, so RSS growth
    /// it explains is not memory outside the heaps ([`crate::rss_growth`]).
    pub(crate) fn with_thread_heaps(&self, samples: &[Sample]) -> Vec<Sample> {
        samples
            .iter()
            .map(|s| {
                let mut s = *s;
                for t in &self.list {
                    if let Some(ts) = t.samples.iter().find(|x| x.t_s == s.t_s) {
                        s.heap_used += ts.heap_used;
                    }
                }
                s
            })
            .collect()
    }

    /// Whether any thread's load-phase series leaks, and whether every one is stable (the
    /// rounds go on while a thread is still undecided).
    pub(crate) fn trend(&self, th: &Thresholds) -> (bool, bool) {
        let mut leak = false;
        let mut stable = true;
        for t in self.list.iter().filter(|t| t.followed()) {
            let load: Vec<Sample> = t
                .samples
                .iter()
                .filter(|s| matches!(s.phase, Phase::Warmup | Phase::Load))
                .copied()
                .collect();
            let a = assess(&load, th);
            leak |= a.leak().is_some();
            stable &= a.stable();
        }
        (leak, stable)
    }

    /// Workers that started since the baseline (a service often starts its pool as it
    /// listens) are picked up first, so their samplers cover the warm-up too.
    pub(crate) async fn before_warmup(&mut self, ins: Option<&Inspector>, progress: Progress<'_>) {
        if let Some(ins) = ins {
            self.refresh(ins, progress).await;
        }
        self.stage = Stage::Warmup;
        for t in self.list.iter_mut().filter(|t| t.followed()) {
            t.culprit.before_warmup(Some(&t.ins), progress).await;
        }
    }

    pub(crate) async fn after_warmup(&mut self, progress: Progress<'_>) {
        self.stage = Stage::Rounds;
        for t in self.list.iter_mut().filter(|t| t.followed()) {
            t.culprit.after_warmup(Some(&t.ins), progress).await;
        }
    }

    pub(crate) async fn after_load(&mut self, progress: Progress<'_>) {
        for t in self.list.iter_mut().filter(|t| t.followed()) {
            t.culprit.after_load(Some(&t.ins), progress).await;
        }
    }

    pub(crate) async fn after_idle(&mut self, progress: Progress<'_>) {
        self.stage = Stage::Ended;
        for t in self.list.iter_mut().filter(|t| t.followed()) {
            t.culprit.after_idle(Some(&t.ins), progress).await;
        }
    }

    /// After the target is gone (see [`Culprit::finish`]); `interrupted` abandons instead.
    /// Whether `stop` cut a comparison short.
    pub(crate) async fn finish(
        &mut self,
        interrupted: bool,
        stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
        progress: Progress<'_>,
    ) -> bool {
        let mut stopped = false;
        for t in &mut self.list {
            if interrupted {
                t.culprit.abandon();
            } else {
                stopped |= t.culprit.finish(stop, progress).await;
            }
        }
        stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(title: &str, url: &str) -> WorkerTarget {
        WorkerTarget {
            session_id: "1".into(),
            worker_id: "1".into(),
            kind: "worker".into(),
            title: title.into(),
            url: url.into(),
            attached: true,
        }
    }

    #[test]
    fn a_thread_is_named_by_its_title_and_its_script_relative_to_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let url = format!("file://{}/lib/audit-worker.js", cwd.display());
        assert_eq!(
            thread_label(&target("[worker 1]", &url)),
            "worker thread [worker 1] (lib/audit-worker.js)"
        );
        // An eval'd worker has no URL; a title that names the script is not repeated.
        assert_eq!(
            thread_label(&target("[worker 2] keeper", "")),
            "worker thread [worker 2] keeper"
        );
        assert_eq!(shown_url("file:///elsewhere/w.js"), "/elsewhere/w.js");
    }
}
