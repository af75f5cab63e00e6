//! Scale of `leakhound fleet`: 1,000 instances × 6 h at 30 s steps (721 points each), as two
//! generated `query_range` responses in Prometheus' own JSON shape (the heap and the start
//! times), parsed and judged as `fleet` does after its two requests. Prints the time of
//! parse + analysis, best of 5, and checks the verdicts against how the data was generated
//! (10 % leak 20 MiB/hour, 5 % grow 200 MiB/hour and restart at 1.5 GiB, the rest are a flat
//! sawtooth with noise).
//!
//! Run: `cargo bench -p leakhound-fleet --bench fleet_scale`
//! Size: `LEAKHOUND_FLEET_INSTANCES=1000` (default), `LEAKHOUND_FLEET_POINTS=721` (default).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use leakhound_fleet::{analyse, prom::parse_matrix};
use leakhound_schema::Verdict;

const MIB: f64 = 1024.0 * 1024.0;

/// A small deterministic generator (xorshift), so every run judges the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Healthy,
    Leak,
    CrashLoop,
}

fn kind(i: usize) -> Kind {
    match i % 20 {
        0 | 1 => Kind::Leak,
        2 => Kind::CrashLoop,
        _ => Kind::Healthy,
    }
}

fn generate(instances: usize, points: usize) -> (String, String) {
    let t0 = 1_700_000_000.0;
    let mut heap = String::with_capacity(instances * points * 28);
    let mut starts = String::with_capacity(instances * points * 26);
    heap.push_str(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    starts.push_str(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..instances {
        let sep = if i == 0 { "" } else { "," };
        let labels = format!(
            r#"{{"instance":"10.0.{}.{}:9100","job":"api-{}"}}"#,
            i / 250,
            i % 250,
            i % 7
        );
        let _ = write!(heap, r#"{sep}{{"metric":{labels},"values":["#);
        let _ = write!(starts, r#"{sep}{{"metric":{labels},"values":["#);
        let base = (80.0 + 400.0 * rng.next()) * MIB;
        let period = 3 + (rng.next() * 6.0) as usize;
        let mut started = t0 - 86_400.0;
        let mut since = 0.0;
        let mut level = base;
        for k in 0..points {
            let t = t0 + 30.0 * k as f64;
            since += 30.0;
            let floor = match kind(i) {
                Kind::Healthy => base,
                // 20 MiB/hour.
                Kind::Leak => base + 20.0 * MIB * (k as f64 * 30.0 / 3600.0),
                // 200 MiB/hour until 1.5 GiB, then a restart.
                Kind::CrashLoop => {
                    level = base + 200.0 * MIB * since / 3600.0;
                    if level > 1536.0 * MIB {
                        started = t;
                        since = 0.0;
                        level = base;
                    }
                    level
                }
            };
            let tooth = (k % period) as f64 / period as f64 * 60.0 * MIB;
            let v = (floor + tooth + rng.next() * 2.0 * MIB).round();
            let c = if k == 0 { "" } else { "," };
            let _ = write!(heap, r#"{c}[{t},"{v}"]"#);
            let _ = write!(starts, r#"{c}[{t},"{started}"]"#);
        }
        let _ = level;
        heap.push_str("]}");
        starts.push_str("]}");
    }
    heap.push_str("]}}");
    starts.push_str("]}}");
    (heap, starts)
}

fn main() {
    let instances: usize = std::env::var("LEAKHOUND_FLEET_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let points: usize = std::env::var("LEAKHOUND_FLEET_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(721);
    let (heap, starts) = generate(instances, points);
    println!(
        "{instances} instances × {points} points: responses of {:.1} MB (heap) + {:.1} MB (start times)",
        heap.len() as f64 / 1e6,
        starts.len() as f64 / 1e6
    );
    let mut best = (f64::INFINITY, 0.0, 0.0);
    let mut report = None;
    for _ in 0..5 {
        let t = Instant::now();
        let h = parse_matrix(heap.as_bytes()).unwrap();
        let s = parse_matrix(starts.as_bytes()).unwrap();
        let parsed = t.elapsed().as_secs_f64();
        let r = analyse(&h, &s, &HashMap::new(), None);
        let total = t.elapsed().as_secs_f64();
        if total < best.0 {
            best = (total, parsed, total - parsed);
        }
        report = Some(r);
    }
    let r = report.unwrap();
    let mut wrong = 0;
    for inst in &r.instances {
        let i: usize = {
            let mut it = inst.instance.trim_start_matches("10.0.").split(['.', ':']);
            let a: usize = it.next().unwrap().parse().unwrap();
            let b: usize = it.next().unwrap().parse().unwrap();
            a * 250 + b
        };
        let want = if kind(i) == Kind::Healthy {
            Verdict::NoLeak
        } else {
            Verdict::Leak
        };
        if inst.verdict != want {
            wrong += 1;
        }
    }
    let leaks = r
        .instances
        .iter()
        .filter(|i| i.verdict == Verdict::Leak)
        .count();
    println!(
        "parse + analysis: {:.3} s (parse {:.3} s, analysis {:.3} s), best of 5; {leaks} leaks, {wrong} verdicts differ from the generated truth",
        best.0, best.1, best.2
    );
    assert_eq!(wrong, 0, "verdicts differ from the generated data");
    assert!(best.0 < 5.0, "over the 5 s goal: {:.3} s", best.0);
}
