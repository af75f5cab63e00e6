//! What to load: the target, the endpoint mix, the connection model. Built from a URL or from
//! a config file (the seed's `CONFIG` object as TOML); the target can be overridden so that
//! `leakhound run` can aim a config's endpoints at its child's port.

pub use crate::endpoint::Endpoint;
use crate::error::{bail, Context, Error, Result};
use crate::template::Template;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

/// Where requests go: a resolved socket address and the `Host` header to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    pub host_header: String,
}

impl Target {
    /// Resolve `host:port` (IPv4 first, as the seed's `localhost` means 127.0.0.1 for Node).
    pub fn resolve(host: &str, port: u16) -> Result<Target> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve host {host:?}"))?
            .collect();
        let addr = addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .with_context(|| format!("host {host:?} has no address"))?;
        let host_header = if port == 80 {
            host.to_string()
        } else {
            format!("{host}:{port}")
        };
        Ok(Target { addr, host_header })
    }

    /// A local target, as `leakhound run` uses for its child.
    pub fn local(port: u16) -> Target {
        Target {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            host_header: format!("127.0.0.1:{port}"),
        }
    }
}

/// Everything the engine needs for a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    pub endpoints: Vec<Endpoint>,
    /// Connections (closed model: requests in flight).
    pub connections: usize,
    /// Open model: requests per second on a fixed schedule.
    pub rate: Option<f64>,
    /// Per request, from send to the end of the body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Worker threads; `None`: the CPUs this process may run on, at most one per connection.
    pub threads: Option<usize>,
    /// The statuses that count as a success (`--expect-status`; default 2xx and 3xx).
    pub expect_status: crate::StatusSet,
    /// `false` (`--no-keepalive`): every request on a new connection, sent with
    /// `Connection: close` and closed by the client once the response has ended — the only
    /// way per-connection state on the server grows with the request count.
    pub keep_alive: bool,
    /// `--abort`: the share of requests abandoned after they are sent.
    pub abort: Option<crate::Abort>,
    /// `[[setup]]` steps, their captures and the cookie policy ([`crate::setup`]).
    pub setup: crate::setup::Setup,
}

