//! Whether `run` arms the heap at death ([`crate::heap_at_death`]) for a heap of a given size:
//! a pure decision, so every case is a unit test.
//!
//! Two costs grow with the heap: memory (V8 builds the snapshot inside the dying process,
//! about as much again as the heap) and time (V8 stops the process while it writes: a 48 MB
//! heap took well under a second, a 128 MB heap of small objects over a minute on a busy
//! machine, and the run waits for the file). Memory is a hard limit: when the machine or the
//! cgroup cannot hold twice the heap, it is never armed, whatever was asked. Time is a
//! surprise only for a user who did not ask for snapshots: so by default only heaps up to
//! [`DEFAULT_MAX_MB`] are armed, and a note on the OOM run says how to get a bigger one;
//! `--snapshots DIR` is the explicit opt-in to snapshots (a user who gave it already accepts
//! the pauses of three of them), so with it any heap the memory allows is armed, and the wait
//! for the file grows with the heap ([`write_limit`]). A user who armed Node's flag
//! themselves keeps theirs unchecked.

use std::time::Duration;

use crate::snapshot_room::{self, Room};

/// The biggest old space armed without `--snapshots DIR`: small enough that the pause to write
/// it stays within seconds.
pub const DEFAULT_MAX_MB: u64 = 64;

/// What to do about the heap at death.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arming {
    /// Arm it (or the user already did).
    Arm,
    /// Not armed by default for a heap this big: the note for the OOM run says how.
    TooBig(String),
    /// The machine or the cgroup cannot hold it: the warning for the OOM run.
    NoRoom(String),
}

/// The decision for an old space of `heap_mb`: `user_armed` when the user's own
/// `--heapsnapshot-near-heap-limit` is given, `opted_in` with `--snapshots DIR`, `room` the
/// machine's and the cgroup's memory.
pub fn decide(user_armed: bool, opted_in: bool, heap_mb: u64, room: &Room) -> Arming {
    if user_armed {
        return Arming::Arm;
    }
    if !opted_in && heap_mb > DEFAULT_MAX_MB {
        return Arming::TooBig(format!(
            "no heap at death: by default leakhound arms Node's snapshot near the heap limit for heaps up to {DEFAULT_MAX_MB} MB (the process answers nothing while V8 writes it, a minute or more for a bigger heap); rerun with --snapshots DIR to arm it for this {heap_mb} MB heap too"
        ));
    }
    match headroom(room, heap_mb) {
        Ok(()) => Arming::Arm,
        Err(w) => Arming::NoRoom(w),
    }
}

/// Whether a snapshot of a heap limited to `heap_mb` fits (Node needs about twice the heap
/// to write one): `Err` with the warning when it does not.
pub fn headroom(room: &Room, heap_mb: u64) -> Result<(), String> {
    snapshot_room::check(room, heap_mb as f64 * 1048576.0).map_err(|e| {
        format!(
            "no heap snapshot at death: {}",
            e.trim_start_matches("refusing a heap snapshot: ")
        )
    })
}

/// How long the run waits for the target to write its snapshot at death: a minute, and a
/// second more per 4 MB above 240 MB (a 1 GB heap: 4 minutes), so an opted-in big heap is
/// not cut off half written.
pub fn write_limit(heap_mb: u64) -> Duration {
    Duration::from_secs(60.max(heap_mb / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1048576.0;

    fn room(avail_mb: f64, limit_mb: Option<f64>, used_mb: f64) -> Room {
        Room {
            mem_available: Some(avail_mb * MIB),
            cgroup_limit: limit_mb.map(|l| l * MIB),
            cgroup_usage: Some(used_mb * MIB),
        }
    }

    #[test]
    fn small_heaps_are_armed_by_default_big_ones_on_opt_in() {
        let plenty = room(8192.0, None, 0.0);
        assert_eq!(decide(false, false, 48, &plenty), Arming::Arm);
        assert_eq!(decide(false, false, 64, &plenty), Arming::Arm);
        let Arming::TooBig(note) = decide(false, false, 256, &plenty) else {
            panic!("a 256 MB heap is not armed by default");
        };
        assert!(note.contains("--snapshots DIR"), "{note}");
        assert!(note.contains("this 256 MB heap"), "{note}");
        // --snapshots DIR: any heap the memory allows.
        assert_eq!(decide(false, true, 256, &plenty), Arming::Arm);
        assert_eq!(decide(false, true, 2048, &plenty), Arming::Arm);
    }

    #[test]
    fn memory_is_a_hard_limit_even_when_opted_in() {
        // 512 MB needs about 1 GiB: the machine has 800 MiB, the cgroup 1.5 GiB with 1 used.
        let Arming::NoRoom(w) = decide(false, true, 512, &room(800.0, None, 0.0)) else {
            panic!("no room on the machine");
        };
        assert!(w.starts_with("no heap snapshot at death: 800 MiB"), "{w}");
        let Arming::NoRoom(w) = decide(false, true, 512, &room(8192.0, Some(1536.0), 1024.0))
        else {
            panic!("no room in the cgroup");
        };
        assert!(w.contains("512 MiB left under its 1536 MiB limit"), "{w}");
        // Small heaps too.
        assert!(matches!(
            decide(false, false, 48, &room(60.0, None, 0.0)),
            Arming::NoRoom(_)
        ));
        // Unknown figures do not stop it.
        assert_eq!(decide(false, true, 4096, &Room::default()), Arming::Arm);
    }

    #[test]
    fn the_users_own_flag_is_theirs() {
        assert_eq!(
            decide(true, false, 4096, &room(10.0, None, 0.0)),
            Arming::Arm
        );
    }

    #[test]
    fn the_wait_for_the_file_grows_with_the_heap() {
        assert_eq!(write_limit(48), Duration::from_secs(60));
        assert_eq!(write_limit(240), Duration::from_secs(60));
        assert_eq!(write_limit(1024), Duration::from_secs(256));
    }

    #[test]
    fn no_snapshot_when_twice_the_heap_does_not_fit() {
        assert!(headroom(&room(4096.0, None, 0.0), 128).is_ok());
        let w = headroom(&room(200.0, None, 0.0), 128).unwrap_err();
        assert!(
            w.starts_with("no heap snapshot at death: 200 MiB of memory available"),
            "{w}"
        );
        assert!(w.contains("256 MiB"), "{w}");
        let w = headroom(&room(4096.0, Some(512.0), 400.0), 128).unwrap_err();
        assert!(w.contains("112 MiB left under its 512 MiB limit"), "{w}");
        assert!(headroom(&room(4096.0, Some(1024.0), 400.0), 128).is_ok());
        // Unknown figures do not stop it.
        assert!(headroom(&Room::default(), 1 << 20).is_ok());
    }
}
