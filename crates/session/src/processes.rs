//! Every Node process of the target's tree that opens an inspector: a cluster primary and its
//! workers, a forked child, an `npm`/`npx` wrapper. Each is followed from its "Debugger
//! listening" banner on (new banners may come during the run: a cluster forking late, a worker
//! restarted after running out of memory), given a role, and sampled after a forced GC in every
//! round, all processes at once. [`crate::process_verdicts`] judges each one afterwards.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use leakhound_inspector::{CdpError, Inspector, MemoryUsage};
use leakhound_schema::process::ProcessRole;

use crate::oom_deaths::OomDeaths;
use crate::preload::Started;
use crate::procfs;
use crate::target::{Captured, Target};
use crate::verdict::Sample;

/// How long one process gets to answer when it is first met.
const HELLO: Duration = Duration::from_secs(3);
/// How long a banner's inspector is tried (at each look for new processes) before it is given
/// up. A time, not a count of attempts: while the run attaches it looks every 100 ms, and a
/// worker starting on a starved machine can miss a few attempts in a row and still serve
/// for the whole run (a count of five once lost a serving worker that way).
const GIVE_UP: Duration = Duration::from_secs(20);

/// What leakhound asks a process it meets: whether it is a cluster worker (and its id), its
/// parent, and whether the preload's request counter is there. Node deletes the
/// `NODE_UNIQUE_ID` a worker is started with once the worker is set up, so the `cluster`
/// module is asked (`process.getBuiltinModule` on Node 20.16+, else the main module's
/// `require`, CommonJS only).
const WHO: &str =
    "(() => { let c = null; try { c = typeof process.getBuiltinModule === 'function' \
    ? process.getBuiltinModule('cluster') : process.mainModule.require('cluster'); } catch (e) {} \
    return {id: c && c.isWorker ? String(c.worker ? c.worker.id : '?') : null, ppid: process.ppid, \
    counted: typeof globalThis[Symbol.for('leakhound.requests')] === 'number'}; })()";

/// Memory after the forced GC, and the requests this process's HTTP servers saw (the
/// preload counts `http.server.request.start`).
const MEM: &str = "({m: process.memoryUsage(), r: globalThis[Symbol.for('leakhound.requests')]})";

/// The exit of a process that stopped answering, before its primary said how it ended.
const EXITED: &str = "exited during the run";

/// One followed process.
pub(crate) struct Followed {
    pub(crate) pid: u32,
    pub(crate) ppid: Option<u32>,
    /// `None` once it is gone.
    pub(crate) ins: Option<Inspector>,
    /// Its `NODE_UNIQUE_ID` when it is a cluster worker.
    pub(crate) worker_id: Option<String>,
    pub(crate) role: ProcessRole,
    pub(crate) serving: bool,
    pub(crate) label: String,
    pub(crate) command: Vec<String>,
    pub(crate) samples: Vec<Sample>,
    /// The requests its own servers counted at each sample (`None` without the counter).
    pub(crate) own: Vec<Option<u64>>,
    pub(crate) heap_limit: f64,
    /// It ran out of memory.
    pub(crate) oom: bool,
    /// How it ended, when it did.
    pub(crate) exit: Option<String>,
    /// Order of discovery.
    pub(crate) seq: usize,
    /// How many processes had been discovered when it last answered: a process that takes
    /// its place once it died is discovered later ([`crate::restarts`]).
    pub(crate) answered_among: usize,
    /// When it was found gone.
    pub(crate) gone_at: Option<Instant>,
    /// Its place in the target's start order, from its preload's line ([`crate::preload`]).
    pub(crate) born: Option<usize>,
    /// When V8's out-of-memory trace named it: how many processes had announced themselves
    /// then ([`crate::oom_deaths`]); one announced later was started after its death.
    pub(crate) died_among: Option<usize>,
    /// It was never followed: it died before its inspector was reached, and is known from
    /// its preload's line and its out-of-memory trace or its primary's exit line alone (no
    /// samples).
    pub(crate) unfollowed: bool,
    /// How it ended, as its cluster primary reported (`exited with code 1`).
    pub(crate) ended: Option<String>,
}

impl Followed {
    /// Process `pid`, the `seq`th met, as nothing is known of it yet.
    pub(crate) fn new(pid: u32, seq: usize) -> Followed {
        Followed {
            pid,
            ppid: None,
            ins: None,
            worker_id: None,
            role: ProcessRole::Wrapper,
            serving: false,
            label: String::new(),
            command: Vec::new(),
            samples: Vec::new(),
            own: Vec::new(),
            heap_limit: 0.0,
            oom: false,
            exit: None,
            seq,
            answered_among: seq + 1,
            gone_at: None,
            born: None,
            died_among: None,
            unfollowed: false,
            ended: None,
        }
    }

