//! Request bytes: built once when nothing varies, else rendered per request into a buffer the
//! connection reuses, so the fast path neither formats nor allocates.
//!
//! Also where a connection's fate after each request is settled, once per endpoint: a request
//! that says `Connection: close` (`--no-keepalive`, or the user's own `-H 'Connection: close'`)
//! has its connection closed by the client when the response ends, whatever the server does.

use crate::plan::{asks_close, Endpoint, Plan};

/// An endpoint ready to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub endpoint: Endpoint,
    /// The whole request, when the endpoint has no placeholder.
    pub fixed: Option<Vec<u8>>,
    pub head_request: bool,
    /// The request says `Connection: close`: the client closes the connection after the
    /// response (one request per connection).
    pub close: bool,
    /// ... and `render` must add that header (`--no-keepalive` without a header of the user's).
    pub add_close: bool,
}

pub(crate) fn prepare(plan: &Plan) -> Vec<Prepared> {
    plan.endpoints
        .iter()
        .map(|ep| {
            let connection = ep
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("connection"));
            let add_close = !plan.keep_alive && connection.is_none();
            let close = add_close || connection.is_some_and(|(_, v)| asks_close(v));
            let fixed_ok = ep.path.as_literal().is_some()
                && ep.body.as_literal().is_some()
                && ep.headers.iter().all(|(_, v)| v.as_literal().is_some());
            let fixed = fixed_ok.then(|| {
                let mut out = Vec::new();
                let mut scratch = Vec::new();
                render(
                    ep,
                    &plan.target.host_header,
                    add_close,
                    0,
                    &mut fastrand::Rng::with_seed(0),
                    &mut scratch,
                    &mut out,
                );
                out
            });
            Prepared {
                endpoint: ep.clone(),
                fixed,
                head_request: ep.method == "HEAD",
                close,
                add_close,
            }
        })
        .collect()
}

/// What a request is rendered with besides its endpoint.
pub(crate) struct RenderCtx<'a> {
    pub host: &'a str,
    /// Add `Connection: close` (the endpoint has no `Connection` header of its own).
    pub add_close: bool,
    pub seq: u64,
    /// The connection's captured values (setup steps), for `{{NAME}}`.
    pub vars: &'a [Vec<u8>],
    /// The connection's cookies (`a=1; b=2`), sent unless the endpoint sets `Cookie` itself.
    pub cookie: Option<&'a [u8]>,
}

/// Render one request for sequence number `seq` into `out` (cleared first); `body` is scratch.
/// `add_close`: add `Connection: close` (the endpoint has no `Connection` header of its own).
pub(crate) fn render(
    ep: &Endpoint,
    host: &str,
    add_close: bool,
    seq: u64,
    rng: &mut fastrand::Rng,
    body: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    let ctx = RenderCtx {
        host,
        add_close,
        seq,
        vars: &[],
        cookie: None,
    };
    render_with(ep, &ctx, rng, body, out)
}

