//! No process group leakhound starts outlives leakhound, even when leakhound itself is killed
//! with SIGKILL (or the OOM killer): then no destructor runs and no signal handler is called,
//! and the target's cluster, or the user's load command, went on running as orphans.
//!
//! A watchdog `sh` in a process group of its own holds the read end of a pipe whose only
//! writer is leakhound. When leakhound ends in any way the kernel closes the write end; the
//! watchdog's `read` then sees end of file and kills the group. When leakhound has torn the
//! group down itself it writes `done` first, and the watchdog exits without a signal (the
//! group's id could by then be another's). `PR_SET_PDEATHSIG` is no substitute: it reaches
//! only the direct child, not the workers or the `node` an `npm start` runs, and it fires when
//! the *thread* that started the child ends, which under tokio is not leakhound's end.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};

/// The watchdog's script; `$0` is the process group id.
const WATCH: &str = r#"read -r line; [ "$line" = done ] || kill -s KILL -- -"$0" 2>/dev/null"#;

/// The watchdog of one process group (see the module doc).
pub struct GroupGuard {
    /// The pipe's write end: dropped without `done` (leakhound's end), it kills the group.
    tell: Option<ChildStdin>,
    watchdog: Child,
    pgid: u32,
}

impl GroupGuard {
    /// Watch process group `pgid` (the leader's pid of a child started with
    /// `process_group(0)`). `None` when no `sh` could be started: the group is then still
    /// torn down on every end of leakhound but SIGKILL.
    pub fn watch(pgid: u32) -> Option<GroupGuard> {
        if pgid <= 1 {
            return None;
        }
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCH)
            .arg(pgid.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Out of leakhound's group: Ctrl-C at the terminal must not kill the watchdog
            // while leakhound is still tearing the run down.
            .process_group(0)
            .spawn()
            .ok()?;
        let tell = watchdog.stdin.take();
        Some(GroupGuard {
            tell,
            watchdog,
            pgid,
        })
    }

    /// The group is gone (leakhound ended it, or it ended by itself): the watchdog is told
    /// so and reaped at once, so that a later death of leakhound cannot signal another group
    /// that was given the same id in the meantime.
    pub fn disarm(&mut self) {
        if let Some(mut tell) = self.tell.take() {
            let _ = tell.write_all(b"done\n");
            let _ = self.watchdog.wait();
        }
    }

    /// [`GroupGuard::disarm`] once no process of the group is left, zombies included: until
    /// then the group's id cannot be given to another process.
    pub fn disarm_if_gone(&mut self) {
        // SAFETY: signal 0 only probes the group.
        if unsafe { libc::kill(-(self.pgid as i32), 0) } != 0 {
            self.disarm();
        }
    }

    /// The pid of the watchdog (for tests).
    pub fn pid(&self) -> u32 {
        self.watchdog.id()
    }
}

impl Drop for GroupGuard {
    /// Leakhound has torn the group down (the owner signals it before dropping this): the
    /// watchdog is told so and reaped.
    fn drop(&mut self) {
        self.disarm();
        let _ = self.watchdog.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A process's state letter from /proc (`None` once it is reaped).
    fn state(pid: u32) -> Option<char> {
        let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        s.rsplit_once(')')?.1.trim().chars().next()
    }

    fn group_leader() -> Child {
        Command::new("sleep")
            .arg("60")
            .process_group(0)
            .spawn()
            .expect("sleep")
    }

    /// Whether `child` ends within 5 s (polled, then reaped).
    fn ends(child: &mut Child) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if child.try_wait().expect("try_wait").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The write end closed without `done` (what leakhound's death does): the group is
    /// killed.
    #[test]
    fn a_closed_pipe_kills_the_group() {
        let mut leader = group_leader();
        let mut g = GroupGuard::watch(leader.id()).expect("sh");
        drop(g.tell.take());
        let ended = ends(&mut leader);
        if !ended {
            let _ = leader.kill();
        }
        assert!(ended, "the group outlived its watchdog's pipe");
    }

    /// `done` first (leakhound tore the group down itself): the watchdog leaves the group
    /// alone and exits.
    #[test]
    fn done_leaves_the_group_alone() {
        let mut leader = group_leader();
        let g = GroupGuard::watch(leader.id()).expect("sh");
        let watchdog = g.pid();
        drop(g);
        assert_eq!(state(watchdog), None, "the watchdog was not reaped");
        assert!(leader.try_wait().expect("try_wait").is_none());
        assert!(matches!(state(leader.id()), Some('S' | 'R')));
        leader.kill().expect("kill");
        leader.wait().expect("wait");
    }

    /// Disarmed only once the group is gone: while its leader lives the watchdog stays.
    #[test]
    fn disarmed_once_the_group_is_gone() {
        let mut leader = group_leader();
        let mut g = GroupGuard::watch(leader.id()).expect("sh");
        g.disarm_if_gone();
        assert!(g.tell.is_some(), "disarmed while the group lived");
        assert!(matches!(state(g.pid()), Some('S' | 'R')));
        leader.kill().expect("kill");
        leader.wait().expect("wait");
        g.disarm_if_gone();
        assert!(g.tell.is_none(), "still armed after the group was gone");
        assert_eq!(state(g.pid()), None, "the watchdog was not reaped");
    }

    /// No watchdog for a group id that is no group's (0, 1: `kill -- -0` is the caller's own
    /// group).
    #[test]
    fn no_watchdog_for_pid_0_or_1() {
        assert!(GroupGuard::watch(0).is_none() && GroupGuard::watch(1).is_none());
    }
}
