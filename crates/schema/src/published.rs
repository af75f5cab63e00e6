//! The JSON Schemas published under `docs/schema/`, generated from the types here.
//!
//! `tests/published.rs` regenerates them and fails when the checked-in files differ (run it
//! with `LEAKHOUND_BLESS=1` to rewrite them), so the published schemas are always what the code
//! writes.

use schemars::{schema_for, Schema};

/// Every published document: its file stem under `docs/schema/` (`<stem>.schema.json`), its
/// `schema` string, and its JSON Schema.
pub fn documents() -> Vec<(&'static str, &'static str, Schema)> {
    vec![
        (
            "run",
            crate::run::SCHEMA,
            schema_for!(crate::run::RunReport),
        ),
        (
            "load",
            crate::load::SCHEMA,
            schema_for!(crate::load::LoadSummary),
        ),
        ("gc", crate::gc::SCHEMA, schema_for!(crate::gc::GcAnalysis)),
        (
            "alloc",
            crate::alloc::SCHEMA,
            schema_for!(crate::alloc::AllocSummary),
        ),
        (
            "compare",
            crate::compare::SCHEMA,
            schema_for!(crate::compare::Comparison),
        ),
        (
            "heap.summary",
            crate::heap::SUMMARY_SCHEMA,
            schema_for!(crate::heap::HeapSummary),
        ),
        (
            "heap.diff",
            crate::heap::DIFF_SCHEMA,
            schema_for!(crate::heap::DiffReport),
        ),
        (
            "heap.leaks",
            crate::heap::LEAKS_SCHEMA,
            schema_for!(crate::heap::LeaksReport),
        ),
        (
            "attach",
            crate::attach::SCHEMA,
            schema_for!(crate::attach::AttachReport),
        ),
        (
            "fleet",
            crate::fleet::SCHEMA,
            schema_for!(crate::fleet::FleetReport),
        ),
    ]
    .into_iter()
    .map(|(stem, name, schema)| (stem, name, versioned(schema, name)))
    .collect()
}

/// Title the schema with its document name and pin the `schema` property to it: a
/// `leakhound.run/v1` schema accepts only documents that say they are `leakhound.run/v1`.
fn versioned(mut schema: Schema, name: &str) -> Schema {
    schema.insert("title".into(), name.into());
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert(
            "schema".into(),
            serde_json::json!({ "type": "string", "const": name }),
        );
    }
    schema
}

/// The text of one published file: pretty JSON and a final newline.
pub fn render(schema: &Schema) -> String {
    serde_json::to_string_pretty(schema).expect("a schema serialises") + "\n"
}
