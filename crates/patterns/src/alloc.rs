//! Allocation evidence: surviving allocations made inside a library, below an app frame. The
//! app frame directly above the library's is "the first app frame calling into
//! node_modules", the app's use of the library.

use crate::evidence::{AllocStack, Frame};
use crate::table::AllocRule;

/// Matched allocations below this share of all surviving bytes are noise (a library the app
/// uses, not the one that grows).
pub(crate) const MIN_SHARE: f64 = 0.05;

/// What an alloc rule matched.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AllocHit {
    pub bytes: u64,
    pub share: f64,
    /// The library frame, of the caller with the most bytes.
    pub library: Frame,
    /// The innermost app frame above it.
    pub caller: Frame,
}

fn rule_fits(r: &AllocRule, f: &Frame) -> bool {
    f.url.contains(&r.url)
        && r.function
            .as_deref()
            .is_none_or(|fs| fs.split('|').any(|n| n.trim() == f.function))
}

/// The surviving allocations made by frames matching `rules` below the app's innermost
/// frame, when they are at least [`MIN_SHARE`] of all surviving bytes.
pub(crate) fn hit(rules: &[AllocRule], stacks: &[AllocStack]) -> Option<AllocHit> {
    if rules.is_empty() {
        return None;
    }
    let total: u64 = stacks.iter().map(|s| s.bytes).sum();
    let mut by_caller: Vec<(Frame, Frame, u64)> = Vec::new();
    for s in stacks {
        let Some(a) = s.frames.iter().rposition(Frame::is_app) else {
            continue;
        };
        let Some(lib) = s.frames[a + 1..]
            .iter()
            .find(|f| rules.iter().any(|r| rule_fits(r, f)))
        else {
            continue;
        };
        let caller = &s.frames[a];
        match by_caller.iter_mut().find(|(c, _, _)| c == caller) {
            Some(e) => e.2 += s.bytes,
            None => by_caller.push((caller.clone(), lib.clone(), s.bytes)),
        }
    }
    let bytes: u64 = by_caller.iter().map(|e| e.2).sum();
    let share = if total == 0 {
        0.0
    } else {
        bytes as f64 / total as f64
    };
    if bytes == 0 || share < MIN_SHARE {
        return None;
    }
    let (caller, library, _) = by_caller.into_iter().max_by_key(|e| e.2)?;
    Some(AllocHit {
        bytes,
        share,
        library,
        caller,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn frame(function: &str, url: &str, line: u32) -> Frame {
        Frame {
            function: function.into(),
            url: url.into(),
            line,
        }
    }

    fn rule(url: &str, function: Option<&str>) -> AllocRule {
        AllocRule {
            url: url.into(),
            function: function.map(str::to_string),
        }
    }

    #[test]
    fn the_caller_is_the_innermost_app_frame_above_the_library() {
        let stacks = vec![
            AllocStack {
                bytes: 900,
                frames: vec![
                    frame("emit", "node:events", 1),
                    frame("handle", "app.js", 12),
                    frame(
                        "use",
                        "node_modules/axios/lib/core/InterceptorManager.js",
                        18,
                    ),
                ],
            },
            AllocStack {
                bytes: 100,
                frames: vec![frame("handle", "app.js", 12)],
            },
        ];
        let h = hit(
            &[rule("node_modules/axios/lib/core/InterceptorManager", None)],
            &stacks,
        )
        .unwrap();
        assert_eq!(h.bytes, 900);
        assert!((h.share - 0.9).abs() < 1e-9);
        assert_eq!(h.caller, frame("handle", "app.js", 12));
        assert_eq!(h.library.function, "use");
    }

    #[test]
    fn library_frames_above_the_app_or_too_small_a_share_do_not_match() {
        // express's router calls the app: the allocation is the app's own.
        let above = AllocStack {
            bytes: 1000,
            frames: vec![
                frame("next", "node_modules/express-session/index.js", 1),
                frame("handle", "app.js", 3),
            ],
        };
        assert_eq!(
            hit(&[rule("node_modules/express-session/", None)], &[above]),
            None
        );
        let small = AllocStack {
            bytes: 4,
            frames: vec![
                frame("h", "app.js", 3),
                frame("set", "node_modules/node-cache/x.js", 9),
            ],
        };
        let big = AllocStack {
            bytes: 1000,
            frames: vec![frame("h", "app.js", 3)],
        };
        assert_eq!(
            hit(&[rule("node_modules/node-cache/", None)], &[small, big]),
            None
        );
    }

    #[test]
    fn a_function_rule_narrows_the_frame() {
        let s = AllocStack {
            bytes: 10,
            frames: vec![
                frame("tick", "app.js", 3),
                frame("setTimeout", "node:timers", 1),
            ],
        };
        let interval = rule("node:timers", Some("setInterval|Timeout"));
        assert_eq!(
            hit(std::slice::from_ref(&interval), std::slice::from_ref(&s)),
            None
        );
        let timeout = rule("node:timers", Some("setInterval|setTimeout"));
        assert!(hit(&[timeout], &[s]).is_some());
    }
}
