//! A compact sorted index of 32-bit node ids: 2 bytes an id, for what `heap diff` and `heap
//! leaks` keep of a closed snapshot while the next one is open (at the command's peak memory).
//!
//! Ids are bucketed by their top 16 bits (a 256 KB table of bucket starts) and each bucket
//! holds only its ids' low 16 bits, sorted: a hash set of the same ids took 5 to 10 bytes an
//! id, and the sorted 4-byte ids it replaced in `heap diff` 4. A lookup is a binary search of
//! one bucket (a few hundred ids on a 1 GB heap's tens of millions). The ids' positions in
//! the index give the callers' columns of per-id data (classes, sizes) their order.

/// Ids' top bits select a bucket, their low [`LOW_BITS`] are stored.
const LOW_BITS: u32 = 16;
const BUCKETS: usize = 1 << (32 - LOW_BITS);

fn bucket(id: u32) -> usize {
    (id >> LOW_BITS) as usize
}

/// A sorted multiset of ids (a repeated id occupies as many positions as it was given).
#[derive(Default)]
pub struct IdIndex {
    /// `starts[k]..starts[k + 1]`: the positions of the ids in bucket `k` (empty table: no ids).
    starts: Vec<u32>,
    low: Vec<u16>,
}

impl IdIndex {
    /// The index of the ids `id_of(i)` gives for `i` in `0..n` (`None`: left out), and the
    /// `i` at each of its positions. Equal ids keep the order of their `i`, so the last
    /// position of an id is the last `i` that gave it (what a map's insert would keep).
    pub fn build(n: usize, id_of: impl Fn(u32) -> Option<u32>) -> (IdIndex, Vec<u32>) {
        let mut starts = vec![0u32; BUCKETS + 1];
        for i in 0..n as u32 {
            if let Some(id) = id_of(i) {
                starts[bucket(id) + 1] += 1;
            }
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        // A counting sort by bucket, then each small bucket sorted by (id, i): equal ids in
        // order of `i`. `id_of` is asked once more here and never while sorting (it can be a
        // lookup of its own: `heap leaks` asks S1's index for each of S2's ids).
        let mut next = starts.clone();
        let mut pairs = vec![0u64; starts[BUCKETS] as usize];
        for i in 0..n as u32 {
            if let Some(id) = id_of(i) {
                let k = bucket(id);
                pairs[next[k] as usize] = u64::from(id) << 32 | u64::from(i);
                next[k] += 1;
            }
        }
        drop(next);
        for k in 0..BUCKETS {
            pairs[starts[k] as usize..starts[k + 1] as usize].sort_unstable();
        }
        let low = pairs.iter().map(|&p| (p >> 32) as u16).collect();
        let order = pairs.iter().map(|&p| p as u32).collect();
        (IdIndex { starts, low }, order)
    }

    /// [`IdIndex::build`] without the positions' `i`.
    pub fn set(n: usize, id_of: impl Fn(u32) -> Option<u32>) -> IdIndex {
        IdIndex::build(n, id_of).0
    }

    /// How many ids (repeats counted).
    pub fn len(&self) -> usize {
        self.low.len()
    }

    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// The positions holding `id` (empty when it is not in the index).
    pub fn positions(&self, id: u32) -> std::ops::Range<usize> {
        let k = bucket(id);
        let Some(&e) = self.starts.get(k + 1) else {
            return 0..0;
        };
        let s = self.starts[k] as usize;
        let lows = &self.low[s..e as usize];
        let lo16 = id as u16;
        let lo = lows.partition_point(|&x| x < lo16);
        let hi = lo + lows[lo..].partition_point(|&x| x == lo16);
        s + lo..s + hi
    }

    pub fn contains(&self, id: u32) -> bool {
        // One binary search, not the two of `positions` (`heap leaks` asks once a node).
        let k = bucket(id);
        let Some(&e) = self.starts.get(k + 1) else {
            return false;
        };
        let lows = &self.low[self.starts[k] as usize..e as usize];
        let lo16 = id as u16;
        lows.get(lows.partition_point(|&x| x < lo16)) == Some(&lo16)
    }

    /// Bytes held (for the stage timings).
    pub fn bytes(&self) -> usize {
        self.starts.len() * 4 + self.low.len() * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;
    use std::collections::BTreeMap;

    /// Random ids (dense, sparse, at both ends of the range, repeated) against a map from each
    /// id to the inputs that gave it.
    #[test]
    fn positions_match_a_map_of_ids_to_inputs() {
        for seed in 0..40u64 {
            let mut r = Rng::new(seed);
            let n = r.below(3000) as usize;
            let spread = [1u64 << 8, 1 << 17, 1 << 32][(seed % 3) as usize];
            let base = if seed % 5 == 0 {
                (1u64 << 32) - spread
            } else {
                0
            };
            let ids: Vec<Option<u32>> = (0..n)
                .map(|_| (r.below(4) != 0).then(|| (base + r.below(spread)) as u32))
                .collect();
            let (ix, order) = IdIndex::build(n, |i| ids[i as usize]);
            let mut oracle: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            for (i, id) in ids.iter().enumerate() {
                if let Some(id) = id {
                    oracle.entry(*id).or_default().push(i as u32);
                }
            }
            assert_eq!(ix.len(), oracle.values().map(Vec::len).sum::<usize>());
            assert_eq!(order.len(), ix.len());
            for (id, inputs) in &oracle {
                let p = ix.positions(*id);
                assert_eq!(&order[p], inputs.as_slice(), "seed {seed} id {id}");
            }
            // Ids not given, near and far from those given.
            for _ in 0..500 {
                let probe = (base + r.below(spread * 2)) as u32;
                assert_eq!(
                    ix.contains(probe),
                    oracle.contains_key(&probe),
                    "seed {seed} {probe}"
                );
            }
            for probe in [0, 1, u32::MAX, u32::MAX - 1, 65_535, 65_536] {
                assert_eq!(ix.contains(probe), oracle.contains_key(&probe));
            }
        }
    }

    #[test]
    fn an_empty_index_holds_nothing() {
        let ix = IdIndex::default();
        assert!(ix.is_empty() && !ix.contains(7) && ix.positions(u32::MAX).is_empty());
        let (ix, order) = IdIndex::build(10, |_| None);
        assert!(ix.is_empty() && order.is_empty() && !ix.contains(0));
    }
}
