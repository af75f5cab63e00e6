//! The endpoint mix of each round when several endpoints are driven in one run: every round
//! favours one endpoint in turn (three quarters of its requests), so the per-endpoint counts of
//! the rounds are far from collinear and [`crate::attribution`] can tell the endpoints apart.
//! The others keep a quarter between them: an endpoint that needs another's state (a read after
//! a write) still sees it.

use crate::endpoints::EndpointId;

/// The per-endpoint tallies of a run that drives several endpoints with a varying mix; inactive
/// (empty) otherwise.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub endpoints: Vec<EndpointId>,
    /// The plan's weights.
    pub plan: Vec<u32>,
    /// Requests per endpoint so far.
    pub totals: Vec<u64>,
    /// `totals` at each sample.
    pub at_samples: Vec<Vec<u64>>,
    /// Load rounds driven with a varied mix.
    pub rounds: usize,
}

impl Tally {
    /// A tally for `endpoints` with plan weights `plan`, active when two or more are live.
    pub fn new(endpoints: Vec<EndpointId>, plan: Vec<u32>) -> Tally {
        if !multi(&plan) {
            return Tally::default();
        }
        Tally {
            totals: vec![0; plan.len()],
            endpoints,
            plan,
            ..Tally::default()
        }
    }

    /// The tally of a load plan: its endpoints as the report names them.
    pub fn of_plan(plan: &leakhound_load::Plan) -> Tally {
        let ids = plan
            .endpoints
            .iter()
            .map(|e| {
                let mut path = Vec::new();
                e.path
                    .render(0, &mut fastrand::Rng::with_seed(0), &mut path);
                EndpointId {
                    name: e.name.clone(),
                    method: e.method.clone(),
                    path: String::from_utf8_lossy(&path).into_owned(),
                }
            })
            .collect();
        Tally::new(ids, plan.endpoints.iter().map(|e| e.weight).collect())
    }

    pub fn active(&self) -> bool {
        !self.plan.is_empty()
    }

    /// The weights of the next load round (and count it), `None` when inactive.
    pub fn next_round(&mut self) -> Option<Vec<u32>> {
        if !self.active() {
            return None;
        }
        self.rounds += 1;
        Some(weights(&self.plan, self.rounds - 1))
    }

    pub fn add(&mut self, per_endpoint: &[u64]) {
        for (t, n) in self.totals.iter_mut().zip(per_endpoint) {
            *t += n;
        }
    }

    /// A sample was taken: remember the counts at it.
    pub fn sampled(&mut self) {
        if self.active() {
            self.at_samples.push(self.totals.clone());
        }
    }

    /// The attribution has had enough rounds to decide (always true when inactive).
    pub fn enough_rounds(&self) -> bool {
        !self.active() || self.rounds >= min_rounds(&self.plan)
    }
}

/// How many endpoints a plan drives when it is loaded with the plan's own weights.
pub fn multi(weights: &[u32]) -> bool {
    weights.iter().filter(|&&w| w > 0).count() >= 2
}

/// The weights of load round `round` (0-based) over endpoints whose plan weights are `plan`:
/// endpoint `round mod k` (among those of weight > 0) gets 3 (k − 1) parts, each other 1.
pub fn weights(plan: &[u32], round: usize) -> Vec<u32> {
    let live: Vec<usize> = (0..plan.len()).filter(|&i| plan[i] > 0).collect();
    let k = live.len() as u32;
    let fav = live[round % live.len()];
    plan.iter()
        .enumerate()
        .map(|(i, &w)| match (w, i == fav) {
            (0, _) => 0,
            (_, true) => 3 * (k - 1),
            (_, false) => 1,
        })
        .collect()
}

/// The fewest load rounds before the attribution may decide: every endpoint favoured once, and
/// four more for the intervals (degrees of freedom).
pub fn min_rounds(plan: &[u32]) -> usize {
    plan.iter().filter(|&&w| w > 0).count() + 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_favours_the_next_live_endpoint() {
        let plan = [1, 0, 2, 1];
        assert!(multi(&plan) && !multi(&[0, 3]));
        assert_eq!(weights(&plan, 0), vec![6, 0, 1, 1]);
        assert_eq!(weights(&plan, 1), vec![1, 0, 6, 1]);
        assert_eq!(weights(&plan, 2), vec![1, 0, 1, 6]);
        assert_eq!(weights(&plan, 3), vec![6, 0, 1, 1]);
        assert_eq!(min_rounds(&plan), 7);
    }
}
