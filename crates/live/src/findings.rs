//! The three-snapshot comparison of `--snapshots` (as `heap leaks` does): objects allocated
//! between the start and the middle of the watch and still alive at its end, grouped by
//! class and retainer path, as the run's suspects.

use std::path::PathBuf;

use leakhound_heap::{Heap, LeaksReport};
use leakhound_schema::run::SuspectOut;

/// Suspects shown at most.
const TOP_SUSPECTS: usize = 5;

/// Compare the three snapshots (start, middle, end), off the async threads.
pub async fn compare(files: Vec<PathBuf>) -> Result<Vec<SuspectOut>, String> {
    let r = tokio::task::spawn_blocking(move || -> Result<LeaksReport, String> {
        let open = |p: &PathBuf| Heap::open(p).map_err(|e| format!("{}: {e}", p.display()));
        let (s1, s2, s3) = (open(&files[0])?, open(&files[1])?, open(&files[2])?);
        Ok(leakhound_heap::leaks(&s1, &s2, &s3))
    })
    .await
    .map_err(|e| format!("comparing the snapshots: {e}"))?
    .map_err(|e| format!("comparing the snapshots: {e}"))?;
    Ok(suspects(&r))
}

/// The significant groups as suspects, in the report's order.
pub fn suspects(l: &LeaksReport) -> Vec<SuspectOut> {
    l.groups
        .iter()
        .filter(|g| g.significant)
        .take(TOP_SUSPECTS)
        .map(|g| SuspectOut {
            title: format!(
                "{} {} objects allocated in the first half of the watch still alive at its end{}",
                g.instances,
                g.class,
                g.holder
                    .as_ref()
                    .map(|h| format!(", held by {h}"))
                    .unwrap_or_default()
            ),
            bytes: g.retained_bytes,
            percent: g.percent_of_heap,
            path: g.path.split(" > ").map(str::to_string).collect(),
            full_path: Vec::new(),
            signature: String::new(),
            source: Vec::new(),
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
    }
}
