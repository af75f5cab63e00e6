//! A column of small values in one byte each: the 255 most frequent values get a code, and
//! the others (in position order, so no positions are stored) sit in a column beside. For
//! what `heap diff` keeps of its first snapshot while the second is open (its peak memory):
//! a JS heap's objects are of a few dozen classes and sizes for the most part.

use rustc_hash::FxHashMap;
use std::hash::Hash;

/// The code of a value kept in `rest`.
const REST: u8 = u8::MAX;
/// `rest_before[k]`: how many values before position `k * BLOCK` are in `rest`.
const BLOCK: usize = 256;

pub struct Coded<V> {
    codes: Vec<u8>,
    /// The value of each code below [`REST`].
    table: Vec<V>,
    rest: Vec<V>,
    rest_before: Vec<u32>,
}

impl<V: Copy + Eq + Hash + Ord> Coded<V> {
    /// The column of `value(i)` for `i` in `0..n`.
    pub fn new(n: usize, value: impl Fn(usize) -> V) -> Coded<V> {
        let mut freq: FxHashMap<V, u64> = FxHashMap::default();
        for i in 0..n {
            *freq.entry(value(i)).or_default() += 1;
        }
        let mut by_freq: Vec<(u64, V)> = freq.into_iter().map(|(v, c)| (c, v)).collect();
        // Most frequent first, ties by value: the same column whatever the hash order.
        by_freq.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        by_freq.truncate(usize::from(REST));
        let table: Vec<V> = by_freq.into_iter().map(|(_, v)| v).collect();
        let code_of: FxHashMap<V, u8> = table
            .iter()
            .enumerate()
            .map(|(c, &v)| (v, c as u8))
            .collect();
        let mut codes = Vec::with_capacity(n);
        let mut rest = Vec::new();
        let mut rest_before = Vec::with_capacity(n.div_ceil(BLOCK));
        for i in 0..n {
            if i % BLOCK == 0 {
                rest_before.push(rest.len() as u32);
            }
            let v = value(i);
            match code_of.get(&v) {
                Some(&c) => codes.push(c),
                None => {
                    codes.push(REST);
                    rest.push(v);
                }
            }
        }
        rest.shrink_to_fit();
        Coded {
            codes,
            table,
            rest,
            rest_before,
        }
    }

    pub fn get(&self, i: usize) -> V {
        match self.codes[i] {
            REST => {
                let start = i - i % BLOCK;
                let before = self.codes[start..i].iter().filter(|&&c| c == REST).count();
                self.rest[self.rest_before[i / BLOCK] as usize + before]
            }
            c => self.table[usize::from(c)],
        }
    }

    /// Bytes held (for the stage timings).
    pub fn bytes(&self) -> usize {
        self.codes.len()
            + self.rest.len() * std::mem::size_of::<V>()
            + self.rest_before.len() * 4
            + self.table.len() * std::mem::size_of::<V>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    /// Columns of few and of many distinct values (more than a code each), skewed and flat,
    /// across block boundaries, read back whole.
    #[test]
    fn every_value_reads_back() {
        for seed in 0..30u64 {
            let mut r = Rng::new(seed);
            let n = r.below(3000) as usize;
            let distinct = [3u64, 200, 256, 1000, 60_000][(seed % 5) as usize];
            let values: Vec<u16> = (0..n)
                .map(|_| {
                    // Half the values from a few, half from all: a skewed column.
                    if r.below(2) == 0 {
                        r.below(4) as u16
                    } else {
                        r.below(distinct) as u16
                    }
                })
                .collect();
            let c = Coded::new(n, |i| values[i]);
            let back: Vec<u16> = (0..n).map(|i| c.get(i)).collect();
            assert_eq!(back, values, "seed {seed}");
            if distinct <= 255 {
                assert!(c.rest.is_empty(), "seed {seed}: every value has a code");
            }
        }
    }
}
