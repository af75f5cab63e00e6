//! Any bytes: the parser returns a graph or an error, never panics; a graph that parses is
//! analysed (dominators, distances, classes, summary) without panicking either.
//!
//! `corpus/parse/unreachable-cycle` is the shape that crashed the dominator pass
//! on every snapshot `node -e` / `node -p` / `node -` writes (a cycle nothing reaches), cut
//! down to four nodes: the real ones are 4 MB and about 40,000 nodes, over both the corpus
//! budget and the 10,000-node cap below; `tests/heap_node_snapshots.rs` and the DevTools
//! oracle test run on those, written by `node` at test time.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = leakhound_heap::parse::parse(data) {
        if g.node_count() < 10_000 {
            let h = leakhound_heap::Heap::from_graph(g);
            let _ = leakhound_heap::summary(&h, 5);
        }
    }
});
