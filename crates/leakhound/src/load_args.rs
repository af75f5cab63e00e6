//! The load options shared by `leakhound load` and `leakhound run`, and their translation into
//! a [`Plan`]: `load` aims at a URL or a config's target, `run` at its child's port.

use anyhow::{bail, Context, Result};
use leakhound_load::{Bounds, Config, Endpoint, Plan, StatusSet, Target, Template};
use std::path::PathBuf;
use std::time::Duration;

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (try 30s, 2m, 500ms)"))?;
    if d.is_zero() {
        return Err(format!("{s:?}: must be above zero"));
    }
    Ok(d)
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?}: expected a positive number of requests per second"
        )),
    }
}

/// Load options (shared by `load` and `run`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Connections, each keeping one request in flight (closed model) [default: 50 for load,
    /// 16 for run]
    #[arg(short = 'c', long = "connections", value_name = "N")]
    pub connections: Option<usize>,
    /// Stop after N requests in all (with -d: whichever comes first; `load` with neither: 10 s)
    #[arg(short = 'n', long = "requests", value_name = "N")]
    pub requests: Option<u64>,
    /// Stop after this long under load in all: 30s, 2m, 500ms
    #[arg(short = 'd', long = "duration", value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Open model: R requests per second on a fixed schedule; latency is measured from each
    /// request's intended send time, so server stalls show in the percentiles
    #[arg(short = 'q', long = "rate", value_name = "R", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// HTTP method [default: GET, or POST with -b]
    #[arg(short = 'm', long = "method", value_name = "METHOD")]
    pub method: Option<String>,
    /// Request header "Name: value" (repeatable; templates allowed)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Request body, or @FILE to read it from a file. Paths, headers and bodies may hold
    /// {{seq}}, {{uuid}} and {{rand:MIN-MAX}}, evaluated per request
    #[arg(short = 'b', long = "body", value_name = "BODY")]
    pub body: Option<String>,
    /// Per request, from send to the end of the body
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Per connection attempt
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Named endpoints (TOML: [target] host/port, [endpoints.NAME] path/method/headers/body/weight;
    /// `run` ignores the target and aims at its child)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Statuses that count as a success, replacing 2xx/3xx: codes, classes and ranges,
    /// comma-separated (400, 4xx, 200-299); any other status is a failed request
    #[arg(long = "expect-status", value_name = "LIST", value_parser = parse_expect_status)]
    pub expect_status: Option<StatusSet>,
}

fn parse_expect_status(s: &str) -> Result<StatusSet, String> {
    s.parse()
}

/// Where the load goes.
#[derive(Debug, Clone, Copy)]
pub enum Aim<'a> {
    /// `leakhound load URL`.
    Url(&'a str),
    /// `leakhound load --config FILE [ENDPOINT]`: the config's own target.
    ConfigTarget { endpoint: Option<&'a str> },
    /// `leakhound run`: 127.0.0.1:`port`, at `path` or (with --config) the config's endpoints.
    Child {
        port: u16,
        path: &'a str,
        endpoint: Option<&'a str>,
    },
}

impl LoadArgs {
    /// The round bounds: -n and/or -d, defaulting to 10 s.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            requests: self.requests,
            duration: match (self.requests, self.duration) {
                (None, None) => Some(Duration::from_secs(10)),
                (_, d) => d,
            },
        }
    }

    fn header_pairs(&self) -> Result<Vec<(String, String)>> {
        self.headers
            .iter()
            .map(|h| {
                let (k, v) = h
                    .split_once(':')
                    .with_context(|| format!("invalid header {h:?}: expected \"Name: value\""))?;
                Ok((k.trim().to_string(), v.trim().to_string()))
            })
            .collect()
    }

    fn body(&self) -> Result<Option<Template>> {
        let Some(b) = &self.body else { return Ok(None) };
        Ok(Some(match b.strip_prefix('@') {
            Some(path) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading body file {path:?}"))?;
                match String::from_utf8(bytes) {
                    Ok(text) => {
                        Template::parse(&text).with_context(|| format!("body file {path:?}"))?
                    }
                    Err(e) => Template::literal(e.into_bytes()),
                }
            }
            None => Template::parse(b).context("body")?,
        }))
    }

    /// Build the plan for `aim`. Errors are one line, for exit code 2.
    pub fn plan(&self, aim: Aim<'_>) -> Result<Plan> {
        if self.requests == Some(0) {
            bail!("-n must be at least 1");
        }
        let headers = self.header_pairs()?;
        let body = self.body()?;
        let config = match &self.config {
            Some(path) => Some(Config::load(path)?),
            None => None,
        };
        let mut plan = match (&config, aim) {
            (Some(cfg), aim) => {
                if self.method.is_some() || self.body.is_some() {
                    bail!("-m and -b do not apply with --config: set method and body per endpoint in the file");
                }
                let (target, only) = match aim {
                    Aim::Url(u) => bail!("give either a URL ({u}) or --config, not both"),
                    Aim::ConfigTarget { endpoint } => (None, endpoint),
                    Aim::Child { port, endpoint, .. } => (Some(Target::local(port)), endpoint),
                };
                let mut plan = Plan::from_config(cfg, target, only)?;
                for ep in &mut plan.endpoints {
                    for (k, v) in &headers {
                        ep.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                        ep.headers.push((k.clone(), Template::parse(v)?));
                    }
                }
                plan
            }
            (None, Aim::ConfigTarget { .. }) => bail!("no URL given (or use --config FILE)"),
            (None, aim) => {
                let (target, path) = match aim {
                    Aim::Url(u) => leakhound_load::parse_url(u)?,
                    Aim::Child { port, path, .. } => (Target::local(port), path.to_string()),
                    Aim::ConfigTarget { .. } => unreachable!(),
                };
                let method = self
                    .method
                    .clone()
                    .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
                let ep = Endpoint::new(
                    "default",
                    &method,
                    &path,
                    &headers,
                    body.unwrap_or_else(|| Template::literal(Vec::new())),
                )?;
                Plan::new(target, vec![ep])
            }
        };
        plan.connections = self.connections.unwrap_or(50);
        plan.rate = self.rate;
        plan.timeout = self.timeout;
        plan.connect_timeout = self.connect_timeout;
        if let Some(expect) = &self.expect_status {
            plan.expect_status = expect.clone();
        }
        plan.validate()?;
        Ok(plan)
    }
}
