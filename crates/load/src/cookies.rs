//! A cookie jar per virtual user: what `Set-Cookie` headers set, sent back as one `Cookie`
//! header, like a browser (without domains, paths or expiry dates: every request goes to the
//! one target). Sessions kept in server memory only show as a leak when the client either
//! keeps its cookie (`jar`: one session per connection) or never sends one (`fresh`: a new
//! session per request), so both shapes are needed.

use serde::Deserialize;

/// How load requests carry cookies (`cookies = "..."` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieMode {
    /// Each connection keeps the cookies its setup steps and responses set, and sends them.
    Jar,
    /// leakhound handles no cookies: setup steps do not pass them on, load requests send
    /// only a `Cookie` header the user wrote.
    None,
    /// Load requests send no cookie at all, so every request starts a new server-side
    /// session (setup steps still pass cookies from one step to the next).
    Fresh,
}

/// Cookies by name, in the order they were first set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Take one `Set-Cookie` value: `name=value; attributes`. `Max-Age=0` (or a negative one)
    /// deletes the cookie; an `Expires` alone is not read (no clock games in a load test).
    pub fn set(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }
        let delete = parts.any(|a| {
            a.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("max-age")
                    && v.trim().parse::<i64>().is_ok_and(|n| n <= 0)
            })
        });
        self.cookies.retain(|(n, _)| n != name);
        if !delete {
            self.cookies.push((name.to_string(), value.to_string()));
        }
    }

    /// Every `Set-Cookie` of a response head (the raw bytes up to the blank line).
    pub fn absorb_head(&mut self, head: &[u8]) -> bool {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        if resp.parse(head).is_err() {
            return false;
        }
        let mut any = false;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("set-cookie") {
                if let Ok(v) = std::str::from_utf8(h.value) {
                    self.set(v);
                    any = true;
                }
            }
        }
        any
    }

    /// The value of one cookie.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The `Cookie` header's value (`a=1; b=2`) into `out` (cleared first).
    pub fn write_header(&self, out: &mut Vec<u8>) {
        out.clear();
        for (i, (n, v)) in self.cookies.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b"; ");
            }
            out.extend_from_slice(n.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replace_delete_and_header() {
        let mut j = Jar::default();
        j.set("sid=abc; Path=/; HttpOnly");
        j.set("theme=dark");
        j.set("sid=def");
        assert_eq!(j.get("sid"), Some("def"));
        let mut out = Vec::new();
        j.write_header(&mut out);
        assert_eq!(out, b"theme=dark; sid=def");
        j.set("theme=; Max-Age=0");
        assert_eq!(j.get("theme"), None);
        j.set("garbage");
        j.set("=x");
        assert_eq!(j.cookies.len(), 1);
    }

    #[test]
    fn absorbs_every_set_cookie_of_a_head() {
        let mut j = Jar::default();
        let head = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2; Secure\r\n\r\n";
        assert!(j.absorb_head(head));
        assert_eq!((j.get("a"), j.get("b")), (Some("1"), Some("2")));
        assert!(!Jar::default().absorb_head(b"HTTP/1.1 200 OK\r\n\r\n"));
    }
}
