//! Before a run ends after a followed process died while its parent lives on (a cluster
//! worker out of memory, its primary still up), the parent gets the time to start the
//! replacement, so that the report can name it ([`crate::restarts`]).
//!
//! The wait ends on events, not after a fixed pause: as soon as the replacement's inspector
//! banner is read (the banner reader's notice) and matched, or the target exits. Between those,
//! `/proc` tells whether waiting is worth it: a new process of the parent, from the same
//! executable, that is not followed yet is a fork on its way to its banner (a loaded machine
//! can take seconds to start Node); with none, once the parent reaped the dead process (its
//! `exit` handler has run, and a restart handler forks right there), [`FORK_GRACE`] more and the
//! dead one is taken as not restarted (a cluster without a restart handler). Everything is
//! bounded by [`MAX_WAIT`]. The decision is the pure [`step`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::progress::Progress;
use crate::state::State;
use crate::target::{port_owner, Target};

/// How long after the parent reaped the dead process a fork is still expected.
pub(crate) const FORK_GRACE: Duration = Duration::from_millis(1500);
/// The longest wait: a fork that never opens an inspector, a parent that never reaps.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(10);
/// How often `/proc` and unanswered banners are looked at again between notices.
const TICK: Duration = Duration::from_millis(100);

/// What the wait sees at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    /// Since the wait began.
    pub(crate) waited: Duration,
    /// Dead processes whose parent lives on and whose replacement is not followed yet.
    pub(crate) unreplaced: usize,
    /// A new process of such a parent exists that is not followed yet.
    pub(crate) forking: bool,
    /// Since the last of those dead processes was reaped by its parent; `None` while one is
    /// still a zombie.
    pub(crate) since_reaped: Option<Duration>,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Wait,
    /// Every death that could be replaced was.
    Replaced,
    /// The parents reaped their dead and forked nothing.
    NotRestarted,
    /// [`MAX_WAIT`] is over.
    TimedOut,
}

/// The pure decision of the wait.
pub(crate) fn step(s: &Seen) -> Step {
    if s.unreplaced == 0 {
        Step::Replaced
    } else if s.waited >= MAX_WAIT {
        Step::TimedOut
    } else if s.forking {
        Step::Wait
    } else if s.since_reaped.is_some_and(|d| d >= FORK_GRACE) {
        Step::NotRestarted
    } else {
        Step::Wait
    }
}

/// Wait (bounded) for the parents of the dead to start their replacements, following each one
/// that appears. Says so when a dead process was not restarted.
pub(crate) async fn await_restarts(st: &mut State, target: &mut Target, progress: Progress<'_>) {
    let start = Instant::now();
    // When each dead process was first seen reaped.
    let mut reaped: HashMap<u32, Instant> = HashMap::new();
    let news = target.news.clone();
    let mut first = true;
    loop {
        if target.exited().is_some() {
            return;
        }
        // Registered before looking, so a banner read meanwhile still wakes the wait.
        let notice = news.notified();
        tokio::pin!(notice);
        notice.as_mut().enable();
        if st.procs.discover(target).await > 0 {
            st.procs.classify(port_owner(st.startup.port));
        }
        let list = &st.procs.list;
        // A dead process that still runs (it stopped answering) will not be replaced.
        let dead: Vec<usize> = crate::restarts::unreplaced(list, exists)
            .into_iter()
            .filter(|&i| matches!(crate::procfs::state(list[i].pid), None | Some('Z')))
            .collect();
        let now = Instant::now();
        for &i in &dead {
            let p = &list[i];
            if crate::procfs::state(p.pid).is_none() {
                // Reaped before the wait began: some time since it was found gone.
                let at = if first { p.gone_at.unwrap_or(now) } else { now };
                reaped.entry(p.pid).or_insert(at);
            }
        }
        let since_reaped = dead
            .iter()
            .map(|&i| reaped.get(&list[i].pid).map(|&at| now - at))
            .collect::<Option<Vec<_>>>()
            .and_then(|d| d.into_iter().min());
        let seen = Seen {
            waited: now - start,
            unreplaced: dead.len(),
            forking: dead.iter().any(|&i| forking(&st.procs.list, i)),
            since_reaped,
        };
        first = false;
        match step(&seen) {
            Step::Wait => {}
            Step::Replaced => return,
            done => {
                for &i in &dead {
                    let label = &st.procs.list[i].label;
                    progress(&if done == Step::TimedOut {
                        format!(
                            "{label}: no replacement opened an inspector within {} s",
                            MAX_WAIT.as_secs()
                        )
                    } else {
                        format!(
                            "{label}: its parent started no process to replace it (waited {:.1} s)",
                            seen.waited.as_secs_f64()
                        )
                    });
                }
                return;
            }
        }
        tokio::select! {
            _ = notice => {}
            _ = target.wait_exit(TICK) => {}
        }
    }
}

/// Whether `pid` exists.
fn exists(pid: u32) -> bool {
    // SAFETY: signal 0 only probes.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// Whether the parent of dead process `i` has a process not followed yet, started from the
/// same executable (a fork's replacement before its inspector banner).
fn forking(list: &[crate::processes::Followed], i: usize) -> bool {
    let dead = &list[i];
    let Some(ppid) = dead.ppid else { return false };
    let Ok(children) = crate::procfs::children(ppid) else {
        return false;
    };
    children.into_iter().any(|c| {
        !list.iter().any(|p| p.pid == c)
            && crate::procfs::state(c) != Some('Z')
            && (dead.command.is_empty()
                || crate::procfs::cmdline(c).first() == dead.command.first())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(waited_ms: u64, unreplaced: usize, forking: bool, reaped_ms: Option<u64>) -> Seen {
        Seen {
            waited: Duration::from_millis(waited_ms),
            unreplaced,
            forking,
            since_reaped: reaped_ms.map(Duration::from_millis),
        }
    }

    #[test]
    fn the_wait_ends_once_every_death_is_replaced() {
        assert_eq!(step(&seen(0, 0, false, None)), Step::Replaced);
        assert_eq!(step(&seen(300, 0, true, Some(10))), Step::Replaced);
    }

    #[test]
    fn a_fork_on_its_way_is_waited_for_past_the_grace_but_not_past_the_limit() {
        // A loaded machine: the primary forked long ago, Node is still starting.
        assert_eq!(step(&seen(6000, 1, true, Some(6000))), Step::Wait);
        assert_eq!(step(&seen(10_000, 1, true, Some(9000))), Step::TimedOut);
    }

    #[test]
    fn a_parent_that_reaped_its_dead_and_forked_nothing_did_not_restart_it() {
        // Reaped a moment ago: a restart handler may still fork.
        assert_eq!(step(&seen(200, 1, false, Some(200))), Step::Wait);
        assert_eq!(step(&seen(1500, 1, false, Some(1500))), Step::NotRestarted);
        // Reaped before the wait began (the idle phase ran): no more waiting.
        assert_eq!(step(&seen(0, 1, false, Some(2500))), Step::NotRestarted);
    }

    #[test]
    fn a_dead_process_not_yet_reaped_is_waited_for_up_to_the_limit() {
        assert_eq!(step(&seen(5000, 1, false, None)), Step::Wait);
        assert_eq!(step(&seen(10_000, 1, false, None)), Step::TimedOut);
    }
}
