//! How leakhound ends: one readable line for every failure, and a documented exit code.
//!
//! Users script around leakhound (CI gates), so a usage or tool error is always exit 2 and
//! never a panic backtrace or a multi-line clap banner.

use std::process;

/// Usage or tool error: bad flags, bad input files, I/O failures.
pub const USAGE: i32 = 2;

/// What a subcommand returns: `Ok(code)` for a finished run (0, 1, 3, 4 ... as the command
/// documents), or an error that becomes one line and exit 2.
pub type Outcome = anyhow::Result<i32>;

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
                    0
                },
            );
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim()
                .trim_start_matches("error: ");
            eprintln!("leakhound: error: {first} (see --help)");
            process::exit(USAGE);
        }
    }
}

/// Turn a subcommand's outcome into the process exit code.
pub fn finish(outcome: Outcome) -> ! {
    match outcome {
        Ok(code) => process::exit(code),
        Err(e) => {
            // `{:#}` joins the context chain on one line: "reading x.log: No such file".
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("leakhound: error: {msg}");
            process::exit(USAGE);
        }
    }
}
