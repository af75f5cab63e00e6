//! A reproducible random stream for the random-graph tests, in a module of its own so that
//! the analyses' tests can use it without importing the snapshot builder (which imports them).

/// A reproducible xorshift64 stream for the random-graph tests (seeded per case, so a failing
/// seed can be rerun alone).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// A number below `k` (`k` > 0).
    pub fn below(&mut self, k: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % k
    }
}
