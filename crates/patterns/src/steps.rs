//! Retainer-path steps (`store (MemoryStore)`, `[12] ({labels})`, `global / `) and the step
//! patterns of the table (`edge`, `(Class)`, `edge (Class)`, `|` alternatives, `*` any).

/// A step split into its edge name and the class in its last parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step<'a> {
    pub edge: &'a str,
    pub class: Option<&'a str>,
}

/// Split `edge (Class)`; the class may hold spaces and parentheses (`{a, b}`, `(closure)`).
pub(crate) fn parse(step: &str) -> Step<'_> {
    let s = step.trim();
    if let Some(inner_end) = s.strip_suffix(')') {
        let mut depth = 0usize;
        for (i, c) in inner_end.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' if depth == 0 => {
                    return Step {
                        edge: inner_end[..i].trim(),
                        class: Some(&inner_end[i + 1..]),
                    }
                }
                '(' => depth -= 1,
                _ => {}
            }
        }
    }
    Step {
        edge: s,
        class: None,
    }
}

fn alt(pattern: &str, value: &str) -> bool {
    pattern.split('|').any(|p| p == "*" || p.trim() == value)
}

/// Whether `step` matches `pattern` (`edge`, `(Class)` or `edge (Class)`).
pub(crate) fn matches(pattern: &str, step: &str) -> bool {
    let p = pattern.trim();
    if p == "*" {
        return true;
    }
    let s = parse(step);
    let want = parse(p);
    let class_ok = match want.class {
        Some(c) => s.class.is_some_and(|sc| alt(c, sc)),
        None => true,
    };
    let edge_ok = want.edge.is_empty() || alt(want.edge, s.edge);
    class_ok && edge_ok
}

/// The first window of adjacent steps matching `seq`, as indexes into `path`.
pub(crate) fn find_seq(seq: &[String], path: &[String]) -> Option<std::ops::Range<usize>> {
    if seq.is_empty() || seq.len() > path.len() {
        return None;
    }
    (0..=path.len() - seq.len())
        .find(|&i| seq.iter().zip(&path[i..]).all(|(p, s)| matches(p, s)))
        .map(|i| i..i + seq.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_split_into_edge_and_class() {
        assert_eq!(
            parse("store (MemoryStore)"),
            Step {
                edge: "store",
                class: Some("MemoryStore")
            }
        );
        let p = parse("method:GET,path:/orders/8896, ({labels, bucketValues})");
        assert_eq!(p.edge, "method:GET,path:/orders/8896,");
        assert_eq!(p.class, Some("{labels, bucketValues}"));
        assert_eq!(
            parse("handle (Function (closure))").class,
            Some("Function (closure)")
        );
        assert_eq!(parse("global / ").class, None);
        assert_eq!(parse("properties").edge, "properties");
    }

    #[test]
    fn patterns_match_edges_classes_and_alternatives() {
        assert!(matches("(MemoryStore)", "store (MemoryStore)"));
        assert!(matches("sessions", "sessions (Object)"));
        assert!(!matches("sessions", "session (Object)"));
        assert!(matches("(Counter|Histogram)", "x_total (Histogram)"));
        assert!(matches("beforeRequest|init (Array)", "init (Array)"));
        assert!(!matches("beforeRequest (Array)", "beforeRequest (Object)"));
        assert!(!matches("(MemoryStore)", "MemoryStore"));
        assert!(matches("*", "anything"));
        let path: Vec<String> = [
            "a (X)",
            "store (MemoryStore)",
            "sessions (Object)",
            "properties",
        ]
        .map(String::from)
        .to_vec();
        let seq = ["(MemoryStore)".to_string(), "sessions".to_string()];
        assert_eq!(find_seq(&seq, &path), Some(1..3));
        assert_eq!(find_seq(&seq[1..], &path[..2]), None);
    }
}
