//! A target busy writing its snapshot at death ([`crate::heap_at_death`]): V8 stops the
//! JavaScript while it builds and writes the snapshot, so the inspector does not answer. The
//! loop waits for the file to be whole (bounded), rather than calling the target hung.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::progress::Progress;

/// Where the snapshot at death is written, for the loop to notice a target busy writing it.
#[derive(Debug, Clone)]
pub struct Probe {
    dir: PathBuf,
    started: SystemTime,
    /// How long a target may take to write its snapshot at death before the run goes on
    /// without it ([`crate::death_arming::write_limit`]: it grows with the heap).
    limit: std::time::Duration,
}

impl Probe {
    /// Snapshots in `dir` modified since `started`, each given `limit` to be written.
    pub fn new(dir: PathBuf, started: SystemTime, limit: std::time::Duration) -> Probe {
        Probe {
            dir,
            started,
            limit,
        }
    }
}

impl Probe {
    /// The newest snapshot Node started writing since the run began, if any.
    fn newest(&self) -> Option<PathBuf> {
        std::fs::read_dir(&self.dir)
            .ok()?
            .flatten()
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with("Heap.") && n.ends_with(".heapsnapshot")
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .filter(|(t, _)| *t >= self.started)
            .max()
            .map(|(_, p)| p)
    }

    /// The target stopped answering: when it is writing its snapshot at death (V8 stops
    /// JavaScript while it builds and writes it), wait until the file is whole or the target
    /// ends, at most its limit. Whether it waited (then the caller asks again).
    pub async fn wait_written(&self, exited: impl Fn() -> bool, progress: Progress<'_>) -> bool {
        let Some(file) = self.newest() else {
            return false;
        };
        progress("the target is writing its heap snapshot near the heap limit: waiting for it");
        let t0 = std::time::Instant::now();
        while t0.elapsed() < self.limit && !exited() && !whole(&file) {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        true
    }
}

/// Whether a snapshot file is complete: V8 ends the JSON with the strings array's `]}`.
pub fn whole(file: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(file) else {
        return false;
    };
    let mut tail = [0u8; 16];
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < 2 || f.seek(SeekFrom::Start(len.saturating_sub(16))).is_err() {
        return false;
    }
    let n = f.read(&mut tail).unwrap_or(0);
    let t: Vec<u8> = tail[..n]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    t.ends_with(b"]}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_whole_when_its_json_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Heap.1.heapsnapshot");
        std::fs::write(&f, "{\"snapshot\":{},\"nodes\":[1,2").unwrap();
        assert!(!whole(&f));
        std::fs::write(&f, "{\"snapshot\":{},\"strings\":[\"\",\"a\"]}\n").unwrap();
        assert!(whole(&f));
        assert!(!whole(&dir.path().join("none")));
    }
}
