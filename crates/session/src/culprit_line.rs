//! The culprit sentence a user acts on (`RunReport.culprit`): what grows, by how much per unit,
//! held by what (with the line that declares it), grown by which statement (the line to
//! change), and through which app frames. With `--snapshots` the suspects' `grows` lines (ranked
//! by the snapshot evidence, see [`crate::holder_walk`]) give the line; without, the surviving
//! allocation sites name functions and [`crate::growth_scan`] reads them (and the app functions
//! they call) for the statement that grows a long-lived holder.

use leakhound_report::format::bytes;
use leakhound_report::run_schema::{AllocSiteOut, RunReport, SourceLine};
use leakhound_schema::culprit::CulpritOut;

use crate::growth_scan::{callees, definition, growths, Growth};
use crate::package_calls::PackageLine;
use crate::source_lines::{find, holder_identifier};

/// Surviving allocation sites read for the line, and app frames named in the sentence.
pub(crate) const TOP_SITES: usize = 3;

/// Whether a site is the app's own code (not Node's, not a package's, not a pseudo-frame).
pub(crate) fn is_app(location: &str) -> bool {
    !(location.starts_with("node:")
        || location.starts_with('(')
        || location.starts_with("script ")
        || location.contains("node_modules"))
}

/// `file` and 1-based `line` of a `file:line` location.
fn split(location: &str) -> Option<(&str, usize)> {
    let (f, n) = location.rsplit_once(':')?;
    Some((f, n.parse().ok()?))
}

fn line_at(kind: &str, file: &str, text: &str, line: usize) -> SourceLine {
    SourceLine {
        kind: kind.into(),
        location: format!("{file}:{}", line + 1),
        code: text
            .lines()
            .nth(line)
            .unwrap_or("")
            .trim()
            .chars()
            .take(160)
            .collect(),
    }
}

/// The statement found by reading the surviving sites' functions: (site index, file, growth).
fn scanned<'a>(
    sites: &[&AllocSiteOut],
    texts: &'a [(String, String)],
) -> Option<(usize, &'a str, &'a str, Growth)> {
    for (i, site) in sites.iter().enumerate() {
        let Some((file, line)) = split(&site.location) else {
            continue;
        };
        let Some((name, text)) = texts.iter().find(|(n, _)| n == file) else {
            continue;
        };
        let start = line.saturating_sub(1);
        let mut found: Vec<(&str, &str, Growth)> = growths(text, start)
            .into_iter()
            .map(|g| (name.as_str(), text.as_str(), g))
            .collect();
        // The app functions it calls, in its own file first, then in the app's other files.
        for callee in callees(text, start) {
            let mut own = std::iter::once((name, text)).chain(texts.iter().map(|(n, t)| (n, t)));
            if let Some((n, t, at)) =
                own.find_map(|(n, t)| definition(t, &callee).map(|at| (n, t, at)))
            {
                if at != start {
                    found.extend(
                        growths(t, at)
                            .into_iter()
                            .map(|g| (n.as_str(), t.as_str(), g)),
                    );
                }
            }
        }
        // A module-scope holder over a field over a closure's variable; then in order.
        if let Some(best) = found
            .into_iter()
            .min_by_key(|(_, _, g)| (g.scope, g.once_per_key))
        {
            return Some((i, best.0, best.1, best.2));
        }
    }
    None
}

/// How much it grows: per the run's unit, else per request.
pub(crate) fn rate(r: &RunReport) -> Option<String> {
    let (b, unit) = match (r.retained_bytes_per_unit, &r.unit) {
        (Some(b), Some(u)) => (b, u.as_str()),
        _ => (r.retained_bytes_per_request, "request"),
    };
    (b.is_finite() && b > 0.0).then(|| format!("{}/{unit}", bytes(b)))
}

/// The culprit of a leaking run, from its suspects (with snapshots) or its surviving
/// allocation sites and the app's sources `texts` (display name, text); `None` when neither
/// names a line.
pub fn build(r: &RunReport, texts: &[(String, String)]) -> Option<CulpritOut> {
    build_with(r, texts, None)
}

