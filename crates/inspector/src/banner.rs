//! The stderr banner Node prints when its inspector listens.

/// The WebSocket URL from a `Debugger listening on ws://127.0.0.1:PORT/UUID` line.
///
/// Only the first banner line is stable across Node versions (the help URL after it changes),
/// so this looks at one line and nothing else.
pub fn parse_banner(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("Debugger listening on ")?;
    let url = rest.split_whitespace().next()?;
    if url.starts_with("ws://") {
        Some(url.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_v20_banner() {
        let l = "Debugger listening on ws://127.0.0.1:38595/c4803539-7e84-488b-b06a-4f1765caca6d";
        assert_eq!(
            parse_banner(l).as_deref(),
            Some("ws://127.0.0.1:38595/c4803539-7e84-488b-b06a-4f1765caca6d")
        );
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(
            parse_banner("For help, see: https://nodejs.org/en/docs/inspector"),
            None
        );
        assert_eq!(parse_banner("Debugger ending on ws://127.0.0.1:1/x"), None);
        assert_eq!(parse_banner("Debugger listening on http://x"), None);
        assert_eq!(parse_banner(""), None);
    }
}
