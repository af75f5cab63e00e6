//! Which process to watch and where its inspector listens, read from `/proc` before anything
//! is sent to it.
//!
//! SIGUSR1's default action terminates a process, so leakhound sends it only to a Node
//! process whose SIGUSR1 disposition is "caught" (Node's own handler, which opens the
//! inspector). A process that ignores it, or whose app handles it itself, never opens one.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use crate::error::{LiveError, Result};

/// Where the inspector is, or which process to open it in.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `leakhound attach PID`: SIGUSR1 opens the inspector (unless it is already open).
    Pid(u32),
    /// `leakhound attach --inspect ADDR`: an inspector already open.
    Inspect(SocketAddr),
}

/// Node's default inspector port.
pub const DEFAULT_PORT: u16 = 9229;

/// Parse `--inspect ADDR` (`127.0.0.1:9229`, `[::1]:9229`, `localhost:9229`, or a bare port)
/// and refuse anything that is not loopback, before any connection is attempted.
pub fn parse_inspect_addr(s: &str) -> Result<SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(a) = s.parse::<SocketAddr>() {
        return if a.ip().is_loopback() {
            Ok(a)
        } else {
            Err(LiveError::NotLoopback(s.to_string()))
        };
    }
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| LiveError::BadAddress(s.to_string()))?;
    let port: u16 = port
        .parse()
        .map_err(|_| LiveError::BadAddress(s.to_string()))?;
    if host.parse::<IpAddr>().is_ok() {
        // An IP that is not loopback (or an IPv6 literal without brackets).
        return Err(LiveError::NotLoopback(s.to_string()));
    }
    if !host.eq_ignore_ascii_case("localhost") {
        // A name could resolve anywhere: resolving it would already be a network lookup.
        return Err(LiveError::NotLoopback(s.to_string()));
    }
    Ok((host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.find(|a| a.ip().is_loopback()))
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
}

/// What `/proc/PID` says about a process leakhound may signal.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    pub exe: String,
    pub args: Vec<String>,
    /// `NODE_OPTIONS`, when the environment is readable.
    pub node_options: Option<String>,
    pub sigusr1_caught: bool,
    pub sigusr1_ignored: bool,
}

pub fn read_proc(pid: u32) -> Result<ProcInfo> {
    let dir = format!("/proc/{pid}");
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .map_err(|e| LiveError::NoProcess(pid, e.to_string()))?;
    let cmdline = std::fs::read(format!("{dir}/cmdline")).unwrap_or_default();
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let exe = std::fs::read_link(format!("{dir}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| args.first().cloned().unwrap_or_default());
    let node_options = std::fs::read(format!("{dir}/environ"))
        .ok()
        .and_then(|env| {
            env.split(|&b| b == 0)
                .find_map(|kv| kv.strip_prefix(b"NODE_OPTIONS="))
                .map(|v| String::from_utf8_lossy(v).into_owned())
        });
    let bit = 1u64 << (libc::SIGUSR1 - 1);
    let mask = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0)
    };
    Ok(ProcInfo {
        exe,
        args,
        node_options,
        sigusr1_caught: mask("SigCgt:") & bit != 0,
        sigusr1_ignored: mask("SigIgn:") & bit != 0,
    })
}

impl ProcInfo {
    /// Whether the executable is Node (`node`, `nodejs`, `node20` ...).
    pub fn is_node(&self) -> bool {
        let name = |p: &str| p.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        name(&self.exe).starts_with("node")
            || self
                .args
                .first()
                .is_some_and(|a| name(a).starts_with("node"))
    }

    /// The port SIGUSR1 opens the inspector on: the process's `--inspect-port`, `--inspect`
    /// or `--debug-port` (on its command line or in `NODE_OPTIONS`), else 9229. `None` when
    /// the port is 0 (chosen at random: only the banner knows it).
    pub fn inspect_port(&self) -> Option<u16> {
        let mut words: Vec<&str> = Vec::new();
        if let Some(o) = &self.node_options {
            words.extend(o.split_whitespace());
        }
        // Node's own options come before the script; the app's arguments are not Node's.
        let mut args = self.args.iter().skip(1);
        while let Some(a) = args.next() {
            if !a.starts_with('-') {
                break;
            }
            words.push(a);
            if matches!(a.as_str(), "--inspect-port" | "--debug-port") {
                words.extend(args.next().map(String::as_str));
            }
        }
        let mut port = Some(DEFAULT_PORT);
        let mut it = words.iter().peekable();
        while let Some(w) = it.next() {
            let (flag, value) = match w.split_once('=') {
                Some((f, v)) => (f, Some(v.to_string())),
                None => (*w, None),
            };
            let takes_value = matches!(flag, "--inspect-port" | "--debug-port");
            if !(takes_value || matches!(flag, "--inspect" | "--inspect-brk" | "--inspect-wait")) {
                continue;
            }
            let value = match value {
                Some(v) => v,
                None if takes_value => match it.next() {
                    Some(v) => v.to_string(),
                    None => continue,
                },
                None => continue,
            };
            let p = value.rsplit(':').next().unwrap_or("");
            if let Ok(p) = p.parse::<u16>() {
                port = (p != 0).then_some(p);
            }
        }
        port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_inspectors_are_accepted() {
        assert_eq!(
            parse_inspect_addr("127.0.0.1:9229").unwrap(),
            "127.0.0.1:9229".parse().unwrap()
        );
        assert_eq!(
            parse_inspect_addr("9230").unwrap(),
            "127.0.0.1:9230".parse().unwrap()
        );
        assert!(parse_inspect_addr("[::1]:9229").is_ok());
        assert!(parse_inspect_addr("localhost:9229")
            .unwrap()
            .ip()
            .is_loopback());
        for bad in [
            "10.0.0.1:9229",
            "0.0.0.0:9229",
            "example.com:9229",
            "[2001:db8::1]:1",
        ] {
            assert!(
                matches!(parse_inspect_addr(bad), Err(LiveError::NotLoopback(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_inspect_addr("127.0.0.1"),
            Err(LiveError::BadAddress(_))
        ));
    }

    fn info(args: &[&str], node_options: Option<&str>) -> ProcInfo {
        ProcInfo {
            exe: "/usr/bin/node".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            node_options: node_options.map(str::to_string),
            sigusr1_caught: true,
            sigusr1_ignored: false,
        }
    }

    #[test]
    fn the_inspect_port_comes_from_nodes_own_flags() {
        assert_eq!(info(&["node", "app.js"], None).inspect_port(), Some(9229));
        assert_eq!(
            info(&["node", "--inspect-port=9333", "app.js"], None).inspect_port(),
            Some(9333)
        );
        assert_eq!(
            info(&["node", "--inspect-port", "9334", "app.js"], None).inspect_port(),
            Some(9334)
        );
        assert_eq!(
            info(&["node", "--inspect=127.0.0.1:0", "app.js"], None).inspect_port(),
            None
        );
        assert_eq!(
            info(&["node", "app.js", "--inspect-port=1"], None).inspect_port(),
            Some(9229),
            "the app's own arguments are not Node's"
        );
        assert_eq!(
            info(
                &["node", "app.js"],
                Some("--max-old-space-size=512 --inspect-port=9400")
            )
            .inspect_port(),
            Some(9400)
        );
    }

    #[test]
    fn this_test_process_is_read_from_proc() {
        let me = read_proc(std::process::id()).unwrap();
        assert!(!me.is_node());
        assert!(!me.args.is_empty());
        assert!(matches!(
            read_proc(u32::MAX - 1),
            Err(LiveError::NoProcess(..))
        ));
    }
}
