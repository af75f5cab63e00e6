//! What the matchers read: a run's evidence, reduced to plain strings and numbers so the
//! matching stays a pure function (the session gathers it, see
//! `leakhound_session::library_patterns`).

use leakhound_schema::evidence::SourceLine;

/// A heap-snapshot suspect (a `SuspectOut`, with its class and holder apart).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suspect {
    /// What grows: `DataLoader`, `{labels, bucketValues}`, `(string)`.
    pub class: String,
    /// The step that holds it: `_cacheMap (Map)`.
    pub holder: Option<String>,
    /// The retainer path a user reads, outermost first, each step `edge (Class)`.
    pub path: Vec<String>,
    /// The whole route from a GC root.
    pub full_path: Vec<String>,
    pub bytes: u64,
    /// The app's lines that name the holder (`declared`, `grows`).
    pub source: Vec<SourceLine>,
}

impl Suspect {
    /// Class and holder read back from a suspect's title, as `run` writes it: `N CLASS
    /// objects allocated during the load rounds still alive after idle, held by HOLDER`.
    pub fn from_title(title: &str) -> Suspect {
        let (head, holder) = match title.split_once(", held by ") {
            Some((h, r)) => (h, Some(r.trim().to_string())),
            None => (title, None),
        };
        let class = head
            .split_once(' ')
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split(" objects").next())
            .unwrap_or_default()
            .trim()
            .to_string();
        Suspect {
            class,
            holder,
            ..Suspect::default()
        }
    }
}

/// One frame of an allocation stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub function: String,
    /// The script, as the report shows it (relative to the working directory when inside
    /// it), or `node:timers`.
    pub url: String,
    /// 1-based line where the function starts (all V8's sampler knows).
    pub line: u32,
}

impl Frame {
    /// A frame of the application itself: a script outside `node_modules` and Node.
    pub fn is_app(&self) -> bool {
        !self.url.is_empty()
            && !self.url.starts_with("node:")
            && !self.url.contains("node_modules")
            && !self.url.starts_with('(')
    }

    /// `function file:line`.
    pub fn shown(&self) -> String {
        let f = if self.function.is_empty() {
            "(anonymous)"
        } else {
            &self.function
        };
        format!("{f} {}:{}", self.url, self.line)
    }
}

/// A surviving allocation's stack (outermost frame first) and the bytes sampled there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllocStack {
    pub bytes: u64,
    pub frames: Vec<Frame>,
}

/// One of the app's source files, named as [`Frame::url`] names it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Node's warnings kept per run (Node prints each distinct warning once).
const MAX_WARNINGS: usize = 30;

/// Keep `line` when it is one of Node's own warnings (`(node:7) MaxListenersExceededWarning:
/// …`): the target's stderr tail scrolls past them, and they are the best evidence of an
/// emitter leak. Called on each stderr line as the target prints it.
pub fn keep_warning(warnings: &mut Vec<String>, line: &str) {
    if line.starts_with("(node:") && line.contains("Warning: ") && warnings.len() < MAX_WARNINGS {
        warnings.push(line.to_string());
    }
}

/// Everything a run found that the patterns are matched on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub suspects: Vec<Suspect>,
    /// Surviving allocations (allocated under load, alive after idle and a full GC).
    pub stacks: Vec<AllocStack>,
    /// Warning lines the target printed on stderr (`(node:1) MaxListenersExceededWarning: …`).
    pub stderr: Vec<String>,
    pub sources: Vec<SourceFile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_and_holder_come_back_from_a_title() {
        let s = Suspect::from_title(
            "31753 {labels, bucketValues} objects allocated during the load rounds still alive after idle, held by hashMap (Object)",
        );
        assert_eq!(s.class, "{labels, bucketValues}");
        assert_eq!(s.holder.as_deref(), Some("hashMap (Object)"));
        let s = Suspect::from_title("12 Timeout objects allocated during the load rounds");
        assert_eq!((s.class.as_str(), s.holder), ("Timeout", None));
    }

    #[test]
    fn only_nodes_own_warnings_are_kept() {
        let mut w = Vec::new();
        keep_warning(
            &mut w,
            "(node:12) MaxListenersExceededWarning: Possible EventEmitter memory leak detected.",
        );
        keep_warning(
            &mut w,
            "(Use `node --trace-warnings ...` to show where the warning was created)",
        );
        keep_warning(&mut w, "my app says Warning: low disk");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn app_frames_are_outside_node_modules_and_node() {
        let f = |url: &str| Frame {
            url: url.into(),
            ..Frame::default()
        };
        assert!(f("app/server.js").is_app());
        assert!(!f("app/node_modules/axios/index.js").is_app());
        assert!(!f("node:timers").is_app());
        assert!(!f("(native)").is_app());
        assert!(!f("").is_app());
    }
}
