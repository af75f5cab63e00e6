//! Each pattern of the table on the evidence its real package left in a run (paths and
//! classes as leakhound printed them on the servers in `tests/servers/culprit/pkgs`).

use super::*;
use crate::evidence::{AllocStack, Frame, SourceFile};
use leakhound_schema::evidence::SourceLine;

fn steps(s: &str) -> Vec<String> {
    s.split(" > ").map(str::to_string).collect()
}

fn suspect(title: &str, path: &str, bytes: u64) -> Suspect {
    Suspect {
        path: steps(path),
        bytes,
        ..Suspect::from_title(title)
    }
}

fn frame(function: &str, url: &str, line: u32) -> Frame {
    Frame {
        function: function.into(),
        url: url.into(),
        line,
    }
}

fn stack(bytes: u64, frames: &[(&str, &str, u32)]) -> AllocStack {
    AllocStack {
        bytes,
        frames: frames.iter().map(|(f, u, l)| frame(f, u, *l)).collect(),
    }
}

fn source(name: &str, text: &str) -> Vec<SourceFile> {
    vec![SourceFile {
        name: name.into(),
        text: text.into(),
    }]
}

fn ids(out: &[LibraryPatternOut]) -> Vec<&str> {
    out.iter().map(|o| o.id.as_str()).collect()
}

fn loc(o: &LibraryPatternOut) -> &str {
    o.app_line
        .as_ref()
        .map(|l| l.location.as_str())
        .unwrap_or("-")
}

#[test]
fn express_session_memory_store_on_its_sessions_object() {
    let ev = Evidence {
        suspects: vec![suspect(
            "20132 (string) objects allocated during the load rounds still alive after idle, held by sessions (Object)",
            "global /  > clearImmediate (Function) > _router (Function) > stack (Array) > [2] (Layer) > handle (Function) > context (system / Context) > store (MemoryStore) > sessions (Object) > properties > (array) > (string)",
            944 << 10,
        )],
        sources: source(
            "app.js",
            "const session = require('express-session');\n// session( in a comment\napp.use(session({ secret: 's', saveUninitialized: true }));\n",
        ),
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["express-session-memory-store"]);
    assert_eq!(loc(&out[0]), "app.js:3");
    assert_eq!(out[0].suspect, Some(0));
    assert!(
        out[0].evidence[0].contains("store (MemoryStore) > sessions (Object)"),
        "{:?}",
        out[0].evidence
    );
}

#[test]
fn prom_client_labels_name_the_metric_and_the_label() {
    let ev = Evidence {
        suspects: vec![
            suspect(
                "31753 {labels, bucketValues} objects allocated during the load rounds still alive after idle, held by hashMap (Object)",
                "global /  > _process (process) > mainModule (Module) > exports (Object) > register (Registry) > _metrics (Object) > http_request_duration_seconds (Histogram) > hashMap (Object) > method:GET,path:/orders/8896, ({labels, bucketValues})",
                12 << 20,
            ),
            suspect(
                "31753 {labels} objects allocated during the load rounds still alive after idle, held by hashMap (Object)",
                "register (Registry) > _metrics (Object) > http_requests_total (Counter) > hashMap (Object) > method:GET,path:/orders/9067, ({labels})",
                2 << 20,
            ),
        ],
        stacks: vec![stack(
            20 << 20,
            &[("handle", "app.js", 3), ("inc", "node_modules/prom-client/lib/counter.js", 40)],
        )],
        sources: source("app.js", "const c = new Counter({});\n\nfunction handle(req, res) {\n  const path = req.url;\n  c.inc({ path });\n}\n"),
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["prom-client-unbounded-labels"]);
    let o = &out[0];
    assert_eq!(loc(o), "app.js:5");
    assert_eq!(o.app_line.as_ref().unwrap().code, "c.inc({ path });");
    for fact in [
        "metric `http_request_duration_seconds` (Histogram)",
        "metric `http_requests_total` (Counter)",
    ] {
        assert!(
            o.evidence.iter().any(|e| e == fact),
            "{fact}: {:?}",
            o.evidence
        );
    }
    assert!(
        o.evidence
            .iter()
            .any(|e| e.starts_with("label `path` has unbounded values")),
        "{:?}",
        o.evidence
    );
    assert!(
        o.evidence
            .iter()
            .any(|e| e.contains("called from handle app.js:3")),
        "{:?}",
        o.evidence
    );
}

const WINSTON_PATH: &str = "global /  > queueMicrotask (Function) > context (system / Context) > process (process) > _events (Object) > uncaughtException (Array) > [2195] (Function) > bound_this (ExceptionHandler) > logger (DerivedLogger)";

fn winston(stderr: Vec<String>) -> Vec<LibraryPatternOut> {
    let mut logger = suspect(
        "7600 DerivedLogger objects allocated during the load rounds still alive after idle, held by uncaughtException (Array)",
        WINSTON_PATH,
        64 << 20,
    );
    logger.full_path = logger.path.clone();
    let ev = Evidence {
        suspects: vec![logger],
        stderr,
        sources: source("app.js", "function handle(req, res) {\n  const logger = winston.createLogger({ transports });\n}\n"),
        ..Evidence::default()
    };
    match_patterns(&ev)
}

