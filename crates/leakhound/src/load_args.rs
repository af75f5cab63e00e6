//! The load options shared by `leakhound load` and `leakhound run`, and their translation into
//! a [`Plan`]: `load` aims at a URL or a config's target, `run` at its child's port.

use anyhow::{bail, Context, Result};
use leakhound_load::{Abort, Bounds, Config, Endpoint, Plan, StatusSet, Target, Template};
use std::path::PathBuf;
use std::time::Duration;

/// A duration with its unit (`30s`, `2m`, `500ms`); a bare number is refused with a message
/// saying to add the unit, since every duration flag's help shows one.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!("`{t}` needs a unit: {t}s, {t}ms or {t}m"));
    }
    humantime::parse_duration(t).map_err(|e| format!("`{s}`: {e} (try 30s, 2m, 500ms)"))
}

/// [`parse_duration`], above zero.
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("`{s}` must be above zero"));
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
    #[arg(short = 'd', long = "duration", value_name = "TIME", value_parser = parse_positive_duration)]
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
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Per connection attempt
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = parse_positive_duration)]
    pub connect_timeout: Duration,
    /// Named endpoints (TOML: [target] host/port, [endpoints.NAME] path/method/headers/body/weight;
    /// `run` ignores the target and aims at its child), [[setup]] steps run before the load
    /// (method/path/headers/body, capture = { token = "json:/access_token" } for {{token}},
    /// scope = "connection" or "run") and cookies = "jar", "none" or "fresh"
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which endpoint of --config to drive [default: the weighted mix of all of them]
    #[arg(long, value_name = "NAME")]
    pub endpoint: Option<String>,
    /// Path requested (not with --config): `run` aims at its child on this path [default: /];
    /// `load` replaces the URL's path with it
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Statuses that count as a success, replacing 2xx/3xx: codes, classes and ranges,
    /// comma-separated (400, 4xx, 200-299); any other status is a failed request
    #[arg(long = "expect-status", value_name = "LIST", value_parser = parse_expect_status)]
    pub expect_status: Option<StatusSet>,
    /// A new connection for every request (sent with `Connection: close`, closed after the
    /// response): state the target keeps per connection then grows with the requests. The
    /// same as -H 'Connection: close'
    #[arg(long = "no-keepalive")]
    pub no_keepalive: bool,
    /// Abandon this share of the requests (5% or 0.05): each is sent, then its connection is
    /// closed before the response ends (cancelled requests). Counted as aborted, not as
    /// failures; which ones is random but the same on every run
    #[arg(long = "abort", value_name = "RATE", value_parser = parse_abort)]
    pub abort: Option<Abort>,
    /// Endpoints from an OpenAPI 3.0/3.1 spec (JSON or YAML), one per operation: path
    /// parameters from examples or {{seq}}, bodies from examples or the schema; its servers
    /// are ignored. A --config beside it gives only [[setup]] steps and settings
    #[arg(long, value_name = "FILE")]
    pub openapi: Option<PathBuf>,
    /// Endpoints from a HAR recording: one per method and path, weighted by its count, with
    /// the recorded query and body. A --config beside it gives only [[setup]] and settings
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// With --har: numeric and uuid path segments become {{seq}} (/items/17 and /items/42 are
    /// one endpoint asking for a new id every request)
    #[arg(long = "har-template-ids")]
    pub har_template_ids: bool,
}

/// `5%` or `0.05` (a bare number above 1 is a percentage, as for every share leakhound takes).
fn parse_abort(s: &str) -> Result<Abort, String> {
    let share = leakhound_report::units::parse_percent(s).map_err(|e| e.to_string())?;
    Abort::new(share).map_err(|_| format!("`{s}` must be above 0% (and at most 100%)"))
}

fn parse_expect_status(s: &str) -> Result<StatusSet, String> {
    s.parse()
}

