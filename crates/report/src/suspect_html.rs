//! How the HTML report shows a heap suspect's evidence: the retainer path as one readable
//! chain (`(Node internals: timers) → request (Function) → responseCache (Map)`, the holder
//! last and bold), and the source around each `declared`/`grows` line from the run's
//! `source_excerpts`, the named line marked.

use std::fmt::Write;

use crate::escape::html as esc;
use crate::run_schema::{SourceExcerpt, SourceLine};

/// Steps shown before the path is shortened in the middle.
const MAX_STEPS: usize = 12;

/// The path as a chain of hops; long paths keep their first and last steps.
pub(crate) fn chain(o: &mut String, path: &[String]) {
    if path.is_empty() {
        return;
    }
    o.push_str("<div class=\"chain\">");
    let n = path.len();
    let hidden = n.saturating_sub(MAX_STEPS);
    let head = if hidden > 0 { 3 } else { n };
    for (i, step) in path.iter().enumerate() {
        if i >= head && i < head + hidden {
            if i == head {
                let _ = write!(
                    o,
                    "<span class=\"arr\">→</span><span class=\"hop more\">… {hidden} more …</span>"
                );
            }
            continue;
        }
        if i > 0 {
            o.push_str("<span class=\"arr\">→</span>");
        }
        let class = if i + 1 == n { "hop last" } else { "hop" };
        let _ = write!(o, "<span class=\"{class}\">{}</span>", esc(step));
    }
    o.push_str("</div>");
}

/// The excerpts of `lines` found in `excerpts` (by location), each with its line marked.
pub(crate) fn excerpts(o: &mut String, lines: &[SourceLine], excerpts: &[SourceExcerpt]) {
    let mut shown: Vec<&str> = Vec::new();
    for l in lines {
        if shown.contains(&l.location.as_str()) {
            continue;
        }
        let Some(e) = excerpts.iter().find(|e| e.location == l.location) else {
            continue;
        };
        shown.push(&l.location);
        let marked: u32 = l
            .location
            .rsplit_once(':')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0);
        let _ = write!(
            o,
            "<figure class=\"excerpt\"><figcaption>{} <code>{}</code></figcaption><pre>",
            esc(&l.kind),
            esc(&l.location)
        );
        for (k, text) in e.lines.iter().enumerate() {
            let no = e.first_line + k as u32;
            let class = if no == marked { " class=\"hit\"" } else { "" };
            let _ = writeln!(
                o,
                "<span{class}><span class=\"ln\">{no:>4}</span> {}</span>",
                esc(text)
            );
        }
        o.push_str("</pre></figure>");
    }
}

/// Styles for the chain and the excerpts, added to the report's.
pub(crate) const CSS: &str = ".chain{margin:6px 0;font:12.5px ui-monospace,SFMono-Regular,Menlo,\
Consolas,monospace;line-height:1.9}.chain .hop{background:#eef1f5;border-radius:4px;padding:1px 6px;\
overflow-wrap:anywhere}.chain .hop.last{background:#fdf0ec;font-weight:700}.chain .hop.more{\
background:none;color:var(--muted)}.chain .arr{color:var(--muted);margin:0 5px}.excerpt{margin:8px 0 0;\
padding:6px 10px}.excerpt pre{margin:4px 0 0;font-size:12.5px;overflow-x:auto}.excerpt pre>span{\
display:block}.excerpt .hit{background:#fff3c4;font-weight:600}.excerpt .ln{color:var(--muted);\
user-select:none}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_chain_keeps_its_ends_and_escapes_steps() {
        let path: Vec<String> = (0..20).map(|i| format!("<s{i}>")).collect();
        let mut o = String::new();
        chain(&mut o, &path);
        assert!(o.contains("&lt;s0&gt;") && o.contains("&lt;s2&gt;"), "{o}");
        assert!(!o.contains("&lt;s3&gt;") && o.contains("… 8 more …"), "{o}");
        assert!(
            o.contains("<span class=\"hop last\">&lt;s19&gt;</span>"),
            "{o}"
        );
        assert!(!o.contains("<s1"));
    }

    #[test]
    fn excerpts_mark_the_named_line() {
        let l = SourceLine {
            kind: "grows".into(),
            location: "app.js:5".into(),
            code: "cache.push(x)".into(),
        };
        let e = SourceExcerpt {
            location: "app.js:5".into(),
            first_line: 4,
            lines: vec!["a".into(), "cache.push(<x>)".into(), "c".into()],
        };
        let mut o = String::new();
        excerpts(&mut o, &[l.clone(), l], &[e]);
        assert_eq!(o.matches("<figure").count(), 1);
        assert!(
            o.contains(
                "<span class=\"hit\"><span class=\"ln\">   5</span> cache.push(&lt;x&gt;)</span>"
            ),
            "{o}"
        );
        let mut none = String::new();
        excerpts(&mut none, &[], &[]);
        assert!(none.is_empty());
    }
}
