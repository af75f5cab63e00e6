//! The English of a run: the evidence sentences, the pressure finding and the projection, all
//! written from the [`Decision`] (never from a second look at the samples), so what the text
//! says is what was decided.

use crate::decide::{Decision, Finding, LeakFacts, StableFacts};
use crate::inconclusive::Why;
use crate::observations::Observations;
use crate::verdict::{human_duration, human_mb, thousands, LeakKind, KIB, MIB};

/// The evidence list of the report, in order.
pub fn evidence(d: &Decision, obs: &Observations) -> Vec<String> {
    let mut ev = Vec::new();
    match &d.finding {
        Finding::Oom => {
            ev.push(format!(
                "the target ran out of memory (JavaScript heap out of memory) after {} requests, heap limit {:.0} MiB",
                thousands(obs.requests),
                obs.heap_limit / MIB
            ));
            let o = &obs.oom_detail;
            if let Some(f) = &o.v8_fatal {
                ev.push(format!("V8: {}", f.trim()));
            }
            let n = o.last_gc_lines.len();
            for l in &o.last_gc_lines[n.saturating_sub(3)..] {
                ev.push(format!("last GC: {l}"));
            }
            ev.extend(
                o.trace_evidence
                    .iter()
                    .filter(|e| !e.contains("needed to judge"))
                    .take(3)
                    .map(|e| format!("GC trace: {e}")),
            );
        }
        Finding::StartupOom
        | Finding::Died
        | Finding::Failed
        | Finding::RequestsFailed
        | Finding::Interrupted => {
            ev.extend(d.reason.clone());
            ev.extend(so_far(d));
        }
        Finding::Leak(f) => leak(&mut ev, d.kind, f, obs),
        Finding::IdleShrink {
            kind,
            first,
            last,
            idle,
        } => ev.push(format!(
            "{} grew from {:.1} to {:.1} MiB under load but fell back to {:.1} MiB when idle: an expiring cache, not a leak",
            what(*kind),
            first / MIB,
            last / MIB,
            idle / MIB
        )),
        Finding::Stable(s) => stable(&mut ev, s, obs),
        Finding::TimeLeak(f) => time_leak(&mut ev, d.kind, f, obs),
        Finding::Plateau {
            level,
            requests,
            grew,
        } => ev.push(format!(
            "retained heap grew {:.1} MiB ever more slowly, then stopped: filled to {:.1} MiB after {} (a cache or index over a bounded key space), not a leak",
            grew / MIB,
            level / MIB,
            crate::axis_words::position(obs.axis, *requests)
        )),
        Finding::Slowing { .. } => ev.extend(d.reason.clone()),
        Finding::EndpointLeak => {
            if let Some(f) = &d.fit {
                ev.push(format!(
                    "over all endpoints: {:.0} B/request (95% CI {:.0}–{:.0}); the endpoint mix varied between rounds, so the regression below tells the routes apart",
                    f.slope, f.ci_low, f.ci_high
                ));
            }
        }
        Finding::Inconclusive(why) => {
            let noise = matches!(why, Why::Noise { .. });
            if let (false, Some(f)) = (noise, &d.fit) {
                ev.push(format!(
                    "no clear trend within the time budget: {:.0} B/request (95% CI {:.0}–{:.0}), Mann–Kendall p={:.3}",
                    f.slope,
                    f.ci_low,
                    f.ci_high,
                    d.mann_kendall_p.unwrap_or(1.0)
                ));
            }
            ev.extend(d.reason.clone());
        }
    }
    if matches!(d.finding, Finding::Leak(_) | Finding::EndpointLeak) {
        ev.extend(endpoint_lines(d, obs));
    }
    ev
}

/// "GET /orders retains 301 B/request (95% CI 250–352) over 5,012 requests" per leaking route.
fn endpoint_lines(d: &Decision, obs: &Observations) -> Vec<String> {
    d.endpoints
        .iter()
        .filter(|e| e.verdict == leakhound_report::run_schema::Verdict::Leak)
        .filter_map(|e| {
            let id = obs.endpoints.get(e.index)?;
            Some(format!(
                "endpoint {} ({} {}) retains {:.0} B/request (95% CI {:.0}–{:.0}) over {} requests",
                id.name,
                id.method,
                id.path,
                e.coef.slope,
                e.coef.lo,
                e.coef.hi,
                thousands(e.requests)
            ))
        })
        .collect()
}

