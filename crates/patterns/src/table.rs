//! The pattern table: `patterns.toml`, parsed once and checked (unique ids, every pattern
//! with a rule, every rule with a condition), so a broken entry fails the unit tests rather
//! than matching nothing in the field.

use serde::Deserialize;
use std::sync::OnceLock;

/// The table as shipped.
const TABLE: &str = include_str!("../patterns.toml");

/// The table cannot be read: the TOML is malformed or an entry is incomplete.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("patterns.toml: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("patterns.toml: {0}")]
    Invalid(String),
}

/// One known leak pattern (see the header of `patterns.toml` for each field's meaning).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    pub id: String,
    pub name: String,
    pub package: String,
    pub why: String,
    pub fix: String,
    #[serde(default)]
    pub app_calls: Vec<String>,
    #[serde(default = "yes")]
    pub scan_files: bool,
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub suspect: Vec<SuspectRule>,
    #[serde(default)]
    pub alloc: Vec<AllocRule>,
    #[serde(default)]
    pub stderr: Vec<StderrRule>,
}

/// A rule on one heap-snapshot suspect: every condition given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspectRule {
    /// The suspect's own class, any of these.
    #[serde(default)]
    pub class: Vec<String>,
    /// Adjacent steps of the retainer path, each `edge`, `(Class)` or `edge (Class)`.
    #[serde(default)]
    pub path: Vec<String>,
    /// The holder's step, in the same syntax.
    #[serde(default)]
    pub holder: Option<String>,
    /// The edge name of the step just before the holder.
    #[serde(default)]
    pub holder_after: Option<String>,
    /// The holder step's class (`Array|Set|Map`).
    #[serde(default)]
    pub holder_class: Option<String>,
}

/// A rule on a surviving allocation stack: a frame below the app's that matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocRule {
    /// A substring of the frame's URL.
    pub url: String,
    /// The frame's function name, `|` for alternatives.
    #[serde(default)]
    pub function: Option<String>,
}

/// A rule on the target's stderr.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StderrRule {
    pub contains: String,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    pattern: Vec<Pattern>,
}

/// The details extractors `detail = "…"` may name (see [`crate::details`]).
pub(crate) const DETAILS: [&str; 2] = ["prom-labels", "emitter-event"];

/// Parse and check a table in the `patterns.toml` format.
pub fn parse_table(text: &str) -> Result<Vec<Pattern>, TableError> {
    let file: File = toml::from_str(text)?;
    let mut ids: Vec<&str> = Vec::new();
    for p in &file.pattern {
        let bad = |why: &str| Err(TableError::Invalid(format!("pattern `{}`: {why}", p.id)));
        if p.id.is_empty() || ids.contains(&p.id.as_str()) {
            return bad("empty or repeated id");
        }
        ids.push(&p.id);
        if [&p.name, &p.why, &p.fix]
            .iter()
            .any(|s| s.trim().is_empty())
        {
            return bad("name, why and fix are needed");
        }
        if p.suspect.is_empty() && p.alloc.is_empty() && p.stderr.is_empty() {
            return bad("no [[pattern.suspect]], [[pattern.alloc]] or [[pattern.stderr]] rule");
        }
        let empty = |r: &&SuspectRule| {
            r.class.is_empty()
                && r.path.is_empty()
                && r.holder.is_none()
                && r.holder_after.is_none()
                && r.holder_class.is_none()
        };
        if p.suspect.iter().any(|r| empty(&r)) {
            return bad("a suspect rule without a condition would match every suspect");
        }
        if p.alloc.iter().any(|r| r.url.is_empty())
            || p.stderr.iter().any(|r| r.contains.is_empty())
        {
            return bad("an alloc rule needs a url, a stderr rule a `contains`");
        }
        if let Some(d) = p.detail.as_deref().filter(|d| !DETAILS.contains(d)) {
            return bad(&format!(
                "unknown detail `{d}` (known: {})",
                DETAILS.join(", ")
            ));
        }
    }
    Ok(file.pattern)
}

/// The shipped table. It is compiled in and checked by the unit tests, so a failure here is
/// a build defect, not bad input.
pub fn table() -> &'static [Pattern] {
    static PARSED: OnceLock<Vec<Pattern>> = OnceLock::new();
    PARSED.get_or_init(|| parse_table(TABLE).expect("the shipped patterns.toml is valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_holds_the_known_patterns() {
        let t = parse_table(TABLE).unwrap();
        let ids: Vec<&str> = t.iter().map(|p| p.id.as_str()).collect();
        for id in [
            "express-session-memory-store",
            "prom-client-unbounded-labels",
            "winston-logger-per-request",
            "http-client-interceptors-per-request",
            "dataloader-module-scope",
            "node-cache-no-ttl",
            "event-emitter-listeners",
            "timers-never-cleared",
            "async-context-growth",
            "sockets-kept-in-a-list",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
    }

    #[test]
    fn a_broken_entry_is_a_typed_error_naming_it() {
        let base =
            "[[pattern]]\nid = \"x\"\nname = \"n\"\npackage = \"\"\nwhy = \"w\"\nfix = \"f\"\n";
        let e = parse_table(base).unwrap_err().to_string();
        assert!(
            e.contains("pattern `x`") && e.contains("no [[pattern.suspect]]"),
            "{e}"
        );
        let e = parse_table(&format!("{base}[[pattern.suspect]]\n")).unwrap_err();
        assert!(e.to_string().contains("without a condition"), "{e}");
        let e = parse_table(&format!(
            "{base}detail = \"nope\"\n[[pattern.stderr]]\ncontains = \"W\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("unknown detail `nope`"), "{e}");
        let twice = format!("{base}[[pattern.stderr]]\ncontains = \"W\"\n");
        let e = parse_table(&format!("{twice}{twice}")).unwrap_err();
        assert!(e.to_string().contains("repeated id"), "{e}");
        assert!(matches!(
            parse_table("[[pattern]]\nid = 3"),
            Err(TableError::Toml(_))
        ));
    }
}
