//! Matching the table against a run's evidence: each pattern's suspect, allocation and stderr
//! rules, the facts its detail extractor adds, and the app line, into `LibraryPatternOut`s.

use leakhound_schema::culprit::LibraryPatternOut;

use crate::alloc::{self, AllocHit};
use crate::app_line;
use crate::details;
use crate::evidence::{Evidence, Suspect};
use crate::steps;
use crate::table::{table, Pattern, SuspectRule};

/// At most this many stderr lines are quoted per pattern.
const MAX_STDERR: usize = 3;

/// The known patterns the evidence shows, most specific first (the table's order, generic
/// patterns after the package ones).
pub fn match_patterns(ev: &Evidence) -> Vec<LibraryPatternOut> {
    match_with(table(), ev)
}

struct Hit<'a> {
    pattern: &'a Pattern,
    suspects: Vec<(usize, String)>,
    alloc: Option<AllocHit>,
    stderr: Vec<&'a str>,
}

pub(crate) fn match_with(table: &[Pattern], ev: &Evidence) -> Vec<LibraryPatternOut> {
    let mut hits: Vec<Hit> = Vec::new();
    for p in table {
        let suspects: Vec<(usize, String)> = ev
            .suspects
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                p.suspect
                    .iter()
                    .find_map(|r| suspect_fits(r, s))
                    .map(|w| (i, w))
            })
            .collect();
        let alloc = alloc::hit(&p.alloc, &ev.stacks);
        let mut stderr: Vec<&str> = Vec::new();
        for l in &ev.stderr {
            if p.stderr.iter().any(|r| l.contains(&r.contains)) && !stderr.contains(&l.as_str()) {
                stderr.push(l);
            }
        }
        stderr.truncate(MAX_STDERR);
        if !suspects.is_empty() || alloc.is_some() || !stderr.is_empty() {
            hits.push(Hit {
                pattern: p,
                suspects,
                alloc,
                stderr,
            });
        }
    }
    // A generic pattern whose suspects a package pattern explains says less than it: dropped,
    // unless Node's own warning is its evidence.
    let specific: Vec<usize> = hits
        .iter()
        .filter(|h| !h.pattern.generic)
        .flat_map(|h| h.suspects.iter().map(|(i, _)| *i))
        .collect();
    hits.retain(|h| {
        !(h.pattern.generic
            && h.stderr.is_empty()
            && !h.suspects.is_empty()
            && h.suspects.iter().all(|(i, _)| specific.contains(i)))
    });
    hits.sort_by_key(|h| h.pattern.generic);
    hits.iter().map(|h| out(h, ev)).collect()
}

fn out(h: &Hit, ev: &Evidence) -> LibraryPatternOut {
    let p = h.pattern;
    let matched: Vec<&Suspect> = h.suspects.iter().map(|(i, _)| &ev.suspects[*i]).collect();
    // The extractor's facts first: they are the most readable (which metric, which event).
    let mut evidence: Vec<String> = p
        .detail
        .as_deref()
        .map(|d| details::facts(d, &matched, &h.stderr))
        .unwrap_or_default();
    evidence.extend(h.suspects.iter().map(|(i, window)| {
        let s = &ev.suspects[*i];
        let held = s
            .holder
            .as_deref()
            .map(|x| format!(" held by {x}"))
            .unwrap_or_default();
        format!(
            "suspect #{}: {}{held}, {}: {window}",
            i + 1,
            s.class,
            bytes(s.bytes)
        )
    }));
    if let Some(a) = &h.alloc {
        evidence.push(format!(
            "{} ({:.0}% of what survived) allocated in {} called from {}",
            bytes(a.bytes),
            a.share * 100.0,
            a.library.shown(),
            a.caller.shown()
        ));
    }
    evidence.extend(h.stderr.iter().map(|l| format!("stderr: {}", l.trim())));
    LibraryPatternOut {
        id: p.id.clone(),
        name: p.name.clone(),
        package: p.package.clone(),
        why: p.why.clone(),
        fix: p.fix.clone(),
        evidence,
        app_line: app_line::find(
            p,
            h.alloc.as_ref().map(|a| &a.caller),
            &matched,
            &ev.sources,
        ),
        suspect: h.suspects.first().map(|(i, _)| *i),
    }
}

/// The steps that matched, joined (`store (MemoryStore) > sessions (Object)`), when `r`
/// matches `s`.
fn suspect_fits(r: &SuspectRule, s: &Suspect) -> Option<String> {
    let mut shown = Vec::new();
    if !r.class.is_empty() {
        if !r.class.contains(&s.class) {
            return None;
        }
        shown.push(format!("class {}", s.class));
    }
    if !r.path.is_empty() {
        let (path, range) = [&s.path, &s.full_path]
            .into_iter()
            .find_map(|p| steps::find_seq(&r.path, p).map(|w| (p, w)))?;
        shown.push(path[range].join(" > "));
    }
    let needs_holder = r.holder.is_some() || r.holder_after.is_some() || r.holder_class.is_some();
    if needs_holder {
        let holder = s.holder.as_deref()?;
        if r.holder
            .as_deref()
            .is_some_and(|h| !steps::matches(h, holder))
        {
            return None;
        }
        let class = steps::parse(holder).class.unwrap_or_default();
        if r.holder_class
            .as_deref()
            .is_some_and(|c| !c.split('|').any(|c| c.trim() == class))
        {
            return None;
        }
        match &r.holder_after {
            Some(after) => {
                let before = [&s.full_path, &s.path].into_iter().find_map(|p| {
                    let i = p.iter().rposition(|x| x.trim() == holder.trim())?;
                    Some(p.get(i.checked_sub(1)?)?.clone())
                })?;
                if steps::parse(&before).edge != after {
                    return None;
                }
                shown.push(format!("{} > {holder}", before.trim()));
            }
            None => shown.push(format!("held by {holder}")),
        }
    }
    Some(shown.join(", "))
}

fn bytes(b: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = b as f64;
    if f >= KIB * KIB {
        format!("{:.1} MiB", f / KIB / KIB)
    } else if f >= KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{b} B")
    }
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
