//! Endpoints from a HAR file (traffic recorded by a browser or a proxy): one per distinct
//! method and path, weighted by how often it was recorded.
//!
//! Recorded traffic is the real mix of a service, so replaying its shape (not its hosts: the
//! target is the one leakhound drives) exercises the routes users hit, as often as they hit
//! them. The query string and body of an endpoint are those of its first recorded request;
//! with `template_ids`, numeric and uuid path segments become `{{seq}}`, so `/items/17` and
//! `/items/42` are one endpoint that asks for a new id every request. Headers are kept except
//! those that belong to the recording's connection (Host, Content-Length, Connection, HTTP/2
//! pseudo-headers) and cookies (the jar and `cookies = ...` decide those).

use crate::endpoint::Endpoint;
use crate::error::{bail, Context, Result};
use crate::template::Template;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    request: Request,
}

#[derive(Deserialize)]
struct Request {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(rename = "postData")]
    post_data: Option<PostData>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct PostData {
    #[serde(rename = "mimeType", default)]
    mime_type: String,
    #[serde(default)]
    text: String,
}

/// Headers that describe the recorded connection, not the request.
const DROPPED: [&str; 11] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "cookie",
    "proxy-connection",
    "proxy-authorization",
    "accept-encoding",
];

/// The endpoints of the HAR file at `path`.
pub fn load(path: &Path, template_ids: bool) -> Result<Vec<Endpoint>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading HAR {}", path.display()))?;
    endpoints(&text, template_ids).with_context(|| format!("HAR {}", path.display()))
}

/// The endpoints of a HAR document, in order of first appearance.
pub fn endpoints(text: &str, template_ids: bool) -> Result<Vec<Endpoint>> {
    let har: Har = serde_json::from_str(text).map_err(|e| {
        crate::Error::Invalid(format!(
            "line {} column {}: not a HAR document ({})",
            e.line(),
            e.column(),
            e.to_string().split(" at line ").next().unwrap_or_default()
        ))
    })?;
    // (method, path without query) → (endpoint, count)
    let mut seen: Vec<((String, String), Endpoint)> = Vec::new();
    for (i, entry) in har.log.entries.iter().enumerate() {
        let r = &entry.request;
        let Some((path, query)) = split_url(&r.url) else {
            continue; // ws:, data:, chrome-extension: … are not HTTP requests
        };
        let path = if template_ids {
            template_path(&path)
        } else {
            path
        };
        let method = r.method.trim().to_ascii_uppercase();
        let key = (method.clone(), path.clone());
        if let Some((_, ep)) = seen.iter_mut().find(|(k, _)| *k == key) {
            ep.weight = ep.weight.saturating_add(1);
            continue;
        }
        let at = || format!("log.entries[{i}] ({method} {path})");
        let full = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        // The recorded text is taken as it is, except the templated ids.
        let path_t = if template_ids {
            Template::parse(&full).unwrap_or_else(|_| Template::literal(full.clone().into_bytes()))
        } else {
            Template::literal(full.clone().into_bytes())
        };
        let mut headers: Vec<(String, Template)> = Vec::new();
        for h in &r.headers {
            let lower = h.name.to_ascii_lowercase();
            if h.name.starts_with(':') || DROPPED.contains(&lower.as_str()) {
                continue;
            }
            if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(&h.name)) {
                continue;
            }
            headers.push((
                h.name.clone(),
                Template::literal(h.value.clone().into_bytes()),
            ));
        }
        let body = match &r.post_data {
            Some(pd) => {
                if !pd.mime_type.is_empty()
                    && !headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    headers.push((
                        "Content-Type".into(),
                        Template::literal(pd.mime_type.clone().into_bytes()),
                    ));
                }
                Template::literal(pd.text.clone().into_bytes())
            }
            None => Template::literal(Vec::new()),
        };
        let name = format!("{method} {path}");
        let ep = Endpoint::with_templates(&name, &method, &full, path_t, headers, body)
            .with_context(at)?;
        seen.push((key, ep));
    }
    if seen.is_empty() {
        bail!("no HTTP entries (log.entries holds no http:// or https:// request)");
    }
    Ok(seen.into_iter().map(|(_, ep)| ep).collect())
}

