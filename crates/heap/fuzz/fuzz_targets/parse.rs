//! Any bytes: the parser returns a graph or an error, never panics; a graph that parses is
//! analysed (dominators, distances, classes, summary) without panicking either.
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
