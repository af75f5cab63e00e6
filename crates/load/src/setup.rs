//! Setup steps: the requests a real client makes before its traffic (a login, a session), and
//! the values they capture for it.
//!
//! A route behind a login answers 401 to a bare load, allocates nothing and looks healthy, so
//! `[[setup]]` steps run first — once per connection (a virtual user) or once per run — and
//! their captures (`json:/access_token`, `cookie:sid`, `header:location`) become `{{NAME}}`
//! placeholders in the load's paths, headers and bodies. A step that fails (a status outside
//! 2xx, a capture not found) is the target failing, with the status and the first bytes of the
//! response, never a silent run of 401s.

use crate::cookies::{CookieMode, Jar};
use crate::endpoint::Endpoint;
use crate::error::{bail, Context, Result};
use crate::template::Template;
use serde::Deserialize;
use std::collections::BTreeMap;

/// How often a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// On every connection before its first request (each connection is one user).
    Connection,
    /// Once before the load; every connection shares the captures and cookies.
    Run,
}

/// Where a captured value comes from in a step's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A JSON pointer into the body (`json:/access_token`, `json:/data/0/id`): a string's
    /// text, or any other value as JSON.
    Json(String),
    /// A cookie the response sets (`cookie:sid`).
    Cookie(String),
    /// A response header (`header:location`).
    Header(String),
}

impl Source {
    pub fn parse(spec: &str) -> Result<Source> {
        let (kind, what) = spec.split_once(':').with_context(|| {
            format!("capture {spec:?}: expected json:/POINTER, cookie:NAME or header:NAME")
        })?;
        match kind.trim() {
            "json" if what.is_empty() || what.starts_with('/') => {
                Ok(Source::Json(what.to_string()))
            }
            "json" => {
                bail!("capture {spec:?}: a JSON pointer starts with '/' (json:/access_token)")
            }
            "cookie" if !what.trim().is_empty() => Ok(Source::Cookie(what.trim().to_string())),
            "header" if !what.trim().is_empty() => Ok(Source::Header(what.trim().to_string())),
            _ => bail!("capture {spec:?}: expected json:/POINTER, cookie:NAME or header:NAME"),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Json(p) => write!(f, "json:{p}"),
            Source::Cookie(c) => write!(f, "cookie:{c}"),
            Source::Header(h) => write!(f, "header:{h}"),
        }
    }
}

/// One step: a request, what to capture from its response, and how often it runs.
#[derive(Debug, Clone)]
pub struct Step {
    pub request: Endpoint,
    /// (index in [`Setup::names`], where from).
    pub capture: Vec<(usize, Source)>,
    /// `None`: per connection, or per run with `--no-keepalive` (a connection per request).
    pub scope: Option<Scope>,
}

/// The steps of a plan, the names they capture, and the cookie policy.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub steps: Vec<Step>,
    /// Every captured name, in order of first capture; templates index into this.
    pub names: Vec<String>,
    /// `None`: a jar when a setup step sets a cookie, else no cookie handling.
    pub cookies: Option<CookieMode>,
}

/// `[[setup]]` in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigStep {
    pub name: Option<String>,
    #[serde(default = "default_method")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    pub scope: Option<Scope>,
}

fn default_method() -> String {
    "GET".into()
}