/// `http(s)://host/path?query#frag` → (path, query).
fn split_url(url: &str) -> Option<(String, Option<String>)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let rest = rest.split('#').next().unwrap_or_default();
    let path_q = match rest.find(['/', '?']) {
        Some(i) => &rest[i..],
        None => "/",
    };
    let (path, query) = match path_q.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (path_q, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    Some((path.to_string(), query.filter(|q| !q.is_empty())))
}

/// Numeric and uuid segments → `{{seq}}`.
fn template_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let numeric = !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit());
            if numeric || is_uuid(seg) {
                "{{seq}}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn har(entries: &[(&str, &str, Option<&str>)]) -> String {
        let e: Vec<serde_json::Value> = entries
            .iter()
            .map(|(m, u, body)| {
                let mut r = serde_json::json!({
                    "method": m, "url": u, "httpVersion": "HTTP/1.1",
                    "headers": [
                        {"name": "Host", "value": "prod:443"},
                        {"name": "Authorization", "value": "Bearer old"},
                        {"name": "Cookie", "value": "sid=old"},
                        {"name": ":authority", "value": "prod"}
                    ],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0
                });
                if let Some(b) = body {
                    r["postData"] = serde_json::json!({"mimeType": "application/json", "text": b});
                }
                serde_json::json!({"startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
                    "request": r, "response": {"status": 200}})
            })
            .collect();
        serde_json::json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": e}})
            .to_string()
    }

    fn first_line(ep: &Endpoint) -> String {
        let (mut b, mut o) = (Vec::new(), Vec::new());
        crate::request::render(ep, "h", false, 9, &mut fastrand::Rng::new(), &mut b, &mut o);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn distinct_method_and_path_weighted_by_count() {
        let text = har(&[
            ("GET", "https://prod.example.com/items/17?x=1", None),
            ("GET", "https://prod.example.com/items/42?x=2", None),
            ("GET", "https://prod.example.com/items/42", None),
            ("POST", "http://prod/items", Some("{\"name\":\"a\"}")),
            ("GET", "wss://prod/socket", None),
            ("GET", "data:image/png;base64,xx", None),
        ]);
        let eps = endpoints(&text, false).unwrap();
        let names: Vec<(&str, u32)> = eps.iter().map(|e| (e.name.as_str(), e.weight)).collect();
        assert_eq!(
            names,
            [
                ("GET /items/17", 1),
                ("GET /items/42", 2),
                ("POST /items", 1)
            ]
        );
        let get = first_line(&eps[1]);
        assert!(get.starts_with("GET /items/42?x=2 HTTP/1.1\r\n"), "{get}");
        assert!(get.contains("Authorization: Bearer old"), "{get}");
        assert!(
            !get.contains("sid=old") && !get.contains("prod:443") && !get.contains(":authority"),
            "{get}"
        );
        let post = first_line(&eps[2]);
        assert!(
            post.contains("Content-Type: application/json\r\n"),
            "{post}"
        );
        assert!(post.ends_with("\r\n\r\n{\"name\":\"a\"}"), "{post}");

        let eps = endpoints(&text, true).unwrap();
        let names: Vec<(&str, u32)> = eps.iter().map(|e| (e.name.as_str(), e.weight)).collect();
        assert_eq!(names, [("GET /items/{{seq}}", 3), ("POST /items", 1)]);
        assert!(first_line(&eps[0]).starts_with("GET /items/9?x=1 "));
    }

    #[test]
    fn uuid_segments_and_bad_input() {
        assert_eq!(
            template_path("/u/123e4567-e89b-12d3-a456-426614174000/x/7a"),
            "/u/{{seq}}/x/7a"
        );
        let e = endpoints(&har(&[("GET", "wss://x/s", None)]), false).unwrap_err();
        assert!(e.to_string().contains("no HTTP entries"), "{e}");
        let e = endpoints("{\"log\": {\"entries\": []}}", false).unwrap_err();
        assert!(e.to_string().contains("no HTTP entries"), "{e}");
        let e = endpoints("{\"nolog\": 1}", false).unwrap_err();
        assert!(e.to_string().contains("not a HAR document"), "{e}");
        let e = endpoints("[1,", false).unwrap_err();
        assert!(e.to_string().contains("line 1 column"), "{e}");
    }
}
