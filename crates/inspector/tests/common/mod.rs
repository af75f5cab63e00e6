//! What the inspector's tests share: a real `node` with an inspector on a free loopback port,
//! killed when dropped; a runtime; the cross-process lock the workspace's server tests use.
#![allow(dead_code)] // each test file uses its own part

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use leakhound_inspector::parse_banner;

pub struct Node(pub Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The cross-process test lock the binary's tests use (the machine has two cores).
pub fn serial() -> std::fs::File {
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

/// Start `node [extra] --inspect=127.0.0.1:0 -e script`; return it and its inspector URL.
pub fn start(script: &str, extra: &[&str]) -> (Node, String) {
    let mut cmd = Command::new("node");
    cmd.args(extra)
        .arg("--inspect=127.0.0.1:0")
        .arg("-e")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("spawn node");
    let stderr = child.stderr.take().unwrap();
    let node = Node(child);
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("banner").expect("read stderr");
        if let Some(u) = parse_banner(&line) {
            break u;
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (node, url)
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
