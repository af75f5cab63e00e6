//! The Prometheus HTTP API: `/api/v1/query_range` requests and their matrix responses.
//!
//! Every query aggregates `by (job, instance)` over the whole selector, so one request returns
//! every instance: the number of requests depends on the window (chunks of at most
//! [`MAX_POINTS_PER_QUERY`] steps, under Prometheus' 11,000-point limit), never on the fleet
//! size.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use crate::endpoint::Endpoint;
use crate::error::FleetError;
use crate::http;

/// Steps per request; Prometheus refuses more than 11,000 points per series.
pub const MAX_POINTS_PER_QUERY: u64 = 10_000;

/// One instance's series: `(unix seconds, value)` in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub job: String,
    pub instance: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<MatrixEntry>,
}

#[derive(Deserialize)]
struct MatrixEntry {
    #[serde(default)]
    metric: HashMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Parse a `query_range` response body (a matrix) into series. Values that are not finite
/// numbers (`NaN`, `+Inf`) are dropped.
pub fn parse_matrix(body: &[u8]) -> Result<Vec<Series>, FleetError> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| FleetError::Response(format!("not a Prometheus API answer: {e}")))?;
    if env.status != "success" {
        return Err(FleetError::Prometheus(format!(
            "{}: {}",
            env.error_type.unwrap_or_else(|| "error".into()),
            env.error.unwrap_or_default()
        )));
    }
    let data = env
        .data
        .ok_or_else(|| FleetError::Response("a success without data".into()))?;
    if data.result_type != "matrix" {
        return Err(FleetError::Response(format!(
            "expected a matrix, got {}",
            data.result_type
        )));
    }
    Ok(data
        .result
        .into_iter()
        .map(|mut e| Series {
            job: e.metric.remove("job").unwrap_or_default(),
            instance: e.metric.remove("instance").unwrap_or_default(),
            points: e
                .values
                .into_iter()
                .filter_map(|(t, v)| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .map(|v| (t, v))
                })
                .collect(),
        })
        .collect())
}

/// A Prometheus server and the range every query covers.
pub struct Client {
    pub endpoint: Endpoint,
    pub start: f64,
    pub end: f64,
    pub step: f64,
    pub timeout: Duration,
    /// Requests made so far.
    pub requests: u32,
}

impl Client {
    /// Run `query` over the range, in as few requests as Prometheus allows, and join the
    /// chunks per `(job, instance)`.
    pub fn query_range(&mut self, query: &str) -> Result<Vec<Series>, FleetError> {
        let span = (MAX_POINTS_PER_QUERY - 1) as f64 * self.step;
        let mut by_key: HashMap<(String, String), Series> = HashMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        let mut from = self.start;
        loop {
            let to = (from + span).min(self.end);
            let path = format!(
                "/api/v1/query_range?query={}&start={from:.3}&end={to:.3}&step={}",
                http::encode(query),
                self.step
            );
            self.requests += 1;
            let (status, body) = http::get(&self.endpoint, &path, self.timeout)?;
            let series = match parse_matrix(&body) {
                Ok(s) => s,
                Err(e) if status != 200 => {
                    return Err(match e {
                        FleetError::Prometheus(m) => FleetError::Prometheus(m),
                        _ => FleetError::Response(format!(
                            "HTTP {status} from {}/api/v1/query_range: {}",
                            self.endpoint.host_header,
                            String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
                        )),
                    })
                }
                Err(e) => return Err(e),
            };
            for s in series {
                let key = (s.job.clone(), s.instance.clone());
                match by_key.get_mut(&key) {
                    Some(have) => {
                        let last = have.points.last().map_or(f64::MIN, |p| p.0);
                        have.points
                            .extend(s.points.into_iter().filter(|p| p.0 > last));
                    }
                    None => {
                        order.push(key.clone());
                        by_key.insert(key, s);
                    }
                }
            }
            if to >= self.end {
                break;
            }
            from = to + self.step;
        }
        Ok(order
            .into_iter()
            .filter_map(|k| by_key.remove(&k))
            .collect())
    }
}

/// `sum by (job, instance) (METRIC{...})`: one series per instance even when the metric has
/// one series per heap space (OpenTelemetry) or per extra label.
pub fn per_instance(agg: &str, metric: &str, selector: &str) -> String {
    format!("{agg} by (job, instance) ({metric}{selector})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_becomes_series_per_instance() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"api","instance":"127.0.0.1:9100"},"values":[[1700000000,"1024"],[1700000002.5,"2048"],[1700000005,"NaN"]]},
            {"metric":{"instance":"b"},"values":[]}]}}"#;
        let s = parse_matrix(body).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].job, "api");
        assert_eq!(s[0].instance, "127.0.0.1:9100");
        assert_eq!(
            s[0].points,
            vec![(1.7e9, 1024.0), (1_700_000_002.5, 2048.0)]
        );
        assert_eq!(s[1].job, "");
    }

    #[test]
    fn errors_are_named() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        match parse_matrix(body) {
            Err(FleetError::Prometheus(m)) => assert!(m.contains("bad_data: parse error")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_matrix(b"<html>"),
            Err(FleetError::Response(_))
        ));
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(matches!(parse_matrix(vector), Err(FleetError::Response(_))));
    }

    /// A stand-in Prometheus that answers each `query_range` with one point per step of the
    /// range it was asked, for two instances; returns the port.
    fn stepping_server() -> u16 {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { continue };
                let mut buf = [0u8; 8192];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let param = |k: &str| -> f64 {
                    let at = req.find(&format!("{k}=")).unwrap() + k.len() + 1;
                    req[at..].split(['&', ' ']).next().unwrap().parse().unwrap()
                };
                let (start, end, step) = (param("start"), param("end"), param("step"));
                let mut vals = Vec::new();
                let mut t = start;
                while t <= end + 1e-9 {
                    vals.push(format!("[{t},\"{t}\"]"));
                    t += step;
                }
                let one = |inst: &str| {
                    format!(
                        r#"{{"metric":{{"job":"j","instance":"{inst}"}},"values":[{}]}}"#,
                        vals.join(",")
                    )
                };
                let body = format!(
                    r#"{{"status":"success","data":{{"resultType":"matrix","result":[{},{}]}}}}"#,
                    one("a"),
                    one("b")
                );
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        port
    }

    #[test]
    fn long_ranges_are_chunked_by_time_and_joined_per_instance() {
        let port = stepping_server();
        let mut c = Client {
            endpoint: Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
            start: 0.0,
            end: 25_000.0,
            step: 1.0,
            timeout: Duration::from_secs(10),
            requests: 0,
        };
        let s = c.query_range("m").unwrap();
        // 25,001 steps in chunks of at most 10,000: three requests, whatever the instances.
        assert_eq!(c.requests, 3);
        assert_eq!(s.len(), 2);
        for series in &s {
            assert_eq!(series.points.len(), 25_001);
            assert!(series.points.windows(2).all(|w| w[1].0 == w[0].0 + 1.0));
        }
        // A short range is one request.
        c.end = 100.0;
        c.requests = 0;
        assert_eq!(c.query_range("m").unwrap()[0].points.len(), 101);
        assert_eq!(c.requests, 1);
    }
}
