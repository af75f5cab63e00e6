//! Which route leaks (issue 11): with a config of several endpoints and no `--endpoint`, `run`
//! varies the mix between rounds and attributes retained memory to each endpoint.
mod common;

use std::process::Command;

use common::{repo_root, run_json, serial};

fn server(name: &str) -> String {
    repo_root()
        .join("crates/leakhound/tests/servers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// What `new Array(n).fill(i)` kept in a list retains per push, measured by node itself after
/// forced full GCs: the truth the attribution is checked against.
fn truth(n: usize) -> f64 {
    let js = format!(
        "const k=[];const g=()=>{{gc();gc();return process.memoryUsage().heapUsed}};\
         for(let i=0;i<20000;i++)k.push(new Array({n}).fill(i));const a=g();\
         for(let i=0;i<100000;i++)k.push(new Array({n}).fill(i));console.log((g()-a)/1e5)"
    );
    let out = Command::new("node")
        .args(["--expose-gc", "-e", &js])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn run(leaks: &str, extra: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let cfg = server("eight-routes.toml");
    let mut args = vec!["--config", &cfg, "--max-duration", "45s"];
    args.extend_from_slice(extra);
    let js = server("eight-routes.js");
    args.extend_from_slice(&["--", "node", &js]);
    run_json(&args, &[("LEAKS", leaks)])
}

fn endpoint<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {name} in {}", v["endpoints"]))
}

#[test]
fn one_leaking_route_of_eight_is_named_with_its_bytes_per_request() {
    let _s = serial();
    let want = truth(30);
    let (code, v, text) = run("/orders:30", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{text}");
    let eps = v["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 8, "{text}");
    assert_eq!(eps[0]["name"], "orders", "leaks first: {text}");
    let orders = endpoint(&v, "orders");
    assert_eq!(orders["verdict"], "leak", "{text}");
    assert_eq!(
        (orders["method"].as_str(), orders["path"].as_str()),
        (Some("POST"), Some("/orders"))
    );
    let bpr = orders["retained_bytes_per_request"].as_f64().unwrap();
    assert!(
        (bpr - want).abs() <= 0.25 * want,
        "orders: {bpr:.0} B/request, truth {want:.0}: {text}"
    );
    assert!(
        orders["ci_low"].as_f64().unwrap() <= bpr && bpr <= orders["ci_high"].as_f64().unwrap()
    );
    assert!(orders["requests"].as_u64().unwrap() > 1000, "{text}");
    // The seven others, the heavy allocator among them, are not called leaks.
    for e in eps.iter().filter(|e| e["name"] != "orders") {
        assert_ne!(e["verdict"], "leak", "{}: {text}", e["name"]);
    }
    assert!(
        text.contains("which route leaks:") && text.contains("retained/request [95% CI]"),
        "{text}"
    );
    eprintln!(
        "orders: {bpr:.0} B/request measured, {want:.0} B/request truth; run took {}s",
        v["duration_s"]
    );
}

#[test]
fn two_leaking_routes_are_both_named_and_ranked() {
    let _s = serial();
    let (big, small) = (truth(60), truth(15));
    let (code, v, text) = run("/orders:60,/cart:15", &[]);
    assert_eq!(code, Some(1), "{text}");
    let eps = v["endpoints"].as_array().unwrap();
    assert_eq!(
        (eps[0]["name"].as_str(), eps[1]["name"].as_str()),
        (Some("orders"), Some("cart")),
        "{text}"
    );
    assert_eq!(
        (eps[0]["verdict"].as_str(), eps[1]["verdict"].as_str()),
        (Some("leak"), Some("leak")),
        "{text}"
    );
    for e in &eps[2..] {
        assert_ne!(e["verdict"], "leak", "{}: {text}", e["name"]);
    }
    eprintln!(
        "orders {:.0} (truth {big:.0}), cart {:.0} (truth {small:.0}) B/request",
        eps[0]["retained_bytes_per_request"].as_f64().unwrap(),
        eps[1]["retained_bytes_per_request"].as_f64().unwrap()
    );
}

#[test]
fn naming_one_endpoint_drives_it_alone() {
    let _s = serial();
    let (code, v, text) = run("/orders:30", &["--endpoint", "orders"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        v["endpoints"].as_array().is_none_or(|e| e.is_empty()),
        "{text}"
    );
    assert_eq!(
        v["load"]["endpoints"],
        serde_json::json!(["orders"]),
        "{text}"
    );
}
