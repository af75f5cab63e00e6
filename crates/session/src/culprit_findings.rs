//! What the culprit hunt found: suspects from the three-snapshot comparison. (The capture itself is [`crate::culprit`]; the text is drawn by
//! the report crate's run renderer.)

use leakhound_heap::LeaksReport;
use leakhound_report::run_schema::SuspectOut;

/// V8's default sampling interval: about one sample per 32 KiB allocated. Cheap enough to
/// leave on: at the seed's allocation rate (tens of MB/s) that is a few thousand samples a
/// second.
pub const DEFAULT_SAMPLING_INTERVAL: u64 = 32 * 1024;

/// Suspects kept in the JSON.
pub const TOP_SUSPECTS: usize = 5;

/// The significant groups of the three-snapshot comparison, as the report shows suspects.
pub fn suspects(l: &LeaksReport) -> Vec<SuspectOut> {
    significant(l)
        .map(|g| SuspectOut {
            title: format!(
                "{} {} objects allocated during the load rounds still alive after idle{}",
                g.instances,
                g.class,
                g.holder
                    .as_ref()
                    .map(|h| format!(", held by {h}"))
                    .unwrap_or_default()
            ),
            bytes: g.retained_bytes,
            percent: g.percent_of_heap,
            path: if g.app_path.is_empty() {
                split(&g.path)
            } else {
                g.app_path.clone()
            },
            full_path: split(g.app_full_path.as_deref().unwrap_or(&g.path)),
            source: Vec::new(),
        })
        .collect()
}

fn split(path: &str) -> Vec<String> {
    path.split(" > ").map(str::to_string).collect()
}

pub(crate) fn significant(
    l: &LeaksReport,
) -> impl Iterator<Item = &leakhound_heap::leaks::LeakGroup> {
    l.groups.iter().filter(|g| g.significant).take(TOP_SUSPECTS)
}

// The terminal text of the allocation sites and the culprit is drawn by the report crate's
// run renderer (`leakhound_report::render::Text`).

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        class: &str,
        significant: bool,
        holder: Option<&str>,
    ) -> leakhound_heap::leaks::LeakGroup {
        leakhound_heap::leaks::LeakGroup {
            class: class.into(),
            instances: 2500,
            retained_bytes: 3 << 20,
            self_bytes: 1 << 20,
            percent_of_heap: 31.5,
            holder: holder.map(str::to_string),
            path: "(GC roots) > global > responseCache (Map) > table > (object elements)".into(),
            path_steps: vec![],
            app_path: Vec::new(),
            app_full_path: None,
            example_node_id: 7,
            population: [0, 2500],
            significant,
            sentence: String::new(),
        }
    }

    #[test]
    fn only_significant_groups_become_suspects_with_their_path() {
        let l = LeaksReport {
            schema: "leakhound.heap.leaks/v1".into(),
            totals: [1, 2, 3],
            leaked_objects: 5000,
            leaked_retained_bytes: 6 << 20,
            significant: true,
            groups: vec![
                group("Object", true, Some("responseCache (Map)")),
                group("Noise", false, None),
                group("(concatenated string)", true, None),
            ],
        };
        let s = suspects(&l);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].title,
            "2500 Object objects allocated during the load rounds still alive after idle, held by responseCache (Map)"
        );
        assert_eq!(s[0].bytes, 3 << 20);
        assert_eq!(s[0].percent, 31.5);
        assert_eq!(
            s[0].path,
            [
                "(GC roots)",
                "global",
                "responseCache (Map)",
                "table",
                "(object elements)"
            ]
        );
        assert!(!s[1].title.contains("held by"));
    }
}