    /// Process `pid`, the `seq`th met, dead before it could be followed and known only from
    /// what its preload announced (`s`, the `born`th announcement).
    fn dead_unfollowed(pid: u32, seq: usize, born: usize, s: &Started) -> Followed {
        let mut p = Followed::new(pid, seq);
        p.born = Some(born);
        p.ppid = s.ppid;
        p.worker_id = s.worker.clone();
        p.heap_limit = s.heap_limit;
        p.unfollowed = true;
        p.gone_at = Some(Instant::now());
        p
    }
}

/// The processes of the run.
#[derive(Default)]
pub(crate) struct Processes {
    pub(crate) list: Vec<Followed>,
    /// Banners already looked at.
    seen: usize,
    /// Banners whose inspector did not answer yet, with when each was first tried: a loaded
    /// machine can make a fresh process miss [`HELLO`], and a worker missed once must not be
    /// missed for the whole run.
    retry: Vec<(String, Instant)>,
    /// The process the loop's own sample, the culprit and the progress lines follow.
    pub(crate) main: Option<usize>,
}

impl Processes {
    /// Attach to the processes whose banners appeared since the last call; returns how many
    /// were new.
    pub(crate) async fn discover(&mut self, target: &Target) -> usize {
        let banners = target.captured.lock().unwrap().banners.clone();
        let mut todo = std::mem::take(&mut self.retry);
        let now = Instant::now();
        todo.extend(banners.iter().skip(self.seen).map(|u| (u.clone(), now)));
        self.seen = banners.len();
        let mut added = 0;
        for (url, first) in todo {
            let again = |me: &mut Self| {
                if first.elapsed() < GIVE_UP {
                    me.retry.push((url.clone(), first));
                }
            };
            let Ok(ins) = Inspector::connect(&url, HELLO).await else {
                again(self);
                continue;
            };
            let Ok(pid) = ins.pid(HELLO).await else {
                ins.close().await;
                again(self);
                continue;
            };
            if self
                .list
                .iter()
                .any(|p| p.pid == pid && (p.ins.is_some() || p.unfollowed))
            {
                ins.close().await;
                continue;
            }
            // Without its answer a cluster worker would pass for a lone child (and a restarted
            // worker would go unnamed): a busy process gets its retries here too.
            let Ok(who) = ins.evaluate(WHO, HELLO).await else {
                ins.close().await;
                again(self);
                continue;
            };
            let heap_limit = ins
                .heap_statistics(HELLO)
                .await
                .map_or(0.0, |h| h.heap_size_limit);
            let mut p = Followed::new(pid, self.list.len());
            p.ppid = who["ppid"]
                .as_u64()
                .map(|p| p as u32)
                .or_else(|| procfs::parent(pid));
            p.ins = Some(ins);
            p.worker_id = who["id"].as_str().map(str::to_string);
            p.command = procfs::cmdline(pid);
            p.heap_limit = heap_limit;
            self.list.push(p);
            added += 1;
        }
        added + self.learn(&target.captured.lock().unwrap())
    }

    /// What the target's output says of its processes beyond their inspectors: each one's
    /// place in start order, which ones V8's trace says ran out of memory, and, as
    /// [`Followed::unfollowed`], a process that ran out before it could be followed (a
    /// cluster worker dead during the warm-up is still a process of the target that ran out of
    /// memory, with a parent that may restart it). Returns how many of those were new. Before
    /// any process is followed there is nothing to add to: a target that ran out of memory
    /// while starting failed ([`crate::startup`]).
    pub(crate) fn learn(&mut self, cap: &Captured) -> usize {
        if self.list.is_empty() {
            return 0;
        }
        for p in self.list.iter_mut() {
            p.born = p.born.or(cap.announced(p.pid).map(|(i, _)| i));
        }
        let mut added = 0;
        for d in &cap.oom_deaths.deaths {
            if let Some(p) = self.list.iter_mut().find(|p| p.pid == d.pid) {
                p.died_among.get_or_insert(d.announced_before);
                continue;
            }
            // Its preload's line says it is a Node process of the target and whose (its line
            // came before its trace, down the same pipe).
            let Some((born, s)) = cap.announced(d.pid) else {
                continue;
            };
            let mut p = Followed::dead_unfollowed(d.pid, self.list.len(), born, s);
            p.died_among = Some(d.announced_before);
            p.oom = true;
            p.exit = Some("ran out of memory".into());
            self.list.push(p);
            added += 1;
        }
        // A worker's exit its primary reported; one that ran out of memory is told of by its
        // trace above, which says more.
        for (e, announced_before) in &cap.exits {
            if cap.oom_deaths.named(e.pid) {
                continue;
            }
            if let Some(p) = self.list.iter_mut().find(|p| p.pid == e.pid) {
                p.died_among.get_or_insert(*announced_before);
                p.ended = Some(e.describe());
                if p.exit.as_deref() == Some(EXITED) {
                    p.exit = Some(format!("{} during the run", e.describe()));
                }
                continue;
            }
            let Some((born, s)) = cap.announced(e.pid) else {
                continue;
            };
            let mut p = Followed::dead_unfollowed(e.pid, self.list.len(), born, s);
            p.died_among = Some(*announced_before);
            p.ended = Some(e.describe());
            p.exit = Some(format!("{} before it was followed", e.describe()));
            self.list.push(p);
            added += 1;
        }
        added
    }