/// [`render`] with captured values and cookies.
pub(crate) fn render_with(
    ep: &Endpoint,
    ctx: &RenderCtx<'_>,
    rng: &mut fastrand::Rng,
    body: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    use std::io::Write;
    let (seq, vars) = (ctx.seq, ctx.vars);
    out.clear();
    body.clear();
    ep.body.render_vars(seq, rng, vars, body);
    out.extend_from_slice(ep.method.as_bytes());
    out.push(b' ');
    ep.path.render_vars(seq, rng, vars, out);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |name: &str| ep.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("host") {
        let _ = write!(out, "Host: {}\r\n", ctx.host);
    }
    if !has("user-agent") {
        out.extend_from_slice(b"User-Agent: leakhound\r\n");
    }
    if ctx.add_close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    if let Some(c) = ctx.cookie.filter(|c| !c.is_empty() && !has("cookie")) {
        out.extend_from_slice(b"Cookie: ");
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    let skip_length = has("content-length") || has("transfer-encoding");
    for (k, v) in &ep.headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        v.render_vars(seq, rng, vars, out);
        out.extend_from_slice(b"\r\n");
    }
    let needs_length = !body.is_empty() || matches!(ep.method.as_str(), "POST" | "PUT" | "PATCH");
    if needs_length && !skip_length {
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    #[test]
    fn post_with_templates() {
        let ep = Endpoint::new(
            "d",
            "post",
            "/u/{{seq}}",
            &[("X-Id".into(), "{{seq}}".into())],
            Template::parse("{\"n\":{{seq}}}").unwrap(),
        )
        .unwrap();
        let (mut b, mut o) = (Vec::new(), Vec::new());
        render(
            &ep,
            "h:1",
            false,
            12,
            &mut fastrand::Rng::new(),
            &mut b,
            &mut o,
        );
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "POST /u/12 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: leakhound\r\nX-Id: 12\r\nContent-Length: 8\r\n\r\n{\"n\":12}"
        );
    }

    fn plan(headers: &[(&str, &str)], keep_alive: bool) -> Plan {
        let hs: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let ep = Endpoint::new("d", "GET", "/", &hs, Template::literal(Vec::new())).unwrap();
        let mut p = Plan::new(crate::Target::local(1), vec![ep]);
        p.keep_alive = keep_alive;
        p
    }

    fn text(p: &Prepared) -> String {
        String::from_utf8(p.fixed.clone().unwrap()).unwrap()
    }

    #[test]
    fn no_keepalive_and_the_users_connection_close_are_one_mechanism() {
        let ka = &prepare(&plan(&[], true))[0];
        assert!(!ka.close && !ka.add_close);
        assert!(!text(ka).contains("Connection"), "{}", text(ka));

        let nk = &prepare(&plan(&[], false))[0];
        assert!(nk.close && nk.add_close);
        assert!(
            text(nk).contains("\r\nConnection: close\r\n"),
            "{}",
            text(nk)
        );

        // The user's own header: sent as written (once), and the connection closed after it.
        for keep_alive in [true, false] {
            let own = &prepare(&plan(&[("connection", "Close")], keep_alive))[0];
            assert!(own.close && !own.add_close);
            assert_eq!(text(own).matches("onnection").count(), 1, "{}", text(own));
        }
        let upgrade = &prepare(&plan(&[("Connection", "keep-alive, close")], true))[0];
        assert!(upgrade.close);
        let kept = &prepare(&plan(&[("Connection", "keep-alive")], true))[0];
        assert!(!kept.close);
    }

    #[test]
    fn captured_values_and_the_jar_are_rendered() {
        let names = vec!["token".to_string()];
        let ep = Endpoint::with_templates(
            "i",
            "GET",
            "/items",
            Template::parse("/items").unwrap(),
            vec![(
                "Authorization".into(),
                Template::parse_with("Bearer {{token}}", &names).unwrap(),
            )],
            Template::literal(Vec::new()),
        )
        .unwrap();
        let p = &prepare(&Plan::new(crate::Target::local(1), vec![ep.clone()]))[0];
        assert!(p.fixed.is_none(), "a captured value differs per connection");
        let (mut b, mut o) = (Vec::new(), Vec::new());
        let vars = vec![b"t0k".to_vec()];
        let ctx = RenderCtx {
            host: "h",
            add_close: false,
            seq: 0,
            vars: &vars,
            cookie: Some(b"sid=1"),
        };
        render_with(&ep, &ctx, &mut fastrand::Rng::new(), &mut b, &mut o);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "GET /items HTTP/1.1\r\nHost: h\r\nUser-Agent: leakhound\r\nCookie: sid=1\r\nAuthorization: Bearer t0k\r\n\r\n"
        );
    }

    #[test]
    fn no_keepalive_refuses_a_keep_alive_header() {
        let e = plan(&[("Connection", "keep-alive")], false)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--no-keepalive") && e.contains("keep-alive"),
            "{e}"
        );
        assert!(plan(&[("Connection", "close")], false).validate().is_ok());
    }
}
