//! Everything `run` learns about processes from `/proc`, in one place: resident memory, which
//! process owns a listening port, a process's descendants and the ports they listen on.
//! `/proc` is Linux's; elsewhere every function returns [`ProcError::Unsupported`], so callers
//! say plainly what they cannot know instead of guessing.

use std::net::IpAddr;

/// Why process information could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("reading process information (/proc) is not supported on this platform")]
    Unsupported,
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A TCP socket in the LISTEN state and the process that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    pub addr: IpAddr,
    pub port: u16,
    pub pid: u32,
}

impl Listener {
    /// Whether a client on this machine reaches it through 127.0.0.1 (the address the load
    /// is sent to): the wildcard and loopback addresses, not a LAN address or `::1` alone.
    pub fn reachable_on_loopback(&self) -> bool {
        match self.addr {
            IpAddr::V4(a) => a.is_unspecified() || a.is_loopback(),
            IpAddr::V6(a) => {
                a.is_unspecified() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{Listener, ProcError};
    use std::collections::HashMap;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn read(path: &str) -> Result<String, ProcError> {
        std::fs::read_to_string(path).map_err(|source| ProcError::Io {
            path: path.to_string(),
            source,
        })
    }

    pub fn rss_bytes(pid: u32) -> Result<u64, ProcError> {
        let path = format!("/proc/{pid}/status");
        let text = read(&path)?;
        text.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| ProcError::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no VmRSS line"),
            })
    }

    /// `0100007F:0D80` (IPv4) or 32 hex digits and a port (IPv6), words in host byte order.
    pub(super) fn parse_addr(s: &str) -> Option<(IpAddr, u16)> {
        let (a, p) = s.split_once(':')?;
        let port = u16::from_str_radix(p, 16).ok()?;
        let word = |h: &str| u32::from_str_radix(h, 16).ok().map(u32::to_ne_bytes);
        let ip = match a.len() {
            8 => IpAddr::V4(Ipv4Addr::from(word(a)?)),
            32 => {
                let mut b = [0u8; 16];
                for i in 0..4 {
                    b[4 * i..4 * i + 4].copy_from_slice(&word(&a[8 * i..8 * i + 8])?);
                }
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => return None,
        };
        Some((ip, port))
    }

    /// Listening TCP sockets by inode, as the network namespace of `pid` sees them.
    fn listening_inodes(pid: u32) -> Result<HashMap<u64, (IpAddr, u16)>, ProcError> {
        let mut out = HashMap::new();
        let mut any = None;
        for f in ["tcp", "tcp6"] {
            let text = match read(&format!("/proc/{pid}/net/{f}")) {
                Ok(t) => t,
                Err(e) => {
                    any.get_or_insert(Err(e));
                    continue;
                }
            };
            any = Some(Ok(()));
            for l in text.lines().skip(1) {
                let cols: Vec<&str> = l.split_whitespace().collect();
                if cols.len() < 10 || cols[3] != "0A" {
                    continue;
                }
                if let (Some(a), Ok(inode)) = (parse_addr(cols[1]), cols[9].parse::<u64>()) {
                    out.insert(inode, a);
                }
            }
        }
        any.unwrap_or(Ok(()))?;
        Ok(out)
    }

    /// The socket inodes among `pid`'s open files (none when its fds cannot be read).
    fn socket_inodes(pid: u32) -> Vec<u64> {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            return Vec::new();
        };
        fds.flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter_map(|l| {
                l.to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect()
    }

    pub fn listening_ports(pids: &[u32]) -> Result<Vec<Listener>, ProcError> {
        let Some(&first) = pids.first() else {
            return Ok(Vec::new());
        };
        let table = listening_inodes(first)?;
        let mut out = Vec::new();
        for &pid in pids {
            for inode in socket_inodes(pid) {
                if let Some(&(addr, port)) = table.get(&inode) {
                    let l = Listener { addr, port, pid };
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
            }
        }
        Ok(out)
    }

    fn all_pids() -> Result<Vec<u32>, ProcError> {
        let dir = std::fs::read_dir("/proc").map_err(|source| ProcError::Io {
            path: "/proc".into(),
            source,
        })?;
        Ok(dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect())
    }

    pub fn port_owner(port: u16) -> Result<Option<u32>, ProcError> {
        let table = listening_inodes(std::process::id())?;
        let inodes: Vec<u64> = table
            .iter()
            .filter(|(_, &(_, p))| p == port)
            .map(|(&i, _)| i)
            .collect();
        if inodes.is_empty() {
            return Ok(None);
        }
        Ok(all_pids()?
            .into_iter()
            .find(|&pid| socket_inodes(pid).iter().any(|i| inodes.contains(i))))
    }

    /// The parent pid from `/proc/<pid>/stat` (the command name in parentheses may hold
    /// spaces and parentheses itself, so the fields are read after the last `)`).
    fn parent_of(pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat[stat.rfind(')')? + 1..]
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    pub fn parent(pid: u32) -> Option<u32> {
        parent_of(pid)
    }

    pub fn state(pid: u32) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat[stat.rfind(')')? + 1..]
            .split_whitespace()
            .next()?
            .chars()
            .next()
    }

    pub fn children(pid: u32) -> Result<Vec<u32>, ProcError> {
        Ok(all_pids()?
            .into_iter()
            .filter(|&c| parent_of(c) == Some(pid))
            .collect())
    }

    pub fn cmdline(pid: u32) -> Vec<String> {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn process_tree(root: u32) -> Result<Vec<u32>, ProcError> {
        let parents: Vec<(u32, u32)> = all_pids()?
            .into_iter()
            .filter_map(|p| Some((p, parent_of(p)?)))
            .collect();
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            let p = tree[i];
            tree.extend(
                parents
                    .iter()
                    .filter(|&&(c, pp)| pp == p && !tree.contains(&c))
                    .map(|&(c, _)| c)
                    .collect::<Vec<_>>(),
            );
            i += 1;
        }
        Ok(tree)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Listener, ProcError};

    pub fn rss_bytes(_pid: u32) -> Result<u64, ProcError> {
        Err(ProcError::Unsupported)
    }
    pub fn listening_ports(_pids: &[u32]) -> Result<Vec<Listener>, ProcError> {
        Err(ProcError::Unsupported)
    }
    pub fn port_owner(_port: u16) -> Result<Option<u32>, ProcError> {
        Err(ProcError::Unsupported)
    }
    pub fn parent(_pid: u32) -> Option<u32> {
        None
    }
    pub fn state(_pid: u32) -> Option<char> {
        None
    }
    pub fn children(_pid: u32) -> Result<Vec<u32>, ProcError> {
        Err(ProcError::Unsupported)
    }
    pub fn cmdline(_pid: u32) -> Vec<String> {
        Vec::new()
    }
    pub fn process_tree(_root: u32) -> Result<Vec<u32>, ProcError> {
        Err(ProcError::Unsupported)
    }
}

/// Resident set size of `pid` in bytes (VmRSS).
pub fn rss_bytes(pid: u32) -> Result<u64, ProcError> {
    imp::rss_bytes(pid)
}

/// The pid of the process listening on `port` (any address), from the socket inodes of
/// `/proc/net/tcp{,6}` matched against every process's open files.
pub fn port_owner(port: u16) -> Result<Option<u32>, ProcError> {
    imp::port_owner(port)
}

/// The parent pid of `pid` (`None` when it is gone or `/proc` is missing).
pub fn parent(pid: u32) -> Option<u32> {
    imp::parent(pid)
}

/// `pid`'s state letter from `/proc/PID/stat` (`R`, `S`, `Z` for a zombie its parent has not
/// reaped yet, ...); `None` when it is gone (reaped) or `/proc` is missing.
pub fn state(pid: u32) -> Option<char> {
    imp::state(pid)
}

/// The processes whose parent is `pid`.
pub fn children(pid: u32) -> Result<Vec<u32>, ProcError> {
    imp::children(pid)
}

/// `pid`'s command line, as `/proc/PID/cmdline` gives it (a process may rewrite it:
/// `npm` shows `npm start`); empty when unknown.
pub fn cmdline(pid: u32) -> Vec<String> {
    imp::cmdline(pid)
}

/// `root` and all its descendants (by parent pid), `root` first.
pub fn process_tree(root: u32) -> Result<Vec<u32>, ProcError> {
    imp::process_tree(root)
}

/// The TCP sockets in LISTEN state that any of `pids` holds open.
pub fn listening_ports(pids: &[u32]) -> Result<Vec<Listener>, ProcError> {
    imp::listening_ports(pids)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn proc_net_addresses_are_decoded() {
        assert_eq!(
            imp::parse_addr("0100007F:0D80"),
            Some(("127.0.0.1".parse().unwrap(), 3456))
        );
        assert_eq!(
            imp::parse_addr("00000000000000000000000000000000:1F90"),
            Some(("::".parse().unwrap(), 8080))
        );
        assert_eq!(imp::parse_addr("0100007F"), None);
        assert_eq!(imp::parse_addr("XYZ:0D80"), None);
    }

    #[test]
    fn finds_our_own_listening_socket_and_its_owner() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id();
        assert_eq!(port_owner(port).unwrap(), Some(me));
        let found = listening_ports(&[me]).unwrap();
        let ours = found.iter().find(|x| x.port == port).expect("our listener");
        assert_eq!(ours.pid, me);
        assert_eq!(ours.addr, IpAddr::from([127, 0, 0, 1]));
        assert!(ours.reachable_on_loopback());
        assert!(rss_bytes(me).unwrap() > 0);
    }

    #[test]
    fn the_tree_holds_a_child_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let tree = process_tree(std::process::id()).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(tree[0], std::process::id());
        assert!(tree.contains(&child.id()), "{tree:?}");
    }

    #[test]
    fn a_dead_child_is_a_zombie_until_reaped_then_gone() {
        let me = std::process::id();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        assert!(children(me).unwrap().contains(&pid));
        // `true` exits at once; unreaped it stays a zombie (bounded wait for it to end).
        let t0 = std::time::Instant::now();
        while state(pid) != Some('Z') && t0.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(state(pid), Some('Z'));
        child.wait().unwrap();
        assert_eq!(state(pid), None);
        assert!(!children(me).unwrap().contains(&pid));
        assert!(state(me).is_some_and(|s| s != 'Z'), "{:?}", state(me));
    }

    #[test]
    fn lan_and_v6_loopback_only_listeners_are_not_reachable_on_127_0_0_1() {
        let l = |a: &str| Listener {
            addr: a.parse().unwrap(),
            port: 1,
            pid: 1,
        };
        assert!(l("0.0.0.0").reachable_on_loopback());
        assert!(l("::").reachable_on_loopback());
        assert!(l("::ffff:127.0.0.1").reachable_on_loopback());
        assert!(!l("192.168.1.5").reachable_on_loopback());
        assert!(!l("::1").reachable_on_loopback());
    }
}
