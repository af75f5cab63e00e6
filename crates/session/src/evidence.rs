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
        Finding::Stable(s) => stable(&mut ev, s),
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
    ev
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

fn stable(ev: &mut Vec<String>, s: &StableFacts) {
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
    Some(format!(
        "at {:.0} req/s a {} heap fills in about {}",
        p.prod_rps,
        human_mb(p.heap_mb),
        human_duration(p.seconds)
    ))
}
