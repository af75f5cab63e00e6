//! The heap at death: the best evidence of an out-of-memory leak is the heap at the moment it
//! ran out. `run` arms Node's heap snapshot near the heap limit (what
//! `--heapsnapshot-near-heap-limit=1` does), with `--diagnostic-dir` set to a private temporary
//! directory or to `--snapshots DIR`, so a target that dies of OOM leaves one snapshot,
//! written just before the heap limit is reached; after the crash it is analysed
//! ([`crate::death_suspects`]) into the run's `suspects[]`.
//!
//! It is armed over the inspector once the target listens (`v8.setHeapSnapshotNearHeapLimit`),
//! not by the flag: a target that runs out of memory while starting is a failed target, not a
//! leak, and writing the snapshot of a big start-up heap would only delay saying so.
//!
//! V8 builds the snapshot inside the dying process, about as much memory again as the heap,
//! and stops the process while it writes: when the machine (`MemAvailable`) or the cgroup
//! cannot hold twice the heap limit, the snapshot is not armed and the run says so in a
//! warning; a heap above 64 MB is armed only with `--snapshots DIR`
//! ([`crate::death_arming`] decides, and says why). A user who gave
//! `--heapsnapshot-near-heap-limit` or `--diagnostic-dir` themselves keeps theirs: their
//! directory is searched and never deleted.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

use leakhound_report::run_schema::RunReport;

use crate::death_arming::{self, Arming};
use crate::progress::Progress;
use crate::snapshot_room;

/// What the user's own flags already say (command line before the script, or NODE_OPTIONS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFlags {
    /// `--heapsnapshot-near-heap-limit=N` given.
    pub armed: bool,
    /// `--diagnostic-dir=DIR` (or `--diagnostic-dir DIR` on the command line).
    pub dir: Option<PathBuf>,
    /// A flag whose output goes to the diagnostic directory (`--cpu-prof`, `--heap-prof`,
    /// `--report-on-fatalerror` ...): leakhound's private directory would take it away.
    pub writes_diagnostics: bool,
}

fn flag_name(arg: &str) -> Option<(String, Option<&str>)> {
    let body = arg.strip_prefix("--")?;
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    Some((name.replace('_', "-"), value))
}

/// The user's snapshot flags among Node's own arguments and `NODE_OPTIONS`.
pub fn user_flags(command: &[String], node_options: Option<&str>) -> UserFlags {
    let mut out = UserFlags::default();
    let from_env: Vec<String> = node_options
        .unwrap_or("")
        .split_whitespace()
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    for args in [&from_env[..], crate::heap_flag::node_args(command)] {
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            let Some((name, value)) = flag_name(a) else {
                continue;
            };
            match name.as_str() {
                "heapsnapshot-near-heap-limit" => out.armed = true,
                "cpu-prof"
                | "heap-prof"
                | "report-on-fatalerror"
                | "report-on-signal"
                | "report-uncaught-exception" => out.writes_diagnostics = true,
                "diagnostic-dir" => {
                    let v = value.map(str::to_string).or_else(|| it.next().cloned());
                    out.dir = v.map(|v| PathBuf::from(v.trim_matches('"')));
                }
                _ => {}
            }
        }
    }
    out
}

/// The flags leakhound adds to `NODE_OPTIONS`, and the directory the snapshot will be in:
/// ours unless the user chose one; the working directory when the user armed the snapshot
/// without a directory (Node's default). The snapshot itself is armed later ([`ARM`]).
pub fn compose(user: &UserFlags, ours: &Path, cwd: &Path) -> (String, PathBuf) {
    let mut flags = Vec::new();
    let dir = match (&user.dir, user.armed) {
        (Some(d), _) => d.clone(),
        (None, true) => cwd.to_path_buf(),
        (None, false) => {
            flags.push(format!("--diagnostic-dir=\"{}\"", ours.display()));
            ours.to_path_buf()
        }
    };
    (flags.join(" "), dir)
}

/// What arms the snapshot in the target (a no-op when the user's own flag did).
pub const ARM: &str = "(typeof process.getBuiltinModule === 'function' \
    ? process.getBuiltinModule('v8') \
    : process.mainModule.require('v8')).setHeapSnapshotNearHeapLimit(1)";

