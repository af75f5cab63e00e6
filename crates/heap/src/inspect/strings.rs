//! Duplicated strings: the same text held by several string objects (memlab's and
//! dotMemory's inspection). Interning or reusing one copy saves (copies − 1) × size.
//!
//! V8 writes each distinct string text once in the snapshot's string table and names every
//! string object by its index there, so equal texts share one index: the copies are counted
//! per index in one pass over the nodes, without reading or hashing any text. Only the few
//! values shown are read. V8 cuts node names to 1024 characters, so texts that long may be
//! different strings sharing a prefix: they are left out rather than guessed at.

use crate::analysis::Nodes;
use crate::inspect::names::shorten;
use leakhound_schema::heap::{DuplicatedString, DuplicatedStrings};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Characters of a value shown.
pub const SHOWN_CHARS: usize = 80;
/// V8's `--heap-snapshot-string-limit` default: longer names are cut to this.
const V8_NAME_LIMIT: usize = 1024;
/// The flag kept in a count's top bit once its value has been tallied.
const SEEN: u32 = 1 << 31;

/// The duplicated strings of `h`, the `top` most wasteful values listed.
pub fn duplicated(h: &Nodes<'_>, top: usize) -> DuplicatedStrings {
    let g = &h.graph;
    let string = h.t.string;
    let n = h.node_count();
    // Copies per string-table index (saturating below the flag bit).
    let mut count = vec![0u32; g.strings.len()];
    for v in 0..n {
        crate::cancel::point(v);
        if g.node_type[v] == string {
            if let Some(c) = count.get_mut(g.node_name[v] as usize) {
                if *c < SEEN - 1 {
                    *c += 1;
                }
            }
        }
    }
    let mut out = DuplicatedStrings::default();
    // The `top` biggest wastes so far, smallest on top (ties: the lower index kept).
    let mut best: BinaryHeap<Reverse<(u64, Reverse<u32>)>> = BinaryHeap::new();
    for v in 0..n {
        crate::cancel::point(v);
        if g.node_type[v] != string {
            continue;
        }
        let i = g.node_name[v];
        let Some(c) = count.get_mut(i as usize) else {
            continue;
        };
        if *c < 2 || *c & SEEN != 0 {
            continue;
        }
        let copies = u64::from(*c);
        *c |= SEEN;
        let text = g.strings.get(i as usize).unwrap_or_default();
        if text.len() >= V8_NAME_LIMIT && text.chars().count() >= V8_NAME_LIMIT {
            continue;
        }
        // Copies of one text have one size; the first one met stands for all.
        let wasted = (copies - 1) * h.self_size.get(v);
        out.values += 1;
        out.extra_copies += copies - 1;
        out.wasted_bytes += wasted;
        if top > 0 {
            best.push(Reverse((wasted, Reverse(i))));
            if best.len() > top {
                best.pop();
            }
        }
    }
    let mut rows: Vec<(u64, u32)> = best
        .into_iter()
        .map(|Reverse((w, Reverse(i)))| (w, i))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.top = rows
        .into_iter()
        .map(|(wasted, i)| {
            let copies = u64::from(count[i as usize] & !SEEN);
            let (value, truncated) =
                shorten(g.strings.get(i as usize).unwrap_or_default(), SHOWN_CHARS);
            DuplicatedString {
                value,
                truncated,
                count: copies,
                bytes_each: wasted / (copies - 1).max(1),
                wasted_bytes: wasted,
            }
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testheap::heap;

    #[test]
    fn copies_of_one_text_are_counted_and_the_waste_summed() {
        let long = "x".repeat(200);
        let h = heap(
            &[
                ("synthetic", "", 0),
                ("object", "Holder", 40),
                ("string", "dup-a", 24),
                ("string", "dup-a", 24),
                ("string", "dup-a", 24),
                ("string", "solo", 20),
                ("string", &long, 216),
                ("string", &long, 216),
                ("concatenated string", "(concatenated string)", 32),
                ("concatenated string", "(concatenated string)", 32),
            ],
            &[
                (0, "element", "1", 1),
                (1, "element", "0", 2),
                (1, "element", "1", 3),
                (1, "element", "2", 4),
                (1, "element", "3", 5),
                (1, "element", "4", 6),
                (1, "element", "5", 7),
                (1, "element", "6", 8),
                (1, "element", "7", 9),
            ],
        );
        let d = duplicated(&h.tree().nodes(), 10);
        // dup-a: 2 extra copies of 24 bytes; the long text: 1 extra of 216. Cons strings have
        // no text of their own and are not strings here.
        assert_eq!(d.wasted_bytes, 2 * 24 + 216);
        assert_eq!((d.values, d.extra_copies), (2, 3));
        assert_eq!(d.top.len(), 2);
        assert_eq!(d.top[0].count, 2);
        assert_eq!(d.top[0].wasted_bytes, 216);
        assert!(d.top[0].truncated);
        assert_eq!(d.top[0].value.chars().count(), SHOWN_CHARS);
        assert_eq!(d.top[1].value, "dup-a");
        assert_eq!((d.top[1].count, d.top[1].bytes_each), (3, 24));
        // `top` cuts the list, not the totals.
        let one = duplicated(&h.tree().nodes(), 1);
        assert_eq!(one.top.len(), 1);
        assert_eq!(one.wasted_bytes, d.wasted_bytes);
    }

    #[test]
    fn names_v8_may_have_cut_are_not_called_duplicates() {
        let cut = "y".repeat(V8_NAME_LIMIT);
        let h = heap(
            &[
                ("synthetic", "", 0),
                ("string", &cut, 2048),
                ("string", &cut, 4096),
            ],
            &[(0, "element", "1", 1), (0, "element", "2", 2)],
        );
        let d = duplicated(&h.tree().nodes(), 10);
        assert_eq!((d.values, d.wasted_bytes), (0, 0));
        assert!(d.top.is_empty());
    }
}
