//! `leakhound.heap.summary/v1`, `leakhound.heap.diff/v1` and `leakhound.heap.leaks/v1`: what
//! `leakhound heap summary|diff|leaks --json` write.
//!
//! The producer is `leakhound-heap`, which re-exports these types under their old paths
//! (`leakhound_heap::Summary` is [`HeapSummary`]). Byte figures are bytes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON schema name of [`HeapSummary`].
pub const SUMMARY_SCHEMA: &str = "leakhound.heap.summary/v1";
/// The JSON schema name of [`DiffReport`].
pub const DIFF_SCHEMA: &str = "leakhound.heap.diff/v1";
/// The JSON schema name of [`LeaksReport`].
pub const LEAKS_SCHEMA: &str = "leakhound.heap.leaks/v1";

/// One step of a retainer path: the edge taken and the node it reached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Step {
    pub edge: String,
    /// The snapshot's own edge type name (`property`, `element`, `context` ...).
    pub edge_type: String,
    pub class: String,
    pub node_id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassRow {
    pub class: String,
    pub count: u64,
    pub self_bytes: u64,
    /// DevTools' class "retained size": instances nested under another instance count once.
    pub retained_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NodeRef {
    pub class: String,
    pub node_id: u64,
    pub retained_bytes: u64,
    pub path: String,
    pub path_steps: Vec<Step>,
}

/// What holds a suspect's share of the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SuspectKind {
    /// One object retains the share.
    Object,
    /// Many instances of one class together do.
    Class,
}

impl SuspectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspectKind::Object => "object",
            SuspectKind::Class => "class",
        }
    }
}

impl std::fmt::Display for SuspectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Suspect {
    /// `object` (one object retains the share) or `class` (many instances together do).
    pub kind: SuspectKind,
    pub class: String,
    pub instances: u64,
    pub retained_bytes: u64,
    pub percent: f64,
    pub accumulation_point: Option<NodeRef>,
    pub sentence: String,
}

/// `leakhound.heap.summary/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HeapSummary {
    /// Always [`SUMMARY_SCHEMA`].
    pub schema: String,
    pub total_bytes: u64,
    pub node_count: u64,
    pub edge_count: u64,
    pub class_count: u64,
    pub top_by_retained: Vec<ClassRow>,
    pub top_by_self: Vec<ClassRow>,
    pub suspects: Vec<Suspect>,
    /// Copies of one string value held more than once (memlab's and dotMemory's "duplicated
    /// strings" inspection); absent in documents from before the inspections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicated_strings: Option<DuplicatedStrings>,
    /// EventEmitter-like objects (an `_events` object) and their listeners per event, the
    /// most listeners first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<EmitterListeners>,
}

/// The heap's duplicated strings: the same text stored in several string objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DuplicatedStrings {
    /// Bytes that one copy per value would save: the sum over values of (copies - 1) × size.
    pub wasted_bytes: u64,
    /// Distinct values held more than once.
    pub values: u64,
    /// String objects beyond the first of each value.
    pub extra_copies: u64,
    /// The values wasting most, most first.
    pub top: Vec<DuplicatedString>,
}

/// One duplicated string value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DuplicatedString {
    /// The text, cut to about 80 characters (`truncated` says so). Program data: renderers
    /// escape it.
    pub value: String,
    #[serde(default)]
    pub truncated: bool,
    /// String objects holding this text.
    pub count: u64,
    /// The size of one copy.
    pub bytes_each: u64,
    /// (count - 1) × bytes_each.
    pub wasted_bytes: u64,
}

/// The listeners of one event of one emitter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EmitterListeners {
    /// The emitter's class (`Server`, `Bus`, `process`).
    pub emitter: String,
    pub node_id: u64,
    /// The event name (`request`, `config:reload`). Program data: renderers escape it.
    pub event: String,
    pub listeners: u64,
    /// The shortest retainer path to the emitter.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
}

/// What kind of collection grew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CollectionKind {
    Map,
    Set,
    Array,
    /// A plain object used as a dictionary (its properties are the entries).
    Object,
}

impl CollectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionKind::Map => "Map",
            CollectionKind::Set => "Set",
            CollectionKind::Array => "Array",
            CollectionKind::Object => "object-as-map",
        }
    }
}

/// One collection (the same object id in every snapshot compared) whose entries grew from
/// snapshot to snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CollectionGrowth {
    pub kind: CollectionKind,
    /// The object's class (`Map`, `Array`, `Object`, or a subclass's name).
    pub class: String,
    pub node_id: u64,
    /// Entries in each snapshot, oldest first. Entries whose key and value are both small
    /// integers (or an array's small-integer elements) are not in a snapshot and not counted.
    pub entries: Vec<u64>,
    /// Retained bytes in each snapshot, oldest first.
    pub retained_bytes: Vec<u64>,
    /// Entries in the last snapshot minus the first.
    pub entries_growth: u64,
    /// Retained bytes in the last snapshot minus the first.
    pub bytes_growth: i64,
    /// The name it is held by in the last snapshot (`responseCache`), when a property or
    /// variable holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The shortest retainer path in the last snapshot.
    pub path: String,
    /// The app-first path (as in [`LeakGroup::app_path`]), when an app function's scope
    /// holds it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_path: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassDiff {
    pub class: String,
    pub new_count: u64,
    pub new_bytes: u64,
    pub deleted_count: u64,
    pub deleted_bytes: u64,
    pub count_delta: i64,
    pub bytes_delta: i64,
}

/// `leakhound.heap.diff/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiffReport {
    /// Always [`DIFF_SCHEMA`].
    pub schema: String,
    pub total_before: u64,
    pub total_after: u64,
    pub classes: Vec<ClassDiff>,
    /// Collections present in both snapshots with more entries in B, most growth first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grown_collections: Vec<CollectionGrowth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LeakGroup {
    pub class: String,
    pub instances: u64,
    pub retained_bytes: u64,
    pub self_bytes: u64,
    pub percent_of_heap: f64,
    /// The named holder on the path (`responseCache (Map)`), when there is one.
    pub holder: Option<String>,
    pub path: String,
    pub path_steps: Vec<Step>,
    /// The path a user reads: from the app's function whose scope holds the variable, Node's
    /// hops before it folded into one step (`(Node internals: timers) > request (Function) >
    /// responseCache (Map)`), ending in the holder. Empty when no app function's scope holds
    /// the group (then `path` stands).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_path: Vec<String>,
    /// The whole route from the roots that `app_path` stands for (often not the shortest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_full_path: Option<String>,
    pub example_node_id: u64,
    /// Objects of this class on this path shape in S1 and in S3, whatever their age: a leak
    /// grows the population, a full bounded cache only replaces its members.
    pub population: [u64; 2],
    pub significant: bool,
    pub sentence: String,
}

/// `leakhound.heap.leaks/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LeaksReport {
    /// Always [`LEAKS_SCHEMA`].
    pub schema: String,
    pub totals: [u64; 3],
    pub leaked_objects: u64,
    pub leaked_retained_bytes: u64,
    pub significant: bool,
    pub groups: Vec<LeakGroup>,
    /// Collections present in all three snapshots whose entries grew from each to the next,
    /// most growth first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grown_collections: Vec<CollectionGrowth>,
}
