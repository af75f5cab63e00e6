//! The check before a heap snapshot lives in the session crate (`run` makes the same check
//! before it arms Node's snapshot at the heap limit); re-exported here for `attach`.

pub use leakhound_session::snapshot_room::*;
