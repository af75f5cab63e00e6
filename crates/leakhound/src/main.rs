//! The `leakhound` binary: clap definitions and wiring, nothing else.
//!
//! Every subcommand lives in its own `cmd_*.rs` module; the library crates do the work.
//! Errors end as one line on stderr and exit code 2 (see [`exit`]).

mod cmd_alloc;
mod cmd_attach;
mod cmd_compare;
mod cmd_completions;
mod cmd_fleet;
mod cmd_gc;
mod cmd_heap;
mod cmd_load;
mod cmd_report;
mod cmd_run;
mod culprit_args;
mod exit;
mod interrupt;
mod load_args;
mod mcp;
mod metrics_server;
mod output;
mod workload_args;

use clap::{Parser, Subcommand};

/// Find memory leaks in Node.js services before production does.
#[derive(Parser, Debug)]
#[command(name = "leakhound", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a Node service, drive load at it, watch its retained memory, and decide whether it leaks.
    Run(Box<cmd_run::RunCmd>),
    /// Drive HTTP load at a URL (or the endpoints of a --config file) and summarise what happened.
    Load(Box<cmd_load::LoadCmd>),
    /// Read a V8 --trace-gc log (a file, or - for stdin) and judge the live set.
    Gc(cmd_gc::GcCmd),
    /// Analyse .heapsnapshot files: summary, diff, leaks.
    Heap(cmd_heap::HeapCmd),
    /// Summarise a sampling heap profile (.heapprofile): which code allocates, with file:line.
    Alloc(cmd_alloc::AllocCmd),
    /// Render a saved `run --json` result as a self-contained HTML report and/or Markdown.
    Report(cmd_report::ReportCmd),
    /// Compare two `run --json` results (before and after a fix): fix proven, not proven or regression.
    Compare(cmd_compare::CompareCmd),
    /// Watch a running Node process (by PID, or an open inspector) and decide whether it leaks.
    Attach(cmd_attach::AttachCmd),
    /// Find the leaking instances of a fleet from the heap series a Prometheus server holds.
    Fleet(cmd_fleet::FleetCmd),
    /// Serve leakhound's commands as MCP tools over stdio (for agents): run, attach, heap_summary, heap_leaks, gc, alloc, compare.
    Mcp(mcp::McpCmd),
    /// Print a shell completion script: bash, zsh, fish or powershell.
    Completions(cmd_completions::CompletionsCmd),
    /// Print the man page (roff): `leakhound man > leakhound.1`.
    Man(cmd_completions::ManCmd),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => exit::clap_error(e),
    };
    let code = match cli.command {
        Command::Run(c) => cmd_run::run(*c),
        Command::Load(c) => cmd_load::run(*c),
        Command::Gc(c) => cmd_gc::run(c),
        Command::Heap(c) => cmd_heap::run(c),
        Command::Alloc(c) => cmd_alloc::run(c),
        Command::Report(c) => cmd_report::run(c),
        Command::Compare(c) => cmd_compare::run(c),
        Command::Attach(c) => cmd_attach::run(c),
        Command::Fleet(c) => cmd_fleet::run(c),
        Command::Mcp(c) => mcp::run(c),
        Command::Completions(c) => cmd_completions::completions(c),
        Command::Man(c) => cmd_completions::man(c),
    };
    exit::finish(code)
}
