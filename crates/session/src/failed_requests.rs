//! Requests that failed: the status breakdown and the likely cause, in words a user can act on.
//!
//! A route that answers 400 or 401 to every request allocates next to nothing, so its memory is
//! flat and "no leak" would be a lie about a run that never exercised the code. When most
//! answers are failures the run gives no verdict (target-failed); when a few are, the verdict
//! stands with a warning.

use crate::observations::Responses;
use crate::verdict::thousands;

/// The failures of a run, when there were any.
#[derive(Debug, Clone, PartialEq)]
pub struct Failures {
    pub failed: u64,
    pub total: u64,
    /// The most frequent failure: an HTTP status, or a transport error kind.
    pub dominant: Cause,
    /// "401 ×117,426" or "404 ×10, refused ×2" (most frequent first).
    pub breakdown: String,
    /// How many different failures (statuses and transport error kinds) there were.
    pub kinds: usize,
}

/// One kind of failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Status(u16),
    Transport(String),
}

impl Failures {
    /// More than `share` of the requests failed.
    pub fn most(&self, share: f64) -> bool {
        self.total > 0 && self.failed as f64 > share * self.total as f64
    }

    /// The likely cause and what to do, for the dominant failure.
    pub fn hint(&self) -> String {
        match &self.dominant {
            Cause::Status(401 | 403) => {
                "the route needs auth — pass -H 'Authorization: …' or a setup step".into()
            }
            Cause::Status(404) => "the path does not exist on the target — check --path".into(),
            Cause::Status(400 | 411 | 413 | 415 | 422) => "the target rejects the request — check -m, -b and Content-Type (-H 'Content-Type: application/json')".into(),
            Cause::Status(405) => "the target does not take this method — check -m".into(),
            Cause::Status(429) => {
                "the target rate-limits the load — lower -c or -q, or raise its limit".into()
            }
            Cause::Status(s) if *s >= 500 => {
                "the target errors — see its output (-v) and the last lines of its stderr".into()
            }
            Cause::Status(s) => format!("if HTTP {s} is what this route answers, pass --expect-status {s}"),
            Cause::Transport(kind) => format!(
                "requests got no answer ({kind}): the target is not serving the load — check --port, and its output with -v"
            ),
        }
    }

    /// "every response was 401: the route needs auth — …" or "10,000 of 12,000 requests
    /// failed (404 ×9,000, refused ×1,000; expected 2xx,3xx): the path does not exist …".
    pub fn sentence(&self, expect: &str) -> String {
        if self.failed == self.total {
            if let Cause::Status(s) = self.dominant {
                if self.kinds == 1 {
                    return format!("every response was {s}: {}", self.hint());
                }
            }
        }
        format!(
            "{} of {} requests failed ({}; expected {expect}): {}",
            thousands(self.failed),
            thousands(self.total),
            self.breakdown,
            self.hint()
        )
    }
}

/// The failures among `r`, or `None` when every request got an expected status.
pub fn failures(r: &Responses) -> Option<Failures> {
    let mut causes: Vec<(Cause, u64)> = r
        .by_status
        .iter()
        .filter(|(c, n)| !r.expect.contains(**c) && **n > 0)
        .map(|(c, n)| (Cause::Status(*c), *n))
        .collect();
    causes.extend(
        r.transport
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (Cause::Transport(k.clone()), *n)),
    );
    // Most frequent first; ties keep the status order (statuses before transport errors).
    causes.sort_by_key(|c| std::cmp::Reverse(c.1));
    let dominant = causes.first()?.0.clone();
    let breakdown = causes
        .iter()
        .map(|(c, n)| match c {
            Cause::Status(s) => format!("{s} ×{}", thousands(*n)),
            Cause::Transport(k) => format!("{k} ×{}", thousands(*n)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(Failures {
        failed: r.failed(),
        total: r.total(),
        dominant,
        breakdown,
        kinds: causes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responses(statuses: &[(u16, u64)], transport: &[(&str, u64)], expect: &str) -> Responses {
        Responses {
            by_status: statuses.iter().copied().collect(),
            transport: transport.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            expect: expect.parse().unwrap(),
            aborted: 0,
        }
    }

    #[test]
    fn aborted_requests_are_outside_the_failure_share() {
        // 40 of 100 answers failed: under half. The 900 requests abandoned on purpose
        // (--abort) count neither way: they neither dilute nor add to the share.
        let mut r = responses(&[(200, 60), (500, 40)], &[], "2xx,3xx");
        r.aborted = 900;
        let f = failures(&r).unwrap();
        assert_eq!((f.failed, f.total), (40, 100));
        assert!(!f.most(0.5));
        // Every answer failing is still a failed target, however many were aborted.
        let mut r = responses(&[(401, 50)], &[], "2xx,3xx");
        r.aborted = 5_000;
        let f = failures(&r).unwrap();
        assert!(f.most(0.5));
        assert!(f.sentence("2xx,3xx").starts_with("every response was 401"));
        // Only aborted requests: nothing failed.
        let mut r = responses(&[], &[], "2xx,3xx");
        r.aborted = 10;
        assert_eq!(failures(&r), None);
    }

    #[test]
    fn every_401_names_auth() {
        let f = failures(&responses(&[(401, 117_426)], &[], "2xx,3xx")).unwrap();
        assert!(f.most(0.5));
        assert_eq!(
            f.sentence("2xx,3xx"),
            "every response was 401: the route needs auth — pass -H 'Authorization: …' or a setup step"
        );
    }

    #[test]
    fn a_mix_gives_the_breakdown_and_the_dominant_hint() {
        let f = failures(&responses(
            &[(200, 100), (404, 900), (500, 5)],
            &[("refused", 20)],
            "2xx,3xx",
        ))
        .unwrap();
        assert_eq!(f.failed, 925);
        assert_eq!(f.total, 1025);
        assert_eq!(f.dominant, Cause::Status(404));
        let s = f.sentence("2xx,3xx");
        assert!(
            s.starts_with("925 of 1,025 requests failed (404 ×900, refused ×20, 500 ×5; expected 2xx,3xx): the path does not exist"),
            "{s}"
        );
    }

    #[test]
    fn expected_statuses_are_not_failures() {
        assert_eq!(failures(&responses(&[(400, 50)], &[], "4xx")), None);
        assert_eq!(
            failures(&responses(&[(200, 50), (302, 3)], &[], "2xx,3xx")),
            None
        );
        let f = failures(&responses(&[(200, 50)], &[], "400")).unwrap();
        assert!(f.sentence("400").contains("--expect-status 200"));
    }

    #[test]
    fn hints_per_cause() {
        let hint = |s: u16| {
            failures(&responses(&[(s, 1)], &[], "2xx,3xx"))
                .unwrap()
                .hint()
        };
        assert!(hint(400).contains("Content-Type"));
        assert!(hint(403).contains("Authorization"));
        assert!(hint(503).contains("the target errors"));
        assert!(hint(405).contains("check -m"));
        let f = failures(&responses(&[], &[("reset", 4)], "2xx,3xx")).unwrap();
        assert!(f.hint().contains("no answer (reset)"), "{}", f.hint());
        assert!(f.sentence("2xx,3xx").starts_with("4 of 4 requests failed"));
    }
}
