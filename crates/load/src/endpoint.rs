//! One kind of request in the mix, as the config, a spec, a recording or the command line
//! gives it (its own module so that setup steps, which are requests too, and the plan can both
//! hold one).

use crate::error::{bail, Context, Result};
use crate::template::Template;

/// One kind of request in the mix.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub method: String,
    pub path: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Template,
    /// Relative share of requests; 0 keeps the endpoint out of the mix.
    pub weight: u32,
}

impl Endpoint {
    /// An endpoint from parsed templates; `path_text` is the path as written, for checks and
    /// messages.
    pub fn with_templates(
        name: &str,
        method: &str,
        path_text: &str,
        path: Template,
        headers: Vec<(String, Template)>,
        body: Template,
    ) -> Result<Endpoint> {
        let method = method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            bail!("invalid HTTP method {method:?}");
        }
        if !path_text.starts_with('/') {
            bail!("endpoint {name:?}: path {path_text:?} must start with '/'");
        }
        for (k, v) in &headers {
            if k.is_empty() || k.bytes().any(|b| b <= b' ' || b == b':' || b >= 0x7f) {
                bail!("invalid header name {k:?}");
            }
            if v.as_literal()
                .is_some_and(|v| v.iter().any(|&b| b == b'\r' || b == b'\n'))
            {
                bail!("header {k:?}: value contains a line break");
            }
        }
        Ok(Endpoint {
            name: name.to_string(),
            method,
            path,
            headers,
            body,
            weight: 1,
        })
    }

    /// An endpoint from plain strings (templates are parsed here).
    pub fn new(
        name: &str,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Template,
    ) -> Result<Endpoint> {
        let method = method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            bail!("invalid HTTP method {method:?}");
        }
        if !path.starts_with('/') {
            bail!("endpoint {name:?}: path {path:?} must start with '/'");
        }
        let mut hs = Vec::new();
        for (k, v) in headers {
            if k.is_empty() || k.bytes().any(|b| b <= b' ' || b == b':' || b >= 0x7f) {
                bail!("invalid header name {k:?}");
            }
            if v.bytes().any(|b| b == b'\r' || b == b'\n') {
                bail!("header {k:?}: value contains a line break");
            }
            hs.push((k.clone(), Template::parse(v)?));
        }
        Ok(Endpoint {
            name: name.to_string(),
            method,
            path: Template::parse(path).with_context(|| format!("endpoint {name:?} path"))?,
            headers: hs,
            body,
            weight: 1,
        })
    }
}
