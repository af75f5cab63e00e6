//! Stopping a long analysis when asked (the binary's Ctrl-C / SIGTERM): a 1 GB snapshot takes
//! tens of seconds, and a user who gives up must not have to kill -9.
//!
//! The library installs no signal handler. The caller owns a flag (`Arc<AtomicBool>`, set by
//! its handler) and runs the work under it with [`run`]; the long loops call [`point`] with
//! their counter (or the index of the node they visit, each visited once), which looks at
//! the flag only once every [`EVERY`] iterations (one compare and a predictable branch per
//! iteration otherwise: no measurable slowdown). When the flag is set, [`point`] unwinds to
//! [`run`] with an [`Interrupted`] payload, which returns it as a typed error: the partial
//! work is dropped whole. Unwinding (as salsa's `Cancelled::throw` does) rather than a
//! `Result` through every loop keeps the checks one line each inside the loops' existing
//! structure; it uses `resume_unwind`, so no panic message is printed.
//!
//! The flag is per thread: [`run`] sets it for the calling thread. Work on the helper
//! threads the analysis spawns (shallow sizes, class names: short passes) is not checked;
//! the main thread's next check stops the whole.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The analysis stopped because its flag was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Iterations between two looks at the flag (a power of two): on a debug build the slowest
/// loop does about 10M iterations a second, so a stop is seen within milliseconds.
pub const EVERY: usize = 1 << 16;

thread_local! {
    static FLAG: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Run `f` so that the analysis in it stops at its next check once `flag` is set. Nested
/// calls restore the outer flag. A panic other than the stop goes on unwinding.
pub fn run<T>(flag: &Arc<AtomicBool>, f: impl FnOnce() -> T) -> Result<T, Interrupted> {
    if flag.load(Ordering::Relaxed) {
        return Err(Interrupted);
    }
    let outer = FLAG.with(|c| c.replace(Some(flag.clone())));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    FLAG.with(|c| *c.borrow_mut() = outer);
    match r {
        Ok(v) => Ok(v),
        Err(payload) if payload.is::<Interrupted>() => Err(Interrupted),
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// A check in a loop: looks at the flag when `i` is a multiple of [`EVERY`].
#[inline(always)]
pub fn point(i: usize) {
    if i.is_multiple_of(EVERY) {
        check();
    }
}

/// Stop now if the flag of the running [`run`] is set (between two stages).
#[cold]
#[inline(never)]
pub fn check() {
    let stop = FLAG.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    });
    if stop {
        panic::resume_unwind(Box::new(Interrupted));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_flag_stops_the_loop_at_its_next_check() {
        let flag = Arc::new(AtomicBool::new(false));
        let mut seen = 0usize;
        let r = run(&flag, || {
            for i in 0..10 * EVERY {
                if i == EVERY + 5 {
                    flag.store(true, Ordering::Relaxed);
                }
                point(i);
                seen = i;
            }
        });
        assert_eq!(r, Err(Interrupted));
        // Stopped at the first check after the flag was set, not at the end.
        assert_eq!(seen, 2 * EVERY - 1);
    }

    #[test]
    fn without_the_flag_the_work_finishes_and_checks_outside_run_do_nothing() {
        let flag = Arc::new(AtomicBool::new(false));
        let r = run(&flag, || {
            (0..3 * EVERY).inspect(|&i| point(i)).sum::<usize>()
        });
        assert_eq!(r, Ok((0..3 * EVERY).sum()));
        // Outside `run` nothing is installed: a check is a no-op.
        check();
        // A flag set before the start: no work at all.
        flag.store(true, Ordering::Relaxed);
        let mut ran = false;
        assert_eq!(run(&flag, || ran = true), Err(Interrupted));
        assert!(!ran);
    }

    #[test]
    fn other_panics_keep_unwinding() {
        let flag = Arc::new(AtomicBool::new(false));
        let r = panic::catch_unwind(|| run(&flag, || panic!("a real bug")));
        let payload = r.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a real bug"));
        // The flag is uninstalled after a panic too.
        check();
    }
}
