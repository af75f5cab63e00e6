//! Ctrl-C and SIGTERM for the commands whose work is a long computation (`heap summary|diff|
//! leaks` on big snapshots): the handlers set a flag the heap analysis checks
//! (`leakhound_heap::cancel`), so the command stops within moments with exit 130 and one
//! line. The library installs no handler of its own; this module is the binary's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

use crate::exit;

/// The flag Ctrl-C and SIGTERM set from now on. The handlers are installed before this
/// returns (a signal that arrives while the work runs is never the default, killing one).
/// A second signal ends the process at once with exit 130, for work that does not check.
pub fn flag() -> anyhow::Result<Arc<AtomicBool>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal watcher")?;
    let (mut int, mut term) = {
        let _in = rt.enter();
        (
            signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
            signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        )
    };
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    std::thread::spawn(move || {
        rt.block_on(async {
            for _ in 0..2 {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                if set.swap(true, Ordering::Relaxed) {
                    crate::note!("leakhound: interrupted");
                    std::process::exit(exit::INTERRUPTED);
                }
            }
        });
    });
    Ok(flag)
}

/// The one line and the code of a command stopped by [`flag`].
pub fn stopped() -> i32 {
    crate::note!("leakhound: interrupted");
    exit::reached(exit::INTERRUPTED);
    exit::INTERRUPTED
}
