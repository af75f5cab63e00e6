//! `leakhound run`: the target's lifecycle, the phases of load, the sampling after forced
//! full GCs, and the decision.
//!
//! The layers, each depending only on the ones before it:
//! - data and pure statistics: [`stats`], [`verdict`] (series assessment), [`observations`]
//!   (what a run saw), [`failed_requests`], [`pressure`], [`inconclusive`];
//! - the decision: [`decide`] (a pure function of the observations), then its words
//!   ([`evidence`]) and its document ([`report`]);
//! - the edges that touch processes and sockets: [`target`], [`culprit`], and the driving loop
//!   [`run`] with its state ([`state`]) and its ending ([`conclude`]). The load itself is
//!   `leakhound-load`'s engine.

mod attach;
pub mod attribution;
pub mod axis_words;
mod checkpoint;
mod conclude;
pub mod culprit;
pub mod culprit_findings;
pub mod culprit_line;
pub mod culprit_options;
pub mod death_arming;
pub mod death_probe;
pub mod death_suspects;
pub mod decide;
pub mod endpoints;
pub mod error;
pub mod evidence;
pub mod exit_code;
pub mod failed_requests;
pub mod finding;
pub mod gc_events;
pub mod gclog;
pub mod group_guard;
pub mod growth_scan;
pub mod heap_at_death;
pub mod heap_flag;
pub mod holder_walk;
pub mod inconclusive;
mod library_patterns;
mod load_cmd;
mod load_process;
mod load_round;
pub mod mem_line;
pub mod mix;
pub mod observations;
pub mod oom_deaths;
pub mod options;
pub mod package_calls;
pub mod package_lines;
mod pattern_culprit;
pub mod preload;
pub mod pressure;
mod process_culprits;
mod process_roles;
mod process_run;
mod process_verdicts;
mod processes;
pub mod procfs;
pub mod progress;
pub mod report;
mod restart_wait;
mod restarts;
pub mod rss_growth;
pub mod run;
mod sampling;
pub mod script_maps;
pub mod shape;
pub mod snapshot_room;
mod source_excerpts;
pub mod source_files;
pub mod source_lines;
pub mod startup;
mod state;
pub mod stats;
pub mod suspect_source;
pub mod target;
mod thread_verdicts;
mod threads;
pub mod time_driven;
pub mod time_shape;
pub mod verdict;
pub mod work_axis;

pub use options::{default_plan, LoadCmd, RunOptions, RunOutcome};
pub use progress::Progress;
pub use run::run;
