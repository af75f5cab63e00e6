//! `leakhound completions SHELL` and `leakhound man`: generated from the clap definitions, so
//! every subcommand `leakhound --help` lists must appear in each.

mod common;

use common::leakhound;

/// The subcommands `leakhound --help` lists (help excluded).
fn subcommands() -> Vec<String> {
    let out = leakhound()
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let top = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    for must in ["run", "heap", "mcp", "completions", "man"] {
        assert!(names.iter().any(|n| n == must), "{must} not in {names:?}");
    }
    names
}

fn stdout_of(args: &[&str]) -> String {
    let out = leakhound().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shell_completes_every_subcommand() {
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        for n in &names {
            assert!(script.contains(n.as_str()), "{shell} completion lacks {n}");
        }
        // Subcommands of subcommands and flags are there too.
        assert!(
            script.contains("summary") && script.contains("max-duration"),
            "{shell}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = leakhound().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("leakhound: error:") && err.contains("tcsh"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH leakhound 1"), "{page}");
    assert!(
        page.contains(".SH SUBCOMMANDS") || page.contains(".SH COMMANDS"),
        "{page}"
    );
    for n in subcommands() {
        assert!(
            page.contains(&format!("leakhound\\-{n}(1)")),
            "man lacks {n}"
        );
    }
}

#[test]
fn man_dir_writes_a_page_per_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let out = leakhound()
        .args(["man", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in subcommands() {
        let page = tmp.path().join(format!("leakhound-{n}.1"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(text.contains(".TH leakhound-"), "{text}");
    }
    assert!(tmp.path().join("leakhound-heap-summary.1").exists());
    assert!(tmp.path().join("leakhound.1").exists());
}
