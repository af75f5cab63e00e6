//! Endpoints from an OpenAPI 3.0 or 3.1 document (JSON or YAML): one per operation.
//!
//! A service's spec already lists every route, so nobody should have to copy them into a
//! config to find which one leaks. Path parameters become the parameter's example or first
//! enum value, else `{{seq}}` (`{{uuid}}` for a uuid), so id-keyed routes see new ids;
//! required query and header parameters are filled the same way; a request body is the media
//! type's `example`/`examples`, else one generated from its schema (required properties, by
//! type and format). `servers` is ignored: the target is the one leakhound drives.
//!
//! The document is read as plain JSON values rather than through a typed OpenAPI model: the
//! typed crates each take one version (`openapiv3` refuses 3.1's `type: [string, "null"]`,
//! `oas3` is 3.1-only and turns on serde_json's `preserve_order` for the whole workspace),
//! and these few fields read the same way in both versions.

use crate::endpoint::Endpoint;
use crate::error::{bail, Context, Error, Result};
use crate::template::Template;
use serde_json::{Map, Value};
use std::path::Path;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How deep schemas are followed when a body is generated (recursive schemas end here).
const MAX_DEPTH: usize = 12;

/// Read a JSON or YAML document as JSON values; the error names the line of a YAML error.
pub(crate) fn parse_document(text: &str) -> Result<Value> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            Error::Invalid(format!(
                "line {} column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ))
        })
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!("line {} column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            Error::Invalid(format!("{at}{}", strip_position(&e.to_string())))
        })
    }
}

/// "expected value at line 1 column 2" → "expected value" (the position is said once).
fn strip_position(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// The endpoints of the spec in `path` (`vars`: names setup steps capture, usable in headers
/// given with -H; the spec's own values are taken literally).
pub fn load(path: &Path) -> Result<Vec<Endpoint>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading OpenAPI spec {}", path.display()))?;
    endpoints(&text).with_context(|| format!("OpenAPI spec {}", path.display()))
}

/// The endpoints of a spec's text, one per operation, sorted by path (then method).
pub fn endpoints(text: &str) -> Result<Vec<Endpoint>> {
    let doc = parse_document(text)?;
    let root = doc
        .as_object()
        .context("not an OpenAPI document: the top level is not a mapping")?;
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.") => {}
        Some(v) => bail!("openapi: {v:?} is not supported (OpenAPI 3.0 and 3.1 are)"),
        None if root.contains_key("swagger") => {
            bail!("Swagger 2.0 is not supported: convert the spec to OpenAPI 3")
        }
        None => bail!("not an OpenAPI document: no `openapi: 3.x` field"),
    }
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .context("paths: missing or not a mapping")?;
    let mut out: Vec<Endpoint> = Vec::new();
    for (path, item) in paths {
        let at = format!("paths.{path}");
        if !path.starts_with('/') {
            bail!("{at}: a path must start with '/'");
        }
        let item = resolve(&doc, item, &at)?;
        let shared = item.get("parameters").and_then(Value::as_array);
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{at}.{method}");
            let op = resolve(&doc, op, &at)?;
            let ep = operation(&doc, path, method, op, shared, &at)?;
            out.push(ep);
        }
    }
    if out.is_empty() {
        bail!("paths: no operation (get, post, …) to drive");
    }
    dedupe_names(&mut out);
    Ok(out)
}

/// Operation ids are unique in a valid spec; a spec that repeats one still gets distinct names.
pub(crate) fn dedupe_names(eps: &mut [Endpoint]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for ep in eps.iter_mut() {
        let n = seen.entry(ep.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            ep.name = format!("{} #{n}", ep.name);
        }
    }
}

