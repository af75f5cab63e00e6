//! Which followed process took the place of one that died: a cluster primary forks a new
//! worker when one exits (typically after running out of memory), and the report names it
//! (`ran out of memory; restarted as pid 4250`).
//!
//! A replacement is matched on what is certain about it, not on when the loop happened to
//! notice things: the same parent, the same kind (a cluster worker for a worker), discovered
//! after the dead process last answered (it was forked after the death, so it cannot have been
//! met before), and for a cluster worker a higher worker id (cluster numbers its workers in
//! fork order). The order in which the death and the replacement were *noticed* is no guide:
//! the loop discovers new banners before it samples, so a replacement met in the very sample
//! that found its predecessor gone comes first. Surer still, when V8's out-of-memory trace
//! named the dead process: every process announces itself on the same stderr as it starts
//! ([`crate::preload`]), so one that announced itself after the trace was started after the
//! death. That is also how the replacement of a worker never followed is found (it died
//! before leakhound reached it, [`Followed::unfollowed`]).

use crate::processes::{Followed, Processes};

/// `(dead, replacement)` pairs of indices into `list`, each replacement used once, the dead
/// in discovery order.
pub(crate) fn replacements(list: &[Followed]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (i, dead) in list.iter().enumerate() {
        let Some(ppid) = dead.ppid.filter(|_| dead.exit.is_some()) else {
            continue;
        };
        let next = list.iter().enumerate().position(|(j, q)| {
            came_after(dead, q)
                && q.ppid == Some(ppid)
                && q.worker_id.is_some() == dead.worker_id.is_some()
                && forked_later(dead, q)
                && !pairs.iter().any(|&(_, r)| r == j)
        });
        if let Some(j) = next {
            pairs.push((i, j));
        }
    }
    pairs
}

/// Whether `q` was started after `dead` died: it announced itself after `dead`'s out-of-memory
/// trace was read; without those lines, it was discovered after `dead` last answered (which a
/// process never followed did not do).
fn came_after(dead: &Followed, q: &Followed) -> bool {
    match (dead.died_among, q.born) {
        (Some(died), Some(born)) => born >= died,
        _ => !dead.unfollowed && !q.unfollowed && q.seq >= dead.answered_among,
    }
}

/// Cluster worker ids grow with every fork: a replacement's is higher. Unknown ids (`?`, or
/// not a worker) do not decide.
fn forked_later(dead: &Followed, q: &Followed) -> bool {
    let id = |p: &Followed| p.worker_id.as_deref().and_then(|w| w.parse::<u64>().ok());
    match (id(dead), id(q)) {
        (Some(d), Some(n)) => n > d,
        _ => true,
    }
}

/// The dead processes still without a replacement whose parent is followed and, by `alive`,
/// still there: the ones worth waiting for ([`crate::restart_wait`]).
pub(crate) fn unreplaced(list: &[Followed], alive: impl Fn(u32) -> bool) -> Vec<usize> {
    let pairs = replacements(list);
    (0..list.len())
        .filter(|&i| list[i].exit.is_some() && !pairs.iter().any(|&(d, _)| d == i))
        .filter(|&i| {
            list[i]
                .ppid
                .is_some_and(|pp| list.iter().any(|p| p.pid == pp) && alive(pp))
        })
        .collect()
}

impl Processes {
    /// Name the processes that took the place of the ones that died in their exit lines.
    pub(crate) fn note_restarts(&mut self) {
        for (i, j) in replacements(&self.list) {
            let pid = self.list[j].pid;
            let exit = self.list[i].exit.get_or_insert_with(String::new);
            if !exit.contains("; restarted as pid ") {
                exit.push_str(&format!("; restarted as pid {pid}"));
            }
        }
    }
}

#[cfg(test)]
#[path = "restarts_tests.rs"]
mod tests;
