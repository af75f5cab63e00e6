//! `leakhound compare`'s result: the side-by-side table, or `leakhound.compare/v1`; in
//! Markdown and HTML, the verdict, its reasons and the leaks matched by signature.

use std::fmt::Write as _;
use std::io;

use super::{write_json, Html, Json, Markdown, Render, Text};
use crate::compare::{render_terminal, Comparison};
use crate::compare_leaks::sentence;
use crate::escape::{html as esc, markdown as md, table_pipes};
use crate::format;

impl Render<Comparison> for Text {
    fn render(&self, c: &Comparison, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(render_terminal(c).as_bytes())
    }
}

impl Render<Comparison> for Json {
    fn render(&self, c: &Comparison, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(c, out)
    }
}

/// Retained per request, with its interval when there is one.
fn slope(s: &crate::compare::Side) -> String {
    let mid = format::bytes(s.retained_bytes_per_request);
    match s.retained_bytes_per_request_ci {
        Some([lo, hi]) => format!("{mid} [{} .. {}]", format::bytes(lo), format::bytes(hi)),
        None => mid,
    }
}

impl Render<Comparison> for Markdown {
    fn render(&self, c: &Comparison, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "## leakhound compare: {}\n", c.verdict.as_str())?;
        writeln!(out, "| | before | after |\n|---|---|---|")?;
        writeln!(
            out,
            "| verdict | {} | {} |",
            c.before.verdict, c.after.verdict
        )?;
        writeln!(
            out,
            "| retained per request (95% CI) | {} | {} |",
            table_pipes(&slope(&c.before)),
            table_pipes(&slope(&c.after))
        )?;
        writeln!(out)?;
        for r in &c.reasons {
            writeln!(out, "- {}", md(r))?;
        }
        if !c.leaks.is_empty() {
            writeln!(out, "\n### Leaks by signature\n")?;
            writeln!(out, "| signature | suspect | status |\n|---|---|---|")?;
            for m in &c.leaks {
                writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    m.signature,
                    table_pipes(&md(&m.title)),
                    table_pipes(&sentence(m))
                )?;
            }
        }
        Ok(())
    }
}

impl Render<Comparison> for Html {
    fn render(&self, c: &Comparison, out: &mut dyn io::Write) -> io::Result<()> {
        let mut o = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>leakhound compare</title>\
             <style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em;text-align:left}\
             .gone{color:#1a7f37}.still-there,.new{color:#cf222e}</style></head><body>",
        );
        let _ = write!(
            o,
            "<h1>leakhound compare: {}</h1><table><tr><th></th><th>before</th><th>after</th></tr>\
             <tr><td>verdict</td><td>{}</td><td>{}</td></tr>\
             <tr><td>retained per request (95% CI)</td><td>{}</td><td>{}</td></tr></table><ul>",
            esc(c.verdict.as_str()),
            esc(&c.before.verdict.to_string()),
            esc(&c.after.verdict.to_string()),
            esc(&slope(&c.before)),
            esc(&slope(&c.after))
        );
        for r in &c.reasons {
            let _ = write!(o, "<li>{}</li>", esc(r));
        }
        o.push_str("</ul>");
        if !c.leaks.is_empty() {
            o.push_str("<h2>Leaks by signature</h2><table><tr><th>signature</th><th>suspect</th><th>path</th><th>status</th></tr>");
            for m in &c.leaks {
                let class = match m.status {
                    crate::compare_leaks::LeakStatus::StillThere => "still-there",
                    crate::compare_leaks::LeakStatus::Gone => "gone",
                    crate::compare_leaks::LeakStatus::New => "new",
                };
                let _ = write!(
                    o,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
                    esc(&m.signature),
                    esc(&m.title),
                    esc(&m.path.join(" > ")),
                    esc(&sentence(m))
                );
            }
            o.push_str("</table>");
        }
        o.push_str("</body></html>\n");
        out.write_all(o.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_schema::{RunReport, SuspectOut};

    fn run(verdict: &str, sigs: &[&str]) -> RunReport {
        RunReport {
            schema: crate::run_schema::SCHEMA.into(),
            verdict: verdict.parse().unwrap(),
            retained_bytes_per_request: 100.0,
            retained_bytes_per_request_ci: Some([80.0, 120.0]),
            suspects: sigs
                .iter()
                .map(|s| SuspectOut {
                    title: format!("suspect <{s}>"),
                    bytes: 1 << 20,
                    path: vec!["cache (Map)".into()],
                    signature: s.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn every_format_tells_the_leaks_by_signature() {
        let c = crate::compare::compare(&run("leak", &["aa", "bb"]), &run("leak", &["aa", "cc"]));
        let text = super::super::to_string(&Text, &c);
        assert!(
            text.contains(
                "aa  suspect <aa>: the same leak is still there (1.0 MiB before, 1.0 MiB after)"
            ),
            "{text}"
        );
        assert!(text.contains("bb  suspect <bb>: gone"), "{text}");
        assert!(text.contains("cc  suspect <cc>: new"), "{text}");
        let md = super::super::to_string(&Markdown, &c);
        assert!(
            md.contains("| `bb` | suspect &lt;bb&gt; | gone (1.0 MiB before) |"),
            "{md}"
        );
        assert!(md.starts_with("## leakhound compare: not proven"), "{md}");
        let html = super::super::to_string(&Html, &c);
        assert!(
            html.contains("<td class=\"gone\">gone (1.0 MiB before)</td>"),
            "{html}"
        );
        assert!(html.contains("suspect &lt;cc&gt;"), "{html}");
        let json = super::super::to_string(&Json, &c);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["leaks"][0]["status"], "still-there");
        assert_eq!(v["leaks"][1]["status"], "gone");
        assert_eq!(v["leaks"][2]["status"], "new");
        assert!(v["leaks"][2]["before_bytes"].is_null());
    }
}