/// [`build`], with the app's call into the package that allocated what survived under one of
/// the app sites ([`crate::package_calls::first`]): without a suspect's `grows` line, it is
/// the line, before a scan of the sites' functions (whose own statements did not allocate).
pub fn build_with(
    r: &RunReport,
    texts: &[(String, String)],
    into: Option<&PackageLine>,
) -> Option<CulpritOut> {
    let sites: Vec<&AllocSiteOut> = r
        .alloc_survivors
        .iter()
        .filter(|s| is_app(&s.location))
        .take(TOP_SITES)
        .collect();
    let mut frames: Vec<String> = sites
        .iter()
        .map(|s| format!("{} {}", s.function, s.location))
        .collect();
    let mut out = CulpritOut::default();
    let mut what = "retained memory".to_string();
    let suspect = r
        .suspects
        .iter()
        .find(|s| s.source.iter().any(|l| l.kind == "grows"));
    if let Some(s) = suspect {
        out.evidence = "snapshots".into();
        out.line = s.source.iter().find(|l| l.kind == "grows").cloned();
        out.declared = s.source.iter().find(|l| l.kind == "declared").cloned();
        out.holder = s
            .title
            .split_once(", held by ")
            .map(|(_, h)| h.to_string())
            .or_else(|| s.path.last().cloned());
        // `2500 Object objects allocated ...` → `Object objects`.
        if let Some((class, _)) = s.title.split_once(" objects") {
            what = format!("{} objects", class.split_once(' ').map_or(class, |c| c.1));
        }
    } else if let Some(p) = into {
        out.evidence = "allocation-sites".into();
        out.line = Some(p.line.clone());
        what = format!("memory allocated by {}", p.package);
        frames.truncate(p.site + 1);
    } else if let Some((i, file, text, g)) = scanned(&sites, texts) {
        out.evidence = "allocation-sites".into();
        out.line = Some(line_at("grows", file, text, g.line));
        let root = g.holder.strip_prefix("this.").unwrap_or(&g.holder);
        let ident = holder_identifier(root.split(['.', '[', '(']).next().unwrap_or(root));
        out.declared = ident.and_then(|id| {
            let own = [(file.to_string(), text.to_string())];
            find(id, &own)
                .into_iter()
                .chain(find(id, texts))
                .find(|l| l.kind == "declared")
        });
        out.holder = Some(g.holder.clone());
        frames.truncate(i + 1);
        let here = format!("{}:", file);
        if !frames.iter().any(|f| f.contains(&here)) {
            frames.push(file.to_string());
        }
    } else {
        return None;
    }
    out.frames = frames;
    let line = out.line.as_ref()?;
    let verb = if what.ends_with("objects") {
        "grow"
    } else {
        "grows"
    };
    let mut s = match rate(r) {
        Some(rate) => format!("{what} {verb} by {rate}"),
        None => format!("{what} {verb}"),
    };
    if let Some(h) = &out.holder {
        s.push_str(&format!(", held by {h}"));
        if let Some(d) = &out.declared {
            s.push_str(&format!(" (declared at {})", d.location));
        }
    }
    s.push_str(&format!(
        "; the line to change is {}: `{}`",
        line.location, line.code
    ));
    if !out.frames.is_empty() {
        s.push_str(&format!(", reached through {}", out.frames.join(" > ")));
    }
    s.push('.');
    out.sentence = s;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_report::run_schema::SuspectOut;

    fn site(function: &str, location: &str) -> AllocSiteOut {
        AllocSiteOut {
            function: function.into(),
            location: location.into(),
            bytes: 1000,
            share: 0.5,
            generated: None,
        }
    }

    fn app() -> Vec<(String, String)> {
        vec![
            (
                "server.js".into(),
                "const { book } = require('./book');\nconst seen = [];\nfunction handle(req, res) {\n  const local = [];\n  local.push(1);\n  book.price(1);\n  res.end('ok');\n}\n"
                    .into(),
            ),
            (
                "book.js".into(),
                "class Book {\n  constructor() {\n    this.history = [];\n  }\n  price(sku) {\n    this.history.push({ sku });\n  }\n}\n"
                    .into(),
            ),
        ]
    }

    #[test]
    fn without_snapshots_the_sites_function_and_its_callees_name_the_line() {
        let r = RunReport {
            retained_bytes_per_request: 512.0,
            alloc_survivors: vec![
                site("emit", "node:events:500"),
                site("handle", "server.js:3"),
            ],
            ..Default::default()
        };
        let c = build(&r, &app()).expect("a culprit");
        assert_eq!(c.evidence, "allocation-sites");
        let line = c.line.as_ref().unwrap();
        assert_eq!(line.location, "book.js:6");
        assert_eq!(c.holder.as_deref(), Some("this.history"));
        assert_eq!(c.declared.as_ref().unwrap().location, "book.js:3");
        assert_eq!(c.frames, ["handle server.js:3", "book.js"]);
        assert!(
            c.sentence.starts_with("retained memory grows by 512 B/request, held by this.history (declared at book.js:3); the line to change is book.js:6: `this.history.push({ sku });`"),
            "{}",
            c.sentence
        );
        // A once-per-key `set` guarded by `has` gives way to the push that grows its value.
        let texts = vec![(
            "a.js".to_string(),
            "const m = new Map();\nfunction h(u) {\n  if (!m.has(u)) m.set(u, []);\n  m.get(u).push(1);\n}\n".to_string(),
        )];
        let r2 = RunReport {
            alloc_survivors: vec![site("h", "a.js:2")],
            ..Default::default()
        };
        assert_eq!(build(&r2, &texts).unwrap().line.unwrap().location, "a.js:4");
        // Nothing of the app's among the sites: no culprit.
        let r = RunReport {
            alloc_survivors: vec![site("emit", "node:events:500")],
            ..Default::default()
        };
        assert_eq!(build(&r, &app()), None);
    }

    #[test]
    fn a_call_into_the_package_that_allocated_is_the_line_before_a_scan() {
        let texts = vec![(
            "a.js".to_string(),
            "const w = require('w');\nfunction h(req, res) {\n  const l = w.createLogger();\n  setTimeout(() => res.end(), 5);\n}\n".to_string(),
        )];
        let r = RunReport {
            retained_bytes_per_request: 1024.0,
            alloc_survivors: vec![site("h", "a.js:2")],
            ..Default::default()
        };
        let into = PackageLine {
            site: 0,
            package: "w".into(),
            line: line_at("grows", "a.js", &texts[0].1, 2),
        };
        let c = build_with(&r, &texts, Some(&into)).unwrap();
        assert_eq!(c.line.as_ref().unwrap().location, "a.js:3");
        assert_eq!(
            c.sentence,
            "memory allocated by w grows by 1.0 KiB/request; the line to change is a.js:3: `const l = w.createLogger();`, reached through h a.js:2."
        );
        // Without it, the scan names the timer.
        let c = build(&r, &texts).unwrap();
        assert_eq!(c.line.unwrap().location, "a.js:4");
    }

    #[test]
    fn with_snapshots_the_first_suspects_grows_line_leads() {
        let grows = SourceLine {
            kind: "grows".into(),
            location: "server.js:5".into(),
            code: "seen.push(x)".into(),
        };
        let declared = SourceLine {
            kind: "declared".into(),
            location: "server.js:2".into(),
            code: "const seen = [];".into(),
        };
        let r = RunReport {
            retained_bytes_per_unit: Some(2048.0),
            unit: Some("connection".into()),
            alloc_survivors: vec![site("handle", "server.js:3")],
            suspects: vec![
                SuspectOut {
                    title: "9 Noise objects allocated during the load rounds still alive after idle".into(),
                    ..Default::default()
                },
                SuspectOut {
                    title: "2500 {sku} objects allocated during the load rounds still alive after idle, held by seen (Array)".into(),
                    source: vec![grows.clone(), declared.clone()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let c = build(&r, &app()).unwrap();
        assert_eq!(c.evidence, "snapshots");
        assert_eq!(c.line, Some(grows));
        assert_eq!(c.declared, Some(declared));
        assert_eq!(c.holder.as_deref(), Some("seen (Array)"));
        assert_eq!(
            c.sentence,
            "{sku} objects grow by 2.0 KiB/connection, held by seen (Array) (declared at server.js:2); the line to change is server.js:5: `seen.push(x)`, reached through handle server.js:3."
        );
    }
}
