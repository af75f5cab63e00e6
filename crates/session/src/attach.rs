//! Attaching to the target's inspector: the process that serves the port, among the node
//! processes a wrapper (`npm start`, `npx tsx`) may start.

use std::time::Duration;

use leakhound_inspector::Inspector;
use tokio::time::Instant;

use crate::target::Target;

/// With `npm start` or `npx tsx`, several node processes open inspectors: use the one whose
/// process owns the listening socket.
pub(crate) async fn pick_inspector(
    target: &mut Target,
    owner: Option<u32>,
) -> crate::error::Result<(Inspector, u32)> {
    let t = Duration::from_secs(3);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let banners = target.captured.lock().unwrap().banners.clone();
        let mut fallback = None;
        for url in banners.iter().rev() {
            let Ok(ins) = Inspector::connect(url, t).await else {
                continue;
            };
            let Ok(pid) = ins.pid(t).await else { continue };
            if owner.is_none_or(|o| o == pid) {
                return Ok((ins, pid));
            }
            if fallback.is_none() {
                fallback = Some((ins, pid));
            } else {
                ins.close().await;
            }
        }
        if Instant::now() > deadline {
            return fallback.ok_or_else(|| {
                crate::error::Error::Invalid(
                    "the target printed no usable inspector banner (is it a Node process?)".into(),
                )
            });
        }
        if let Some(f) = fallback {
            if banners.len() > 1 && owner.is_none() {
                return Ok(f);
            }
            f.0.close().await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