impl Setup {
    /// Build from the config's steps: each step may use what earlier steps captured.
    pub fn from_config(steps: &[ConfigStep], cookies: Option<CookieMode>) -> Result<Setup> {
        let mut setup = Setup {
            cookies,
            ..Setup::default()
        };
        for (i, s) in steps.iter().enumerate() {
            let name = s
                .name
                .clone()
                .unwrap_or_else(|| format!("setup #{}", i + 1));
            let at = || format!("setup step {name:?}");
            let headers: Vec<(String, Template)> = s
                .headers
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        Template::parse_with(v, &setup.names).with_context(at)?,
                    ))
                })
                .collect::<Result<_>>()?;
            let body = match &s.body {
                Some(b) => Template::parse_with(b, &setup.names).with_context(at)?,
                None => Template::literal(Vec::new()),
            };
            let path = Template::parse_with(&s.path, &setup.names).with_context(at)?;
            let request = Endpoint::with_templates(&name, &s.method, &s.path, path, headers, body)
                .with_context(at)?;
            let mut capture = Vec::new();
            for (var, spec) in &s.capture {
                if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    bail!("setup step {name:?}: capture name {var:?} must be letters, digits or _");
                }
                if matches!(var.as_str(), "seq" | "uuid") {
                    bail!("setup step {name:?}: capture name {var:?} is a built-in placeholder");
                }
                let src = Source::parse(spec).with_context(at)?;
                let idx = match setup.names.iter().position(|n| n == var) {
                    Some(i) => i,
                    None => {
                        setup.names.push(var.clone());
                        setup.names.len() - 1
                    }
                };
                capture.push((idx, src));
            }
            setup.steps.push(Step {
                request,
                capture,
                scope: s.scope,
            });
        }
        Ok(setup)
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The steps of `scope` (`keep_alive` settles the default scope).
    pub(crate) fn steps_of(&self, scope: Scope, keep_alive: bool) -> impl Iterator<Item = &Step> {
        let default = if keep_alive {
            Scope::Connection
        } else {
            Scope::Run
        };
        self.steps
            .iter()
            .filter(move |s| s.scope.unwrap_or(default) == scope)
    }
}

/// What one virtual user carries: captured values and cookies.
#[derive(Debug, Clone, Default)]
pub struct User {
    pub vars: Vec<Vec<u8>>,
    pub jar: Jar,
    /// A setup response set a cookie (makes the jar the default).
    pub cookie_set: bool,
}

impl User {
    pub(crate) fn new(names: usize) -> User {
        User {
            vars: vec![Vec::new(); names],
            ..User::default()
        }
    }

    /// Whether load requests carry this user's cookies.
    pub(crate) fn sends_cookies(&self, mode: Option<CookieMode>) -> bool {
        match mode {
            Some(CookieMode::Jar) => true,
            Some(_) => false,
            None => self.cookie_set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_sources() {
        assert_eq!(
            Source::parse("json:/access_token").unwrap(),
            Source::Json("/access_token".into())
        );
        assert_eq!(
            Source::parse("cookie:sid").unwrap(),
            Source::Cookie("sid".into())
        );
        assert_eq!(
            Source::parse("header:Location").unwrap(),
            Source::Header("Location".into())
        );
        for bad in ["token", "json:access_token", "cookie:", "body:/x"] {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_steps_chain_their_names() {
        let steps: Vec<ConfigStep> = toml::from_str::<BTreeMap<String, Vec<ConfigStep>>>(
            r#"
[[setup]]
method = "POST"
path = "/login"
capture = { token = "json:/access_token" }
[[setup]]
name = "me"
path = "/me"
headers = { Authorization = "Bearer {{token}}" }
capture = { uid = "json:/id" }
scope = "run"
"#,
        )
        .unwrap()
        .remove("setup")
        .unwrap();
        let s = Setup::from_config(&steps, None).unwrap();
        assert_eq!(s.names, ["token", "uid"]);
        assert_eq!(s.steps[0].request.name, "setup #1");
        assert!(s.steps[1].request.headers[0].1.uses_vars());
        assert_eq!(s.steps_of(Scope::Run, true).count(), 1);
        assert_eq!(s.steps_of(Scope::Run, false).count(), 2);
        // A step may not use what only a later step captures.
        let mut bad = steps.clone();
        bad.swap(0, 1);
        let e = Setup::from_config(&bad, None).unwrap_err();
        let chain = format!(
            "{e}: {}",
            std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        assert!(
            chain.contains("\"me\"") && chain.contains("{{token}}"),
            "{chain}"
        );
    }
}