/// Parse `http://host[:port][/path]` into a target and a path.
pub fn parse_url(url: &str) -> Result<(Target, String)> {
    let rest = if let Some(r) = url.strip_prefix("http://") {
        r
    } else if url.starts_with("https://") {
        bail!(
            "invalid URL {url:?}: https is not supported (leakhound loads local HTTP/1.1 services)"
        );
    } else {
        bail!("invalid URL {url:?}: expected http://HOST[:PORT][/PATH]");
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() || authority.contains('@') {
        bail!("invalid URL {url:?}: missing or unsupported host");
    }
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let (h, p) = h
            .split_once(']')
            .with_context(|| format!("invalid URL {url:?}: unclosed '['"))?;
        (h, p.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .with_context(|| format!("invalid URL {url:?}: bad port {p:?}"))?,
    };
    if host.is_empty() {
        bail!("invalid URL {url:?}: missing host");
    }
    let mut target = Target::resolve(host, port).with_context(|| format!("invalid URL {url:?}"))?;
    if authority.starts_with('[') {
        target.host_header = authority.to_string();
    }
    Ok((target, path))
}

/// The config file: the seed's `CONFIG` object as TOML.
///
/// ```toml
/// [target]
/// host = "127.0.0.1"
/// port = 3000
/// [endpoints.data]
/// path = "/api/data"
/// method = "POST"
/// headers = { "Content-Type" = "application/json" }
/// body = '{"items":["a"]}'
/// weight = 3
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How load requests carry cookies: `jar`, `none`, `fresh` (see [`crate::CookieMode`]).
    pub cookies: Option<crate::CookieMode>,
    pub target: Option<ConfigTarget>,
    #[serde(default)]
    pub endpoints: BTreeMap<String, ConfigEndpoint>,
    /// `[[setup]]`: requests made before the load, whose captures the endpoints may use.
    #[serde(default)]
    pub setup: Vec<crate::setup::ConfigStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigTarget {
    #[serde(default = "default_host")]
    pub host: String,
    pub port: u16,
}

fn default_host() -> String {
    "127.0.0.1".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigEndpoint {
    pub path: String,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_method() -> String {
    "GET".into()
}
fn default_weight() -> u32 {
    1
}

impl Config {
    pub fn parse(text: &str) -> Result<Config> {
        let c: Config = toml::from_str(text)
            .map_err(|e| Error::Invalid(e.to_string().lines().collect::<Vec<_>>().join(" ")))?;
        if c.endpoints.is_empty() && c.setup.is_empty() && c.cookies.is_none() {
            bail!("no [endpoints.NAME] table");
        }
        // Checked now, so a bad step is an error before anything runs.
        c.setup_plan()?;
        Ok(c)
    }

    /// The setup steps and cookie policy.
    pub fn setup_plan(&self) -> Result<crate::setup::Setup> {
        crate::setup::Setup::from_config(&self.setup, self.cookies)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// The config's own target.
    pub fn target(&self) -> Result<Target> {
        let t = self
            .target
            .as_ref()
            .context("the config has no [target] (host, port)")?;
        Target::resolve(&t.host, t.port)
    }

    /// The endpoints to load: the one named `only`, or every endpoint of weight > 0.
    /// An unknown name lists the available ones, as the seed does.
    pub fn endpoints(&self, only: Option<&str>) -> Result<Vec<Endpoint>> {
        let names = || {
            self.endpoints
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let pick: Vec<(&String, &ConfigEndpoint)> = match only {
            Some(name) => {
                let (k, e) = self.endpoints.get_key_value(name).with_context(|| {
                    format!("unknown endpoint {name:?}; available: {}", names())
                })?;
                vec![(k, e)]
            }
            None => self
                .endpoints
                .iter()
                .filter(|(_, e)| e.weight > 0)
                .collect(),
        };
        if self.endpoints.is_empty() {
            bail!("no [endpoints.NAME] table (a config of only [[setup]] steps goes with --openapi or --har)");
        }
        if pick.is_empty() {
            bail!("every endpoint has weight 0; name one of: {}", names());
        }
        let vars = self.setup_plan()?.names;
        pick.into_iter()
            .map(|(name, e)| {
                let at = || format!("endpoint {name:?}");
                let headers: Vec<(String, Template)> = e
                    .headers
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Template::parse_with(v, &vars).with_context(at)?)))
                    .collect::<Result<_>>()?;
                let body = match &e.body {
                    Some(b) => Template::parse_with(b, &vars)
                        .with_context(|| format!("endpoint {name:?} body"))?,
                    None => Template::literal(Vec::new()),
                };
                let path = Template::parse_with(&e.path, &vars)
                    .with_context(|| format!("endpoint {name:?} path"))?;
                let mut ep =
                    Endpoint::with_templates(name, &e.method, &e.path, path, headers, body)
                        .with_context(at)?;
                ep.weight = e.weight.max(1);
                Ok(ep)
            })
            .collect()
    }
}

impl Plan {
    /// A plan with the defaults of the CLI (one connection, 30 s timeout as in the seed).
    pub fn new(target: Target, endpoints: Vec<Endpoint>) -> Plan {
        Plan {
            target,
            endpoints,
            connections: 1,
            rate: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            threads: None,
            expect_status: crate::StatusSet::default(),
            keep_alive: true,
            abort: None,
            setup: crate::setup::Setup::default(),
        }
    }

    /// `GET url` (change the endpoint's method, headers and body afterwards as needed).
    pub fn from_url(url: &str) -> Result<Plan> {
        let (target, path) = parse_url(url)?;
        let ep = Endpoint::new("url", "GET", &path, &[], Template::literal(Vec::new()))?;
        Ok(Plan::new(target, vec![ep]))
    }

    /// The config's endpoints (or the one named), aimed at `target` or else the config's own.
    pub fn from_config(
        config: &Config,
        target: Option<Target>,
        only: Option<&str>,
    ) -> Result<Plan> {
        let endpoints = config.endpoints(only)?;
        let target = match target {
            Some(t) => t,
            None => config.target()?,
        };
        let mut plan = Plan::new(target, endpoints);
        plan.setup = config.setup_plan()?;
        Ok(plan)
    }

    /// Check the numbers a user typed.
    pub fn validate(&self) -> Result<()> {
        if self.connections == 0 {
            bail!("connections must be at least 1 (got -c 0)");
        }
        if self.connections > 100_000 {
            bail!("connections must be at most 100000");
        }
        if let Some(r) = self.rate {
            if !(r.is_finite() && r > 0.0) {
                bail!("rate must be a positive number of requests per second");
            }
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            bail!("timeouts must be above zero");
        }
        if self.endpoints.is_empty() {
            bail!("no endpoint to load");
        }
        if self.threads == Some(0) {
            bail!("threads must be at least 1");
        }
        if self.setup.cookies == Some(crate::CookieMode::Fresh) {
            if let Some(ep) = self.endpoints.iter().find(|e| {
                e.headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            }) {
                bail!(
                    "cookies = \"fresh\" sends no cookie, but endpoint {:?} sets a Cookie header",
                    ep.name
                );
            }
        }
        if !self.keep_alive {
            for ep in &self.endpoints {
                if let Some((k, v)) = ep
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("connection"))
                {
                    if !asks_close(v) {
                        bail!(
                            "--no-keepalive sends `Connection: close`, but endpoint {:?} sets `{k}: {}`",
                            ep.name,
                            String::from_utf8_lossy(v.as_literal().unwrap_or(b"{{...}}"))
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// A `Connection` header value that asks for the connection to be closed (`close`, or a list
/// holding it). A value with placeholders is judged on its literal text only.
pub(crate) fn asks_close(v: &Template) -> bool {
    v.as_literal().is_some_and(|b| {
        b.split(|&c| c == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (t, p) = parse_url("http://127.0.0.1:3000/api/data?x=1").unwrap();
        assert_eq!(t.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(t.host_header, "127.0.0.1:3000");
        assert_eq!(p, "/api/data?x=1");
        let (t, p) = parse_url("http://127.0.0.1").unwrap();
        assert_eq!(t.addr.port(), 80);
        assert_eq!(p, "/");
        let (_, p) = parse_url("http://127.0.0.1:1?a").unwrap();
        assert_eq!(p, "/?a");
        for bad in [
            "127.0.0.1:3000",
            "http://",
            "http://:80/",
            "http://h:0/",
            "http://h:99999/",
            "https://x/",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_endpoints_and_weights() {
        let c = Config::parse(
            r#"
[target]
port = 3000
[endpoints.a]
path = "/a"
weight = 3
[endpoints.b]
path = "/b/{{seq}}"
method = "post"
body = "x"
[endpoints.h]
path = "/health"
weight = 0
"#,
        )
        .unwrap();
        let eps = c.endpoints(None).unwrap();
        assert_eq!(
            eps.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(eps[0].weight, 3);
        assert_eq!(eps[1].method, "POST");
        assert_eq!(c.endpoints(Some("h")).unwrap().len(), 1);
        let e = c.endpoints(Some("zz")).unwrap_err().to_string();
        assert!(e.contains("available: a, b, h"), "{e}");
        assert_eq!(c.target().unwrap().addr.port(), 3000);
        assert!(Config::parse("[endpoints.a]\npath=1").is_err());
        assert!(Config::parse("").is_err());
    }

    #[test]
    fn setup_only_configs_and_the_cookie_policy() {
        let only = Config::parse(
            "cookies = \"fresh\"\n[[setup]]\npath = \"/login\"\ncapture = { sid = \"cookie:sid\" }\n",
        )
        .unwrap();
        let e = only.endpoints(None).unwrap_err().to_string();
        assert!(e.contains("--openapi or --har"), "{e}");
        assert_eq!(only.setup_plan().unwrap().names, ["sid"]);
        // `fresh` sends no cookie: an endpoint's own Cookie header contradicts it.
        let c = Config::parse(
            "cookies = \"fresh\"\n[target]\nport = 1\n[endpoints.a]\npath = \"/\"\nheaders = { Cookie = \"sid={{sid}}\" }\n[[setup]]\npath = \"/login\"\ncapture = { sid = \"cookie:sid\" }\n",
        )
        .unwrap();
        let e = Plan::from_config(&c, None, None)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("fresh") && e.contains("Cookie"), "{e}");
        // A placeholder no step captures is an error naming the known ones.
        let c = Config::parse("[endpoints.a]\npath = \"/{{tok}}\"\n").unwrap();
        assert!(c.endpoints(None).is_err());
        assert!(Config::parse("cookies = \"crumbs\"\n").is_err());
    }
}
