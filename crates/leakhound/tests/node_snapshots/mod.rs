//! Heap snapshots written by a real `node` in the three ways a user runs a one-off script:
//! `node -e`, `node -p` and a script piped into `node -`. Their graphs hold a cycle nothing
//! reaches (the `ContextifyScript` running the script), which once crashed the dominator pass.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Copy)]
pub enum SnapshotKind {
    /// `node -e SCRIPT`
    Eval,
    /// `node -p SCRIPT` (prints the script's value)
    Print,
    /// `echo SCRIPT | node -`
    Stdin,
}

impl SnapshotKind {
    pub const ALL: [SnapshotKind; 3] =
        [SnapshotKind::Eval, SnapshotKind::Print, SnapshotKind::Stdin];

    pub fn name(self) -> &'static str {
        match self {
            SnapshotKind::Eval => "eval",
            SnapshotKind::Print => "print",
            SnapshotKind::Stdin => "stdin",
        }
    }

    /// Run `script` with node in this way; panics with node's stderr when it fails.
    pub fn run(self, script: &str) {
        let mut cmd = Command::new("node");
        match self {
            SnapshotKind::Eval => cmd.arg("-e").arg(script),
            SnapshotKind::Print => cmd.arg("-p").arg(format!("{script};'done'")),
            SnapshotKind::Stdin => cmd.arg("-").stdin(Stdio::piped()),
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node is needed to write heap snapshots");
        if let SnapshotKind::Stdin = self {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "node ({}) failed: {}",
            self.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A JavaScript string literal for a path.
fn js_path(p: &Path) -> String {
    serde_json::to_string(&p.display().to_string()).unwrap()
}

/// One snapshot of a process that does nothing else: `require('v8').writeHeapSnapshot(FILE)`.
pub fn write_node_snapshot(dir: &Path, kind: SnapshotKind) -> PathBuf {
    let out = dir.join(format!("{}.heapsnapshot", kind.name()));
    kind.run(&format!(
        "require('v8').writeHeapSnapshot({})",
        js_path(&out)
    ));
    assert!(out.exists(), "node wrote no {}", out.display());
    out
}

/// How many `Grower` objects the script adds before each snapshot.
pub const GROWERS_PER_ROUND: u64 = 5000;

/// Three snapshots of one process that adds [`GROWERS_PER_ROUND`] `Grower` objects to a global
/// array before each: the textbook leak for `heap diff` and `heap leaks`.
pub fn write_growing_snapshots(dir: &Path, kind: SnapshotKind) -> [PathBuf; 3] {
    let files: [PathBuf; 3] =
        std::array::from_fn(|i| dir.join(format!("{}-{i}.heapsnapshot", kind.name())));
    let list = files
        .iter()
        .map(|f| js_path(f))
        .collect::<Vec<_>>()
        .join(",");
    kind.run(&format!(
        "const v8 = require('v8'); globalThis.keep = [];
         class Grower {{ constructor(i) {{ this.i = i; this.s = 'grower ' + i; }} }}
         for (const f of [{list}]) {{
           for (let j = 0; j < {GROWERS_PER_ROUND}; j++) keep.push(new Grower(j));
           v8.writeHeapSnapshot(f);
         }}"
    ));
    files
}