fn time_leak(
    ev: &mut Vec<String>,
    kind: LeakKind,
    f: &crate::time_driven::TimeFacts,
    obs: &Observations,
) {
    ev.push(format!(
        "{} grew {:.1} MiB over {:.0} s ({:.1} KiB/s, 95% CI {:.1}–{:.1}; {:.0} MiB/hour), Mann–Kendall p={:.2e}",
        what(kind),
        f.growth / MIB,
        f.seconds,
        f.rate.slope / KIB,
        f.rate.lo / KIB,
        f.rate.hi / KIB,
        f.rate.slope * 3600.0 / MIB,
        f.mk_p
    ));
    ev.push(format!(
        "it kept growing while no request was made: {:+.0} KiB over {:.1} s idle ({:.1} KiB/s) — driven by time (a timer or poller), not by requests (over {})",
        f.idle_growth / KIB,
        f.idle_seconds,
        f.idle_rate.slope / KIB,
        crate::axis_words::position(obs.axis, obs.requests)
    ));
}

fn what(kind: LeakKind) -> &'static str {
    match kind {
        LeakKind::External => "external (Buffer/ArrayBuffer) memory",
        LeakKind::Rss => "resident memory (RSS)",
        _ => "retained heap",
    }
}

fn leak(ev: &mut Vec<String>, kind: LeakKind, l: &LeakFacts, obs: &Observations) {
    let what = what(kind);
    let f = l.fit;
    ev.push(format!(
        "{what} grew {:.1} MiB over {} requests ({:.0} B/request, 95% CI {:.0}–{:.0}, R²={:.2})",
        l.growth / MIB,
        thousands(l.requests as u64),
        f.slope,
        f.lo,
        f.hi,
        f.r2
    ));
    ev.push(format!(
        "Mann–Kendall trend over {} rounds: p={:.2e}; still growing in the late rounds ({:.0} B/request, no plateau)",
        l.rounds, l.mk_p, l.late_slope
    ));
    if let Some(i) = l.idle {
        ev.push(format!(
            "after {:?} idle and a forced GC, {what} stayed at {:.1} MiB",
            obs.idle,
            i / MIB
        ));
    }
}

fn stable(ev: &mut Vec<String>, s: &StableFacts, obs: &Observations) {
    ev.push(format!(
        "retained heap settled at {:.1} MiB: the late rounds changed by {:+.0} KiB ({:.1} B/request, 95% CI {:.1}–{:.1})",
        s.settled / MIB,
        s.late_growth / KIB,
        s.late.slope,
        s.late.lo,
        s.late.hi
    ));
    if s.early_growth_shown {
        ev.push(format!(
            "early growth of {:.1} MiB stopped (a cache filling up, or warm-up)",
            s.growth / MIB
        ));
    }
    ev.push(format!(
        "external memory changed by {:+.0} KiB in the late rounds",
        s.external_late_growth / KIB
    ));
    // What flat rules out against the clock: a timer or poller slower than this would not
    // show in a run this short (the time-driven rule needs growth while idle).
    if obs.axis == leakhound_report::run_schema::FitAxis::Requests {
        if let Some((hi, secs)) = crate::time_driven::upper_rate(&obs.samples, |s| s.heap_used) {
            ev.push(format!(
                "against time: at most {:.1} KiB/second over {:.0} s (95% upper bound, {:.0} MiB/hour); a slower leak driven by a timer needs a longer --idle to show",
                hi / KIB,
                secs,
                hi * 3600.0 / MIB
            ));
        }
    }
}

/// "so far: 1,020 B/request over 5 samples" for a run that ended without a verdict.
fn so_far(d: &Decision) -> Option<String> {
    let f = d.fit.as_ref()?;
    Some(format!(
        "so far: {:.0} B/request retained (95% CI {:.0}–{:.0}) over {} samples — no verdict is drawn from it",
        f.slope,
        f.ci_low,
        f.ci_high,
        f.samples_used.len()
    ))
}

/// The allocation-pressure finding, when the decision found pressure.
pub fn pressure(d: &Decision) -> Option<String> {
    let a = d.allocation.filter(|_| d.pressure)?;
    Some(format!(
        "allocation pressure without retention: {:.1} KiB allocated per request ({:.0} MiB/s), {:.1}% of the time in GC, while the live set stays flat",
        a.bytes_per_request / KIB,
        a.bytes_per_second / MIB,
        a.gc_share * 100.0
    ))
}

/// "at 300 req/s a 2 GB heap fills in about 5.5 hours".
pub fn projection(d: &Decision) -> Option<String> {
    let p = d.projection?;
    if p.driver == leakhound_schema::endpoint::Driver::Time {
        return Some(format!(
            "with or without traffic, a {} heap fills in about {:.1} hours",
            human_mb(p.heap_mb),
            p.seconds / 3600.0
        ));
    }
    Some(format!(
        "at {:.0} req/s a {} heap fills in about {}",
        p.prod_rps,
        human_mb(p.heap_mb),
        human_duration(p.seconds)
    ))
}
