//! Which requests `--abort` abandons.
//!
//! The choice is a pure function of a request's sequence number, so it needs no shared state
//! between connections and threads, and it is the same on every run. A coin flip per request
//! would miss the asked share by a few percent over a thousand requests (a binomial spread);
//! here the sequence is cut into blocks of [`BLOCK`] requests and each block aborts exactly its
//! quota — the quotas over the first `b` blocks add up to `⌊b·BLOCK·share⌋` — at positions
//! chosen by a seeded random permutation, so the aborted requests are spread without a period
//! a server could line up with (every tenth request on the same connection, say).

use thiserror::Error;

/// Requests per block; a power of two so the position permutation is a cheap bijection.
pub const BLOCK: u64 = 1024;
const BITS: u32 = BLOCK.trailing_zeros();
const MASK: u64 = BLOCK - 1;

/// The seed used unless one is given: runs are repeatable by default.
pub const DEFAULT_SEED: u64 = 0x6c65_616b_686f_756e; // "leakhoun"

/// A share of requests outside `(0, 1]`.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("the abort share must be above 0% and at most 100% (got {0})")]
pub struct BadShare(pub f64);

/// Abandon this share of the requests: send each, then close the connection before the
/// response has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort {
    /// The share in units of 2⁻³² (integer arithmetic keeps the block quotas exact).
    share_fixed: u64,
    seed: u64,
}

impl Abort {
    pub fn new(share: f64) -> Result<Abort, BadShare> {
        Abort::with_seed(share, DEFAULT_SEED)
    }

    pub fn with_seed(share: f64, seed: u64) -> Result<Abort, BadShare> {
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(BadShare(share));
        }
        let share_fixed = ((share * (1u64 << 32) as f64).round() as u64).max(1);
        Ok(Abort { share_fixed, seed })
    }

    /// The share asked for.
    pub fn share(&self) -> f64 {
        self.share_fixed as f64 / (1u64 << 32) as f64
    }

    /// How many of block `block`'s requests are aborted.
    fn quota(&self, block: u64) -> u64 {
        let upto = |b: u64| ((b as u128 * BLOCK as u128 * self.share_fixed as u128) >> 32) as u64;
        upto(block + 1) - upto(block)
    }

    /// Whether request number `seq` (its `{{seq}}`) is abandoned.
    pub fn aborts(&self, seq: u64) -> bool {
        let block = seq >> BITS;
        let quota = self.quota(block);
        if quota >= BLOCK {
            return true;
        }
        if quota == 0 {
            return false;
        }
        permute(
            seq & MASK,
            self.seed ^ block.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        ) < quota
    }
}

/// A keyed bijection on `0..BLOCK`: two odd-multiplier affine maps with xor-shifts between
/// them (each step is invertible modulo `BLOCK`, so every position maps to a distinct rank).
fn permute(pos: u64, key: u64) -> u64 {
    let mut rng = fastrand::Rng::with_seed(key);
    let (a, c, b, d) = (rng.u64(..) | 1, rng.u64(..), rng.u64(..) | 1, rng.u64(..));
    let mut x = pos;
    x = x.wrapping_mul(a).wrapping_add(c) & MASK;
    x ^= x >> (BITS / 2);
    x = x.wrapping_mul(b).wrapping_add(d) & MASK;
    x ^= x >> (BITS / 3);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(a: &Abort, range: std::ops::Range<u64>) -> u64 {
        range.filter(|&s| a.aborts(s)).count() as u64
    }

    #[test]
    fn the_share_is_exact_over_whole_blocks() {
        for share in [0.05, 0.1, 0.333, 0.5, 0.999] {
            let a = Abort::new(share).unwrap();
            for blocks in [1u64, 3, 10] {
                let n = blocks * BLOCK;
                let want = (n as f64 * share).floor() as u64;
                let got = count(&a, 0..n);
                assert!(
                    got.abs_diff(want) <= 1,
                    "{share}: {got} of {n}, want {want}"
                );
            }
        }
    }

    #[test]
    fn a_partial_block_stays_close_to_the_share() {
        // 1000 requests at 10%: within a handful of 100 (a coin flip per request would spread
        // by about ±19 at two standard deviations).
        for seed in 0..50 {
            let a = Abort::with_seed(0.10, seed).unwrap();
            let got = count(&a, 0..1000);
            assert!((95..=105).contains(&got), "seed {seed}: {got}");
        }
    }

    #[test]
    fn positions_are_a_permutation_and_vary_with_the_key() {
        let mut seen = [false; BLOCK as usize];
        for p in 0..BLOCK {
            let r = permute(p, 42) as usize;
            assert!(!seen[r], "rank {r} twice");
            seen[r] = true;
        }
        let a: Vec<u64> = (0..BLOCK).map(|p| permute(p, 1)).collect();
        let b: Vec<u64> = (0..BLOCK).map(|p| permute(p, 2)).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn the_choice_is_repeatable_and_not_periodic() {
        let a = Abort::new(0.1).unwrap();
        let first: Vec<u64> = (0..2000).filter(|&s| a.aborts(s)).collect();
        let again: Vec<u64> = (0..2000).filter(|&s| a.aborts(s)).collect();
        assert_eq!(first, again);
        let gaps: std::collections::BTreeSet<u64> = first.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.len() > 5,
            "aborts fall with a fixed period: gaps {gaps:?}"
        );
    }

    #[test]
    fn all_or_a_tiny_share_and_bad_shares() {
        let all = Abort::new(1.0).unwrap();
        assert_eq!(count(&all, 0..3000), 3000);
        let tiny = Abort::new(0.001).unwrap();
        assert!(count(&tiny, 0..10 * BLOCK).abs_diff(10) <= 1);
        for bad in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Abort::new(bad).is_err(), "{bad}");
        }
        assert!((Abort::new(0.05).unwrap().share() - 0.05).abs() < 1e-9);
    }
}
