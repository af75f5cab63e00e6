//! `compare` by leak signature, beside the slope test: each heap suspect of BEFORE is either
//! still there in AFTER (the same signature: class, app-first path shape and holder) or gone,
//! and AFTER's other suspects are new. A fix can lower a slope without removing a leak, or
//! remove one leak while another stays: the signatures say which.

use std::fmt::Write;

use crate::format;
use crate::run_schema::{RunReport, SuspectOut};
pub use leakhound_schema::compare::{LeakMatch, LeakStatus};

/// Each signed suspect of `before` as still there or gone, then those only in `after` as new;
/// one row per signature (a run's first suspect with it).
pub fn match_leaks(before: &RunReport, after: &RunReport) -> Vec<LeakMatch> {
    let signed = |r: &RunReport| -> Vec<SuspectOut> {
        let mut out: Vec<SuspectOut> = Vec::new();
        for s in &r.suspects {
            if !s.signature.is_empty() && !out.iter().any(|o| o.signature == s.signature) {
                out.push(s.clone());
            }
        }
        out
    };
    let (b, a) = (signed(before), signed(after));
    let mut out = Vec::new();
    for s in &b {
        let there = a.iter().find(|o| o.signature == s.signature);
        let shown = there.unwrap_or(s);
        out.push(LeakMatch {
            signature: s.signature.clone(),
            status: if there.is_some() {
                LeakStatus::StillThere
            } else {
                LeakStatus::Gone
            },
            title: shown.title.clone(),
            path: shown.path.clone(),
            before_bytes: Some(s.bytes),
            after_bytes: there.map(|o| o.bytes),
        });
    }
    for s in a
        .iter()
        .filter(|s| !b.iter().any(|o| o.signature == s.signature))
    {
        out.push(LeakMatch {
            signature: s.signature.clone(),
            status: LeakStatus::New,
            title: s.title.clone(),
            path: s.path.clone(),
            before_bytes: None,
            after_bytes: Some(s.bytes),
        });
    }
    out
}

/// The sentence for one match: `the same leak is still there (3.0 MiB before, 2.9 MiB after)`.
pub fn sentence(m: &LeakMatch) -> String {
    let b = |v: Option<u64>| v.map(format::bytes_u64).unwrap_or_default();
    match m.status {
        LeakStatus::StillThere => format!(
            "the same leak is still there ({} before, {} after)",
            b(m.before_bytes),
            b(m.after_bytes)
        ),
        LeakStatus::Gone => format!("gone ({} before)", b(m.before_bytes)),
        LeakStatus::New => format!("new ({} after)", b(m.after_bytes)),
    }
}

/// The terminal lines of the matches (nothing when there are none).
pub fn render_terminal(leaks: &[LeakMatch], o: &mut String) {
    if leaks.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nleaks by signature (heap suspects; the verdict is the slope test's):"
    );
    for m in leaks {
        let _ = writeln!(o, "  {}  {}: {}", m.signature, m.title, sentence(m));
        if !m.path.is_empty() {
            let _ = writeln!(o, "    path: {}", m.path.join(" > "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suspect(sig: &str, title: &str, bytes: u64) -> SuspectOut {
        SuspectOut {
            title: title.into(),
            bytes,
            percent: 10.0,
            path: vec!["cache (Map)".into()],
            signature: sig.into(),
            ..Default::default()
        }
    }

    fn run(suspects: Vec<SuspectOut>) -> RunReport {
        RunReport {
            suspects,
            ..Default::default()
        }
    }

    #[test]
    fn still_there_gone_and_new_by_signature() {
        let before = run(vec![
            suspect("aaaa", "cache entries", 3 << 20),
            suspect("bbbb", "listeners", 1 << 20),
            suspect("aaaa", "cache entries again", 1),
            suspect("", "unsigned", 5),
        ]);
        let after = run(vec![
            suspect("cccc", "sessions", 2 << 20),
            suspect("aaaa", "cache entries (after)", 2 << 20),
        ]);
        let m = match_leaks(&before, &after);
        let got: Vec<(&str, LeakStatus, Option<u64>, Option<u64>)> = m
            .iter()
            .map(|m| {
                (
                    m.signature.as_str(),
                    m.status,
                    m.before_bytes,
                    m.after_bytes,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("aaaa", LeakStatus::StillThere, Some(3 << 20), Some(2 << 20)),
                ("bbbb", LeakStatus::Gone, Some(1 << 20), None),
                ("cccc", LeakStatus::New, None, Some(2 << 20)),
            ]
        );
        assert_eq!(m[0].title, "cache entries (after)");
        assert_eq!(
            sentence(&m[0]),
            "the same leak is still there (3.0 MiB before, 2.0 MiB after)"
        );
        assert_eq!(sentence(&m[1]), "gone (1.0 MiB before)");
        assert_eq!(sentence(&m[2]), "new (2.0 MiB after)");
        let mut o = String::new();
        render_terminal(&m, &mut o);
        assert!(
            o.contains("aaaa  cache entries (after): the same leak is still there"),
            "{o}"
        );
        assert!(o.contains("    path: cache (Map)"), "{o}");
        // No signed suspects: nothing to say.
        assert!(match_leaks(&run(vec![]), &run(vec![suspect("", "x", 1)])).is_empty());
        let mut o = String::new();
        render_terminal(&[], &mut o);
        assert!(o.is_empty());
    }
}
