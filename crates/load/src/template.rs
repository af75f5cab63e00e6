//! Per-request templates: `{{seq}}`, `{{uuid}}`, `{{rand:A-B}}`, and `{{NAME}}` for a value a
//! setup step captured (a token, a session id).
//!
//! Leaks keyed by unique ids (sessions, users) only show when every request carries a new id,
//! so paths, headers and bodies may hold placeholders. A template without placeholders is a
//! single literal and the engine sends pre-built bytes for it. Captured names are known only
//! to the plan that declares them, so they are parsed with [`Template::parse_with`] and
//! rendered from the connection's values with [`Template::render_vars`].

use crate::error::{bail, Context, Result};

/// The random source templates draw from (re-exported so callers need no fastrand).
pub use fastrand::Rng;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(Vec<u8>),
    Seq,
    Uuid,
    Rand(u64, u64),
    /// A captured value: the index of its name in the plan's capture names.
    Var(usize),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parse `text`; an unknown or malformed `{{...}}` is an error naming it.
    pub fn parse(text: &str) -> Result<Template> {
        Template::parse_with(text, &[])
    }

    /// Parse `text` where `{{NAME}}` may also name one of `vars` (the captures of setup steps).
    pub fn parse_with(text: &str, vars: &[String]) -> Result<Template> {
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                bail!("unclosed template placeholder in {text:?}");
            };
            let name = after[..end].trim();
            let part = match name {
                "seq" => Part::Seq,
                "uuid" => Part::Uuid,
                _ if vars.iter().any(|v| v == name) => {
                    Part::Var(vars.iter().position(|v| v == name).unwrap_or(0))
                }
                _ if name.starts_with("rand:") => {
                    let range = &name[5..];
                    let (a, b) = range.split_once('-').with_context(|| {
                        format!("template {{{{{name}}}}}: expected rand:MIN-MAX")
                    })?;
                    let a: u64 = a.trim().parse().with_context(|| {
                        format!("template {{{{{name}}}}}: {a:?} is not a number")
                    })?;
                    let b: u64 = b.trim().parse().with_context(|| {
                        format!("template {{{{{name}}}}}: {b:?} is not a number")
                    })?;
                    if a > b {
                        bail!("template {{{{{name}}}}}: MIN is above MAX");
                    }
                    Part::Rand(a, b)
                }
                _ => {
                    let captured: String = vars.iter().map(|v| format!(", {{{{{v}}}}}")).collect();
                    bail!(
                        "unknown template placeholder {{{{{name}}}}} (known: {{{{seq}}}}, {{{{uuid}}}}, {{{{rand:MIN-MAX}}}}{captured}; a setup step's capture makes a name known)"
                    )
                }
            };
            lit.extend_from_slice(&rest.as_bytes()[..start]);
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(part);
            rest = &after[end + 2..];
        }
        lit.extend_from_slice(rest.as_bytes());
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// A template of plain bytes (a body read from a file may not be UTF-8).
    pub fn literal(bytes: Vec<u8>) -> Template {
        Template {
            parts: vec![Part::Lit(bytes)],
        }
    }

    /// The bytes, if the template has no placeholder.
    pub fn as_literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [Part::Lit(b)] => Some(b),
            _ => None,
        }
    }

    /// Whether a captured value appears (such a template differs per connection).
    pub fn uses_vars(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var(_)))
    }

    /// Append this template rendered for request number `seq` to `out` (captured values
    /// render empty: see [`Template::render_vars`]).
    pub fn render(&self, seq: u64, rng: &mut fastrand::Rng, out: &mut Vec<u8>) {
        self.render_vars(seq, rng, &[], out)
    }

    /// [`Template::render`] with the connection's captured values, in the order of the names
    /// given to [`Template::parse_with`].
    pub fn render_vars(
        &self,
        seq: u64,
        rng: &mut fastrand::Rng,
        vars: &[Vec<u8>],
        out: &mut Vec<u8>,
    ) {
        use std::io::Write;
        for p in &self.parts {
            match p {
                Part::Lit(b) => out.extend_from_slice(b),
                Part::Var(i) => out.extend_from_slice(vars.get(*i).map_or(&[][..], |v| v)),
                Part::Seq => {
                    let _ = write!(out, "{seq}");
                }
                Part::Uuid => {
                    let v = rng.u128(..);
                    // Version 4, variant 1.
                    let v = (v & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
                    let h = format!("{v:032x}");
                    let _ = write!(
                        out,
                        "{}-{}-{}-{}-{}",
                        &h[0..8],
                        &h[8..12],
                        &h[12..16],
                        &h[16..20],
                        &h[20..32]
                    );
                }
                Part::Rand(a, b) => {
                    let _ = write!(out, "{}", rng.u64(*a..=*b));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str, seq: u64) -> String {
        let mut out = Vec::new();
        Template::parse(t)
            .unwrap()
            .render(seq, &mut fastrand::Rng::with_seed(7), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn literal_stays_literal() {
        let t = Template::parse("/api/data").unwrap();
        assert_eq!(t.as_literal(), Some(&b"/api/data"[..]));
        assert_eq!(Template::parse("").unwrap().as_literal(), Some(&b""[..]));
    }

    #[test]
    fn placeholders_render() {
        assert_eq!(render("/u/{{seq}}/x", 42), "/u/42/x");
        let r: u64 = render("{{rand:5-7}}", 0).parse().unwrap();
        assert!((5..=7).contains(&r));
        let u = render("{{ uuid }}", 0);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(Template::parse("{{seq}}").unwrap().as_literal().is_none());
    }

    #[test]
    fn captured_names_render_from_the_connections_values() {
        let names = vec!["token".to_string(), "sid".to_string()];
        let t = Template::parse_with("Bearer {{token}}/{{ sid }}/{{seq}}", &names).unwrap();
        assert!(t.uses_vars() && t.as_literal().is_none());
        let mut out = Vec::new();
        let vals = vec![b"abc".to_vec(), b"s1".to_vec()];
        t.render_vars(3, &mut fastrand::Rng::with_seed(1), &vals, &mut out);
        assert_eq!(out, b"Bearer abc/s1/3");
        let e = Template::parse_with("{{tok}}", &names)
            .unwrap_err()
            .to_string();
        assert!(e.contains("{{token}}") && e.contains("{{tok}}"), "{e}");
        assert!(Template::parse("{{token}}").is_err());
    }

    #[test]
    fn bad_placeholders_are_errors() {
        assert!(Template::parse("{{nope}}").is_err());
        assert!(Template::parse("{{seq").is_err());
        assert!(Template::parse("{{rand:9-1}}").is_err());
        assert!(Template::parse("{{rand:x-1}}").is_err());
    }
}
