//! State before the load (issue 11): `[[setup]]` steps log in and capture a token or a cookie
//! for the load's requests, in `load` and in `run`; a failed step is a failed target (exit 4)
//! naming the step; a route behind a login driven without one is never a confident "no leak";
//! and `--openapi` / `--har` drive the same service to the same leak.
mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{leakhound, repo_root, run_json, serial, NodeServer};

fn server() -> PathBuf {
    repo_root().join("crates/leakhound/tests/servers/auth-service.js")
}

fn spec() -> PathBuf {
    repo_root().join("crates/leakhound/tests/servers/auth-service.openapi.yaml")
}

const LOGIN: &str = r#"
[[setup]]
name = "login"
method = "POST"
path = "/login"
headers = { "Content-Type" = "application/json" }
body = '{"user":"user{{seq}}"}'
capture = { token = "json:/access_token" }
"#;

const ITEMS: &str = r#"
[endpoints.items]
path = "/items"
headers = { Authorization = "Bearer {{token}}" }
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// `leakhound load ARGS`: exit code and stdout + stderr.
fn load(args: &[&str]) -> (Option<i32>, String) {
    let out = leakhound()
        .arg("load")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// A bounded `run` of the auth service.
fn run(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let node = server();
    let mut all = vec!["--max-duration", "45s", "--idle", "500ms"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--", "node", node.to_str().unwrap()]);
    run_json(&all, &[])
}

fn assert_leak(code: Option<i32>, v: &serde_json::Value, text: &str) {
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(v["verdict"], "leak", "{v}");
    // The load was served: the setup made the requests succeed.
    assert_eq!(v["http_errors"], 0, "{v}");
    assert!(v["requests"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn load_with_a_setup_step_gets_2xx() {
    let _l = serial();
    let s = NodeServer::start(&server(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let target = format!("[target]\nport = {}\n", s.port);
    let cfg = write(dir.path(), "c.toml", &format!("{target}{LOGIN}{ITEMS}"));
    let (code, text) = load(&["--config", &cfg, "-n", "100", "-c", "4"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Status codes: 200: 100"), "{text}");
    // A config of only the setup step, the route and its header on the command line.
    let only = write(dir.path(), "login.toml", LOGIN);
    let items = s.url("/items");
    let (code, text) = load(&[
        "--config",
        &only,
        "-H",
        "Authorization: Bearer {{token}}",
        "-n",
        "50",
        "-c",
        "2",
        &items,
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Status codes: 200: 50"), "{text}");
    // The same endpoint without the setup step: every request is refused.
    let bare = format!("{target}[endpoints.items]\npath = \"/items\"\n");
    let cfg = write(dir.path(), "bare.toml", &bare);
    let (code, text) = load(&["--config", &cfg, "-n", "20", "-c", "2"]);
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("401: 20"), "{text}");
}

/// The logins the service has seen (GET /stats).
fn logins(s: &NodeServer) -> u64 {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    c.read_to_string(&mut text).unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{text}"));
    v["logins"].as_u64().unwrap()
}

#[test]
fn setup_runs_once_per_connection_or_once_per_run() {
    let _l = serial();
    let s = NodeServer::start(&server(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let target = format!("[target]\nport = {}\n", s.port);
    let cfg = write(dir.path(), "c.toml", &format!("{target}{LOGIN}{ITEMS}"));
    let (code, text) = load(&["--config", &cfg, "-n", "200", "-c", "4"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(logins(&s), 4, "one login per connection");
    // A new connection per request: one login for the run, shared.
    let (code, text) = load(&["--config", &cfg, "-n", "40", "-c", "4", "--no-keepalive"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Status codes: 200: 40"), "{text}");
    assert_eq!(logins(&s), 5, "--no-keepalive logs in once per run");
    // scope = "connection" keeps one user per connection slot even then.
    let per_conn = LOGIN.replace("capture =", "scope = \"connection\"\ncapture =");
    let cfg = write(dir.path(), "p.toml", &format!("{target}{per_conn}{ITEMS}"));
    let (code, text) = load(&["--config", &cfg, "-n", "40", "-c", "4", "--no-keepalive"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(logins(&s), 9);
}

#[test]
fn a_failed_setup_step_is_exit_4_with_the_step_status_and_body() {
    let _l = serial();
    let s = NodeServer::start(&server(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let bad = LOGIN.replace(r#"'{"user":"user{{seq}}"}'"#, "'{}'");
    let cfg = write(
        dir.path(),
        "c.toml",
        &format!("[target]\nport = {}\n{bad}{ITEMS}", s.port),
    );
    let (code, text) = load(&["--config", &cfg, "-n", "50", "-c", "2"]);
    assert_eq!(code, Some(4), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("setup step"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(r#"setup step "login" (POST /login) failed: HTTP 400"#)
            && line.contains("user required"),
        "{line}"
    );
    // A capture that is not there.
    let missing = LOGIN.replace("json:/access_token", "json:/token");
    let cfg = write(
        dir.path(),
        "m.toml",
        &format!("[target]\nport = {}\n{missing}{ITEMS}", s.port),
    );
    let (code, text) = load(&["--config", &cfg, "-n", "50"]);
    assert_eq!(code, Some(4), "{text}");
    assert!(
        text.contains("capture `token` (json:/token) not found in the response (HTTP 200)")
            && text.contains("access_token"),
        "{text}"
    );
    drop(s);
    // In `run`, the same step failing is a failed target naming it.
    let cfg = write(dir.path(), "r.toml", &format!("{bad}{ITEMS}"));
    let t0 = Instant::now();
    let (code, v, text) = run(&["--config", &cfg]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(r#"setup step "login" (POST /login) failed: HTTP 400"#),
        "{reason}"
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
}

#[test]
fn a_setup_step_finds_the_leak_behind_the_login() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", &format!("{LOGIN}{ITEMS}"));
    let (code, v, text) = run(&["--config", &cfg]);
    assert_leak(code, &v, &text);
}

#[test]
fn the_route_without_its_login_is_not_a_confident_no_leak() {
    let _l = serial();
    let (code, v, text) = run(&["--path", "/items"]);
    assert_eq!(code, Some(4), "{text}");
    assert_eq!(v["verdict"], "target-failed", "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("every response was 401: the route needs auth"),
        "{reason}"
    );
    assert!(!text.contains("NO LEAK"), "{text}");
}

#[test]
fn a_cookie_jar_keeps_each_connections_session() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let login = LOGIN.replace("capture = { token = \"json:/access_token\" }\n", "");
    let cart = "[endpoints.cart]\npath = \"/cart\"\n";
    let cfg = write(
        dir.path(),
        "c.toml",
        &format!("cookies = \"jar\"\n{login}{cart}"),
    );
    let (code, v, text) = run(&["--config", &cfg]);
    assert_leak(code, &v, &text);
    // `fresh` sends no cookie: the same route refuses every request.
    let s = NodeServer::start(&server(), &[]);
    let fresh = format!(
        "cookies = \"fresh\"\n[target]\nport = {}\n{login}{cart}",
        s.port
    );
    let cfg = write(dir.path(), "f.toml", &fresh);
    let (code, text) = load(&["--config", &cfg, "-n", "20", "-c", "2"]);
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("401: 20"), "{text}");
}

/// The run attributed the leak to the one leaking route `name` (GET /items), listed first,
/// and called none of the others a leak.
fn assert_attributed(v: &serde_json::Value, name: &str, text: &str) {
    let eps = v["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("no endpoints[]: {text}"));
    assert!(eps.len() >= 3, "{:#}", v["endpoints"]);
    assert_eq!(eps[0]["name"], name, "{:#}\n{text}", v["endpoints"]);
    assert_eq!(eps[0]["verdict"], "leak", "{:#}\n{text}", v["endpoints"]);
    for e in &eps[1..] {
        assert_ne!(e["verdict"], "leak", "{:#}\n{text}", v["endpoints"]);
    }
}

#[test]
fn an_openapi_spec_drives_the_run_to_the_leak() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "setup.toml", LOGIN);
    let spec = spec();
    let (code, v, text) = run(&[
        "--openapi",
        spec.to_str().unwrap(),
        "--config",
        &cfg,
        "-H",
        "Authorization: Bearer {{token}}",
    ]);
    assert!(
        text.contains("driving endpoints `health`, `listItems`, `getItem`, `login`"),
        "{text}"
    );
    assert_leak(code, &v, &text);
    assert_attributed(&v, "listItems", &text);
}

/// A HAR of a session with the service: a login, the item list (its leak), two items.
fn har(dir: &Path) -> String {
    let entry = |method: &str, path: &str, body: Option<&str>| {
        let mut req = serde_json::json!({
            "method": method,
            "url": format!("https://shop.example.com{path}"),
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Host", "value": "shop.example.com"},
                {"name": "Authorization", "value": "Bearer expired"},
                {"name": "Accept", "value": "application/json"}
            ],
            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1
        });
        if let Some(b) = body {
            req["postData"] = serde_json::json!({"mimeType": "application/json", "text": b});
        }
        serde_json::json!({
            "startedDateTime": "2024-05-01T10:00:00.000Z", "time": 12.5, "request": req,
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                "headers": [], "cookies": [], "content": {"size": 2, "mimeType": "application/json"},
                "redirectURL": "", "headersSize": -1, "bodySize": 2},
            "cache": {}, "timings": {"send": 0, "wait": 12, "receive": 0.5}
        })
    };
    let entries = vec![
        entry("POST", "/login", Some(r#"{"user":"alice"}"#)),
        entry("GET", "/items?page=1", None),
        entry("GET", "/items/17", None),
        entry("GET", "/items?page=2", None),
        entry("GET", "/items/42", None),
        entry("GET", "/items?page=3", None),
    ];
    let doc = serde_json::json!({"log": {"version": "1.2",
        "creator": {"name": "test", "version": "1"}, "entries": entries}});
    write(dir, "session.har", &doc.to_string())
}

#[test]
fn a_har_recording_drives_the_run_to_the_leak() {
    let _l = serial();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "setup.toml", LOGIN);
    let har = har(dir.path());
    let (code, v, text) = run(&[
        "--har",
        &har,
        "--har-template-ids",
        "--config",
        &cfg,
        "-H",
        "Authorization: Bearer {{token}}",
    ]);
    assert!(
        text.contains("driving endpoints `POST /login`, `GET /items`, `GET /items/{{seq}}`"),
        "{text}"
    );
    assert_leak(code, &v, &text);
    assert_attributed(&v, "GET /items", &text);
}

#[test]
fn a_bad_spec_or_an_empty_har_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.yaml", "openapi: 3.0.0\npaths: [1\n");
    let (code, text) = load(&["--openapi", &bad, "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    assert!(
        text.contains(&format!("OpenAPI spec {bad}: line 3 column 1:")),
        "{text}"
    );
    let nobody = write(
        dir.path(),
        "nobody.yaml",
        "openapi: 3.1.0\npaths:\n  /up:\n    post:\n      requestBody:\n        required: true\n        content:\n          image/png: {schema: {type: string, format: binary}}\n",
    );
    let (code, text) = load(&["--openapi", &nobody, "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("paths./up.post.requestBody.content.image/png: cannot generate"),
        "{text}"
    );
    let empty = write(dir.path(), "e.har", r#"{"log":{"entries":[]}}"#);
    let (code, text) = load(&["--har", &empty, "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    assert!(
        text.contains(&format!("HAR {empty}: no HTTP entries")),
        "{text}"
    );
    // A config that gives endpoints too is refused.
    let cfg = write(dir.path(), "c.toml", &format!("{LOGIN}{ITEMS}"));
    let (code, text) = load(&["--har", &empty, "--config", &cfg, "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2), "{text}");
}
