//! Running setup steps: each on a connection of its own, the whole response read (a token is
//! in the body, a session in a header), the captures taken, and a failure told with the step,
//! the status and the first bytes of the answer.

use crate::cookies::{CookieMode, Jar};
use crate::http::{parse_head, Body, Chunked};
use crate::plan::Plan;
use crate::request::{render_with, RenderCtx};
use crate::setup::{Scope, Source, Step, User};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
}
