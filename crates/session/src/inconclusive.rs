//! Why a run is inconclusive, and what to change: an undecided run is only useful when it says
//! whether more rounds (`--max-duration`), more requests (`-n`, `-d`, `-c`) or a longer idle
//! phase (`--idle`) would decide it.

use crate::observations::{Observations, Stop};
use crate::stats::Fit;
use crate::verdict::{thousands, Sample, SeriesAssessment, Thresholds, MIB};

/// Why a run is inconclusive.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// Fewer load rounds than the statistics need.
    TooFewRounds { rounds: usize, need: usize },
    /// `-n`/`-d` ran out, or each round saw too few requests.
    TooFewRequests {
        requests: u64,
        rounds: usize,
        need: usize,
        budget: Option<Stop>,
    },
    /// Enough rounds, but the trend is neither clear growth nor flat.
    Noise {
        fit: Option<Fit>,
        mk_p: f64,
        growth: f64,
    },
}

impl Why {
    /// Too few rounds, too few requests, or noise, for the load-phase samples `load` and the
    /// assessment `s` of the series that was judged.
    pub fn of(obs: &Observations, load: &[Sample], s: &SeriesAssessment, th: &Thresholds) -> Why {
        let rounds = load.len();
        let need = th.min_points + 2;
        let requests =
            load.last().map_or(0, |l| l.requests) - load.first().map_or(0, |f| f.requests);
        let budget = obs
            .stopped_by
            .filter(|s| matches!(s, Stop::RequestBudget | Stop::LoadBudget));
        let per_round = requests as f64 / rounds.saturating_sub(1).max(1) as f64;
        let too_few_requests = Why::TooFewRequests {
            requests: obs.requests,
            rounds,
            need,
            budget,
        };
        if budget.is_some() && rounds < need {
            too_few_requests
        } else if rounds < need {
            Why::TooFewRounds { rounds, need }
        } else if per_round < th.min_requests_per_round {
            too_few_requests
        } else {
            Why::Noise {
                fit: s.fit,
                mk_p: s.mk_p,
                growth: s.growth,
            }
        }
    }

    /// The reason, with what to change.
    pub fn sentence(&self, obs: &Observations) -> String {
        match self {
            Why::TooFewRounds { rounds, need } => format!(
                "too few rounds: {rounds} rounds of load were measured, {need} are needed to call a trend — raise --max-duration (now the rounds and the {:?} idle phase must fit in it)",
                obs.idle
            ),
            Why::TooFewRequests {
                requests,
                rounds,
                need,
                budget: Some(b),
            } => format!(
                "too few requests: the {} ran out after {} requests in {rounds} rounds ({need} are needed) — raise {}",
                if *b == Stop::RequestBudget { "request budget (-n)" } else { "load time budget (-d)" },
                thousands(*requests),
                if *b == Stop::RequestBudget { "-n" } else { "-d" }
            ),
            Why::TooFewRequests { requests, rounds, .. } => format!(
                "too few requests: {} requests over {rounds} rounds is too few to measure bytes per request — raise -c (more connections), or --max-duration",
                thousands(*requests)
            ),
            Why::Noise { fit, mk_p, growth } => {
                let mut s = format!(
                    "noise: retained memory neither grew steadily nor stayed flat ({:.0} B/request, 95% CI {:.0}–{:.0}, Mann–Kendall p={mk_p:.3}) — raise --max-duration for more rounds",
                    fit.map_or(0.0, |f| f.slope),
                    fit.map_or(0.0, |f| f.lo),
                    fit.map_or(0.0, |f| f.hi),
                );
                if *growth > 0.0 {
                    s.push_str(&format!(
                        "; it grew {:.1} MiB under load: a longer --idle tells a cache that expires from a leak",
                        growth / MIB
                    ));
                }
                s
            }
        }
    }
}