/// Where the load goes; the path and endpoint come from [`LoadArgs`] (`--path`, `--endpoint`).
#[derive(Debug, Clone, Copy)]
pub enum Aim<'a> {
    /// `leakhound load URL`.
    Url(&'a str),
    /// `leakhound load --config FILE [ENDPOINT]`: the config's own target; `endpoint` is the
    /// positional one, if given (`--endpoint` is the same).
    ConfigTarget { endpoint: Option<&'a str> },
    /// `leakhound run`: 127.0.0.1:`port`, at `--path` or (with --config) the config's endpoints.
    Child { port: u16 },
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

    /// The files the plan reads (never to be overwritten by an output).
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .config
            .iter()
            .chain(&self.openapi)
            .chain(&self.har)
            .cloned()
            .collect();
        v.extend(
            self.body
                .as_ref()
                .and_then(|b| b.strip_prefix('@'))
                .map(PathBuf::from),
        );
        v
    }

    /// Where the endpoints come from, for the progress line of `run`.
    pub fn endpoint_source(&self) -> Option<&std::path::Path> {
        self.openapi
            .as_deref()
            .or(self.har.as_deref())
            .or(self.config.as_deref())
    }

    /// Endpoints from --openapi or --har, if one is given.
    fn spec_endpoints(&self) -> Result<Option<Vec<Endpoint>>> {
        if self.har_template_ids && self.har.is_none() {
            bail!("--har-template-ids needs --har");
        }
        Ok(match (&self.openapi, &self.har) {
            (Some(_), Some(_)) => bail!("give --openapi or --har, not both"),
            (Some(p), None) => Some(leakhound_load::openapi::load(p)?),
            (None, Some(p)) => Some(leakhound_load::har::load(p, self.har_template_ids)?),
            (None, None) => None,
        })
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

    /// The endpoint named positionally (`load --config F data`) or by `--endpoint`.
    fn one_endpoint<'a>(&'a self, positional: Option<&'a str>) -> Result<Option<&'a str>> {
        match (positional, self.endpoint.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                bail!("two endpoints named: {a:?} and --endpoint {b:?}; give one")
            }
            (a, b) => Ok(a.or(b)),
        }
    }

    /// Build the plan for `aim`. Errors are one line, for exit code 2.
    pub fn plan(&self, aim: Aim<'_>) -> Result<Plan> {
        if self.requests == Some(0) {
            bail!("-n must be at least 1");
        }
        let spec_given = self.openapi.is_some() || self.har.is_some();
        if self.config.is_none() && !spec_given && self.endpoint.is_some() {
            bail!("--endpoint needs --config, --openapi or --har");
        }
        let headers = self.header_pairs()?;
        let body = self.body()?;
        let config = match &self.config {
            Some(path) => Some(Config::load(path)?),
            None => None,
        };
        let setup = match &config {
            Some(c) => c.setup_plan()?,
            None => leakhound_load::Setup::default(),
        };
        // -H values may use what setup steps capture: `-H 'Authorization: Bearer {{token}}'`.
        let parse_header = |v: &str| {
            Template::parse_with(v, &setup.names).with_context(|| format!("header value {v:?}"))
        };
        let spec = self.spec_endpoints()?;
        // A config of only [[setup]] steps and settings leaves the endpoint to the command
        // line: `--config login.toml --path /items -H 'Authorization: Bearer {{token}}'`.
        let endpoints_config = config.as_ref().filter(|c| !c.endpoints.is_empty());
        if endpoints_config.is_some() && self.path.is_some() {
            bail!("--path does not apply with --config when it has [endpoints]: the endpoints' paths are used");
        }
        if endpoints_config.is_none() && spec.is_none() && self.endpoint.is_some() {
            bail!("--endpoint names one of the [endpoints] of --config, and the config has none");
        }
        let mut plan = match (endpoints_config, aim, spec) {
            (cfg, aim, Some(eps)) => {
                if cfg.as_ref().is_some_and(|c| !c.endpoints.is_empty()) {
                    bail!("--config has [endpoints] and --openapi/--har gives them too: keep only [[setup]] and settings in the config");
                }
                if self.path.is_some() || self.method.is_some() || self.body.is_some() {
                    bail!("--path, -m and -b do not apply with --openapi/--har: the spec gives them per endpoint");
                }
                let (target, only) = match aim {
                    Aim::Url(u) => (leakhound_load::parse_url(u)?.0, self.endpoint.as_deref()),
                    Aim::ConfigTarget { endpoint } => match cfg {
                        Some(c) => (c.target()?, self.one_endpoint(endpoint)?),
                        None => bail!("no URL given (the target of --openapi/--har)"),
                    },
                    Aim::Child { port } => (Target::local(port), self.endpoint.as_deref()),
                };
                let eps = match only {
                    Some(name) => {
                        let names: Vec<&str> = eps.iter().map(|e| e.name.as_str()).collect();
                        let one = eps.iter().find(|e| e.name == name).cloned();
                        match one {
                            Some(mut e) => {
                                e.weight = 1;
                                vec![e]
                            }
                            None => {
                                bail!("unknown endpoint {name:?}; available: {}", names.join(", "))
                            }
                        }
                    }
                    None => eps,
                };
                let mut plan = Plan::new(target, eps);
                for ep in &mut plan.endpoints {
                    for (k, v) in &headers {
                        ep.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                        ep.headers.push((k.clone(), parse_header(v)?));
                    }
                }
                plan
            }
            (Some(cfg), aim, None) => {
                if self.method.is_some() || self.body.is_some() {
                    bail!("-m and -b do not apply with --config: set method and body per endpoint in the file");
                }
                let (target, only) = match aim {
                    Aim::Url(u) => bail!("give either a URL ({u}) or --config, not both"),
                    Aim::ConfigTarget { endpoint } => (None, self.one_endpoint(endpoint)?),
                    Aim::Child { port } => (Some(Target::local(port)), self.endpoint.as_deref()),
                };
                let mut plan = Plan::from_config(cfg, target, only)?;
                for ep in &mut plan.endpoints {
                    for (k, v) in &headers {
                        ep.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                        ep.headers.push((k.clone(), parse_header(v)?));
                    }
                }
                plan
            }
            (None, aim, None) => {
                let (target, path) = match aim {
                    Aim::Url(u) => {
                        let (target, path) = leakhound_load::parse_url(u)?;
                        (target, self.path.clone().unwrap_or(path))
                    }
                    Aim::Child { port } => (
                        Target::local(port),
                        self.path.clone().unwrap_or_else(|| "/".into()),
                    ),
                    Aim::ConfigTarget { .. } => match &config {
                        Some(c) if c.target.is_some() => {
                            (c.target()?, self.path.clone().unwrap_or_else(|| "/".into()))
                        }
                        _ => bail!("no URL given (or use --config FILE)"),
                    },
                };
                let method = self
                    .method
                    .clone()
                    .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
                let hs = headers
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), parse_header(v)?)))
                    .collect::<Result<Vec<_>>>()?;
                let path_t = Template::parse_with(&path, &setup.names)
                    .with_context(|| format!("--path {path:?}"))?;
                let ep = Endpoint::with_templates(
                    "default",
                    &method,
                    &path,
                    path_t,
                    hs,
                    body.unwrap_or_else(|| Template::literal(Vec::new())),
                )?;
                Plan::new(target, vec![ep])
            }
        };
        plan.setup = setup;
        plan.connections = self.connections.unwrap_or(50);
        plan.rate = self.rate;
        plan.timeout = self.timeout;
        plan.connect_timeout = self.connect_timeout;
        plan.keep_alive = !self.no_keepalive;
        plan.abort = self.abort;
        if let Some(expect) = &self.expect_status {
            plan.expect_status = expect.clone();
        }
        plan.validate()?;
        Ok(plan)
    }
}
