//! The `--help` of every command and subcommand, snapshot-tested: a change to the command-line
//! grammar (a flag renamed, a default changed, an exit code added) shows in review as a change
//! to a `.snap` file under `tests/snapshots/`. Regenerate with `INSTA_UPDATE=always cargo test
//! -p leakhound --test help_snapshots` and review the diff.

mod common;

use common::leakhound;

/// `leakhound <args> --help`, at a fixed width so the wrapping does not depend on the terminal.
fn help(args: &[&str]) -> String {
    let out = leakhound()
        .args(args)
        .arg("--help")
        .env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

macro_rules! help_snapshot {
    ($name:ident, [$($arg:expr),*]) => {
        #[test]
        fn $name() {
            let text = help(&[$($arg),*]);
            assert!(text.contains("Usage: leakhound"), "{text}");
            insta::assert_snapshot!(stringify!($name), text);
        }
    };
}

help_snapshot!(top, []);
help_snapshot!(run, ["run"]);
help_snapshot!(load, ["load"]);
help_snapshot!(gc, ["gc"]);
help_snapshot!(heap, ["heap"]);
help_snapshot!(heap_summary, ["heap", "summary"]);
help_snapshot!(heap_diff, ["heap", "diff"]);
help_snapshot!(heap_leaks, ["heap", "leaks"]);
help_snapshot!(alloc, ["alloc"]);
help_snapshot!(report, ["report"]);
help_snapshot!(compare, ["compare"]);
help_snapshot!(attach, ["attach"]);
help_snapshot!(fleet, ["fleet"]);
help_snapshot!(mcp, ["mcp"]);
help_snapshot!(completions, ["completions"]);
help_snapshot!(man, ["man"]);

/// Every subcommand listed by `leakhound --help` has a snapshot above.
#[test]
fn every_command_is_covered() {
    let top = help(&[]);
    let listed: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A wrapped description continues on a line indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert_eq!(
        listed,
        [
            "run",
            "load",
            "gc",
            "heap",
            "alloc",
            "report",
            "compare",
            "attach",
            "fleet",
            "mcp",
            "completions",
            "man"
        ],
        "{top}"
    );
}
