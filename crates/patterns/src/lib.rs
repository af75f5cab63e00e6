//! Known library leak patterns (LeakCanary's library-leak matchers, for Node): when a leak
//! runs through express-session's `MemoryStore`, a prom-client metric's `hashMap` or a
//! module-scope DataLoader, the user needs the library's known fix more than a retainer path.
//!
//! The patterns live in one data file, `patterns.toml` (compiled in), so adding one is adding
//! an entry there (see `docs/library-patterns.md`). Matching is a pure function of the
//! evidence a run gathered ([`Evidence`]: heap-snapshot suspects, surviving allocation
//! stacks, the target's stderr warnings and the app's source files), so every pattern is
//! tested without starting Node.

mod alloc;
mod app_line;
mod details;
mod evidence;
mod matching;
mod steps;
mod table;

pub use evidence::{keep_warning, AllocStack, Evidence, Frame, SourceFile, Suspect};
pub use matching::match_patterns;
pub use table::{parse_table, table, AllocRule, Pattern, StderrRule, SuspectRule, TableError};
