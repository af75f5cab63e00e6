//! A minimal HTTP server for `--metrics ADDR`: answers `GET /metrics` with the latest
//! OpenMetrics text, anything else with 404. One thread, one request per connection; the
//! scraper is Prometheus on the same machine.
//!
//! Bound to loopback only: the metrics name the process and its memory, and leakhound is no
//! network service. Prometheus on the same host (or an agent that forwards) scrapes it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};

/// The text served at `/metrics`, replaced as the analysis moves on.
#[derive(Clone, Default)]
pub struct Exposition(Arc<Mutex<String>>);

impl Exposition {
    pub fn set(&self, text: String) {
        if let Ok(mut g) = self.0.lock() {
            *g = text;
        }
    }

    fn get(&self) -> String {
        self.0.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

/// Parse `--metrics ADDR` (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`) and refuse
/// anything that is not loopback, before binding.
pub fn loopback_addr(s: &str) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = match s.parse() {
        Ok(a) => a,
        Err(_) => match s.rsplit_once(':') {
            Some((host, port)) if host.eq_ignore_ascii_case("localhost") => {
                let port: u16 = port
                    .parse()
                    .with_context(|| format!("--metrics {s}: the port is not a number"))?;
                (host, port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut it| it.find(|a| a.ip().is_loopback()))
                    .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], port)))
            }
            _ => bail!("--metrics {s}: expected a loopback HOST:PORT such as 127.0.0.1:9464"),
        },
    };
    if !addr.ip().is_loopback() {
        bail!(
            "--metrics {s}: {} is not a loopback address (only 127.0.0.0/8, ::1 and localhost are accepted)",
            addr.ip()
        );
    }
    Ok(addr)
}

/// Bind now (a taken port is exit 2 before any work) and serve on a background thread.
pub fn serve(addr: SocketAddr, exposition: Exposition) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .with_context(|| format!("--metrics {addr}: cannot listen there"))?;
    let local = listener.local_addr()?;
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(stream) = conn else { continue };
            let _ = answer(stream, &exposition);
        }
    });
    Ok(local)
}

fn answer(mut s: TcpStream, e: &Exposition) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body) = if method == "GET" && path == "/metrics" {
        (
            "200 OK",
            leakhound_report::openmetrics::CONTENT_TYPE,
            e.get(),
        )
    } else {
        (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "leakhound serves GET /metrics only\n".to_string(),
        )
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())?;
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_accepted() {
        assert_eq!(
            loopback_addr("127.0.0.1:9464").unwrap(),
            "127.0.0.1:9464".parse().unwrap()
        );
        assert!(loopback_addr("[::1]:9464").is_ok());
        assert!(loopback_addr("localhost:9464").unwrap().ip().is_loopback());
        for bad in ["0.0.0.0:9464", "10.0.0.1:9464", "example.com:9464", "9464"] {
            let e = loopback_addr(bad).unwrap_err().to_string();
            assert!(e.contains("--metrics"), "{e}");
        }
    }

    #[test]
    fn serves_the_latest_text_at_metrics_only() {
        let e = Exposition::default();
        e.set("a 1\n# EOF\n".into());
        let addr = serve("127.0.0.1:0".parse().unwrap(), e.clone()).unwrap();
        let get = |path: &str| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut r = String::new();
            s.read_to_string(&mut r).unwrap();
            r
        };
        let r = get("/metrics");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("application/openmetrics-text"), "{r}");
        assert!(r.ends_with("\r\n\r\na 1\n# EOF\n"), "{r}");
        e.set("b 2\n# EOF\n".into());
        assert!(get("/metrics").ends_with("b 2\n# EOF\n"));
        assert!(get("/").starts_with("HTTP/1.1 404"));
    }
}
