//! The old-space size the target really runs with. leakhound gives Node
//! `--max-old-space-size=<--heap-mb>` through `NODE_OPTIONS`, but a user who sets the flag
//! themselves (`-- node --max-old-space-size=512 app.js`, or in their own `NODE_OPTIONS`)
//! means it: theirs is used, and it is the limit that leakhound prints and reasons with.
//!
//! Node's rules: flags on the command line come after `NODE_OPTIONS`, and the last
//! occurrence of a flag wins; V8 reads `_` and `-` in flag names alike; the value must be
//! joined with `=` (`--max-old-space-size 512` is refused).

/// Where the old-space size comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapSource {
    /// leakhound's `--heap-mb`.
    HeapMb,
    /// The user's `--max-old-space-size` on the command after `--`.
    CommandLine,
    /// The user's `--max-old-space-size` in the inherited `NODE_OPTIONS`.
    NodeOptions,
}

/// The old-space size the target runs with, in MB, and whose it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OldSpace {
    pub mb: u64,
    pub source: HeapSource,
}

impl OldSpace {
    /// Whether leakhound must add its own flag (it must not override the user's).
    pub fn ours(&self) -> bool {
        self.source == HeapSource::HeapMb
    }

    /// `--max-old-space-size=512 (yours, from the command line)`, for the progress line.
    pub fn describe(&self) -> String {
        let whose = match self.source {
            HeapSource::HeapMb => "",
            HeapSource::CommandLine => " (yours, from the command line)",
            HeapSource::NodeOptions => " (yours, from NODE_OPTIONS)",
        };
        format!("--max-old-space-size={}{whose}", self.mb)
    }
}

/// The size of a `--max-old-space-size=N` / `--max_old_space_size=N` argument.
fn flag_value(arg: &str) -> Option<u64> {
    let (name, value) = arg.strip_prefix("--")?.split_once('=')?;
    if name.replace('_', "-") != "max-old-space-size" {
        return None;
    }
    value.trim().parse().ok()
}

/// Options of `node` that take the next argument as their value (so that value is not the
/// script that ends node's own options).
const NODE_VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "-C",
    "--conditions",
    "--inspect-port",
    "--title",
    "--env-file",
    "--diagnostic-dir",
];

/// The arguments Node itself reads: for `node` everything before the script (or `-e`/`-p`
/// code, or `--`); for a wrapper (`npx tsx`, `ts-node`, `nodemon`) every argument, since
/// those pass node flags through.
pub(crate) fn node_args(command: &[String]) -> &[String] {
    let Some((prog, args)) = command.split_first() else {
        return &[];
    };
    let base = std::path::Path::new(prog)
        .file_name()
        .and_then(|b| b.to_str())
        .unwrap_or(prog);
    if !matches!(base, "node" | "nodejs" | "node.exe") {
        return args;
    }
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" || !a.starts_with('-') || a == "-" {
            break;
        }
        if matches!(a, "-e" | "--eval" | "-p" | "--print") {
            // The code follows; node's options end with it.
            break;
        }
        if NODE_VALUE_OPTIONS.contains(&a) {
            i += 1;
        }
        i += 1;
    }
    &args[..i.min(args.len())]
}

/// The old-space size the target will run with: the command line's flag, else the last one
/// in `NODE_OPTIONS`, else `heap_mb`.
pub fn old_space(command: &[String], node_options: Option<&str>, heap_mb: u64) -> OldSpace {
    if let Some(mb) = node_args(command).iter().rev().find_map(|a| flag_value(a)) {
        return OldSpace {
            mb,
            source: HeapSource::CommandLine,
        };
    }
    if let Some(mb) = node_options
        .unwrap_or("")
        .split_whitespace()
        .rev()
        .find_map(flag_value)
    {
        return OldSpace {
            mb,
            source: HeapSource::NodeOptions,
        };
    }
    OldSpace {
        mb: heap_mb,
        source: HeapSource::HeapMb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_command_lines_flag_wins() {
        let o = old_space(
            &cmd("node --max-old-space-size=512 server.js"),
            Some("--max-old-space-size=300"),
            128,
        );
        assert_eq!(
            o,
            OldSpace {
                mb: 512,
                source: HeapSource::CommandLine
            }
        );
        assert!(!o.ours());
        assert_eq!(
            o.describe(),
            "--max-old-space-size=512 (yours, from the command line)"
        );
        // Underscores, after a value-taking option, the last one of several.
        let o = old_space(
            &cmd(
                "/usr/bin/node -r ./pre.js --max_old_space_size=256 --max-old-space-size=384 s.js",
            ),
            None,
            128,
        );
        assert_eq!(o.mb, 384);
        // Wrappers pass node flags through.
        assert_eq!(
            old_space(&cmd("npx tsx --max-old-space-size=700 app.ts"), None, 128).mb,
            700
        );
    }

    #[test]
    fn the_apps_own_arguments_are_not_nodes() {
        let o = old_space(&cmd("node server.js --max-old-space-size=512"), None, 128);
        assert_eq!(o.mb, 128);
        assert!(o.ours());
        let o = old_space(
            &cmd("node -e require('./x') --max-old-space-size=512"),
            None,
            96,
        );
        assert_eq!(o.mb, 96);
        // Node refuses the space-separated form; it is not a limit.
        assert!(old_space(&cmd("node --max-old-space-size 512 s.js"), None, 128).ours());
    }

    #[test]
    fn node_options_flag_is_used_when_the_command_has_none() {
        let o = old_space(
            &cmd("npm start"),
            Some("--enable-source-maps --max-old-space-size=200 --max-old-space-size=640"),
            128,
        );
        assert_eq!(
            o,
            OldSpace {
                mb: 640,
                source: HeapSource::NodeOptions
            }
        );
        assert_eq!(
            o.describe(),
            "--max-old-space-size=640 (yours, from NODE_OPTIONS)"
        );
        assert_eq!(
            old_space(&cmd("node s.js"), Some("--max-old-space-size=x"), 64).mb,
            64
        );
        assert_eq!(old_space(&[], None, 64).mb, 64);
    }
}
