//! A minimal blocking HTTP/1.1 GET over a loopback TCP connection.
//!
//! Prometheus is on loopback (see [`crate::endpoint`]), so there is no TLS, proxy or redirect
//! to handle: one request per connection (`Connection: close`), the body read by
//! `Content-Length`, chunked encoding, or to the end of the stream. A hand-written client keeps
//! the workspace free of an HTTP stack it would use for one GET.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::endpoint::Endpoint;
use crate::error::FleetError;

/// The largest body accepted (a 1,000-instance × 6 h response is ~30 MB).
const MAX_BODY: usize = 1 << 30;

/// `GET {prefix}{path_and_query}`; returns the status and the body.
pub fn get(
    ep: &Endpoint,
    path_and_query: &str,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), FleetError> {
    let io = |e: std::io::Error| FleetError::Http(format!("{}: {e}", ep.host_header));
    let mut last = None;
    let mut stream = None;
    for a in &ep.addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut s = match stream {
        Some(s) => s,
        None => {
            return Err(FleetError::Http(format!(
                "cannot connect to {}: {}",
                ep.host_header,
                last.map_or("no address".to_string(), |e| e.to_string())
            )))
        }
    };
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    let req = format!(
        "GET {}{} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nUser-Agent: leakhound\r\nConnection: close\r\n\r\n",
        ep.prefix, path_and_query, ep.host_header
    );
    s.write_all(req.as_bytes()).map_err(io)?;
    let mut raw = Vec::with_capacity(64 * 1024);
    s.take(MAX_BODY as u64 + 64 * 1024)
        .read_to_end(&mut raw)
        .map_err(io)?;
    parse_response(&raw).map_err(|m| FleetError::Http(format!("{}: {m}", ep.host_header)))
}

/// Status and decoded body of one complete response.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("the response ended in its headers".into()),
        Err(e) => return Err(format!("not an HTTP response ({e})")),
    };
    let status = resp.code.unwrap_or(0);
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let body = &raw[head..];
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return dechunk(body).map(|b| (status, b));
    }
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return Err(format!(
                "the body ended after {} of {len} bytes",
                body.len()
            ));
        }
        return Ok((status, body[..len].to_vec()));
    }
    Ok((status, body.to_vec()))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let nl = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut short")?;
        let line = std::str::from_utf8(&b[..nl]).map_err(|_| "a bad chunk size")?;
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| "a bad chunk size")?;
        b = &b[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 || out.len() + size > MAX_BODY {
            return Err("a chunk is cut short".into());
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// Percent-encode a query parameter value (RFC 3986 unreserved characters kept).
pub fn encode(v: &str) -> String {
    let mut s = String::with_capacity(v.len() * 3);
    for &c in v.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
            s.push(c as char);
        } else {
            s.push_str(&format!("%{c:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_by_length_chunks_and_close() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello world";
        assert_eq!(parse_response(r).unwrap(), (200, b"hello".to_vec()));
        let r = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        assert_eq!(parse_response(r).unwrap(), (400, b"hello world".to_vec()));
        let r = b"HTTP/1.0 200 OK\r\n\r\nall of it";
        assert_eq!(parse_response(r).unwrap(), (200, b"all of it".to_vec()));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort").is_err());
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n").is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            encode(r#"sum by (job) (m{job="a b"})"#),
            "sum%20by%20%28job%29%20%28m%7Bjob%3D%22a%20b%22%7D%29"
        );
    }
}
