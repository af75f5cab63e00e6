//! Watching a Node process leakhound did not start (`leakhound attach`).
//!
//! `run` is the lab: leakhound starts the service and drives it. Here the process is already
//! running, driven by its own traffic: leakhound opens its inspector (SIGUSR1, only for a
//! Node process that handles it) or uses one already open, samples memory on a schedule, and
//! regresses the post-GC heap on time. Everything it changes in the process (a GC observer,
//! the sampling profiler, the inspector itself) is undone on detach, Ctrl-C included.
//!
//! Modules: [`target`] (which process, which port, from `/proc`), [`discover`] (SIGUSR1 and
//! `/json/list`), [`observer`] (the JavaScript leakhound evaluates in the process),
//! [`headroom`] (the check before a snapshot), [`analysis`] (the verdict), [`findings`]
//! (snapshot suspects), [`watch`] (the schedule and the detach).

pub mod analysis;
pub mod discover;
pub mod error;
pub mod findings;
pub mod headroom;
pub mod observer;
pub mod target;
pub mod watch;

pub use error::LiveError;
pub use target::{parse_inspect_addr, Target};
pub use watch::{attach, AttachOptions, Hooks};
