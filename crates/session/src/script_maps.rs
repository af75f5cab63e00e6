//! The source maps V8 saw, asked of the target before it ends.
//!
//! A script on disk is not always the code V8 ran: `tsx` (and other loaders) transpile
//! TypeScript in memory and hand V8 the result, with an inline `data:` source map, under the
//! `.ts` file's own URL. Reading `src/quotes.ts` from disk then finds no map, and its positions
//! would be those of code nobody can open. The inspector's `Debugger.enable` replays a
//! `Debugger.scriptParsed` event for every script V8 compiled, with the `sourceMapURL` the
//! script named; that is what the sampling profiles' positions refer to.
//!
//! Node's `--enable-source-maps` changes nothing here: it makes Node read the same comments for
//! its stack traces, and V8 reports them to the debugger either way (Node's own map cache,
//! `module.findSourceMap`, is not consulted).
//!
//! This is asked once, after the last profile is read (the debugger is enabled for a moment
//! and disabled again, so it cannot change what was measured). Failures leave the maps on disk
//! as the only source.

use std::time::Duration;

use leakhound_inspector::Inspector;
use serde_json::json;

/// `(script URL, sourceMappingURL)` for every script that named a map.
pub async fn collect(ins: &Inspector, timeout: Duration) -> Vec<(String, String)> {
    let mut rx = ins.subscribe();
    let enabled = ins.call("Debugger.enable", json!({}), timeout).await;
    // The replayed events precede the answer to `enable` on the socket, so they are queued.
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if ev.method != "Debugger.scriptParsed" {
            continue;
        }
        let text = |k: &str| ev.params.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let (url, map) = (text("url"), text("sourceMapURL"));
        if !url.is_empty() && !map.is_empty() {
            out.push((url.to_string(), map.to_string()));
        }
    }
    ins.unsubscribe();
    if enabled.is_ok() {
        let _ = ins.call("Debugger.disable", json!({}), timeout).await;
    }
    out
}
