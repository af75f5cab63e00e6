//! Self sizes in four bytes a node.
//!
//! Almost every self size fits in 32 bits; only a huge `ArrayBuffer` or string (4 GiB or
//! more) does not. Eight bytes a node was 235 MB on a real 2.2 GB snapshot, held through
//! the dominator pass's peak, where the goal is 1.2× the file. The rare big size lives in a
//! side map, behind a marker value in the dense array.

use rustc_hash::FxHashMap;

/// Marks a size kept in the side map.
const BIG: u32 = u32::MAX;

/// A node-indexed array of `u64` sizes stored as `u32`s plus a map for the ones that do
/// not fit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sizes {
    small: Vec<u32>,
    big: FxHashMap<u32, u64>,
}

impl Sizes {
    pub fn with_capacity(n: usize) -> Sizes {
        Sizes {
            small: Vec::with_capacity(n),
            big: FxHashMap::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.small.len()
    }

    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    /// The size of node `i`.
    #[inline]
    pub fn get(&self, i: usize) -> u64 {
        match self.small[i] {
            BIG => self.big.get(&(i as u32)).copied().unwrap_or(u64::from(BIG)),
            s => u64::from(s),
        }
    }

    #[inline]
    pub fn push(&mut self, v: u64) {
        let i = self.small.len();
        match u32::try_from(v) {
            Ok(s) if s != BIG => self.small.push(s),
            _ => {
                self.small.push(BIG);
                self.big.insert(i as u32, v);
            }
        }
    }

    #[inline]
    pub fn set(&mut self, i: usize, v: u64) {
        match u32::try_from(v) {
            Ok(s) if s != BIG => {
                if self.small[i] == BIG {
                    self.big.remove(&(i as u32));
                }
                self.small[i] = s;
            }
            _ => {
                self.small[i] = BIG;
                self.big.insert(i as u32, v);
            }
        }
    }

    /// Every size in node order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The sizes as one `u64` per node (the retained-size pass's starting point).
    pub fn to_u64(&self) -> Vec<u64> {
        self.to_u64_in(Vec::new())
    }

    /// [`Sizes::to_u64`] in `buf`'s buffer (any contents).
    pub fn to_u64_in(&self, mut buf: Vec<u64>) -> Vec<u64> {
        buf.clear();
        buf.extend(self.small.iter().map(|&s| u64::from(s)));
        let mut v = buf;
        for (&i, &s) in &self.big {
            v[i as usize] = s;
        }
        v
    }
}

impl FromIterator<u64> for Sizes {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Sizes {
        let mut s = Sizes::default();
        for v in iter {
            s.push(v);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes at and around the 32-bit edge read back as written, through pushes and sets
    /// that move a node in and out of the side map.
    #[test]
    fn sizes_past_32_bits_round_trip() {
        let edge = u64::from(u32::MAX);
        let values = [0, 1, edge - 1, edge, edge + 1, 5 << 30, u64::MAX, 7];
        let mut s: Sizes = values.iter().copied().collect();
        assert_eq!(s.iter().collect::<Vec<_>>(), values);
        assert_eq!(s.to_u64(), values);
        // Small to big, big to small, big to big.
        s.set(0, 6 << 30);
        s.set(3, 12);
        s.set(5, u64::MAX - 1);
        let want = [
            6 << 30,
            1,
            edge - 1,
            12,
            edge + 1,
            u64::MAX - 1,
            u64::MAX,
            7,
        ];
        assert_eq!(s.iter().collect::<Vec<_>>(), want);
        assert_eq!(s.to_u64(), want);
        assert_eq!(s.big.len(), 4, "nodes 0, 4, 5 and 6 are in the side map");
    }
}