#[test]
fn winston_logger_per_request_explains_the_process_listeners() {
    let out = winston(Vec::new());
    // The listeners on `process` are winston's: the generic EventEmitter pattern says less.
    assert_eq!(ids(&out), ["winston-logger-per-request"]);
    assert_eq!(loc(&out[0]), "app.js:2");
    // Node's own warning keeps the EventEmitter pattern, after winston's.
    let w = "(node:7) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 uncaughtException listeners added to [process]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit";
    let out = winston(vec![w.to_string()]);
    assert_eq!(
        ids(&out),
        ["winston-logger-per-request", "event-emitter-listeners"]
    );
    assert!(
        out[1]
            .evidence
            .iter()
            .any(|e| e == "Node warned: 11 `uncaughtException` listeners on a `process` emitter"),
        "{:?}",
        out[1].evidence
    );
}

#[test]
fn axios_interceptors_added_per_request() {
    let ev = Evidence {
        suspects: vec![suspect(
            "36136 {fulfilled, rejected, synchronous, runWhen} objects allocated during the load rounds still alive after idle, held by handlers (Array)",
            "global /  > mainModule (Module) > children (Array) > [0] (Module) > exports (Function) > interceptors (Object) > request (InterceptorManager) > handlers (Array) > [9999] ({fulfilled, rejected, synchronous, runWhen})",
            15 << 20,
        )],
        stacks: vec![stack(
            15 << 20,
            &[("handle", "app.js", 1), ("use", "node_modules/axios/dist/node/axios.cjs", 1460)],
        )],
        sources: source("app.js", "function handle(req, res) {\n  const t = {};\n  axios.interceptors.request.use((c) => c);\n}\n"),
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["http-client-interceptors-per-request"]);
    assert_eq!(loc(&out[0]), "app.js:3");
    // got's hooks on a shared instance.
    let got = Evidence {
        suspects: vec![suspect(
            "900 Function objects allocated, held by beforeRequest (Array)",
            "client (Function) > defaults (Object) > options (Options) > hooks (Object) > beforeRequest (Array)",
            1 << 20,
        )],
        ..Evidence::default()
    };
    assert_eq!(
        ids(&match_patterns(&got)),
        ["http-client-interceptors-per-request"]
    );
}

#[test]
fn dataloader_at_module_scope_with_and_without_snapshots() {
    let text = "const DataLoader = require('dataloader');\nconst userLoader = new DataLoader(batch);\nfunction handle(req, res) {\n  userLoader.load(id).then(send);\n}\n";
    let mut s = suspect(
        "26347 Promise objects allocated during the load rounds still alive after idle, held by _cacheMap (Map)",
        "(Node internals: timers, http, events) > request (Function) > userLoader (DataLoader) > _cacheMap (Map)",
        9 << 20,
    );
    s.source = vec![SourceLine {
        kind: "grows".into(),
        location: "app.js:4".into(),
        code: "userLoader.load(id).then(send);".into(),
    }];
    let with = Evidence {
        suspects: vec![s],
        sources: source("app.js", text),
        ..Evidence::default()
    };
    let out = match_patterns(&with);
    assert_eq!(ids(&out), ["dataloader-module-scope"]);
    assert_eq!(loc(&out[0]), "app.js:2");
    // Without snapshots: the promises are made inside dataloader, below `handle`.
    let without = Evidence {
        stacks: vec![
            stack(
                2 << 20,
                &[
                    ("handle", "app.js", 3),
                    ("load", "node_modules/dataloader/index.js", 60),
                ],
            ),
            stack(9 << 20, &[("batch", "app.js", 9)]),
        ],
        sources: source("app.js", text),
        ..Evidence::default()
    };
    let out = match_patterns(&without);
    assert_eq!(ids(&out), ["dataloader-module-scope"]);
    assert_eq!(loc(&out[0]), "app.js:2");
    assert_eq!(out[0].suspect, None);
    // lodash's memoize at module scope.
    let memo = Evidence {
        suspects: vec![suspect(
            "5000 Object objects, held by __data__ (Object)",
            "lookup (Function) > cache (MapCache) > __data__ (Object)",
            1 << 20,
        )],
        ..Evidence::default()
    };
    assert_eq!(ids(&match_patterns(&memo)), ["dataloader-module-scope"]);
}

#[test]
fn node_cache_without_ttl() {
    let ev = Evidence {
        suspects: vec![suspect(
            "31163 {v} objects allocated during the load rounds still alive after idle, held by data (Object)",
            "(Node internals: timers, http, events) > request (Function) > cache (NodeCache) > data (Object)",
            10 << 20,
        )],
        sources: source("app.js", "const cache = new NodeCache({ stdTTL: 0 });\nfunction h() { cache.set(k, v); }\n"),
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["node-cache-no-ttl"]);
    assert_eq!(loc(&out[0]), "app.js:1");
}

