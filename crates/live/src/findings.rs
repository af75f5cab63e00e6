//! The three-snapshot comparison of `--snapshots` (as `heap leaks` does): objects allocated
//! between the start and the middle of the watch and still alive at its end, grouped by
//! class and retainer path, as the run's suspects.

use std::path::{Path, PathBuf};

use leakhound_heap::LeaksReport;
use leakhound_schema::run::SuspectOut;

/// Compare the three snapshots (start, middle, end), off the async threads; the suspects get
/// their source lines from the app's files: the scripts on the process's command line (`pid`'s
/// `/proc` entry) and the files of the allocation sites at `sites`, relative to `base`.
pub async fn compare(
    files: Vec<PathBuf>,
    pid: u32,
    sites: Vec<String>,
    base: Option<PathBuf>,
) -> Result<Vec<SuspectOut>, String> {
    let r = tokio::task::spawn_blocking(move || -> Result<LeaksReport, String> {
        // One whole heap at a time (a live process's snapshots can be production-size).
        leakhound_heap::leaks::leaks_of_files([&files[0], &files[1], &files[2]], |p, e| {
            format!("{}: {e}", p.display())
        })
    })
    .await
    .map_err(|e| format!("comparing the snapshots: {e}"))?
    .map_err(|e| format!("comparing the snapshots: {e}"))?;
    let mut s = suspects(&r);
    let groups: Vec<_> = r.groups.iter().filter(|g| g.significant).cloned().collect();
    let base = base.or_else(|| std::fs::read_link(format!("/proc/{pid}/cwd")).ok());
    leakhound_session::suspect_source::fill(
        &mut s,
        &groups,
        &command_of(pid),
        sites.iter().map(String::as_str),
        base.as_deref(),
    );
    Ok(s)
}

/// The process's command line (empty when it is gone).
fn command_of(pid: u32) -> Vec<String> {
    std::fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The significant groups as suspects, in the report's order: `run`'s suspects (app-first
/// path, full path, signature), told as what the watch saw.
pub fn suspects(l: &LeaksReport) -> Vec<SuspectOut> {
    let groups = l.groups.iter().filter(|g| g.significant);
    leakhound_session::culprit_findings::suspects(l)
        .into_iter()
        .zip(groups)
        .map(|(mut s, g)| {
            s.title = format!(
                "{} {} objects allocated in the first half of the watch still alive at its end{}",
                g.instances,
                g.class,
                g.holder
                    .as_ref()
                    .map(|h| format!(", held by {h}"))
                    .unwrap_or_default()
            );
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_heap::leaks::LeakGroup;

    #[test]
    fn only_significant_groups_become_suspects() {
        let group = |class: &str, significant: bool| LeakGroup {
            class: class.into(),
            instances: 2500,
            retained_bytes: 3 << 20,
            self_bytes: 1 << 20,
            percent_of_heap: 31.5,
            holder: Some("cache (Map)".into()),
            path: "(GC roots) > global > cache (Map)".into(),
            path_steps: Vec::new(),
            app_path: Vec::new(),
            app_full_path: None,
            example_node_id: 1,
            population: [10, 2510],
            significant,
            sentence: String::new(),
        };
        let l = LeaksReport {
            schema: String::new(),
            totals: [0; 3],
            leaked_objects: 2500,
            leaked_retained_bytes: 3 << 20,
            significant: true,
            groups: vec![group("Session", true), group("Noise", false)],
            grown_collections: Vec::new(),
        };
        let s = suspects(&l);
        assert_eq!(s.len(), 1);
        assert!(
            s[0].title.starts_with("2500 Session objects"),
            "{}",
            s[0].title
        );
        assert!(s[0].title.ends_with("held by cache (Map)"));
        assert_eq!(s[0].path, ["(GC roots)", "global", "cache (Map)"]);
        // As `run` signs them: the same leak in a run and in a watch has one signature.
        assert_eq!(
            s[0].signature,
            leakhound_session::culprit_findings::signature(&l.groups[0])
        );
        assert_eq!(s[0].full_path, s[0].path);
    }
}
