//! The GC observer leakhound installs in the target through `Runtime.evaluate`: a
//! `PerformanceObserver` for `gc` entries that counts GCs and records `heapUsed` right after
//! each major GC into a bounded ring on `globalThis[Symbol.for('leakhound.attach')]` (a
//! symbol key: invisible to the app's own property enumeration). Removed on detach.
//!
//! The observer's callback runs on the event loop shortly after the GC, so the recorded heap
//! is the post-GC live set plus what the app allocated in between: an upper bound of the floor
//! that is close under ordinary load.

use serde_json::Value;

/// Installs the observer (idempotent: an observer left by an earlier, killed leakhound is
/// taken over). Evaluates to `"installed"` or `"present"`.
pub const INSTALL: &str = r#"(() => {
  const key = Symbol.for('leakhound.attach');
  if (globalThis[key]) return 'present';
  const s = { major: [], count: 0, majorCount: 0, pauseMs: 0, base: performance.now(), obs: null };
  s.obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      s.count++;
      s.pauseMs += e.duration;
      const kind = e.detail ? e.detail.kind : e.kind;
      if (kind === 4) {
        s.majorCount++;
        s.major.push([(e.startTime + e.duration - s.base) / 1000, process.memoryUsage().heapUsed]);
        if (s.major.length > 4096) s.major.shift();
      }
    }
  });
  s.obs.observe({ entryTypes: ['gc'] });
  Object.defineProperty(globalThis, key, { value: s, configurable: true, enumerable: false, writable: true });
  return 'installed';
})()"#;

/// Takes the post-major-GC points recorded since the last call, and the running counters.
pub const DRAIN: &str = r#"(() => {
  const s = globalThis[Symbol.for('leakhound.attach')];
  if (!s) return null;
  return { major: s.major.splice(0), count: s.count, majorCount: s.majorCount, pauseMs: s.pauseMs, now: (performance.now() - s.base) / 1000 };
})()"#;

/// Disconnects and deletes the observer. Evaluates to whether one was there.
pub const REMOVE: &str = r#"(() => {
  const key = Symbol.for('leakhound.attach');
  const s = globalThis[key];
  if (!s) return false;
  s.obs.disconnect();
  delete globalThis[key];
  return true;
})()"#;

/// Closes the inspector leakhound opened, once this evaluation has answered and the
/// WebSocket is closed (a timer, so the answer is sent first). Node ≥ 12 has
/// `process._debugEnd`; the `unref` keeps the timer from holding the process alive.
pub const CLOSE_INSPECTOR: &str = r#"(() => {
  if (typeof process._debugEnd !== 'function') return false;
  const t = setTimeout(() => process._debugEnd(), 200);
  if (t.unref) t.unref();
  return true;
})()"#;

/// What one [`DRAIN`] returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drained {
    /// `(seconds since the observer was installed, heapUsed)` after each major GC.
    pub major: Vec<(f64, f64)>,
    pub count: u64,
    pub major_count: u64,
    pub pause_s: f64,
    /// The target's clock, seconds since the observer was installed.
    pub now_s: f64,
}

/// Parse [`DRAIN`]'s value; `None` when the observer is gone (or the value is not its shape).
pub fn parse_drained(v: &Value) -> Option<Drained> {
    let o = v.as_object()?;
    let major = o
        .get("major")?
        .as_array()?
        .iter()
        .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
        .collect();
    Some(Drained {
        major,
        count: o.get("count")?.as_u64()?,
        major_count: o.get("majorCount")?.as_u64()?,
        pause_s: o.get("pauseMs")?.as_f64()? / 1000.0,
        now_s: o.get("now").and_then(Value::as_f64).unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drained_values_parse() {
        let v = json!({"major": [[1.5, 1000], [2.0, 1100.5]], "count": 9, "majorCount": 2, "pauseMs": 12.5, "now": 3.0});
        let d = parse_drained(&v).unwrap();
        assert_eq!(d.major, vec![(1.5, 1000.0), (2.0, 1100.5)]);
        assert_eq!((d.count, d.major_count), (9, 2));
        assert!((d.pause_s - 0.0125).abs() < 1e-12);
        assert_eq!(parse_drained(&Value::Null), None);
        assert_eq!(parse_drained(&json!({"major": 1})), None);
    }

    /// The snippets are valid JavaScript that install, drain and remove in a real Node.
    #[test]
    fn the_snippets_run_in_node() {
        let script = format!(
            "const a = {INSTALL}; const b = {INSTALL}; globalThis.gc(); \
             setTimeout(() => {{ const d = {DRAIN}; const r = {REMOVE}; const r2 = {REMOVE}; \
             console.log(JSON.stringify([a, b, d.majorCount >= 1, d.major.length >= 1, r, r2, \
             globalThis[Symbol.for('leakhound.attach')] === undefined])); }}, 50);"
        );
        let out = std::process::Command::new("node")
            .args(["--expose-gc", "-e", &script])
            .output()
            .expect("node runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.trim(),
            r#"["installed","present",true,true,true,false,true]"#,
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
