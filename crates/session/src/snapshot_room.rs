//! The check before a heap snapshot: V8 builds the snapshot inside the process (about as
//! much memory again as the heap) and leakhound writes it out, so both the machine and the
//! process's cgroup must have room for about twice the heap, or the snapshot itself could
//! push a production process into the OOM killer.

use std::path::Path;

/// How much room a snapshot wants, as a multiple of the used heap.
pub const FACTOR: f64 = 2.0;

/// The memory figures the check reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Room {
    /// `MemAvailable` of `/proc/meminfo`, bytes.
    pub mem_available: Option<f64>,
    /// The process's cgroup `memory.max` (v2) or `memory.limit_in_bytes` (v1); `None` when
    /// unlimited or unreadable.
    pub cgroup_limit: Option<f64>,
    /// The cgroup's current usage (`memory.current`, `memory.usage_in_bytes`).
    pub cgroup_usage: Option<f64>,
}

/// `Ok(())` when a snapshot of a heap of `heap_used` bytes fits, else the refusal with the
/// numbers.
pub fn check(room: &Room, heap_used: f64) -> Result<(), String> {
    let want = FACTOR * heap_used;
    let mib = |b: f64| format!("{:.0} MiB", b / 1048576.0);
    if let Some(avail) = room.mem_available {
        if avail < want {
            return Err(format!(
                "refusing a heap snapshot: {} of memory available (MemAvailable), a snapshot of a {} heap wants about {} ({FACTOR}× the heap)",
                mib(avail),
                mib(heap_used),
                mib(want)
            ));
        }
    }
    if let (Some(limit), Some(usage)) = (room.cgroup_limit, room.cgroup_usage) {
        let free = (limit - usage).max(0.0);
        if free < want {
            return Err(format!(
                "refusing a heap snapshot: the process's cgroup has {} left under its {} limit ({} used), a snapshot of a {} heap wants about {} ({FACTOR}× the heap)",
                mib(free),
                mib(limit),
                mib(usage),
                mib(heap_used),
                mib(want)
            ));
        }
    }
    Ok(())
}

/// Read the figures for process `pid` (its cgroup; this process's when `pid` is unknown).
pub fn read(pid: Option<u32>) -> Room {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_available = meminfo.lines().find_map(|l| {
        let kb = l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?;
        kb.trim().parse::<f64>().ok().map(|k| k * 1024.0)
    });
    let proc_dir = pid.map_or_else(|| "/proc/self".to_string(), |p| format!("/proc/{p}"));
    let cgroup = std::fs::read_to_string(format!("{proc_dir}/cgroup")).unwrap_or_default();
    let (limit, usage) = cgroup_figures(&cgroup, Path::new("/sys/fs/cgroup"));
    Room {
        mem_available,
        cgroup_limit: limit,
        cgroup_usage: usage,
    }
}

/// The limit and usage of the cgroup named in a `/proc/PID/cgroup` text, under `root`.
fn cgroup_figures(cgroup: &str, root: &Path) -> (Option<f64>, Option<f64>) {
    let num = |p: &Path| -> Option<f64> {
        let t = std::fs::read_to_string(p).ok()?;
        let v: f64 = t.trim().parse().ok()?;
        // cgroup v1 writes "no limit" as a huge page-rounded number.
        (v < 1e18).then_some(v)
    };
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let (Some(controllers), Some(path)) = (controllers, path) else {
            continue;
        };
        let rel = path.trim_start_matches('/');
        if controllers.is_empty() {
            let dir = root.join(rel);
            return (
                num(&dir.join("memory.max")),
                num(&dir.join("memory.current")),
            );
        }
        if controllers.split(',').any(|c| c == "memory") {
            let dir = root.join("memory").join(rel);
            return (
                num(&dir.join("memory.limit_in_bytes")),
                num(&dir.join("memory.usage_in_bytes")),
            );
        }
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1048576.0;

    #[test]
    fn refuses_with_the_numbers() {
        let room = Room {
            mem_available: Some(1000.0 * MIB),
            cgroup_limit: Some(2048.0 * MIB),
            cgroup_usage: Some(1700.0 * MIB),
        };
        assert!(check(&room, 100.0 * MIB).is_ok());
        let e = check(&room, 600.0 * MIB).unwrap_err();
        assert!(
            e.contains("1000 MiB of memory available") && e.contains("1200 MiB"),
            "{e}"
        );
        let e = check(&room, 200.0 * MIB).unwrap_err();
        assert!(e.contains("348 MiB left under its 2048 MiB limit"), "{e}");
        // Unknown figures do not refuse.
        assert!(check(&Room::default(), 1e12).is_ok());
    }

    #[test]
    fn cgroup_v2_and_v1_are_read() {
        let dir = std::env::temp_dir().join(format!("lh-cg-{}", std::process::id()));
        let v2 = dir.join("app.slice");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.max"), "1073741824\n").unwrap();
        std::fs::write(v2.join("memory.current"), "536870912\n").unwrap();
        assert_eq!(
            cgroup_figures("0::/app.slice\n", &dir),
            (Some(1073741824.0), Some(536870912.0))
        );
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        assert_eq!(cgroup_figures("0::/app.slice\n", &dir).0, None);
        let v1 = dir.join("memory/docker/x");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "9223372036854771712\n").unwrap();
        std::fs::write(v1.join("memory.usage_in_bytes"), "100\n").unwrap();
        assert_eq!(
            cgroup_figures("12:cpu:/docker/x\n4:memory:/docker/x\n", &dir),
            (None, Some(100.0))
        );
        std::fs::remove_dir_all(&dir).unwrap();
        // The real machine: figures or none, never a panic.
        let r = read(None);
        assert!(r.mem_available.is_some_and(|m| m > 0.0));
    }
}