    pub(crate) fn main_inspector(&self) -> Option<&Inspector> {
        self.list[self.main?].ins.as_ref()
    }

    /// How many processes serve.
    pub(crate) fn serving(&self) -> usize {
        self.list.iter().filter(|p| p.serving).count()
    }

    /// Force a GC in every live process at once and read its memory. The main process's
    /// answer is returned (the loop decides what its failure means); every other process's
    /// sample is recorded here, and one that does not answer is marked as gone.
    pub(crate) async fn sample(
        &mut self,
        t_s: f64,
        total: u64,
        phase: crate::verdict::Phase,
        deaths: &OomDeaths,
    ) -> Option<Result<(MemoryUsage, Option<u64>), CdpError>> {
        let live: Vec<usize> = (0..self.list.len())
            .filter(|&i| self.list[i].ins.is_some())
            .collect();
        let answers = join_all(live.iter().map(|&i| read(self.list[i].ins.as_ref()))).await;
        let mut main = None;
        let mut gone = Vec::new();
        for (i, a) in live.into_iter().zip(answers) {
            if Some(i) == self.main {
                main = Some(a);
                continue;
            }
            match a {
                Ok((m, own)) => {
                    let s = sample_of(t_s, total, phase, &m, self.list[i].pid);
                    self.record(i, s, own);
                }
                Err(_) => gone.push(i),
            }
        }
        for i in gone {
            // The trace may come a moment after the inspector closed: [`crate::process_run`]
            // looks again at the end.
            let ran_out = deaths.named(self.list[i].pid);
            self.gone(i, ran_out).await;
        }
        main
    }

    /// Keep a sample of process `i`.
    pub(crate) fn record(&mut self, i: usize, s: Sample, own: Option<u64>) {
        let n = self.list.len();
        let p = &mut self.list[i];
        p.samples.push(s);
        p.own.push(own);
        p.answered_among = n;
    }

    /// Process `i` stopped answering: it exited, of running out of memory when `oom` (the
    /// trace named it, [`OomDeaths::ran_out`]).
    pub(crate) async fn gone(&mut self, i: usize, oom: bool) {
        let p = &mut self.list[i];
        p.gone_at = Some(Instant::now());
        if let Some(ins) = p.ins.take() {
            ins.close().await;
        }
        p.oom = oom;
        p.exit = Some(match (oom, &p.ended) {
            (true, _) => "ran out of memory".to_string(),
            (false, Some(how)) => format!("{how} during the run"),
            (false, None) => EXITED.to_string(),
        });
    }

    pub(crate) async fn close_all(&mut self) {
        for p in self.list.iter_mut() {
            if let Some(ins) = p.ins.take() {
                ins.close().await;
            }
        }
    }
}

/// A sample of `pid` from its memory usage.
pub(crate) fn sample_of(
    t_s: f64,
    total: u64,
    phase: crate::verdict::Phase,
    m: &MemoryUsage,
    pid: u32,
) -> Sample {
    Sample {
        t_s,
        requests: total,
        heap_used: m.heap_used,
        external: m.external,
        array_buffers: m.array_buffers,
        rss: crate::target::rss_bytes(pid),
        phase,
    }
}

/// Forced GC, then memory and the request counter.
async fn read(ins: Option<&Inspector>) -> Result<(MemoryUsage, Option<u64>), CdpError> {
    let ins = ins.ok_or(CdpError::Closed)?;
    ins.collect_garbage(Duration::from_secs(15)).await?;
    let v = ins.evaluate(MEM, Duration::from_secs(5)).await?;
    let m = serde_json::from_value(v["m"].clone()).map_err(|e| CdpError::Shape {
        method: "process.memoryUsage()".into(),
        detail: e.to_string(),
    })?;
    Ok((m, v["r"].as_u64()))
}

#[cfg(test)]
#[path = "processes_tests.rs"]
mod tests;
