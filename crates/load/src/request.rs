//! Request bytes: built once when nothing varies, else rendered per request into a buffer the
//! connection reuses, so the fast path neither formats nor allocates.

use crate::plan::{Endpoint, Plan};

/// An endpoint ready to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub endpoint: Endpoint,
    /// The whole request, when the endpoint has no placeholder.
    pub fixed: Option<Vec<u8>>,
    pub head_request: bool,
}

pub(crate) fn prepare(plan: &Plan) -> Vec<Prepared> {
    plan.endpoints
        .iter()
        .map(|ep| {
            let fixed_ok = ep.path.as_literal().is_some()
                && ep.body.as_literal().is_some()
                && ep.headers.iter().all(|(_, v)| v.as_literal().is_some());
            let fixed = fixed_ok.then(|| {
                let mut out = Vec::new();
                let mut scratch = Vec::new();
                render(
                    ep,
                    &plan.target.host_header,
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
            }
        })
        .collect()
}

/// Render one request for sequence number `seq` into `out` (cleared first); `body` is scratch.
pub(crate) fn render(
    ep: &Endpoint,
    host: &str,
    seq: u64,
    rng: &mut fastrand::Rng,
    body: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    use std::io::Write;
    out.clear();
    body.clear();
    ep.body.render(seq, rng, body);
    out.extend_from_slice(ep.method.as_bytes());
    out.push(b' ');
    ep.path.render(seq, rng, out);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |name: &str| ep.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("host") {
        let _ = write!(out, "Host: {host}\r\n");
    }
    if !has("user-agent") {
        out.extend_from_slice(b"User-Agent: leakhound\r\n");
    }
    let skip_length = has("content-length") || has("transfer-encoding");
    for (k, v) in &ep.headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        v.render(seq, rng, out);
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
        render(&ep, "h:1", 12, &mut fastrand::Rng::new(), &mut b, &mut o);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "POST /u/12 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: leakhound\r\nX-Id: 12\r\nContent-Length: 8\r\n\r\n{\"n\":12}"
        );
    }
}
