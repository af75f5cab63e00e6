//! Tests of [`crate::growth_scan`]: bodies, growing statements, callees.

use super::*;

#[test]
fn a_body_is_found_by_matching_braces() {
    let lines = [
        "function handle(req, res) {",
        "  if (x) { y(); }",
        "  const s = '}';",
        "}",
        "after();",
    ];
    assert_eq!(body(&lines, 0), Some((0, 27, 3)));
    let arrow = ["req.on('data', (c) => chunks.push(c));"];
    assert_eq!(body(&arrow, 0), Some((0, 21, 0)));
    let multi = ["const h = (", "  a,", ") => {", "  a.x();", "};"];
    assert_eq!(body(&multi, 0), Some((2, 6, 4)));
    // The call that registers the function is not in its body.
    let on = [
        "const sockets = [];",
        "server.on('connection', (s) => {",
        "  sockets.push(s);",
        "});",
    ];
    let text = on.join("\n");
    let g = growths(&text, 1);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].line, 2);
    assert_eq!(body(&["no brace here", "", "", "", "", "{", "}"], 0), None);
}

#[test]
fn module_holders_grow_and_locals_do_not() {
    let text = "const sessions = new Map();\nlet log = '';\nlet n = 0;\n\
        serve('x', (req, seq) => {\n\
        \x20 const chunks = [];\n\
        \x20 chunks.push(1);\n\
        \x20 req.on('data', f);\n\
        \x20 n += 1;\n\
        \x20 log += `${seq}`;\n\
        \x20 sessions.set(`s-${seq}`, { seq });\n\
        \x20 console.log(x.push(1));\n\
        });\n";
    let g = growths(text, 3);
    let got: Vec<(usize, &str, Scope)> = g
        .iter()
        .map(|g| (g.line + 1, g.holder.as_str(), g.scope))
        .collect();
    assert_eq!(
        got,
        [(9, "log", Scope::Module), (10, "sessions", Scope::Module)]
    );
}

#[test]
fn chains_fields_indexes_and_timers() {
    let text = "const activity = new Map();\n\
        function handle(req) {\n\
        \x20 const user = req.user;\n\
        \x20 if (!activity.has(user)) activity.set(user, []);\n\
        \x20 activity.get(user).push({ at: 1 });\n\
        \x20 this.history.push(q);\n\
        \x20 cache[req.url] = 1;\n\
        \x20 setTimeout(() => {}, 1000);\n\
        \x20 Object.assign(activity, {});\n\
        }\nconst cache = {};\n";
    let g = growths(text, 1);
    let got: Vec<(usize, &str)> = g.iter().map(|g| (g.line + 1, g.holder.as_str())).collect();
    assert_eq!(
        got,
        [
            (4, "activity"),
            (5, "activity.get(user)"),
            (6, "this.history"),
            (7, "cache[req.url]"),
            (8, "(Node timers)"),
            (9, "activity"),
        ]
    );
    assert!(g[0].once_per_key && !g[1].once_per_key);
    assert_eq!(g[2].scope, Scope::Field);
    assert_eq!(g[4].scope, Scope::Closure);
    // A fresh promise's `then` (`f().then(…)`) keeps nothing; a stored one's does.
    let text = "const client = {};\nconst ready = new Promise(() => {});\nfunction h() {\n  return client.metrics().then((m) => m);\n  ready.then(() => 1);\n}\n";
    let g = growths(text, 2);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].holder, "ready");
}

#[test]
fn a_closures_variable_counts_below_module_scope() {
    let text =
        "function make() {\n  const seen = [];\n  return (x) => {\n    seen.push(x);\n  };\n}\n";
    let g = growths(text, 2);
    assert_eq!(g.len(), 1);
    assert_eq!((g[0].line, g[0].scope), (3, Scope::Closure));
    // A parameter is the caller's, not a holder of this function.
    let text =
        "const all = [];\nconst f = (list) => { list.push(1); };\nconst g = s => all.push(s);\n";
    assert!(growths(text, 1).is_empty());
    assert_eq!(growths(text, 2)[0].holder, "all");
}

#[test]
fn callees_and_their_definitions() {
    let text = "class Book {\n  price(sku) {\n    this.history.push(sku);\n  }\n}\n\
        function issue(req) {\n  return 1;\n}\n\
        const h = async (req, res) => {\n  const q = book.price(1);\n  issue(req);\n  if (q) list.push(q);\n};\n";
    assert_eq!(callees(text, 8), ["price", "issue"]);
    assert_eq!(definition(text, "price"), Some(1));
    assert_eq!(definition(text, "issue"), Some(5));
    assert_eq!(definition(text, "h"), Some(8));
    assert_eq!(definition(text, "nothing"), None);
    assert_eq!(growths(text, 1)[0].holder, "this.history");
}
