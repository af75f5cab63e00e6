//! Reachability on both cores: which nodes can be reached from some seeds through the edges a
//! filter keeps, when the order they are found in does not matter (DevTools' page-owned
//! flags). On a 1 GB snapshot this pass was 0.2 s of one core on the main chain before the
//! dominators, with the other core busy elsewhere; now both cores share it.
//!
//! Each thread runs a depth-first search with its own stack and claims a node by setting its
//! flag atomically, so every node is expanded once. A thread that runs dry says so, and the
//! busy one hands over the older half of its stack (the nodes found earliest, whose unseen
//! subgraphs tend to be largest). The pass ends when both are dry and nothing is handed over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use crate::graph::Graph;

/// Below this many edges one thread does it all (threads cost more than they save).
const MIN_EDGES: usize = 1 << 18;

/// A thread hands work over only when its stack holds more than this many nodes.
const SHARE_ABOVE: usize = 64;

/// Flag every node reachable from `seeds` (already flagged in `flag`) through the edges
/// `keep` accepts. Nodes flagged before the call are treated as expanded already.
pub fn reach(g: &Graph, seeds: Vec<u32>, flag: &mut [bool], keep: impl Fn(usize) -> bool + Sync) {
    reach_split_from(g, seeds, flag, keep, MIN_EDGES)
}

/// [`reach`] on two threads from `min_edges` edges up (tests split tiny graphs).
fn reach_split_from(
    g: &Graph,
    seeds: Vec<u32>,
    flag: &mut [bool],
    keep: impl Fn(usize) -> bool + Sync,
    min_edges: usize,
) {
    // SAFETY: `AtomicBool` has the same size, alignment and bit validity as `bool`, and the
    // exclusive borrow of `flag` is held for as long as this shared atomic view lives.
    let flags: &[AtomicBool] = unsafe { &*(flag as *mut [bool] as *const [AtomicBool]) };
    let shared = Shared {
        pool: Mutex::new(Pool::default()),
        wake: Condvar::new(),
        wanted: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
    };
    let walk = Walk {
        g,
        flags,
        keep: &keep,
        shared: &shared,
    };
    if g.edge_count() < min_edges {
        walk.run(seeds, 1);
        return;
    }
    std::thread::scope(|sc| {
        sc.spawn(|| walk.run(Vec::new(), 2));
        walk.run(seeds, 2);
    });
}

#[derive(Default)]
struct Pool {
    /// Stacks handed over and not yet taken.
    handed: Vec<Vec<u32>>,
    /// Threads waiting for work.
    idle: usize,
    /// The pass is over (every thread dry, or one stopped early).
    done: bool,
}

struct Shared {
    pool: Mutex<Pool>,
    wake: Condvar,
    /// A thread is waiting: the busy one should hand work over at its next chance.
    wanted: AtomicBool,
    /// The other thread stopped early: drop the work in hand.
    stopped: AtomicBool,
}

struct Walk<'a, K> {
    g: &'a Graph,
    flags: &'a [AtomicBool],
    keep: &'a K,
    shared: &'a Shared,
}

/// Ends the pass for every thread when the thread holding it leaves, normally or by
/// unwinding (a stop asked with Ctrl-C): the other thread must not wait forever.
struct EndOnExit<'a>(&'a Shared);

impl Drop for EndOnExit<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stopped.store(true, Ordering::Relaxed);
            let mut p = self.0.pool.lock().unwrap_or_else(|e| e.into_inner());
            p.done = true;
            self.0.wake.notify_all();
        }
    }
}

