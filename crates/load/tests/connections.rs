//! Connection shapes: keep-alive, `--no-keepalive` (and the user's own `Connection: close`,
//! the same mechanism), and `--abort`, against a keep-alive server on a 127.0.0.1 thread that
//! counts the connections and requests it sees.

use leakhound_load::{Abort, Bounds, Engine, Plan, Template};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The same cross-process lock as the binary's integration tests: load tests never overlap.
fn serial() -> File {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("leakhound-serial-tests.lock"))
        .unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    f
}

#[derive(Default)]
struct Seen {
    connections: AtomicU64,
    requests: AtomicU64,
    /// Requests that carried `Connection: close`.
    close_headers: AtomicU64,
}

/// A server that keeps every connection open (it never closes first) and answers each request
/// with "ok".
fn server() -> (u16, Arc<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            seen2.connections.fetch_add(1, SeqCst);
            let seen = seen2.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    let n = match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&pending[..i]).to_ascii_lowercase();
                        pending.drain(..i + 4);
                        seen.requests.fetch_add(1, SeqCst);
                        if head.contains("\r\nconnection: close") {
                            seen.close_headers.fetch_add(1, SeqCst);
                        }
                        // The client may be gone already (an aborted request): ignore errors.
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    }
                }
            });
        }
    });
    (port, seen)
}

fn plan(port: u16, connections: usize) -> Plan {
    let mut p = Plan::from_url(&format!("http://127.0.0.1:{port}/")).unwrap();
    p.connections = connections;
    p
}

/// Wait (bounded) until the server has read `n` requests: an aborted request's bytes may
/// still be on their way when the round returns.
fn wait_requests(seen: &Seen, n: u64) -> u64 {
    let start = Instant::now();
    while seen.requests.load(SeqCst) < n && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    seen.requests.load(SeqCst)
}

#[test]
fn keep_alive_opens_one_connection_per_slot() {
    let _s = serial();
    let (port, seen) = server();
    let mut engine = Engine::new(plan(port, 4)).unwrap();
    engine.run_round(Bounds::requests(200));
    let s = engine.summary();
    assert_eq!((s.successful, s.connections_opened, s.aborted), (200, 4, 0));
    assert_eq!(seen.connections.load(SeqCst), 4);
    assert_eq!(seen.close_headers.load(SeqCst), 0);
}

#[test]
fn no_keepalive_opens_a_connection_per_request_and_says_close() {
    let _s = serial();
    let (port, seen) = server();
    let mut p = plan(port, 4);
    p.keep_alive = false;
    let mut engine = Engine::new(p).unwrap();
    engine.run_round(Bounds::requests(200));
    let s = engine.summary();
    assert_eq!((s.successful, s.failed), (200, 0), "{s}");
    assert_eq!(s.connections_opened, 200, "{s}");
    assert_eq!(seen.connections.load(SeqCst), 200);
    assert_eq!(seen.close_headers.load(SeqCst), 200);
}

#[test]
fn the_users_connection_close_header_is_the_same_mechanism() {
    let _s = serial();
    let (port, seen) = server();
    let mut p = plan(port, 4);
    let ep = &mut p.endpoints[0];
    ep.headers
        .push(("Connection".into(), Template::parse("close").unwrap()));
    let mut engine = Engine::new(p).unwrap();
    engine.run_round(Bounds::requests(100));
    let s = engine.summary();
    assert_eq!((s.successful, s.connections_opened), (100, 100), "{s}");
    assert_eq!(seen.connections.load(SeqCst), 100);
    assert_eq!(
        seen.close_headers.load(SeqCst),
        100,
        "the header is sent once"
    );
}

#[test]
fn abort_abandons_the_share_asked_for_and_the_server_sees_them() {
    let _s = serial();
    let (port, seen) = server();
    let mut p = plan(port, 4);
    p.abort = Some(Abort::new(0.10).unwrap());
    let mut engine = Engine::new(p).unwrap();
    let counters = engine.counters();
    let r = engine.run_round(Bounds::requests(1000));
    let s = engine.summary();
    assert!((95..=105).contains(&s.aborted), "{s}");
    assert_eq!(s.failed, 0, "aborted requests are not failures: {s}");
    assert_eq!(s.successful + s.aborted, 1000, "{s}");
    assert_eq!(s.total_requests, 1000);
    assert_eq!(r.aborted, s.aborted);
    assert_eq!(counters.aborted.load(SeqCst), s.aborted);
    assert_eq!(counters.completed.load(SeqCst), 1000);
    // Only answered requests have a status and a latency.
    assert_eq!(s.status_codes.get("200"), Some(&s.successful));
    assert_eq!(wait_requests(&seen, 1000), 1000);
    // Every abort closes its connection; the slot's next request opens a new one.
    assert!(
        (s.aborted..=s.aborted + 4).contains(&s.connections_opened),
        "{s}"
    );
    assert_eq!(seen.connections.load(SeqCst), s.connections_opened);
}