/// One operation as an endpoint.
fn operation(
    doc: &Value,
    path: &str,
    method: &str,
    op: &Value,
    shared: Option<&Vec<Value>>,
    at: &str,
) -> Result<Endpoint> {
    let name = op
        .get("operationId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} {path}", method.to_ascii_uppercase()));
    // Operation parameters override path-item ones of the same name and location.
    let mut params: Vec<(String, String, &Value)> = Vec::new();
    let lists = [shared, op.get("parameters").and_then(Value::as_array)];
    for (li, list) in lists.into_iter().enumerate() {
        for (i, p) in list.into_iter().flatten().enumerate() {
            let pat = format!("{at}.parameters[{i}]");
            let p = resolve(doc, p, &pat)?;
            let pname = p
                .get("name")
                .and_then(Value::as_str)
                .with_context(|| format!("{pat}: no name"))?;
            let loc = p
                .get("in")
                .and_then(Value::as_str)
                .with_context(|| format!("{pat}: no `in`"))?;
            if li == 1 {
                params.retain(|(n, l, _)| !(n == pname && l == loc));
            }
            params.push((pname.to_string(), loc.to_string(), p));
        }
    }
    let mut full_path = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .with_context(|| format!("{at}: unclosed '{{' in the path"))?;
        full_path.push_str(&rest[..open]);
        let pname = &rest[open + 1..close];
        let value = match params.iter().find(|(n, l, _)| n == pname && l == "path") {
            Some((_, _, p)) => param_value(doc, p, at)?,
            None => "{{seq}}".to_string(),
        };
        full_path.push_str(&value);
        rest = &rest[close + 1..];
    }
    full_path.push_str(rest);
    let mut query = Vec::new();
    let mut headers: Vec<(String, Template)> = Vec::new();
    for (pname, loc, p) in &params {
        if !p.get("required").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        match loc.as_str() {
            "query" => query.push(format!("{}={}", encode(pname), param_value(doc, p, at)?)),
            "header" => {
                let v = param_value(doc, p, at)?;
                headers.push((
                    pname.clone(),
                    Template::parse(&v).unwrap_or(Template::literal(v.into_bytes())),
                ));
            }
            _ => {}
        }
    }
    if !query.is_empty() {
        full_path.push(if full_path.contains('?') { '&' } else { '?' });
        full_path.push_str(&query.join("&"));
    }
    let mut body = Template::literal(Vec::new());
    if let Some(rb) = op.get("requestBody") {
        let bat = format!("{at}.requestBody");
        let rb = resolve(doc, rb, &bat)?;
        let required = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
        if let Some((media, text)) = request_body(doc, rb, &bat, required)? {
            headers.push(("Content-Type".into(), Template::literal(media.into_bytes())));
            body = Template::literal(text.into_bytes());
        }
    }
    let path_t = Template::parse(&full_path).with_context(|| format!("{at}: path"))?;
    Endpoint::with_templates(&name, method, &full_path, path_t, headers, body)
        .with_context(|| at.to_string())
}

/// A parameter's value: its example, the schema's example/enum/default, else a template.
fn param_value(doc: &Value, p: &Value, at: &str) -> Result<String> {
    if let Some(v) = p
        .get("example")
        .or_else(|| first_example(doc, p.get("examples")))
    {
        return Ok(encode(&scalar_text(v)));
    }
    let schema = match p.get("schema") {
        Some(s) => resolve(doc, s, at)?,
        None => &Value::Null,
    };
    if let Some(v) = schema_given(schema) {
        return Ok(encode(&scalar_text(v)));
    }
    Ok(
        match (
            type_of(schema),
            schema.get("format").and_then(Value::as_str),
        ) {
            (_, Some("uuid")) => "{{uuid}}".into(),
            (Some("boolean"), _) => "true".into(),
            _ => "{{seq}}".into(),
        },
    )
}

/// The first value of an OpenAPI `examples` map (`{name: {value: …}}`).
fn first_example<'a>(doc: &'a Value, examples: Option<&'a Value>) -> Option<&'a Value> {
    let ex = examples?.as_object()?.values().next()?;
    let ex = resolve(doc, ex, "examples").ok()?;
    ex.get("value")
}

/// A value a schema gives outright: example, examples[0] (3.1), const, default, enum[0].
fn schema_given(schema: &Value) -> Option<&Value> {
    schema
        .get("example")
        .or_else(|| schema.get("examples").and_then(|e| e.as_array()?.first()))
        .or_else(|| schema.get("const"))
        .or_else(|| schema.get("default"))
        .or_else(|| schema.get("enum").and_then(|e| e.as_array()?.first()))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encode what may not stand in a path segment or a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The schema's type (3.1 allows a list: the first that is not "null").
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// The media type and body text of a request body; `None` when none is needed.
fn request_body(
    doc: &Value,
    rb: &Value,
    at: &str,
    required: bool,
) -> Result<Option<(String, String)>> {
    let Some(content) = rb.get("content").and_then(Value::as_object) else {
        if required {
            bail!("{at}: no content to build a body from");
        }
        return Ok(None);
    };
    let pick = content
        .keys()
        .find(|k| k.starts_with("application/json"))
        .or_else(|| content.keys().find(|k| k.ends_with("+json")))
        .or_else(|| {
            content
                .keys()
                .find(|k| k.starts_with("application/x-www-form-urlencoded"))
        })
        .or_else(|| content.keys().find(|k| k.starts_with("text/")))
        .or_else(|| content.keys().next());
    let Some(media) = pick else {
        if required {
            bail!("{at}: content is empty");
        }
        return Ok(None);
    };
    let m = &content[media];
    let mat = format!("{at}.content.{media}");
    let textual = media.contains("json")
        || media.starts_with("application/x-www-form-urlencoded")
        || media.starts_with("text/");
    let value = match m
        .get("example")
        .or_else(|| first_example(doc, m.get("examples")))
    {
        Some(v) => v.clone(),
        None if !textual && required => {
            bail!("{mat}: cannot generate a {media} body: give the media type an `example`")
        }
        None if !textual => return Ok(None),
        None => match m.get("schema") {
            Some(s) => generate(doc, s, &format!("{mat}.schema"), 0)?,
            None if required => bail!("{mat}: no example and no schema to build a body from"),
            None => return Ok(None),
        },
    };
    let text = if media.contains("json") {
        value.to_string()
    } else if media.starts_with("application/x-www-form-urlencoded") {
        match &value {
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(&scalar_text(v))))
                .collect::<Vec<_>>()
                .join("&"),
            other => scalar_text(other),
        }
    } else if let Value::String(s) = &value {
        s.clone()
    } else if media.starts_with("text/") {
        value.to_string()
    } else if required {
        bail!("{mat}: cannot generate a {media} body: give the media type an `example`");
    } else {
        return Ok(None);
    };
    Ok(Some((media.clone(), text)))
}

