//! Attaching to the target's inspectors: every node process of the tree (a wrapper such as
//! `npm start` or `npx tsx`, a cluster primary and its workers), and which of them the loop
//! follows first: the one that owns the listening socket, or a cluster's first worker.

use std::time::Duration;

use leakhound_schema::process::ProcessRole;
use tokio::time::Instant;

use crate::processes::Processes;
use crate::target::Target;

/// Attach to the processes that printed a banner; `owner` owns the listening socket.
pub(crate) async fn attach(
    target: &mut Target,
    procs: &mut Processes,
    owner: Option<u32>,
) -> crate::error::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        procs.discover(target).await;
        let live = |p: &crate::processes::Followed| p.ins.is_some();
        let found = owner.and_then(|o| procs.list.iter().position(|p| p.pid == o && live(p)));
        let last = procs.list.iter().rposition(live);
        // Without /proc the owner is unknown: the latest banner is the app's (a wrapper
        // prints its own first).
        let fallback = owner.is_none() && procs.list.len() > 1;
        if let Some(i) = found.or(last.filter(|_| fallback || Instant::now() > deadline)) {
            procs.main = Some(i);
            break;
        }
        if Instant::now() > deadline {
            return Err(crate::error::Error::Invalid(
                "the target printed no usable inspector banner (is it a Node process?)".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A cluster primary's workers may still be starting: they are forked before the
    // primary's socket opens, so their banners are at most a moment behind.
    let pid = procs.list[procs.main.unwrap_or(0)].pid;
    if crate::procfs::process_tree(pid).is_ok_and(|t| t.len() > 1) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        procs.discover(target).await;
    }
    procs.classify(owner);
    // In a cluster the workers do the serving work: the loop's own sample and the culprit
    // follow the first one.
    if let Some(w) = procs
        .list
        .iter()
        .position(|p| p.role == ProcessRole::Worker && p.ins.is_some())
    {
        procs.main = Some(w);
    }
    Ok(())
}