/// The heap at death of one run: armed before the target starts, read after it is gone.
pub struct HeapAtDeath {
    /// The flags for `NODE_OPTIONS` (empty when not armed by us).
    pub node_options: String,
    dir: Option<PathBuf>,
    /// The private directory, removed on drop; `None` with `--snapshots DIR` or the user's.
    _temp: Option<tempfile::TempDir>,
    keep: bool,
    started: SystemTime,
    warning: Option<String>,
    /// Why it was not armed, for the culprit notes of an OOM run.
    note: Option<String>,
    /// Leakhound arms it ([`HeapAtDeath::arm_in`]); false when the user did, or no room.
    ours: bool,
    /// The old space it was armed for (the wait for the file grows with it).
    heap_mb: u64,
}

impl HeapAtDeath {
    /// Arm the snapshot for a target of `command` with a heap of `heap_mb`.
    pub fn arm(command: &[String], heap_mb: u64, snapshots_dir: Option<&Path>) -> HeapAtDeath {
        let user = user_flags(command, std::env::var("NODE_OPTIONS").ok().as_deref());
        let mut me = HeapAtDeath {
            node_options: String::new(),
            dir: None,
            _temp: None,
            keep: true,
            started: SystemTime::now(),
            warning: None,
            note: None,
            ours: false,
            heap_mb,
        };
        // The room is read only when the decision needs it.
        let room = if user.armed {
            Default::default()
        } else {
            snapshot_room::read(None)
        };
        match death_arming::decide(user.armed, snapshots_dir.is_some(), heap_mb, &room) {
            Arming::Arm => {}
            Arming::TooBig(note) => {
                me.note = Some(note);
                return me;
            }
            Arming::NoRoom(w) => {
                me.warning = Some(w);
                return me;
            }
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let ours = match (snapshots_dir, &user.dir) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(d)) => d.clone(),
            (None, None) if user.writes_diagnostics && !user.armed => {
                me.note = Some("no heap at death: your own diagnostic flags (--cpu-prof, --heap-prof, --report-*) write to the diagnostic directory, which leakhound would have moved to a temporary one; arm it with --snapshots DIR".into());
                return me;
            }
            (None, None) => match tempfile::Builder::new()
                .prefix("leakhound-death-")
                .tempdir()
            {
                Ok(t) => {
                    let p = t.path().to_path_buf();
                    me._temp = Some(t);
                    me.keep = false;
                    p
                }
                Err(e) => {
                    me.warning = Some(format!("no heap snapshot at death: {e}"));
                    return me;
                }
            },
        };
        let (flags, dir) = compose(&user, &ours, &cwd);
        me.node_options = flags;
        me.dir = Some(dir);
        me.ours = !user.armed;
        me
    }

    /// Once the target listens: arm the snapshot in its serving process. A Node without the
    /// call (before 18.10) leaves a note in the progress and no snapshot.
    pub async fn arm_in(&self, ins: &leakhound_inspector::Inspector, progress: Progress<'_>) {
        if !self.ours || self.dir.is_none() {
            return;
        }
        if let Err(e) = ins.evaluate(ARM, std::time::Duration::from_secs(5)).await {
            progress(&format!("no heap snapshot at death: {e}"));
        }
    }

    /// What the loop watches while the target writes the snapshot.
    pub fn probe(&self) -> Option<crate::death_probe::Probe> {
        Some(crate::death_probe::Probe::new(
            self.dir.clone()?,
            self.started,
            death_arming::write_limit(self.heap_mb),
        ))
    }

    /// The snapshots Node wrote since the run started (the largest first).
    fn written(&self) -> Vec<PathBuf> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<(u64, PathBuf)> = rd
            .flatten()
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with("Heap.") && n.ends_with(".heapsnapshot")
            })
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                (m.modified().ok()? >= self.started).then(|| (m.len(), e.path()))
            })
            .collect();
        out.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        out.into_iter().map(|(_, p)| p).collect()
    }

    /// After the target is gone: on an OOM, analyse the snapshot into the report's suspects
    /// (unless `--snapshots` already found some), with a note of where it is. Whether `stop`
    /// (Ctrl-C / SIGTERM) cut the analysis short.
    pub async fn fill(
        &self,
        r: &mut RunReport,
        base: Option<&Path>,
        stop: &Arc<AtomicBool>,
        progress: Progress<'_>,
    ) -> bool {
        if let Some(w) = &self.warning {
            if r.oom {
                r.warnings.push(w.clone());
            }
            return false;
        }
        if let Some(n) = &self.note {
            if r.oom {
                r.culprit_notes.push(n.clone());
            }
            return false;
        }
        if !r.oom {
            return false;
        }
        let files = self.written();
        let Some(file) = files.first().cloned() else {
            r.culprit_notes.push(
                "the target ran out of memory but left no heap snapshot (Node writes it only when the heap nears its limit gradually)".into(),
            );
            return false;
        };
        progress(&format!(
            "analysing the heap at death ({})",
            if self.keep {
                file.display().to_string()
            } else {
                "the snapshot Node wrote near the heap limit".into()
            }
        ));
        let t = std::time::Instant::now();
        let path = file.clone();
        let stop = stop.clone();
        let found = tokio::task::spawn_blocking(move || {
            leakhound_heap::cancel::run(&stop, || -> Result<_, String> {
                let h = leakhound_heap::Heap::open(&path).map_err(|e| e.to_string())?;
                let groups = crate::death_suspects::groups(&h, crate::culprit::TOP_SUSPECTS);
                Ok((groups, h.total))
            })
        })
        .await;
        let found = match found {
            Ok(Ok(found)) => found,
            Ok(Err(leakhound_heap::Interrupted)) => {
                r.culprit_notes
                    .push("heap at death: the analysis was interrupted".into());
                return true;
            }
            Err(e) => Err(e.to_string()),
        };
        match found {
            Ok((groups, total)) => {
                let mut s = crate::death_suspects::suspects(&groups);
                let sites: Vec<String> = r
                    .alloc_all
                    .iter()
                    .chain(&r.alloc_survivors)
                    .map(|s| s.location.clone())
                    .collect();
                let texts = crate::suspect_source::fill(
                    &mut s,
                    &groups,
                    &r.command,
                    sites.iter().map(String::as_str),
                    base,
                );
                if r.suspects.is_empty() {
                    r.suspects = s;
                    // The heap at death names the line better than the sampled sites alone.
                    if let Some(mut c) = crate::culprit_line::build(r, &texts) {
                        if c.evidence == "snapshots" {
                            c.evidence = "heap-at-death".into();
                        }
                        r.culprit = Some(c);
                    }
                }
                let size = leakhound_heap::fmt_bytes(total);
                r.culprit_notes.push(if self.keep {
                    r.snapshots.push(file.display().to_string());
                    format!(
                        "heap at death: {size} of objects in {}, analysed in {:.1}s",
                        file.display(),
                        t.elapsed().as_secs_f64()
                    )
                } else {
                    format!(
                        "heap at death: {size} of objects in the snapshot Node wrote near the heap limit, analysed in {:.1}s and deleted (keep it with --snapshots DIR)",
                        t.elapsed().as_secs_f64()
                    )
                });
            }
            Err(e) => r.culprit_notes.push(format!(
                "heap at death: cannot read {}: {e}",
                file.display()
            )),
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn our_flags_go_in_unless_the_user_gave_theirs() {
        let prof = user_flags(&cmd("node --cpu-prof server.js"), None);
        assert!(prof.writes_diagnostics && !prof.armed && prof.dir.is_none());
        let report = user_flags(&cmd("npm start"), Some("--report-on-fatalerror"));
        assert!(report.writes_diagnostics);
        assert!(!user_flags(&cmd("node server.js --cpu-prof"), None).writes_diagnostics);
        let none = user_flags(&cmd("node server.js --diagnostic-dir=/x"), None);
        assert_eq!(none, UserFlags::default());
        let (flags, dir) = compose(&none, Path::new("/tmp/lh d"), Path::new("/srv"));
        assert_eq!(flags, "--diagnostic-dir=\"/tmp/lh d\"");
        assert_eq!(dir, Path::new("/tmp/lh d"));
        // The user's directory (NODE_OPTIONS, underscores): ours arms into it.
        let u = user_flags(&cmd("npm start"), Some("--diagnostic_dir=\"/var/diag\""));
        assert_eq!(u.dir.as_deref(), Some(Path::new("/var/diag")));
        let (flags, dir) = compose(&u, Path::new("/tmp/x"), Path::new("/srv"));
        assert_eq!(flags, "");
        assert_eq!(dir, Path::new("/var/diag"));
        // The user armed it without a directory: Node writes to the working directory.
        let u = user_flags(&cmd("node --heapsnapshot-near-heap-limit=3 s.js"), None);
        assert!(u.armed);
        let (flags, dir) = compose(&u, Path::new("/tmp/x"), Path::new("/srv"));
        assert_eq!(flags, "");
        assert_eq!(dir, Path::new("/srv"));
        // Both, on the command line, the directory as the next argument.
        let u = user_flags(
            &cmd("node --heapsnapshot-near-heap-limit=1 --diagnostic-dir /d s.js"),
            None,
        );
        assert_eq!(
            compose(&u, Path::new("/t"), Path::new("/c")),
            (String::new(), "/d".into())
        );
    }
}