/// A value that satisfies `schema`: its given value, else built from its type and format,
/// with only the required properties of objects.
fn generate(doc: &Value, schema: &Value, at: &str, depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Ok(Value::Null);
    }
    let schema = resolve(doc, schema, at)?;
    if let Some(v) = schema_given(schema) {
        return Ok(v.clone());
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        let mut other = None;
        for (i, s) in all.iter().enumerate() {
            match generate(doc, s, &format!("{at}.allOf[{i}]"), depth + 1)? {
                Value::Object(o) => merged.extend(o),
                v => other = Some(v),
            }
        }
        return Ok(if merged.is_empty() {
            other.unwrap_or(Value::Object(merged))
        } else {
            Value::Object(merged)
        });
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(|v| v.as_array()?.first()) {
            return generate(doc, first, &format!("{at}.{key}[0]"), depth + 1);
        }
    }
    let ty = type_of(schema).or_else(|| schema.get("properties").map(|_| "object"));
    let min = schema.get("minimum").and_then(Value::as_f64);
    Ok(match ty {
        Some("object") => {
            let mut o = Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            let required = schema.get("required").and_then(Value::as_array);
            for name in required.into_iter().flatten().filter_map(Value::as_str) {
                let v = match props.and_then(|p| p.get(name)) {
                    Some(s) => generate(doc, s, &format!("{at}.properties.{name}"), depth + 1)?,
                    None => Value::String("string".into()),
                };
                o.insert(name.to_string(), v);
            }
            Value::Object(o)
        }
        Some("array") => {
            let n = schema
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 16);
            let item = match schema.get("items") {
                Some(s) => generate(doc, s, &format!("{at}.items"), depth + 1)?,
                None => Value::String("string".into()),
            };
            Value::Array(vec![item; n as usize])
        }
        Some("integer") => Value::from(min.map_or(1, |m| m.ceil() as i64)),
        Some("number") => Value::from(min.unwrap_or(1.5)),
        Some("boolean") => Value::Bool(true),
        Some("null") => Value::Null,
        Some("string") => Value::String(string_for(schema)),
        Some(other) => bail!("{at}: unknown schema type {other:?}"),
        None => Value::Null,
    })
}

/// A string by format, at least `minLength` long.
fn string_for(schema: &Value) -> String {
    let s = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "00:00:00Z",
        Some("email") => "user@example.com",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("uri" | "url") => "http://example.com/",
        Some("hostname") => "example.com",
        Some("ipv4") => "127.0.0.1",
        Some("ipv6") => "::1",
        Some("byte") => "c3RyaW5n",
        Some("password") => "password",
        _ => "string",
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut s = s.to_string();
    while s.len() < min.min(4096) {
        s.push('x');
    }
    s
}

/// Follow `$ref` (local `#/...` pointers only), a few levels at most.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value, at: &str) -> Result<&'a Value> {
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return Ok(v);
        };
        let Some(pointer) = r.strip_prefix('#') else {
            bail!("{at}: $ref {r:?} points outside the document (only #/... references are read)");
        };
        v = doc
            .pointer(pointer)
            .with_context(|| format!("{at}: $ref {r:?} does not resolve"))?;
    }
    bail!("{at}: $ref chain too long (a cycle?)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ep: &Endpoint) -> String {
        let mut out = Vec::new();
        let mut body = Vec::new();
        crate::request::render(
            ep,
            "h",
            false,
            5,
            &mut fastrand::Rng::with_seed(1),
            &mut body,
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://prod.example.com/api"}]
paths:
  /login:
    post:
      operationId: login
      requestBody:
        required: true
        content:
          application/json:
            example: {user: "a", password: "b"}
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, minimum: 5}}
        - {name: page, in: query, schema: {type: integer}}
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Item"}
  /items/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getItem
  /users/{uid}/tags/{tag}:
    get:
      parameters:
        - {name: uid, in: path, required: true, schema: {type: string, format: uuid}}
        - {name: tag, in: path, required: true, schema: {type: string, enum: [red, blue]}}