impl<K: Fn(usize) -> bool> Walk<'_, K> {
    fn run(&self, mut stack: Vec<u32>, threads: usize) {
        let _end = EndOnExit(self.shared);
        let (g, flags) = (self.g, self.flags);
        let mut visited = 0usize;
        loop {
            while let Some(v) = stack.pop() {
                visited += 1;
                if visited.is_multiple_of(crate::cancel::EVERY) {
                    crate::cancel::check();
                    if self.shared.stopped.load(Ordering::Relaxed) {
                        return;
                    }
                }
                for e in g.edges(v) {
                    if !(self.keep)(e) {
                        continue;
                    }
                    let to = g.edge_to[e] as usize;
                    // Look before claiming: most targets are flagged already, and a plain
                    // load does not take the cache line exclusively.
                    if !flags[to].load(Ordering::Relaxed)
                        && !flags[to].swap(true, Ordering::Relaxed)
                    {
                        stack.push(to as u32);
                    }
                }
                if stack.len() > SHARE_ABOVE && self.shared.wanted.load(Ordering::Relaxed) {
                    let rest = stack.split_off(stack.len() / 2);
                    let older = std::mem::replace(&mut stack, rest);
                    let mut p = self.shared.pool.lock().unwrap_or_else(|e| e.into_inner());
                    p.handed.push(older);
                    self.shared.wanted.store(false, Ordering::Relaxed);
                    self.shared.wake.notify_one();
                }
            }
            let mut p = self.shared.pool.lock().unwrap_or_else(|e| e.into_inner());
            p.idle += 1;
            loop {
                if p.done {
                    return;
                }
                if let Some(work) = p.handed.pop() {
                    p.idle -= 1;
                    stack = work;
                    break;
                }
                if p.idle == threads {
                    p.done = true;
                    self.shared.wake.notify_all();
                    return;
                }
                self.shared.wanted.store(true, Ordering::Relaxed);
                p = self.shared.wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two threads flag exactly the nodes one thread flags, on random graphs with skipped
    /// edges, several seeds and nodes flagged beforehand.
    #[test]
    fn two_threads_reach_the_nodes_one_thread_reaches() {
        // The graphs must exercise both a long search and nodes left unreached.
        let (mut big_reach, mut some_left) = (false, false);
        for seed in 1..60u64 {
            let mut rng = crate::test_rng::Rng::new(seed);
            let mut next = |k: u64| rng.below(k);
            let n = 2 + next(3000) as usize;
            let mut nodes = String::new();
            let mut edges = String::new();
            let mut m = 0;
            for i in 0..n {
                // Long chains in some graphs, wide fans in others.
                let deg = if seed % 3 == 0 { 1 } else { next(6) };
                nodes += &format!(
                    "{}0,0,{},8,{deg},0,0",
                    if i > 0 { "," } else { "" },
                    2 * i + 1
                );
                for _ in 0..deg {
                    let to = if seed % 3 == 0 {
                        (i + 1) % n
                    } else {
                        next(n as u64) as usize
                    };
                    let ty = next(4);
                    edges += &format!("{}{ty},0,{}", if m > 0 { "," } else { "" }, to * 7);
                    m += 1;
                }
            }
            let text = format!(
                r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","weak"],"string_or_number","node"]}},"node_count":{n},"edge_count":{m}}},"nodes":[{nodes}],"edges":[{edges}],"strings":[""]}}"#
            );
            let g = crate::parse::parse(text.as_bytes()).expect("the test snapshot parses");
            let weak = g.types().e_weak;
            let keep = |e: usize| g.edge_type[e] != weak;
            let start = |flag: &mut Vec<bool>| {
                let mut seeds = Vec::new();
                for s in [0usize, n / 2, n - 1] {
                    if !flag[s] {
                        flag[s] = true;
                        seeds.push(s as u32);
                    }
                }
                seeds
            };
            let mut one = vec![false; n];
            let mut two = vec![false; n];
            // A node flagged beforehand is not expanded: both passes must agree on that too.
            one[n / 3] = true;
            two[n / 3] = true;
            let s1 = start(&mut one);
            let s2 = start(&mut two);
            // The oracle: a plain search written apart from the code under test.
            let mut want = vec![false; n];
            want[n / 3] = true;
            let mut todo = start(&mut want);
            while let Some(v) = todo.pop() {
                for e in g.edges(v) {
                    let to = g.edge_to[e] as usize;
                    if keep(e) && !want[to] {
                        want[to] = true;
                        todo.push(to as u32);
                    }
                }
            }
            reach_split_from(&g, s1, &mut one, keep, usize::MAX);
            reach_split_from(&g, s2, &mut two, keep, 0);
            assert_eq!(one, want, "seed {seed}: one thread");
            assert_eq!(two, want, "seed {seed}: two threads");
            let reached = want.iter().filter(|&&f| f).count();
            big_reach |= reached > 1000;
            some_left |= reached < n;
        }
        assert!(big_reach && some_left);
    }
}
