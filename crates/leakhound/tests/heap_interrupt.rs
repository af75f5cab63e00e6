//! A heap analysis stops on SIGTERM and Ctrl-C: `heap summary` of a big snapshot, signalled
//! once it has started analysing, ends within moments with exit 130 and one line; `run
//! --snapshots` signalled while it compares its snapshots ends `interrupted`, its target gone.
mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A snapshot of about 160 MB: 40 copies of one Node writes (a few seconds of analysis in a
/// debug build). The original is removed; the tempdir removes the rest.
fn big_snapshot(dir: &Path) -> PathBuf {
    let one = dir.join("known.heapsnapshot");
    let st = Command::new("node")
        .arg(repo_root().join("crates/leakhound/tests/servers/heap_known.js"))
        .arg(&one)
        .status()
        .unwrap();
    assert!(st.success());
    let big = dir.join("big.heapsnapshot");
    let src = std::fs::read(&one).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    let r = leakhound_heap::replicate::replicate(&src, 40, &mut out).unwrap();
    drop(out);
    std::fs::remove_file(&one).unwrap();
    assert!(
        r.bytes > 100 << 20 && r.bytes < 300 << 20,
        "{} bytes",
        r.bytes
    );
    big
}

/// Start `heap summary` on `file`, wait until it has parsed the file (its stage timings on
/// stderr), send `signal`: the exit status, how long it took after the signal, and stderr.
fn signal_while_analysing(file: &Path, signal: i32) -> (Option<i32>, Duration, String) {
    let mut child = leakhound()
        .args(["heap", "summary"])
        .arg(file)
        .env("LEAKHOUND_HEAP_TIMING", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = BufReader::new(child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in err.lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // `[heap] parse: 1.234s …`: the file is read; dominators, distances and the summary follow.
    let parsed = |l: &str| {
        l.strip_prefix("[heap] parse: ")
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    };
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(120).saturating_sub(t0.elapsed());
        match rx.recv_timeout(left) {
            Ok(l) if parsed(&l) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("no parse timing line from heap summary: {e}");
            }
        }
    }
    // SAFETY: a signal to the process this test started.
    unsafe { libc::kill(child.id() as i32, signal) };
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("heap summary still running 10 s after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = sent.elapsed();
    let mut stdout = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(stdout, "", "no partial summary");
    (status.code(), took, reader.join().unwrap())
}

#[test]
fn sigterm_and_ctrl_c_stop_a_heap_summary_mid_analysis() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let big = big_snapshot(tmp.path());
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let (code, took, err) = signal_while_analysing(&big, signal);
        assert_eq!(code, Some(130), "{name}: {err}");
        assert!(took < Duration::from_secs(5), "{name}: {took:?}\n{err}");
        // One line, no panic message; the summary's own timing never came.
        assert_eq!(err.matches("leakhound: interrupted").count(), 1, "{err}");
        assert!(
            !err.contains("panicked") && !err.contains("[heap] summary:"),
            "{err}"
        );
    }
    drop(tmp);
}

#[test]
fn ctrl_c_while_run_compares_its_snapshots_ends_the_run_interrupted() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("r.json");
    let mut child = leakhound()
        .args(["run", "--snapshots"])
        .arg(tmp.path())
        .arg("--json")
        .arg(&json)
        .args(["--max-duration", "60s", "--", "node"])
        .arg(repo_root().join("examples/leaky-server.js"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in err.lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let t0 = Instant::now();
    let mut target = None;
    loop {
        let left = Duration::from_secs(150).saturating_sub(t0.elapsed());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains("comparing the three heap snapshots") => break,
            Ok(l) => {
                // `started `node …` (pid 1234), PORT=…`
                if let Some(p) = l.split("(pid ").nth(1).filter(|_| target.is_none()) {
                    target = p.split(')').next().and_then(|p| p.parse::<i32>().ok());
                }
            }
            Err(e) => {
                let _ = child.kill();
                panic!("run never compared its snapshots: {e}");
            }
        }
    }
    let status = interrupt_and_wait(
        &mut child,
        Duration::from_secs(10),
        "run still analysing 10 s after Ctrl-C",
    );
    let err = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("comparing the snapshots: interrupted"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["verdict"], "interrupted", "{r:#}");
    // The target was stopped before the analysis began: nothing is left of it.
    let pid = target.expect("the target's pid in the progress");
    // SAFETY: signal 0 only probes whether the process exists.
    assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "target {pid} still alive");
}
