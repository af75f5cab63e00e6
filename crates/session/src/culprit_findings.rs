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
            signature: signature(g),
            source: Vec::new(),
        })
        .collect()
}

/// A leak's identity across runs (see `SuspectOut::signature`): what stays when the same code
/// leaks again. Node's folded hops (`(Node internals: …)`) and element indexes vary from run
/// to run, so they are left out; without an app-first path, the shortest path's shape counts.
pub fn signature(g: &leakhound_heap::leaks::LeakGroup) -> String {
    let shape: Vec<String> = if g.app_path.is_empty() {
        vec![leakhound_heap::paths::signature(&g.path_steps)]
    } else {
        g.app_path
            .iter()
            .filter(|p| !p.starts_with("(Node internals"))
            .map(|p| stars(p))
            .collect()
    };
    let key = format!(
        "{}\u{0}{}\u{0}{}",
        g.class,
        shape.join(" > "),
        g.holder.as_deref().map(stars).unwrap_or_default()
    );
    // FNV-1a, 64 bits: stable across builds and platforms, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Runs of digits become `*`: `[123] (Object)` and `[7] (Object)` are one shape.
fn stars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('*') {
            out.push('*');
        }
    }
    out
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
            grown_collections: Vec::new(),
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

    #[test]
    fn one_leak_keeps_its_signature_across_runs_and_two_leaks_differ() {
        // Run 1 and run 2 of the same leak: other counts, node ids, element indexes and
        // another internal route to the app's function.
        let mut run1 = group("Object", true, Some("responseCache (Map)"));
        run1.app_path = vec![
            "(Node internals: timers, http)".into(),
            "request (Function)".into(),
            "responseCache (Map)".into(),
        ];
        run1.path_steps = vec![step("[12]", "element", "Object")];
        let mut run2 = run1.clone();
        run2.instances = 9000;
        run2.retained_bytes = 9 << 20;
        run2.example_node_id = 4242;
        run2.app_path[0] = "(Node internals: events)".into();
        run2.path_steps = vec![step("[977]", "element", "Object")];
        let s1 = signature(&run1);
        assert_eq!(s1.len(), 16);
        assert_eq!(s1, signature(&run2));
        // Another holder, another class, another route through the app: another leak.
        let mut other_holder = run1.clone();
        other_holder.holder = Some("sessions (Map)".into());
        other_holder.app_path[2] = "sessions (Map)".into();
        let mut other_class = run1.clone();
        other_class.class = "(concatenated string)".into();
        let mut other_route = run1.clone();
        other_route.app_path[1] = "onConnection (Function)".into();
        for g in [&other_holder, &other_class, &other_route] {
            assert_ne!(signature(g), s1, "{:?}", g.app_path);
        }
        // Without an app-first path, the shortest path's shape counts, indexes aside.
        let mut bare1 = group("Object", true, None);
        bare1.path_steps = vec![
            step("cache", "property", "Map"),
            step("[3]", "element", "Object"),
        ];
        let mut bare2 = bare1.clone();
        bare2.path_steps[1].edge = "[88]".into();
        assert_eq!(signature(&bare1), signature(&bare2));
        bare2.path_steps[0].edge = "store".into();
        assert_ne!(signature(&bare1), signature(&bare2));
        // The suspects carry it.
        let l = LeaksReport {
            schema: "leakhound.heap.leaks/v1".into(),
            totals: [1, 2, 3],
            leaked_objects: 1,
            leaked_retained_bytes: 1,
            significant: true,
            groups: vec![run1],
            grown_collections: Vec::new(),
        };
        assert_eq!(suspects(&l)[0].signature, s1);
    }

    fn step(edge: &str, edge_type: &str, class: &str) -> leakhound_heap::paths::Step {
        leakhound_heap::paths::Step {
            edge: edge.into(),
            edge_type: edge_type.into(),
            class: class.into(),
            node_id: 1,
        }
    }
}
