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
use crate::error::{bail, Context, Result};
use crate::http::{parse_head, Body, Chunked};
use crate::plan::{Endpoint, Plan};
use crate::request::{render_with, RenderCtx};
use crate::template::Template;
use serde::Deserialize;
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// A setup step that failed: the run stops (exit 4) with this line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupFailure(pub String);

impl std::fmt::Display for SetupFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A whole response, as a setup step needs it.
struct Response {
    status: u16,
    head: Vec<u8>,
    body: Vec<u8>,
}

/// Largest setup response body read (a login answers in bytes, not megabytes).
const MAX_BODY: usize = 1 << 20;

/// Run `steps` for user number `seq`, in order, on one connection of their own.
pub(crate) async fn run_steps<'a>(
    plan: &Plan,
    steps: impl Iterator<Item = &'a Step>,
    seq: u64,
    user: &mut User,
) -> Result<(), SetupFailure> {
    let mut stream: Option<TcpStream> = None;
    let mut rng = fastrand::Rng::with_seed(seq);
    let (mut body, mut req, mut cookie) = (Vec::new(), Vec::new(), Vec::new());
    let pass_cookies = plan.setup.cookies != Some(CookieMode::None);
    for step in steps {
        let ep = &step.request;
        let path_text = {
            let mut p = Vec::new();
            ep.path.render_vars(seq, &mut rng, &user.vars, &mut p);
            String::from_utf8_lossy(&p).into_owned()
        };
        let what = format!("setup step {:?} ({} {path_text})", ep.name, ep.method);
        user.jar.write_header(&mut cookie);
        let ctx = RenderCtx {
            host: &plan.target.host_header,
            add_close: false,
            seq,
            vars: &user.vars,
            cookie: (pass_cookies && !cookie.is_empty()).then_some(&cookie[..]),
        };
        render_with(ep, &ctx, &mut rng, &mut body, &mut req);
        let resp = match tokio::time::timeout(plan.timeout, exchange(plan, &mut stream, &req)).await
        {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(SetupFailure(format!("{what} failed: {e}"))),
            Err(_) => {
                return Err(SetupFailure(format!(
                    "{what} failed: no complete response within {:?}",
                    plan.timeout
                )))
            }
        };
        if user.jar.absorb_head(&resp.head) {
            user.cookie_set = true;
        }
        if !(200..300).contains(&resp.status) {
            return Err(SetupFailure(format!(
                "{what} failed: HTTP {} — {}",
                resp.status,
                first_bytes(&resp.body)
            )));
        }
        for (idx, src) in &step.capture {
            match capture(src, &resp) {
                Some(v) if !v.contains(&b'\r') && !v.contains(&b'\n') => user.vars[*idx] = v,
                found => {
                    let why = if found.is_some() {
                        "holds a line break"
                    } else {
                        "not found"
                    };
                    return Err(SetupFailure(format!(
                        "{what}: capture `{}` ({src}) {why} in the response (HTTP {}) — {}",
                        plan.setup.names[*idx],
                        resp.status,
                        first_bytes(&resp.body)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The first bytes of a body, on one line, for an error message.
fn first_bytes(body: &[u8]) -> String {
    if body.is_empty() {
        return "empty body".into();
    }
    let take = body.len().min(200);
    let text: String = String::from_utf8_lossy(&body[..take])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "body: {:?}{}",
        text,
        if body.len() > take { " …" } else { "" }
    )
}

fn capture(src: &Source, resp: &Response) -> Option<Vec<u8>> {
    match src {
        Source::Json(pointer) => {
            let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
            match v.pointer(pointer)? {
                serde_json::Value::String(s) => Some(s.clone().into_bytes()),
                serde_json::Value::Null => None,
                other => Some(other.to_string().into_bytes()),
            }
        }
        Source::Cookie(name) => {
            // This response's cookie, not one left from an earlier step.
            let mut own = Jar::default();
            own.absorb_head(&resp.head);
            own.get(name).map(|v| v.as_bytes().to_vec())
        }
        Source::Header(name) => {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut r = httparse::Response::new(&mut headers);
            r.parse(&resp.head).ok()?;
            r.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value.to_vec())
        }
    }
}

/// Send `req` on the step connection (opened if needed; reopened once if the server closed a
/// kept one) and read the whole response.
async fn exchange(
    plan: &Plan,
    stream: &mut Option<TcpStream>,
    req: &[u8],
) -> std::result::Result<Response, String> {
    for attempt in 0..2 {
        let reused = stream.is_some();
        if !reused {
            let s =
                tokio::time::timeout(plan.connect_timeout, TcpStream::connect(plan.target.addr))
                    .await
                    .map_err(|_| format!("no connection within {:?}", plan.connect_timeout))?
                    .map_err(|e| format!("connecting to {}: {e}", plan.target.addr))?;
            let _ = s.set_nodelay(true);
            *stream = Some(s);
        }
        let s = stream.as_mut().expect("connected");
        match read_response(s, req).await {
            Ok((resp, close)) => {
                if close {
                    *stream = None;
                }
                return Ok(resp);
            }
            Err((e, nothing_read)) => {
                *stream = None;
                if !(reused && attempt == 0 && nothing_read) {
                    return Err(e);
                }
            }
        }
    }
    unreachable!("the second attempt always returns")
}

/// Write `req`, read one response; errors say whether nothing had arrived.
async fn read_response(
    s: &mut TcpStream,
    req: &[u8],
) -> std::result::Result<(Response, bool), (String, bool)> {
    s.write_all(req).await.map_err(|e| (e.to_string(), true))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head = loop {
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| (e.to_string(), buf.is_empty()))?;
        if n == 0 {
            return Err((
                "connection closed before the response".into(),
                buf.is_empty(),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(h) = parse_head(&buf, false).map_err(|e| (e.0, false))? {
            break h;
        }
    };
    let head_bytes = buf[..head.len].to_vec();
    let mut rest = buf.split_off(head.len);
    let body = match head.body {
        Body::Empty => Vec::new(),
        Body::Length(n) => {
            let n = n as usize;
            if n > MAX_BODY {
                return Err((format!("response body over {MAX_BODY} bytes"), false));
            }
            while rest.len() < n {
                let k = s
                    .read(&mut chunk)
                    .await
                    .map_err(|e| (e.to_string(), false))?;
                if k == 0 {
                    return Err(("connection closed inside the response body".into(), false));
                }
                rest.extend_from_slice(&chunk[..k]);
            }
            rest.truncate(n);
            rest
        }
        Body::Chunked => {
            let mut c = Chunked::default();
            let (mut used, mut done) = c.feed(&rest).map_err(|e| (e.0, false))?;
            while !done {
                if rest.len() > MAX_BODY {
                    return Err((format!("response body over {MAX_BODY} bytes"), false));
                }
                let k = s
                    .read(&mut chunk)
                    .await
                    .map_err(|e| (e.to_string(), false))?;
                if k == 0 {
                    return Err(("connection closed inside the response body".into(), false));
                }
                let (u, d) = c.feed(&chunk[..k]).map_err(|e| (e.0, false))?;
                rest.extend_from_slice(&chunk[..k]);
                used = rest.len() - k + u;
                done = d;
            }
            dechunk(&rest[..used])
        }
        Body::UntilClose => {
            loop {
                let k = s
                    .read(&mut chunk)
                    .await
                    .map_err(|e| (e.to_string(), false))?;
                if k == 0 {
                    break;
                }
                rest.extend_from_slice(&chunk[..k]);
                if rest.len() > MAX_BODY {
                    return Err((format!("response body over {MAX_BODY} bytes"), false));
                }
            }
            rest
        }
    };
    let close = head.close || head.body == Body::UntilClose;
    Ok((
        Response {
            status: head.status,
            head: head_bytes,
            body,
        },
        close,
    ))
}

/// The data of a complete chunked body (framing already checked by [`Chunked`]).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = raw.iter().position(|&b| b == b'\n') {
        let line = &raw[..nl];
        let hex: String = line
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .map(|&b| b as char)
            .collect();
        let size = usize::from_str_radix(&hex, 16).unwrap_or(0);
        raw = &raw[nl + 1..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size..).unwrap_or_default();
        raw = raw
            .strip_prefix(b"\r\n")
            .or(raw.strip_prefix(b"\n"))
            .unwrap_or(raw);
    }
    out
}

/// Run every setup step of `scope` for user `seq` on a runtime of its own (for callers that
/// are not async: the engine before a round).
pub(crate) fn run_blocking(
    plan: &Plan,
    scope: Scope,
    seq: u64,
    user: &mut User,
) -> Result<(), SetupFailure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SetupFailure(format!("setup: cannot start a runtime: {e}")))?;
    rt.block_on(run_steps(
        plan,
        plan.setup.steps_of(scope, plan.keep_alive),
        seq,
        user,
    ))
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
    fn captures_from_a_response() {
        let resp = Response {
            status: 200,
            head: b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=s1; HttpOnly\r\nLocation: /u/7\r\n\r\n"
                .to_vec(),
            body: br#"{"access_token":"t0k","n":{"id":7}}"#.to_vec(),
        };
        let get = |s: &str| capture(&Source::parse(s).unwrap(), &resp);
        assert_eq!(get("json:/access_token"), Some(b"t0k".to_vec()));
        assert_eq!(get("json:/n/id"), Some(b"7".to_vec()));
        assert_eq!(get("json:/nope"), None);
        assert_eq!(get("cookie:sid"), Some(b"s1".to_vec()));
        assert_eq!(get("cookie:other"), None);
        assert_eq!(get("header:location"), Some(b"/u/7".to_vec()));
    }

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n"),
            b"Wikipedia"
        );
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
