//! The role of each followed process (a cluster's primary and workers, a forked child, a
//! wrapper such as `npm start`), whether it serves the port, and its label in every line the
//! run prints ("worker 1 of 2, pid 4242").

use leakhound_schema::process::ProcessRole;

use crate::processes::Processes;
use crate::procfs;

impl Processes {
    /// Give every process its role, whether it serves, and its label. `owner` holds the
    /// listening socket of the target port. In a cluster the primary holds it and hands the
    /// connections to its workers (they hold no listening socket of their own), so a cluster's
    /// workers serve too.
    pub(crate) fn classify(&mut self, owner: Option<u32>) {
        let main_pid = self.main.map(|i| self.list[i].pid);
        let owner = owner.or(main_pid);
        let info: Vec<(u32, Option<u32>, bool)> = self
            .list
            .iter()
            .map(|p| (p.pid, p.ppid, p.worker_id.is_some()))
            .collect();
        let followed = |pid: u32| info.iter().any(|&(q, _, _)| q == pid);
        let mut serving_pids = Vec::new();
        for p in self.list.iter_mut() {
            let has_workers = info.iter().any(|&(_, pp, w)| w && pp == Some(p.pid));
            let parent_followed = p.ppid.is_some_and(followed);
            (p.role, p.serving) = if p.worker_id.is_some() {
                // One that crashed before it was followed never served.
                (ProcessRole::Worker, !p.unfollowed || p.oom)
            } else if has_workers {
                (ProcessRole::Primary, true)
            } else if owner == Some(p.pid) {
                let role = if parent_followed {
                    ProcessRole::Child
                } else {
                    ProcessRole::Primary
                };
                (role, true)
            } else {
                (ProcessRole::Child, false)
            };
            if p.serving {
                serving_pids.push(p.pid);
            }
        }
        // A process that does not serve but starts one that does is a wrapper.
        for p in self.list.iter_mut().filter(|p| !p.serving) {
            if serving_pids.iter().any(|&s| descends_from(s, p.pid)) {
                p.role = ProcessRole::Wrapper;
            }
        }
        // Labels stay as first given (the progress lines used them); a worker forked later
        // (a restart) is numbered on without an "of", and so is one known only from its death,
        // which was never one of the workers followed together.
        let labelled = self.list.iter().any(|p| !p.label.is_empty());
        let workers = self
            .list
            .iter()
            .filter(|p| p.worker_id.is_some() && !p.unfollowed)
            .count();
        let mut nth = 0;
        for p in self.list.iter_mut() {
            if p.role == ProcessRole::Worker {
                nth += 1;
            }
            if p.label.starts_with(p.role.as_str()) {
                continue;
            }
            p.label = match p.role {
                ProcessRole::Worker if labelled || p.unfollowed => {
                    format!("worker {nth}, pid {}", p.pid)
                }
                ProcessRole::Worker => format!("worker {nth} of {workers}, pid {}", p.pid),
                ProcessRole::Wrapper => format!("wrapper `{}`, pid {}", short(&p.command), p.pid),
                r => format!("{}, pid {}", r.as_str(), p.pid),
            };
        }
    }
}

/// Whether `ancestor` is `pid`'s parent, grandparent, ... (through non-Node processes such
/// as the `sh -c` npm runs scripts in).
fn descends_from(pid: u32, ancestor: u32) -> bool {
    let mut p = pid;
    for _ in 0..32 {
        match procfs::parent(p) {
            Some(pp) if pp == ancestor => return true,
            Some(pp) if pp > 1 => p = pp,
            _ => return false,
        }
    }
    false
}

/// `npm start` from `npm start`, `node app.js` from `/usr/bin/node /x/app.js`.
fn short(cmd: &[String]) -> String {
    let base = |s: &String| s.rsplit('/').next().unwrap_or(s).to_string();
    cmd.iter().take(2).map(base).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shortened_to_their_names() {
        assert_eq!(short(&["npm start".into()]), "npm start");
        assert_eq!(
            short(&["/usr/bin/node".into(), "/x/app.js".into(), "--a".into()]),
            "node app.js"
        );
        assert_eq!(short(&[]), "");
    }
}
