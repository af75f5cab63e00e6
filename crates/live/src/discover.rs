//! Finding the inspector's WebSocket URL: `GET /json/list` on its HTTP port, after SIGUSR1
//! when leakhound has to open it.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::error::{LiveError, Result};
use crate::target::{read_proc, Target};

/// The inspector found for a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub addr: SocketAddr,
    pub ws_url: String,
    /// Whether leakhound's SIGUSR1 opened it (then detach closes it again).
    pub opened: bool,
    /// The pid the user named (`attach PID`), to check the inspector belongs to it.
    pub pid: Option<u32>,
}

/// One `GET /json/list`, within `timeout`: the first target's `webSocketDebuggerUrl`.
pub async fn json_list(addr: SocketAddr, timeout: Duration) -> std::result::Result<String, String> {
    let fetch = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let req = format!(
            "GET /json/list HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        // Node's inspector keeps the connection open after answering: read the head, then
        // Content-Length bytes of body (or to the end when it gives none).
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 1 << 20 {
                return Err("the /json/list answer is over 1 MiB".to_string());
            }
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head.lines().find_map(|l| {
                    l.strip_prefix("content-length:")
                        .and_then(|v| v.trim().parse::<usize>().ok())
                });
                if len.is_some_and(|len| buf.len() >= end + 4 + len) {
                    break;
                }
            }
        }
        Ok::<_, String>(buf)
    };
    let buf = tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))??;
    let text = String::from_utf8_lossy(&buf);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .ok_or("not an HTTP answer")?;
    let list: Value = serde_json::from_str(body.trim())
        .map_err(|e| format!("not an inspector's /json/list ({e})"))?;
    list.as_array()
        .and_then(|a| {
            a.iter()
                .find_map(|t| t.get("webSocketDebuggerUrl")?.as_str())
        })
        .map(|u| rewrite_host(u, addr))
        .ok_or_else(|| "the inspector lists no debuggable target".to_string())
}

/// The URL with the address leakhound reached (an inspector bound to `0.0.0.0` lists that).
fn rewrite_host(url: &str, addr: SocketAddr) -> String {
    match url.strip_prefix("ws://").and_then(|r| r.split_once('/')) {
        Some((_, path)) => {
            let host = if addr.is_ipv6() {
                // The client accepts 127.0.0.1 / localhost hosts only.
                format!("localhost:{}", addr.port())
            } else {
                addr.to_string()
            };
            format!("ws://{host}/{path}")
        }
        None => url.to_string(),
    }
}

/// Find (or open) the target's inspector. With a pid: an inspector already answering on its
/// port is used as it is; otherwise SIGUSR1 opens one and this waits up to `wait` for it.
pub async fn find(target: &Target, wait: Duration) -> Result<Found> {
    let pid = match target {
        Target::Inspect(addr) => {
            let ws_url = json_list(*addr, Duration::from_secs(3))
                .await
                .map_err(|d| LiveError::Unreachable {
                    addr: addr.to_string(),
                    waited: Duration::from_secs(3),
                    detail: d,
                })?;
            return Ok(Found {
                addr: *addr,
                ws_url,
                opened: false,
                pid: None,
            });
        }
        Target::Pid(pid) => *pid,
    };
    let info = read_proc(pid)?;
    if !info.is_node() {
        return Err(LiveError::NotNode { pid, exe: info.exe });
    }
    let port = info.inspect_port().ok_or_else(|| LiveError::NoInspector {
        pid,
        detail: "its inspector port is 0 (random): leakhound cannot know it; read the port from its `Debugger listening on` line and use --inspect".into(),
    })?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // Already open (started with --inspect, or an earlier SIGUSR1): use it, leave it open.
    if let Ok(ws_url) = json_list(addr, Duration::from_millis(500)).await {
        return Ok(Found {
            addr,
            ws_url,
            opened: false,
            pid: Some(pid),
        });
    }
    if info.sigusr1_ignored {
        return Err(LiveError::NoInspector {
            pid,
            detail: "it ignores SIGUSR1, so no inspector can be opened with it".into(),
        });
    }
    if !info.sigusr1_caught {
        return Err(LiveError::SignalWouldKill { pid });
    }
    // SAFETY: kill(2) with a pid and a signal number; no memory is shared.
    if unsafe { libc::kill(pid as i32, libc::SIGUSR1) } != 0 {
        return Err(LiveError::Signal {
            pid,
            detail: std::io::Error::last_os_error().to_string(),
        });
    }
    let deadline = Instant::now() + wait;
    let mut last = String::new();
    while Instant::now() < deadline {
        match json_list(addr, Duration::from_millis(500)).await {
            Ok(ws_url) => {
                return Ok(Found {
                    addr,
                    ws_url,
                    opened: true,
                    pid: Some(pid),
                })
            }
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(LiveError::NoInspector {
        pid,
        detail: format!(
            "no inspector answered on 127.0.0.1:{port} within {}s of SIGUSR1 ({last}); the app may handle SIGUSR1 itself or run with --disable-sigusr1",
            wait.as_secs()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ws_url_keeps_the_address_leakhound_reached() {
        let a: SocketAddr = "127.0.0.1:9229".parse().unwrap();
        assert_eq!(
            rewrite_host("ws://0.0.0.0:9229/abc-1", a),
            "ws://127.0.0.1:9229/abc-1"
        );
        let six: SocketAddr = "[::1]:9300".parse().unwrap();
        assert_eq!(
            rewrite_host("ws://[::1]:9300/x", six),
            "ws://localhost:9300/x"
        );
    }

    #[tokio::test]
    async fn json_list_reads_the_first_targets_url() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b).await;
            let body = r#"[{"id":"u","webSocketDebuggerUrl":"ws://127.0.0.1:1/u"}]"#;
            let _ = s
                .write_all(
                    format!(
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await;
        });
        let url = json_list(addr, Duration::from_secs(2)).await.unwrap();
        assert_eq!(url, format!("ws://{addr}/u"));
        // Nothing listening: an error, not a hang.
        let closed: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert!(json_list(closed, Duration::from_secs(2)).await.is_err());
    }
}
