//! The library API the `session` crate drives: rounds that accumulate, live counters, a stop
//! handle, the open model, and calling it from inside a multi-thread tokio runtime. Against
//! small HTTP servers on 127.0.0.1 threads.

use leakhound_load::{Bounds, Engine, Plan};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
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

/// A keep-alive server answering every (body-less) request with "ok", or never answering.
fn server(answer: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
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
                        pending.drain(..i + 4);
                        if answer
                            && s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                                .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn plan(port: u16, connections: usize) -> Plan {
    let mut p = Plan::from_url(&format!("http://127.0.0.1:{port}/")).unwrap();
    p.connections = connections;
    p
}

#[test]
fn rounds_accumulate_and_counters_are_live() {
    let _s = serial();
    let mut engine = Engine::new(plan(server(true), 4)).unwrap();
    let counters = engine.counters();
    let r1 = engine.run_round(Bounds::requests(150));
    assert_eq!((r1.requests, r1.succeeded, r1.failed), (150, 150, 0));
    assert_eq!(counters.completed.load(Relaxed), 150);
    let r2 = engine.run_round(Bounds::requests(50));
    assert_eq!(r2.requests, 50);
    assert_eq!(r2.summary.total_requests, 50);
    let s = engine.summary();
    assert_eq!((s.total_requests, s.successful, s.rounds), (200, 200, 2));
    assert_eq!(counters.succeeded.load(Relaxed), 200);
    assert_eq!(counters.bytes.load(Relaxed), s.bytes_received);
    assert!(s.bytes_received >= 200 * 40);
}

#[test]
fn stop_handle_ends_a_round_early_from_another_thread() {
    let _s = serial();
    let mut engine = Engine::new(plan(server(false), 3)).unwrap();
    let stop = engine.stop_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop.stop();
    });
    let start = Instant::now();
    let r = engine.run_round(Bounds::duration(Duration::from_secs(60)));
    t.join().unwrap();
    assert!(r.stopped);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Sticky until cleared: the next round returns at once.
    let again = Instant::now();
    engine.run_round(Bounds::duration(Duration::from_secs(60)));
    assert!(again.elapsed() < Duration::from_secs(2));
    engine.stop_handle().clear();
    assert!(!engine.stop_handle().is_stopped());
}

#[test]
fn open_model_paces_the_requests_asked_for() {
    let _s = serial();
    let mut p = plan(server(true), 4);
    p.rate = Some(200.0);
    let mut engine = Engine::new(p).unwrap();
    let start = Instant::now();
    let r = engine.run_round(Bounds::duration(Duration::from_secs(1)));
    // A schedule of one request every 5 ms over 1 s: exactly 200 tickets.
    assert_eq!(r.requests, 200, "{:?}", r.summary);
    assert!(start.elapsed() >= Duration::from_millis(990));
    assert_eq!(engine.summary().rate, Some(200.0));
}

#[test]
fn runs_from_inside_a_multi_thread_tokio_runtime() {
    let _s = serial();
    let port = server(true);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let summary = rt.block_on(async move {
        let mut engine = Engine::new(plan(port, 2)).unwrap();
        let counters = engine.counters();
        let round = tokio::task::spawn_blocking(move || {
            engine.run_round(Bounds::requests(100));
            engine
        });
        let engine = round.await.unwrap();
        assert_eq!(counters.completed.load(Relaxed), 100);
        engine.summary()
    });
    assert_eq!(summary.successful, 100);
}
