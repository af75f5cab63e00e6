//! The extractors a pattern's `detail` names: facts read from the matched evidence that make
//! the fix concrete (which metric and label, which event on which emitter).

use crate::evidence::Suspect;
use crate::steps;

/// The facts `detail` adds, one readable sentence each.
pub(crate) fn facts(detail: &str, suspects: &[&Suspect], stderr: &[&str]) -> Vec<String> {
    match detail {
        "prom-labels" => prom_labels(suspects),
        "emitter-event" => emitter_event(suspects, stderr),
        _ => Vec::new(),
    }
}

const METRIC_CLASSES: [&str; 4] = ["Counter", "Histogram", "Gauge", "Summary"];

/// `metric `http_request_duration_seconds` (Histogram), label `path` is unbounded (values
/// such as `/orders/8896`)`: the metric is the step before `hashMap`, the label set the key
/// after it (`method:GET,path:/orders/8896,`); the unbounded label is the one whose values
/// differ across the suspects, else the one holding digits.
fn prom_labels(suspects: &[&Suspect]) -> Vec<String> {
    let mut metrics: Vec<(String, String)> = Vec::new();
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for s in suspects {
        for path in [&s.path, &s.full_path] {
            let Some(i) = path.windows(2).position(|w| {
                let a = steps::parse(&w[0]);
                a.class.is_some_and(|c| METRIC_CLASSES.contains(&c))
                    && steps::parse(&w[1]).edge == "hashMap"
            }) else {
                continue;
            };
            let m = steps::parse(&path[i]);
            let metric = (m.edge.to_string(), m.class.unwrap_or_default().to_string());
            if !metrics.contains(&metric) {
                metrics.push(metric);
            }
            let Some(key) = path.get(i + 2).map(|k| steps::parse(k).edge) else {
                continue;
            };
            for (label, value) in key.split(',').filter_map(|kv| kv.split_once(':')) {
                match values.iter_mut().find(|(l, _)| l == label) {
                    Some((_, vs)) if !vs.iter().any(|v| v == value) => vs.push(value.into()),
                    Some(_) => {}
                    None => values.push((label.into(), vec![value.into()])),
                }
            }
            break;
        }
    }
    let mut out: Vec<String> = metrics
        .iter()
        .map(|(name, class)| format!("metric `{name}` ({class})"))
        .collect();
    let digits = |vs: &[String]| vs.iter().any(|v| v.bytes().any(|b| b.is_ascii_digit()));
    let unbounded = values
        .iter()
        .max_by_key(|(_, vs)| (vs.len(), digits(vs)))
        .filter(|(_, vs)| vs.len() > 1 || digits(vs));
    if let Some((label, vs)) = unbounded {
        let shown: Vec<String> = vs.iter().take(2).map(|v| format!("`{v}`")).collect();
        out.push(format!(
            "label `{label}` has unbounded values (such as {})",
            shown.join(", ")
        ));
    }
    out
}

/// `event `config:reload` on a `Bus` emitter (11 listeners when Node warned)`: from Node's
/// warning (`11 config:reload listeners added to [Bus]`), else from the path
/// (`bus (Bus) > _events (Object) > config:reload (Array)`).
fn emitter_event(suspects: &[&Suspect], stderr: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for line in stderr {
        if let Some((n, event, class)) = warning(line) {
            let f = format!("Node warned: {n} `{event}` listeners on a `{class}` emitter");
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    for s in suspects {
        let path = if s.full_path.is_empty() {
            &s.path
        } else {
            &s.full_path
        };
        if let Some(j) = path.iter().rposition(|p| steps::parse(p).edge == "_events") {
            let event = path.get(j + 1).map(|p| steps::parse(p).edge);
            let emitter = j.checked_sub(1).map(|k| steps::parse(&path[k]));
            if let (Some(event), Some(em)) = (event, emitter) {
                let f = format!(
                    "listeners of `{event}` grow on `{}` ({})",
                    em.edge,
                    em.class.unwrap_or("?")
                );
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
    }
    out
}

/// `(count, event, emitter class)` of Node's MaxListenersExceededWarning: `… 11 config:reload
/// listeners added to [Bus]. …`.
pub(crate) fn warning(line: &str) -> Option<(u64, &str, &str)> {
    let rest = &line[line.find("MaxListenersExceededWarning")?..];
    let head = &rest[..rest.find(" listeners added to [")?];
    let class_start = rest.find(" listeners added to [")? + " listeners added to [".len();
    let class = &rest[class_start..class_start + rest[class_start..].find(']')?];
    let detected = head
        .rfind("detected. ")
        .map(|i| i + "detected. ".len())
        .unwrap_or(0);
    let (n, event) = head[detected..].split_once(' ')?;
    Some((n.parse().ok()?, event, class))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(steps: &[&str]) -> Vec<String> {
        steps.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prom_labels_names_the_metric_and_the_unbounded_label() {
        let a = Suspect {
            path: p(&[
                "register (Registry)",
                "_metrics (Object)",
                "http_request_duration_seconds (Histogram)",
                "hashMap (Object)",
                "method:GET,path:/orders/8896, ({labels, bucketValues})",
            ]),
            ..Suspect::default()
        };
        let b = Suspect {
            path: p(&[
                "http_requests_total (Counter)",
                "hashMap (Object)",
                "method:GET,path:/orders/9067, ({labels})",
            ]),
            ..Suspect::default()
        };
        let f = facts("prom-labels", &[&a, &b], &[]);
        assert_eq!(
            f,
            vec![
                "metric `http_request_duration_seconds` (Histogram)",
                "metric `http_requests_total` (Counter)",
                "label `path` has unbounded values (such as `/orders/8896`, `/orders/9067`)",
            ]
        );
        // One key alone: the label holding digits.
        let f = facts("prom-labels", &[&a], &[]);
        assert!(f[1].starts_with("label `path`"), "{f:?}");
    }

    #[test]
    fn node_warning_names_count_event_and_emitter() {
        let l = "(node:4242) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 config:reload listeners added to [Bus]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit";
        assert_eq!(warning(l), Some((11, "config:reload", "Bus")));
        assert_eq!(warning("(node:1) DeprecationWarning: x"), None);
        let s = Suspect {
            path: p(&["bus (Bus)", "_events (Object)", "config:reload (Array)"]),
            ..Suspect::default()
        };
        let f = facts("emitter-event", &[&s], &[l]);
        assert_eq!(
            f,
            vec![
                "Node warned: 11 `config:reload` listeners on a `Bus` emitter",
                "listeners of `config:reload` grow on `bus` (Bus)",
            ]
        );
    }
}