components:
  schemas:
    Item:
      type: object
      required: [name, tags, when, count]
      properties:
        name: {type: string, minLength: 8}
        tags: {type: array, items: {type: string, format: email}}
        when: {type: string, format: date-time}
        count: {type: [integer, "null"], minimum: 3}
        note: {type: string}
"##;

    #[test]
    fn one_endpoint_per_operation() {
        let eps = endpoints(SPEC).unwrap();
        let names: Vec<&str> = eps.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "listItems",
                "POST /items",
                "getItem",
                "login",
                "GET /users/{uid}/tags/{tag}"
            ]
        );
        let by = |n: &str| eps.iter().find(|e| e.name == n).unwrap();
        assert_eq!(
            req(by("login")),
            "POST /login HTTP/1.1\r\nHost: h\r\nUser-Agent: leakhound\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{\"password\":\"b\",\"user\":\"a\"}"
                .replace("30", &"{\"password\":\"b\",\"user\":\"a\"}".len().to_string())
        );
        assert!(
            req(by("listItems")).starts_with("GET /items?limit=5 HTTP/1.1"),
            "{}",
            req(by("listItems"))
        );
        assert!(
            req(by("getItem")).starts_with("GET /items/5 HTTP/1.1"),
            "seq fills {{id}}"
        );
        let tags = req(by("GET /users/{uid}/tags/{tag}"));
        let line = tags.lines().next().unwrap();
        assert!(
            line.starts_with("GET /users/") && line.ends_with("/tags/red HTTP/1.1"),
            "{line}"
        );
        assert_eq!(
            line.len(),
            "GET /users//tags/red HTTP/1.1".len() + 36,
            "{line}"
        );
        let post = req(by("POST /items"));
        let body: Value = serde_json::from_str(post.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "stringxx", "tags": ["user@example.com"], "when": "2024-01-01T00:00:00Z", "count": 3})
        );
    }

    #[test]
    fn openapi_3_1_json_with_examples() {
        let spec = r##"{"openapi": "3.1.0", "paths": {"/e": {"put": {"requestBody": {"content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["a"],
            "properties": {"a": {"type": "string", "examples": ["x y"]}}}}}}}}}}"##;
        let eps = endpoints(spec).unwrap();
        assert!(
            req(&eps[0]).ends_with("\r\n\r\na=x%20y"),
            "{}",
            req(&eps[0])
        );
    }

    #[test]
    fn bad_specs_say_where() {
        let err = |t: &str| {
            let e = endpoints(t).unwrap_err();
            let mut s = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(c) = src {
                s.push_str(": ");
                s.push_str(&c.to_string());
                src = c.source();
            }
            s
        };
        assert!(
            err("openapi: [3").contains(" column "),
            "{}",
            err("openapi: [3")
        );
        assert!(
            err("{\"openapi\": }").contains("line 1 column"),
            "{}",
            err("{\"openapi\": }")
        );
        assert!(err("swagger: '2.0'\npaths: {}").contains("Swagger 2.0"));
        assert!(err("openapi: 3.0.0\n").contains("paths"));
        assert!(err("openapi: 3.0.0\npaths: {}").contains("no operation"));
        let e = err("openapi: 3.0.0\npaths:\n  /a:\n    post:\n      requestBody:\n        required: true\n        content:\n          application/octet-stream: {schema: {type: string, format: binary}}\n");
        assert!(
            e.contains("paths./a.post") || e.contains("application/octet-stream"),
            "{e}"
        );
        let e = err("openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/nope'}]\n");
        assert!(
            e.contains("paths./a.get.parameters[0]") && e.contains("does not resolve"),
            "{e}"
        );
    }

    #[test]
    fn recursive_schemas_end() {
        let spec = "openapi: 3.0.0\npaths:\n  /n:\n    post:\n      requestBody:\n        required: true\n        content:\n          application/json: {schema: {$ref: '#/components/schemas/N'}}\ncomponents:\n  schemas:\n    N: {type: object, required: [next], properties: {next: {$ref: '#/components/schemas/N'}}}\n";
        let eps = endpoints(spec).unwrap();
        assert!(req(&eps[0]).contains("{\"next\":{\"next\":"));
    }
}
