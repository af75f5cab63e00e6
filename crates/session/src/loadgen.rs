//! Bounded rounds of keep-alive HTTP/1.1 load at the target.
//!
//! `run` needs load in short rounds with a quiet moment between them for the forced GC; this
//! small driver does exactly that (the general engine with rate control and histograms is
//! `leakhound-load`). Responses are read completely (Content-Length or chunked) so every
//! counted request was really served.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// What to send: one request, pre-rendered.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub addr: SocketAddr,
    pub bytes: Arc<Vec<u8>>,
}

impl RequestTemplate {
    pub fn new(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> RequestTemplate {
        let mut r = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: leakhound\r\nAccept: */*\r\n"
        );
        let mut has_ct = false;
        for (k, v) in headers {
            has_ct |= k.eq_ignore_ascii_case("content-type");
            r.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            if !has_ct {
                r.push_str("Content-Type: application/json\r\n");
            }
            r.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        r.push_str("\r\n");
        let mut bytes = r.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        RequestTemplate {
            addr,
            bytes: Arc::new(bytes),
        }
    }
}

/// Cumulative counters, shared by all connections.
#[derive(Debug, Default)]
pub struct Counters {
    /// Responses received (any status).
    pub completed: AtomicU64,
    /// Responses with a status of 400 or more.
    pub http_errors: AtomicU64,
    /// Connect, write, read or parse failures and timeouts.
    pub transport_errors: AtomicU64,
}

/// Drive `conns` connections for `dur`; requests in flight at the deadline are finished
/// (up to `timeout`), so the round ends quiet.
pub async fn round(
    req: &RequestTemplate,
    conns: usize,
    dur: Duration,
    timeout: Duration,
    counters: &Arc<Counters>,
) {
    let deadline = Instant::now() + dur;
    let mut tasks = Vec::with_capacity(conns);
    for _ in 0..conns.max(1) {
        let req = req.clone();
        let counters = counters.clone();
        tasks.push(tokio::spawn(async move {
            connection(&req, deadline, timeout, &counters).await
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn connection(
    req: &RequestTemplate,
    deadline: Instant,
    timeout: Duration,
    counters: &Counters,
) {
    let mut buf = Vec::with_capacity(16 * 1024);
    while Instant::now() < deadline {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(req.addr)).await;
        let mut stream = match stream {
            Ok(Ok(s)) => s,
            _ => {
                counters.transport_errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        buf.clear();
        while Instant::now() < deadline {
            let r =
                tokio::time::timeout(timeout, exchange(&mut stream, &req.bytes, &mut buf)).await;
            match r {
                Ok(Ok((status, keep_alive))) => {
                    counters.completed.fetch_add(1, Ordering::Relaxed);
                    if status >= 400 {
                        counters.http_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    if !keep_alive {
                        break;
                    }
                }
                _ => {
                    counters.transport_errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    break;
                }
            }
        }
    }
}

/// Send one request and read one whole response; `(status, keep-alive)`.
async fn exchange(
    s: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, bool)> {
    s.write_all(request).await?;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let parsed = resp.parse(buf).map_err(std::io::Error::other)?;
        if let httparse::Status::Complete(head) = parsed {
            let status = resp.code.unwrap_or(0);
            let mut len: Option<usize> = None;
            let mut chunked = false;
            let mut keep = true;
            for h in resp.headers.iter() {
                let v = std::str::from_utf8(h.value).unwrap_or("").trim();
                if h.name.eq_ignore_ascii_case("content-length") {
                    len = v.parse().ok();
                } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = v.eq_ignore_ascii_case("chunked");
                } else if h.name.eq_ignore_ascii_case("connection") {
                    keep = !v.eq_ignore_ascii_case("close");
                }
            }
            buf.drain(..head);
            if chunked {
                read_chunked(s, buf).await?;
            } else if let Some(n) = len {
                while buf.len() < n {
                    read_more(s, buf).await?;
                }
                buf.drain(..n);
            } else {
                // No length: the body runs to the end of the connection.
                while read_more(s, buf).await.is_ok() {}
                buf.clear();
                return Ok((status, false));
            }
            return Ok((status, keep));
        }
        read_more(s, buf).await?;
    }
}

async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut tmp = [0u8; 8192];
    let n = s.read(&mut tmp).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&tmp[..n]);
    Ok(())
}

/// Consume a chunked body (and its trailer) from the front of `buf`.
async fn read_chunked(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    loop {
        let line_end = loop {
            if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                break p;
            }
            read_more(s, buf).await?;
        };
        let size_txt = std::str::from_utf8(&buf[..line_end]).unwrap_or("");
        let size = usize::from_str_radix(size_txt.split(';').next().unwrap_or("").trim(), 16)
            .map_err(std::io::Error::other)?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailer: lines until an empty one.
            loop {
                let p = loop {
                    if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                        break p;
                    }
                    read_more(s, buf).await?;
                };
                buf.drain(..p + 2);
                if p == 0 {
                    return Ok(());
                }
            }
        }
        while buf.len() < size + 2 {
            read_more(s, buf).await?;
        }
        buf.drain(..size + 2);
    }
}
