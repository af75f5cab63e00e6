//! What the culprit hunt of `run` captures (`--no-alloc-sites`, `--profile-dir`,
//! `--snapshots`), and where its files go. The capture itself is [`crate::culprit`].

use std::path::PathBuf;

use crate::error::IoContext;
use leakhound_inspector::SnapshotOptions;

use crate::culprit_findings::DEFAULT_SAMPLING_INTERVAL;

/// The snapshot files `--snapshots DIR` writes, in order.
pub const SNAPSHOT_FILES: [&str; 3] = [
    "s1-after-warmup.heapsnapshot",
    "s2-after-load.heapsnapshot",
    "s3-after-idle.heapsnapshot",
];

/// What to capture.
#[derive(Debug, Clone)]
pub struct CulpritOptions {
    /// Sampling interval in bytes; 0 turns allocation sampling off.
    pub sampling_interval: u64,
    /// Where the two `.heapprofile` files go; not saved when `None`.
    pub profile_dir: Option<PathBuf>,
    /// Prefix of the profile file names (`<prefix>alloc-all.heapprofile`), so two runs saved
    /// next to their JSON (`before.json`, `after.json`) do not overwrite each other's.
    pub profile_prefix: String,
    /// Take three heap snapshots into this directory.
    pub snapshots_dir: Option<PathBuf>,
    /// File names in the sites are shown relative to this directory (the target's working
    /// directory); the current directory when `None`.
    pub base: Option<PathBuf>,
    pub snapshot: SnapshotOptions,
}

impl Default for CulpritOptions {
    fn default() -> Self {
        CulpritOptions {
            sampling_interval: DEFAULT_SAMPLING_INTERVAL,
            profile_dir: None,
            profile_prefix: String::new(),
            snapshots_dir: None,
            base: None,
            snapshot: SnapshotOptions::default(),
        }
    }
}

impl CulpritOptions {
    /// Create the output directories now, so a bad path is a usage error before the target
    /// starts rather than a note after a long run.
    pub fn prepare(&self) -> crate::error::Result<()> {
        for dir in [&self.profile_dir, &self.snapshots_dir]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(dir)
                .io_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        Ok(())
    }

    /// The two profile files, when they are to be saved.
    pub fn profile_paths(&self) -> Option<[PathBuf; 2]> {
        self.profile_dir.as_ref().map(|d| {
            [
                d.join(format!("{}alloc-all.heapprofile", self.profile_prefix)),
                d.join(format!(
                    "{}alloc-survivors.heapprofile",
                    self.profile_prefix
                )),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn profile_files_are_prefixed_so_runs_do_not_clobber_each_other() {
        let o = CulpritOptions {
            profile_dir: Some("/tmp/x".into()),
            profile_prefix: "before.".into(),
            ..Default::default()
        };
        let [a, s] = o.profile_paths().unwrap();
        assert_eq!(a, Path::new("/tmp/x/before.alloc-all.heapprofile"));
        assert_eq!(s, Path::new("/tmp/x/before.alloc-survivors.heapprofile"));
        assert!(CulpritOptions::default().profile_paths().is_none());
    }
}
