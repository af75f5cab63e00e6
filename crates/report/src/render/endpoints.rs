//! Which route leaks: the `endpoints[]` of a run as a terminal table, a Markdown table and an
//! HTML bar chart with the 95 % intervals, leaking endpoints first (the order of the JSON).

use std::fmt::Write;

use leakhound_schema::endpoint::EndpointOut;
use leakhound_schema::Verdict;

use crate::escape::html as esc;
use crate::format;

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Leak => "LEAK",
        Verdict::NoLeak => "no leak",
        _ => "inconclusive",
    }
}

fn ci(e: &EndpointOut) -> String {
    format!(
        "{} [{} .. {}]",
        format::bytes(e.retained_bytes_per_request),
        format::bytes(e.ci_low),
        format::bytes(e.ci_high)
    )
}

/// The terminal table, indented under the run's figures; empty without endpoints.
pub fn text(eps: &[EndpointOut]) -> String {
    if eps.is_empty() {
        return String::new();
    }
    let rows: Vec<[String; 5]> = eps
        .iter()
        .map(|e| {
            [
                e.name.clone(),
                format!("{} {}", e.method, e.path),
                format::thousands(e.requests),
                ci(e),
                verdict(e.verdict).to_string(),
            ]
        })
        .collect();
    let head = [
        "endpoint",
        "method path",
        "requests",
        "retained/request [95% CI]",
        "verdict",
    ];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([head[i].len()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    let mut o = String::new();
    let line = |o: &mut String, c: [&str; 5]| {
        let _ = writeln!(
            o,
            "    {:<a$}  {:<b$}  {:>c$}  {:<d$}  {}",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            a = w[0],
            b = w[1],
            c = w[2],
            d = w[3]
        );
    };
    line(&mut o, head);
    for r in &rows {
        line(&mut o, [&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    o
}

/// The Markdown table; empty without endpoints.
pub fn markdown(eps: &[EndpointOut]) -> String {
    if eps.is_empty() {
        return String::new();
    }
    let mut o = String::from(
        "### Which route leaks\n\n| endpoint | method path | requests | retained/request [95% CI] | verdict |\n|---|---|---:|---|---|\n",
    );
    for e in eps {
        let _ = writeln!(
            o,
            "| {} | `{} {}` | {} | {} | {} |",
            e.name.replace('|', "\\|"),
            e.method,
            e.path.replace('`', "'").replace('|', "\\|"),
            format::thousands(e.requests),
            ci(e),
            if e.verdict == Verdict::Leak {
                "**leak**"
            } else {
                verdict(e.verdict)
            }
        );
    }
    o.push('\n');
    o
}

/// An HTML section: one horizontal bar per endpoint (bytes/request) with its interval as a
/// whisker; leaking endpoints in vermillion. Empty without endpoints.
pub fn html(eps: &[EndpointOut]) -> String {
    if eps.is_empty() {
        return String::new();
    }
    let (label_w, bar_w, row_h) = (260.0, 420.0, 26.0);
    let hi = eps
        .iter()
        .map(|e| e.ci_high.max(e.retained_bytes_per_request))
        .fold(1.0f64, f64::max);
    let lo = eps.iter().map(|e| e.ci_low).fold(0.0f64, f64::min);
    let x = |v: f64| label_w + (v - lo) / (hi - lo) * bar_w;
    let h = row_h * eps.len() as f64 + 30.0;
    let mut o = format!(
        "<h2>Which route leaks</h2><figure><figcaption>Retained bytes per request by endpoint (bars; whiskers: 95% interval)</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">",
        w = label_w + bar_w + 120.0
    );
    let _ = write!(
        o,
        "<line x1=\"{z}\" y1=\"0\" x2=\"{z}\" y2=\"{b}\" stroke=\"#888\"/>",
        z = x(0.0),
        b = h - 24.0
    );
    for (i, e) in eps.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let color = if e.verdict == Verdict::Leak {
            crate::charts::VERMILLION
        } else {
            crate::charts::BLUE
        };
        let (a, b) = (x(0.0), x(e.retained_bytes_per_request.max(0.0)));
        let _ = write!(
            o,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{label}</text>\
             <rect x=\"{a}\" y=\"{y}\" width=\"{bw}\" height=\"{bh}\" fill=\"{color}\"><title>{title}</title></rect>\
             <line x1=\"{l}\" y1=\"{my}\" x2=\"{r}\" y2=\"{my}\" stroke=\"#222\"/>\
             <text x=\"{vx}\" y=\"{ty}\" font-size=\"12\">{value}</text>",
            tx = label_w - 8.0,
            ty = y + 13.0,
            label = esc(&format!("{} {} {}", e.name, e.method, e.path)),
            bw = (b - a).max(1.0),
            bh = row_h - 10.0,
            title = esc(&format!("{}: {}", e.name, ci(e))),
            l = x(e.ci_low),
            r = x(e.ci_high),
            my = y + (row_h - 10.0) / 2.0,
            vx = x(hi) + 8.0,
            value = esc(&format!("{} {}", format::bytes(e.retained_bytes_per_request), verdict(e.verdict))),
        );
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\">0 B/request</text></svg></figure>",
        x(0.0),
        h - 8.0
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eps() -> Vec<EndpointOut> {
        vec![
            EndpointOut {
                name: "orders".into(),
                method: "POST".into(),
                path: "/orders".into(),
                requests: 12_345,
                retained_bytes_per_request: 301.0,
                ci_low: 260.0,
                ci_high: 342.0,
                verdict: Verdict::Leak,
            },
            EndpointOut {
                name: "health".into(),
                method: "GET".into(),
                path: "/health".into(),
                requests: 9_000,
                retained_bytes_per_request: 0.0,
                ci_low: -20.0,
                ci_high: 21.0,
                verdict: Verdict::NoLeak,
            },
        ]
    }

    #[test]
    fn the_table_lines_up_and_names_the_leak_first() {
        let t = text(&eps());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("retained/request [95% CI]"), "{t}");
        assert!(
            lines[1].contains("orders") && lines[1].ends_with("LEAK"),
            "{t}"
        );
        assert!(
            lines[1].contains("POST /orders") && lines[1].contains("12,345"),
            "{t}"
        );
        assert!(lines[2].ends_with("no leak"), "{t}");
        assert_eq!(lines[1].find("POST"), lines[2].find("GET"), "{t}");
        assert!(text(&[]).is_empty());
    }

    #[test]
    fn markdown_and_html_hold_every_endpoint() {
        let m = markdown(&eps());
        assert!(
            m.contains("| orders | `POST /orders` | 12,345 | 301 B [260 B .. 342 B] | **leak** |"),
            "{m}"
        );
        let h = html(&eps());
        assert_eq!(h.matches("<rect").count(), 2, "{h}");
        assert!(h.contains("health GET /health") && h.contains(crate::charts::VERMILLION));
    }
}
