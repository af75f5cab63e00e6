//! The run result (`leakhound.run/v1`) in every format: the terminal text `run` prints, the
//! JSON `--json` writes, the Markdown summary and the HTML page.

use std::io;

use leakhound_schema::Verdict;

use super::{write_json, Html, Json, Markdown, Render, Text};
use crate::format;
use crate::run_schema::{AllocSiteOut, RunReport};

/// V8's sampling heap profiler's default interval, for results that do not name theirs.
const V8_DEFAULT_SAMPLING_INTERVAL: u64 = 32 * 1024;

/// What `leakhound run` prints on stdout at the end: the verdict and its evidence, the figures
/// of the run, and the culprit sections.
impl Render<RunReport> for Text {
    fn render(&self, r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
        match r.verdict {
            Verdict::TargetFailed => {
                writeln!(
                    out,
                    "TARGET FAILED: {}",
                    r.target_failed
                        .as_deref()
                        .or(r.reason.as_deref())
                        .unwrap_or("unknown")
                )?;
                later_evidence(r, out)?;
                if !r.target_stderr_tail.is_empty() {
                    writeln!(out, "last lines of the target's stderr:")?;
                    for l in r.target_stderr_tail.iter().rev().take(15).rev() {
                        writeln!(out, "  {l}")?;
                    }
                }
                warnings(r, out)
            }
            Verdict::Interrupted => {
                writeln!(out, "INTERRUPTED: no verdict")?;
                if let Some(why) = &r.reason {
                    writeln!(out, "  - {why}")?;
                }
                later_evidence(r, out)?;
                warnings(r, out)
            }
            Verdict::Leak | Verdict::NoLeak | Verdict::Inconclusive => finding(r, out),
        }
    }
}

fn finding(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    let v = match (r.verdict, r.oom) {
        (Verdict::Leak, true) => "LEAK (out of memory)".to_string(),
        (Verdict::Leak, false) => format!("LEAK ({})", r.leak_kind),
        (Verdict::NoLeak, _) => "NO LEAK".to_string(),
        _ => "INCONCLUSIVE".to_string(),
    };
    writeln!(out, "verdict: {v}")?;
    for e in &r.evidence {
        writeln!(out, "  - {e}")?;
    }
    // An inconclusive result always says why; the reason is shown unless the evidence
    // already holds it.
    if let Some(why) = r.reason.as_ref().filter(|w| !r.evidence.contains(w)) {
        writeln!(out, "  - {why}")?;
    }
    if let Some(p) = &r.allocation_pressure {
        writeln!(out, "  - {p}")?;
    }
    warnings(r, out)?;
    // Driven by the user's load command (or a workload): no request of leakhound's to count.
    let outside = r.requests == 0
        && r.fit
            .as_ref()
            .is_some_and(|f| !matches!(f.x, leakhound_schema::evidence::FitAxis::Requests));
    if outside {
        let by = match r.fit.as_ref().map(|f| f.x) {
            Some(leakhound_schema::evidence::FitAxis::Iterations) => "the workload",
            _ => "the load command",
        };
        writeln!(
            out,
            "  {} under {by}; heap limit {}",
            format::duration(r.duration_s),
            format::bytes_u64(r.heap_limit_bytes)
        )?;
    } else {
        writeln!(
            out,
            "  {} requests in {} ({:.0} req/s under load{}), {} HTTP errors, {} transport errors; heap limit {}",
        format::thousands(r.requests),
        format::duration(r.duration_s),
        r.requests_per_second,
        latency(r),
        format::thousands(r.http_errors),
        format::thousands(r.transport_errors),
            format::bytes_u64(r.heap_limit_bytes)
        )?;
    }
    if let Some(c) = connections(r) {
        writeln!(out, "  {c}")?;
    }
    if r.verdict == Verdict::Leak {
        let (per_unit, unit) = match (r.retained_bytes_per_unit, r.unit.as_deref()) {
            (Some(b), Some(u)) if u != "request" => (b, u),
            _ => (r.retained_bytes_per_request, "request"),
        };
        writeln!(out, "  retained: {}", format::bytes_per(per_unit, unit))?;
    }
    if !r.endpoints.is_empty() {
        writeln!(out, "  which route leaks:")?;
        out.write_all(super::endpoints::text(&r.endpoints).as_bytes())?;
    }
    if let Some(p) = &r.projection {
        writeln!(out, "  projection: {p}")?;
    }
    super::processes::text(r, out)?;
    crate::threads::text(r, out)?;
    culprit(r, out)?;
    super::patterns::text(r, out)?;
    if let Some(m) = r.mem_lines.last() {
        // The app's own words: its "MB" is kept as it printed it.
        writeln!(
            out,
            "  the app's own [MEM] lines: {} seen, last `{}: {} MB`",
            r.mem_lines.len(),
            m.label,
            m.mb
        )?;
    }
    Ok(())
}

