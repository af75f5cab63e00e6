//! The source node of an edge, found in a sampled copy of the edge starts first.
//!
//! An edge's source is the last node whose first edge is at or before it: a binary search of
//! `first_edge` (4 bytes a node, 64 MB on a 1.4 GB heap) that misses the cache at most of its
//! two dozen steps. `heap leaks` asks it for every object of its biggest groups' classes
//! (millions), and spent 1.5 s on it. Every 64th start, kept aside (1/64 of the array, in
//! the cache), narrows the search to one stretch of 64 starts, a few cache lines.

const STRIDE: usize = 64;

pub struct EdgeSources {
    /// `first_edge[k * STRIDE]` for each `k`.
    samples: Vec<u32>,
}

impl EdgeSources {
    pub fn new(first_edge: &[u32]) -> EdgeSources {
        EdgeSources {
            samples: first_edge.iter().step_by(STRIDE).copied().collect(),
        }
    }

    /// The node whose edges include edge `e` (`first_edge` is the one this was made from,
    /// non-decreasing, and `e` is below its last entry).
    pub fn source(&self, first_edge: &[u32], e: usize) -> u32 {
        // The last sample at or before `e` (the first is 0); the next one is past `e`, so
        // the source lies in that sample's stretch.
        let k = self.samples.partition_point(|&x| x as usize <= e) - 1;
        let lo = k * STRIDE;
        let hi = (lo + STRIDE + 1).min(first_edge.len());
        (lo + first_edge[lo..hi].partition_point(|&x| x as usize <= e) - 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    /// Random edge counts (many nodes without edges, runs longer than a stretch, a node
    /// with hundreds of edges) against a linear scan for the edge's owner.
    #[test]
    fn sources_match_the_node_whose_range_holds_the_edge() {
        for seed in 0..40u64 {
            let mut r = Rng::new(seed);
            let n = 1 + r.below(700) as usize;
            let mut first_edge = vec![0u32];
            for _ in 0..n {
                let count = match r.below(10) {
                    0..=3 => 0,
                    4 => r.below(300),
                    _ => r.below(4),
                };
                first_edge.push(first_edge.last().unwrap() + count as u32);
            }
            let s = EdgeSources::new(&first_edge);
            let total = *first_edge.last().unwrap() as usize;
            for e in 0..total {
                let owner = (0..n)
                    .find(|&v| (first_edge[v] as usize..first_edge[v + 1] as usize).contains(&e))
                    .unwrap();
                assert_eq!(
                    s.source(&first_edge, e),
                    owner as u32,
                    "seed {seed} edge {e}"
                );
            }
        }
    }
}