#[test]
fn event_emitter_listeners_with_nodes_warning() {
    let w = "(node:9) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 config:reload listeners added to [Bus]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit";
    let mut s = suspect(
        "9000 Function objects allocated during the load rounds still alive after idle, held by config:reload (Array)",
        "(Node internals: timers, http, events) > request (Function) > bus (Bus) > _events (Object) > config:reload (Array)",
        3 << 20,
    );
    s.source = vec![SourceLine {
        kind: "grows".into(),
        location: "app.js:7".into(),
        code: "bus.on('config:reload', () => {".into(),
    }];
    let ev = Evidence {
        suspects: vec![s],
        stderr: vec![w.into()],
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["event-emitter-listeners"]);
    assert_eq!(loc(&out[0]), "app.js:7");
    assert!(out[0].evidence.iter().any(|e| e == &format!("stderr: {w}")));
    assert!(
        out[0]
            .evidence
            .iter()
            .any(|e| e == "listeners of `config:reload` grow on `bus` (Bus)"),
        "{:?}",
        out[0].evidence
    );
    // The warning alone (no snapshots) is enough.
    let alone = Evidence {
        stderr: vec![w.into()],
        ..Evidence::default()
    };
    let out = match_patterns(&alone);
    assert_eq!(ids(&out), ["event-emitter-listeners"]);
    assert!(out[0]
        .evidence
        .iter()
        .any(|e| e == "Node warned: 11 `config:reload` listeners on a `Bus` emitter"));
}

#[test]
fn timers_never_cleared() {
    let ev = Evidence {
        suspects: vec![suspect(
            "4000 Timeout objects allocated during the load rounds still alive after idle, held by _idleNext (Timeout)",
            "timerListMap (Object) > [1000] (TimersList) > _idleNext (Timeout)",
            1 << 20,
        )],
        stacks: vec![stack(1 << 20, &[("handle", "app.js", 1), ("setInterval", "node:timers", 200)])],
        sources: source("app.js", "function handle(req, res) {\n  setInterval(() => poll(req), 1000);\n}\n"),
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["timers-never-cleared"]);
    assert_eq!(loc(&out[0]), "app.js:2");
}

#[test]
fn async_context_growth() {
    let ev = Evidence {
        stacks: vec![stack(
            3 << 20,
            &[
                ("handle", "app.js", 4),
                ("enterWith", "node:async_hooks", 300),
            ],
        )],
        ..Evidence::default()
    };
    let out = match_patterns(&ev);
    assert_eq!(ids(&out), ["async-context-growth"]);
    assert_eq!(loc(&out[0]), "app.js:4");
    let snap = Evidence {
        suspects: vec![suspect(
            "500 {user, trace} objects, held by <symbol kResourceStore> (Object)",
            "timerListMap (Object) > [30000] (TimersList) > _idleNext (Timeout) > <symbol kResourceStore> ({user, trace})",
            1 << 20,
        )],
        ..Evidence::default()
    };
    assert_eq!(ids(&match_patterns(&snap)), ["async-context-growth"]);
}

#[test]
fn sockets_kept_in_a_list() {
    let ev = Evidence {
        suspects: vec![suspect(
            "800 Socket objects allocated during the load rounds still alive after idle, held by connections (Array)",
            "(Node internals: timers, http, events) > request (Function) > connections (Array)",
            2 << 20,
        )],
        ..Evidence::default()
    };
    assert_eq!(ids(&match_patterns(&ev)), ["sockets-kept-in-a-list"]);
    // A socket held by its server's own bookkeeping is not a list the app keeps.
    let mut own = ev.clone();
    own.suspects[0].holder = Some("_handle (TCP)".into());
    assert!(match_patterns(&own).is_empty());
}

#[test]
fn the_seeds_app_cache_matches_no_library_pattern() {
    // The seed's path runs through Node's timers and the server's `_events`: none of that is
    // a listener leak or a timer leak; the holder is the app's own Map.
    let ev = Evidence {
        suspects: vec![suspect(
            "20000 Object objects allocated during the load rounds still alive after idle, held by responseCache (Map)",
            "global /  > clearImmediate (Function) > context (system / Context) > timerListMap (Object) > [30000] (TimersList) > _idleNext (Timeout) > _onTimeout (Function) > bound_this (Server) > _events (Object) > request (Function) > context (system / Context) > responseCache (Map)",
            8 << 20,
        )],
        stacks: vec![stack(8 << 20, &[("emit", "node:events", 1), ("processData", "app.js", 30)])],
        stderr: vec!["(node:3) DeprecationWarning: Buffer() is deprecated".into()],
        ..Evidence::default()
    };
    assert!(
        match_patterns(&ev).is_empty(),
        "{:?}",
        ids(&match_patterns(&ev))
    );
}