/// A run without a verdict: the evidence after its reason (the statistics reached so far).
fn later_evidence(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    let said = [r.reason.as_ref(), r.target_failed.as_ref()];
    for e in r.evidence.iter().filter(|e| !said.contains(&Some(e))) {
        writeln!(out, "  - {e}")?;
    }
    Ok(())
}

fn warnings(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    for w in &r.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    Ok(())
}

/// ", p50 1.2 ms, p99 8.4 ms" from the engine's summary, when there was one.
fn latency(r: &RunReport) -> String {
    match r.load.as_ref().and_then(|l| l.latency.as_ref()) {
        Some(l) => format!(", p50 {:.1} ms, p99 {:.1} ms", l.p50_ms, l.p99_ms),
        None => String::new(),
    }
}

/// The connection shape when it was not plain keep-alive: about a connection per request
/// (`--no-keepalive`, or `Connection: close`) or requests aborted on purpose (`--abort`).
fn connections(r: &RunReport) -> Option<String> {
    let l = r.load.as_ref()?;
    let per_request = l.connections_opened * 2 > l.total_requests;
    if l.aborted == 0 && !per_request {
        return None;
    }
    let mut s = format!(
        "{} connections opened for {} requests",
        format::thousands(l.connections_opened),
        format::thousands(l.total_requests)
    );
    if l.aborted > 0 {
        s.push_str(&format!(
            "; {} aborted by the client (--abort), not counted as errors",
            format::thousands(l.aborted)
        ));
    }
    Some(s)
}

