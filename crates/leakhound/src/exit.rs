//! How leakhound ends: one readable line for every failure, and one table of exit codes.
//!
//! Users script around leakhound (CI gates), so a usage or tool error is always exit 2 and
//! never a panic backtrace or a multi-line clap banner, and every code means the same thing in
//! every command:
//!
//! | code | meaning | commands |
//! |---|---|---|
//! | 0   | done: no leak, fix proven, written | all |
//! | 1   | leak (an out-of-memory crash is a leak; `fleet`: any instance leaks) | run, attach, gc, heap leaks, fleet |
//! | 2   | usage, bad input or tool error | all |
//! | 3   | inconclusive, or no verdict reached yet (output closed early); `fleet`: too little data | run, attach, gc, fleet |
//! | 4   | the target failed (did not start, crashed without OOM, OOM while starting, most requests failed; `load`: not a single request succeeded) | run, load |
//! | 5   | fix not proven | compare |
//! | 6   | regression | compare |
//! | 10  | `--fail-on pressure`: allocation pressure | run |
//! | 11  | `--max-retained-per-request` exceeded | run |
//! | 12  | `--max-gc-share` exceeded | run |
//! | 130 | interrupted (Ctrl-C / SIGTERM) | run, attach, heap |
//!
//! Order in `run`: a failed target (4) and an interruption (130) keep their code; otherwise
//! the first of leak (1), pressure (10), retained (11), GC share (12) that fails, else the
//! verdict's code (0, 1, 3). A leak is 1 whether a budget also failed or not.
//!
//! A closed output (`leakhound … | head -1`) is not an error: the command stops quietly with
//! the code it had reached ([`reached`]), or 3 when it had reached none, as ripgrep does.

use std::io::{self, Write};
use std::process;
use std::sync::atomic::{AtomicI32, Ordering};

// The codes decided in the library crates are named here once, so the table above is the
// one place to read them (and `every_code_matches_the_table` keeps it true).
use leakhound_report::{compare, gate};
use leakhound_session::exit_code as session;

pub const OK: i32 = 0;
pub const LEAK: i32 = session::LEAK;
/// `load`: not a single request succeeded: the target failed (as `run`'s 4), never a leak's 1.
pub const NOTHING_SUCCEEDED: i32 = TARGET_FAILED;
/// Usage or tool error: bad flags, bad input files, I/O failures.
pub const USAGE: i32 = 2;
pub const INCONCLUSIVE: i32 = session::INCONCLUSIVE;
pub const TARGET_FAILED: i32 = session::TARGET_FAILED;
#[allow(dead_code)] // returned by the report crate; named here for the table
pub const NOT_PROVEN: i32 = compare::EXIT_NOT_PROVEN;
#[allow(dead_code)] // returned by the report crate; named here for the table
pub const REGRESSION: i32 = compare::EXIT_REGRESSION;
#[allow(dead_code)] // returned by the report crate; named here for the table
pub const PRESSURE: i32 = gate::EXIT_PRESSURE;
#[allow(dead_code)] // returned by the report crate; named here for the table
pub const RETAINED_BUDGET: i32 = gate::EXIT_RETAINED_BUDGET;
#[allow(dead_code)] // returned by the report crate; named here for the table
pub const GC_SHARE_BUDGET: i32 = gate::EXIT_GC_SHARE_BUDGET;
pub const INTERRUPTED: i32 = session::INTERRUPTED;

/// What a subcommand returns: `Ok(code)` for a finished run (see the table above), or an
/// error that becomes one line and exit 2.
pub type Outcome = anyhow::Result<i32>;

/// The code a command has reached so far; used when its output is closed under it.
static REACHED: AtomicI32 = AtomicI32::new(INCONCLUSIVE);

/// Record the code the command will end with, before it prints (so a closed pipe keeps it).
pub fn reached(code: i32) {
    REACHED.store(code, Ordering::Relaxed);
}

/// Whether an error is a write to a closed pipe (stdout or stderr read by `head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// A line on stderr that must never panic (`eprintln!` panics when stderr is a closed pipe).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Print a clap parse error as a single line (help and version still print in full).
pub fn clap_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            process::exit(
                if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    USAGE
                } else {
                    OK
                },
            );
        }
        _ => {
            let line = one_line(&e.render().to_string());
            let hint = command_hint(&e).unwrap_or_default();
            let _ = writeln!(io::stderr(), "leakhound: error: {line}{hint} (see --help)");
            process::exit(USAGE);
        }
    }
}

/// Clap's message on one line: its first line, plus the indented lines that follow it when it
/// ends with a colon (the names of the missing arguments).
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines().filter(|l| !l.trim().is_empty());
    let first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim()
        .trim_start_matches("error: ")
        .to_string();
    if !first.ends_with(':') {
        return first;
    }
    let names: Vec<&str> = rendered
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .map(str::trim)
        .collect();
    if names.is_empty() {
        first
    } else {
        format!("{first} {}", names.join(", "))
    }
}

/// `leakhound run node x.js`: the user meant a command; say where it goes.
fn command_hint(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("run") || args.iter().any(|a| a == "--") {
        return None;
    }
    let Some(ContextValue::String(bad)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    if bad.starts_with('-') {
        return None;
    }
    let at = args.iter().position(|a| a == bad)?;
    Some(format!(
        ": put the command after `--`: leakhound run [options] -- {}",
        args[at..].join(" ")
    ))
}

/// Turn a subcommand's outcome into the process exit code.
pub fn finish(outcome: Outcome) -> ! {
    match outcome {
        Ok(code) => process::exit(code),
        Err(e) if is_broken_pipe(&e) => process::exit(REACHED.load(Ordering::Relaxed)),
        Err(e) => {
            // `{:#}` joins the context chain on one line: "reading x.log: No such file".
            let msg = format!("{e:#}").replace('\n', " ");
            let _ = writeln!(io::stderr(), "leakhound: error: {msg}");
            process::exit(USAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_arguments_are_named_on_the_line() {
        let rendered = "error: the following required arguments were not provided:\n  <A>\n  <B>\n\nUsage: leakhound heap diff <A> <B>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "the following required arguments were not provided: <A>, <B>"
        );
        assert_eq!(
            one_line("error: unexpected argument 'x' found\n\nUsage: y\n"),
            "unexpected argument 'x' found"
        );
    }

    #[test]
    fn every_code_matches_the_table() {
        let table = [
            (OK, 0),
            (LEAK, 1),
            (gate::EXIT_LEAK, 1),
            (session::NO_LEAK, 0),
            (compare::EXIT_FIX_PROVEN, 0),
            (NOTHING_SUCCEEDED, 4),
            (USAGE, 2),
            (INCONCLUSIVE, 3),
            (TARGET_FAILED, 4),
            (NOT_PROVEN, 5),
            (REGRESSION, 6),
            (PRESSURE, 10),
            (RETAINED_BUDGET, 11),
            (GC_SHARE_BUDGET, 12),
            (INTERRUPTED, 130),
        ];
        for (code, documented) in table {
            assert_eq!(code, documented);
        }
    }

    #[test]
    fn broken_pipes_are_found_under_context() {
        let e = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("writing to stdout");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