/// The allocation-sites and culprit sections (nothing when nothing was captured).
fn culprit(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    let row = |out: &mut dyn io::Write, s: &AllocSiteOut| {
        writeln!(
            out,
            "    {:>10} {:>5.1}%  {}  {}",
            format::bytes_u64(s.bytes),
            s.share * 100.0,
            s.function,
            s.location
        )
    };
    // The sentence leads: the line to change, before the evidence it came from.
    if let Some(c) = &r.culprit {
        writeln!(out, "culprit: {}", c.sentence)?;
    }
    if !r.alloc_all.is_empty() || !r.alloc_survivors.is_empty() {
        writeln!(
            out,
            "allocation sites (sampling heap profiler, one sample per {} allocated; bytes charged to the nearest application frame):",
            format::bytes_u64(r.alloc_sampling_interval.unwrap_or(V8_DEFAULT_SAMPLING_INTERVAL))
        )?;
        if !r.alloc_all.is_empty() {
            writeln!(
                out,
                "  all allocations during warm-up, collected garbage included:"
            )?;
            for s in r.alloc_all.iter().take(5) {
                row(out, s)?;
            }
        }
        if !r.alloc_survivors.is_empty() {
            writeln!(
                out,
                "  allocated during the load rounds and still alive after idle and a full GC:"
            )?;
            for s in r.alloc_survivors.iter().take(5) {
                row(out, s)?;
            }
        }
        if !r.alloc_profiles.is_empty() {
            writeln!(
                out,
                "  profiles (Chrome DevTools > Memory > Load): {}",
                r.alloc_profiles.join(", ")
            )?;
        }
    }
    if !r.snapshots.is_empty() || !r.suspects.is_empty() {
        if r.suspects.is_empty() {
            if r.snapshots.len() == 3 {
                writeln!(out, "culprit: the heap snapshots show no significant group of objects allocated during load and still alive")?;
            }
        } else {
            // Three snapshots compared, or the one Node wrote as the heap ran out.
            let how = if r.snapshots.len() == 3 {
                "heap snapshots: allocated between snapshots 1 and 2, alive in 3"
            } else {
                "the heap at death: the largest retainers when the target ran out of memory"
            };
            writeln!(out, "culprit ({how}):")?;
            for s in &r.suspects {
                writeln!(
                    out,
                    "  {}: retaining {} ({:.1}% of the heap)",
                    s.title,
                    format::bytes_u64(s.bytes),
                    s.percent
                )?;
                // An app-first path ends in the holder: say where it is declared.
                let declared = s.source.iter().find(|l| {
                    l.kind == "declared"
                        && s.path.last().is_some_and(|p| {
                            p.split(" (").next().is_some_and(|id| l.code.contains(id))
                        })
                });
                writeln!(
                    out,
                    "    path: {}{}",
                    s.path.join(" > "),
                    declared
                        .map(|l| format!(" at {}", l.location))
                        .unwrap_or_default()
                )?;
                for l in &s.source {
                    writeln!(out, "    {:<8}  {}  {}", l.kind, l.location, l.code)?;
                }
            }
        }
        if !r.snapshots.is_empty() {
            writeln!(out, "  snapshots: {}", r.snapshots.join(", "))?;
        }
    }
    for n in &r.culprit_notes {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

/// What `leakhound run` prints on stdout when it ends: a blank line (the progress lines before
/// it are on stderr), then the [`Text`] of the result.
pub fn print(r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
    writeln!(out)?;
    Text.render(r, out)
}

/// The `leakhound.run/v1` document `--json` writes.
impl Render<RunReport> for Json {
    fn render(&self, r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(r, out)
    }
}

impl Render<RunReport> for Markdown {
    fn render(&self, r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(crate::markdown::render(r).as_bytes())
    }
}

impl Render<RunReport> for Html {
    fn render(&self, r: &RunReport, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(crate::html::render(r).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;
    use crate::run_schema::{LeakKind, MemLineOut, SourceLine, SuspectOut};

    fn culprit_report() -> RunReport {
        RunReport {
            alloc_all: vec![AllocSiteOut {
                function: "getItemAssets".into(),
                location: "examples/leaky-server.js:14".into(),
                bytes: 3 << 20,
                share: 0.6,
                ..Default::default()
            }],
            alloc_survivors: vec![AllocSiteOut {
                function: "processData".into(),
                location: "examples/leaky-server.js:30".into(),
                bytes: 2048,
                share: 0.5,
                ..Default::default()
            }],
            alloc_sampling_interval: Some(32768),
            snapshots: vec!["d/s1".into(), "d/s2".into(), "d/s3".into()],
            suspects: vec![SuspectOut {
                title: "2500 Object objects ..., held by responseCache (Map)".into(),
                bytes: 1 << 20,
                percent: 12.5,
                path: vec![
                    "(GC roots)".into(),
                    "responseCache (Map)".into(),
                    "table".into(),
                ],
                full_path: Vec::new(),
                signature: String::new(),
                source: vec![SourceLine {
                    kind: "grows".into(),
                    location: "server.js:48".into(),
                    code: "responseCache.set(k, v);".into(),
                }],
            }],
            ..Default::default()
        }
    }

    fn culprit_text(r: &RunReport) -> String {
        let mut v = Vec::new();
        culprit(r, &mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    // Moved from the session crate's `culprit::render` with the rendering itself.
    #[test]
    fn render_names_sites_and_the_culprit_path() {
        let t = culprit_text(&culprit_report());
        assert!(t.contains("one sample per 32.0 KiB"), "{t}");
        assert!(
            t.contains("3.0 MiB  60.0%  getItemAssets  examples/leaky-server.js:14"),
            "{t}"
        );
        assert!(
            t.contains("processData  examples/leaky-server.js:30"),
            "{t}"
        );
        assert!(
            t.contains("grows     server.js:48  responseCache.set(k, v);"),
            "{t}"
        );
        assert!(
            t.contains("path: (GC roots) > responseCache (Map) > table"),
            "{t}"
        );
        assert!(t.contains("held by responseCache (Map): retaining 1.0 MiB (12.5% of the heap)"));
        assert_eq!(culprit_text(&RunReport::default()), "");
        // The culprit's sentence comes first.
        let mut r = culprit_report();
        r.culprit = Some(leakhound_schema::culprit::CulpritOut {
            sentence: "X objects grow by 1 KiB/request; the line to change is a.js:3".into(),
            evidence: "snapshots".into(),
            ..Default::default()
        });
        let t = culprit_text(&r);
        assert!(
            t.starts_with(
                "culprit: X objects grow by 1 KiB/request; the line to change is a.js:3\n"
            ),
            "{t}"
        );
        assert!(t.contains("allocation sites"), "{t}");
        let none = RunReport {
            snapshots: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        assert!(culprit_text(&none).contains("no significant group"));
    }

    #[test]
    fn an_app_first_path_ends_in_the_holder_and_where_it_is_declared() {
        let mut r = culprit_report();
        r.suspects[0].path = vec![
            "(Node internals: timers)".into(),
            "request (Function)".into(),
            "responseCache (Map)".into(),
        ];
        r.suspects[0].source.push(SourceLine {
            kind: "declared".into(),
            location: "server.js:22".into(),
            code: "const responseCache = new Map();".into(),
        });
        let t = culprit_text(&r);
        assert!(
            t.contains("path: (Node internals: timers) > request (Function) > responseCache (Map) at server.js:22\n"),
            "{t}"
        );
        // A path that does not end in the declared name gets no location.
        r.suspects[0].path.push("table".into());
        let t = culprit_text(&r);
        assert!(t.contains("responseCache (Map) > table\n"), "{t}");
    }

    #[test]
    fn a_leak_reads_as_before_with_binary_units() {
        let r = RunReport {
            verdict: Verdict::Leak,
            leak_kind: LeakKind::JsHeap,
            evidence: vec!["retained heap grew 38.1 MiB over 40,146 requests".into()],
            requests: 40146,
            duration_s: 21.25,
            requests_per_second: 1890.0,
            heap_limit_bytes: 128 << 20,
            retained_bytes_per_request: 995.0,
            projection: Some("at 1890 req/s a 2.0 GiB heap fills in about 18.3 min".into()),
            load: Some(leakhound_schema::load::LoadSummary {
                schema: leakhound_schema::load::SCHEMA.into(),
                target: "127.0.0.1:3000".into(),
                endpoints: vec!["GET /api".into()],
                connections: 50,
                rate: None,
                rounds: 8,
                total_requests: 40146,
                successful: 40146,
                failed: 0,
                aborted: 0,
                connections_opened: 400,
                total_time_s: 21.25,
                requests_per_sec: 1890.0,
                latency: Some(leakhound_schema::load::Latency {
                    min_ms: 0.2,
                    avg_ms: 1.9,
                    max_ms: 30.0,
                    p50_ms: 1.25,
                    p90_ms: 4.0,
                    p99_ms: 8.4,
                    p999_ms: 20.0,
                }),
                status_codes: Default::default(),
                status_classes: Default::default(),
                errors: Default::default(),
                bytes_received: 0,
                completed_after_deadline: 0,
                first_failures: vec![],
            }),
            mem_lines: vec![MemLineOut {
                label: "processData END".into(),
                mb: 85.0,
            }],
            ..culprit_report()
        };
        let t = to_string(&Text, &r);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "verdict: LEAK (js-heap)");
        assert_eq!(
            lines[1],
            "  - retained heap grew 38.1 MiB over 40,146 requests"
        );
        assert_eq!(
            lines[2],
            "  40,146 requests in 21.2 s (1890 req/s under load, p50 1.2 ms, p99 8.4 ms), 0 HTTP \
             errors, 0 transport errors; heap limit 128 MiB"
        );
        assert_eq!(lines[3], "  retained: 995 B/request");
        assert!(t.contains("culprit (heap snapshots"));
        assert!(t.ends_with("the app's own [MEM] lines: 1 seen, last `processData END: 85 MB`\n"));
    }

    #[test]
    fn the_connection_shape_is_told_when_it_is_not_keep_alive() {
        let with = |opened: u64, aborted: u64| {
            let r = RunReport {
                load: Some(leakhound_schema::load::LoadSummary {
                    total_requests: 2_000,
                    connections_opened: opened,
                    aborted,
                    ..serde_json::from_str(
                        r#"{"schema":"leakhound.load/v1","target":"t",
                        "endpoints":[],"connections":16,"rate":null,"rounds":4,"total_requests":0,
                        "successful":0,"failed":0,"total_time_s":1.0,"requests_per_sec":1.0,
                        "latency":null,"status_codes":{},"status_classes":{},"errors":{},
                        "bytes_received":0,"completed_after_deadline":0,"first_failures":[]}"#,
                    )
                    .unwrap()
                }),
                ..Default::default()
            };
            to_string(&Text, &r)
        };
        assert!(
            !with(64, 0).contains("connections opened"),
            "{}",
            with(64, 0)
        );
        assert!(with(2_000, 0).contains("  2,000 connections opened for 2,000 requests\n"));
        assert!(with(164, 100).contains(
            "  164 connections opened for 2,000 requests; 100 aborted by the client (--abort), not counted as errors\n"
        ));
    }

    #[test]
    fn failed_interrupted_and_inconclusive_runs_say_so() {
        let failed = RunReport {
            verdict: Verdict::TargetFailed,
            target_failed: Some("exited with code 4 before listening".into()),
            target_stderr_tail: (0..20).map(|i| format!("line {i}")).collect(),
            ..Default::default()
        };
        let t = to_string(&Text, &failed);
        assert!(t.starts_with("TARGET FAILED: exited with code 4 before listening\n"));
        assert!(
            t.contains("  line 19\n") && !t.contains("  line 4\n"),
            "{t}"
        );
        let interrupted = RunReport {
            verdict: Verdict::Interrupted,
            reason: Some("interrupted by Ctrl-C after 3 load rounds".into()),
            ..Default::default()
        };
        assert_eq!(
            to_string(&Text, &interrupted),
            "INTERRUPTED: no verdict\n  - interrupted by Ctrl-C after 3 load rounds\n"
        );
        let inconclusive = RunReport {
            verdict: Verdict::Inconclusive,
            reason: Some("too few load rounds (2): raise --max-duration".into()),
            warnings: vec!["12 of 5,000 responses were 500".into()],
            ..Default::default()
        };
        let t = to_string(&Text, &inconclusive);
        assert!(t.starts_with(
            "verdict: INCONCLUSIVE\n  - too few load rounds (2): raise --max-duration\n  warning: 12 of 5,000 responses were 500\n"
        ), "{t}");
    }

    #[test]
    fn json_round_trips_and_a_closed_pipe_is_an_error() {
        let r = culprit_report();
        let j = to_string(&Json, &r);
        assert!(j.ends_with("}\n"));
        let back: RunReport = serde_json::from_str(&j).unwrap();
        assert_eq!(back, r);
        struct Closed;
        impl io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        for res in [
            Text.render(&r, &mut Closed),
            Json.render(&r, &mut Closed),
            Markdown.render(&r, &mut Closed),
            Html.render(&r, &mut Closed),
        ] {
            assert_eq!(res.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        }
    }
}
