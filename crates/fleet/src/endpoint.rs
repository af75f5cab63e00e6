//! The Prometheus base URL, accepted only on loopback.
//!
//! leakhound reads whatever the server answers and prints it; pointing it at a remote host
//! would make it an HTTP client of arbitrary servers. Loopback only keeps the tool local (an
//! SRE reaches a remote Prometheus with `kubectl port-forward` or `ssh -L`, which ends on
//! 127.0.0.1 anyway). The host is checked before any connection is attempted.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::error::FleetError;

/// A parsed `http://HOST:PORT[/prefix]` on loopback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The `Host` header value (`127.0.0.1:9090`).
    pub host_header: String,
    /// Loopback addresses to connect to, in order.
    pub addrs: Vec<SocketAddr>,
    /// A path prefix (`--web.route-prefix`), without a trailing slash; empty for none.
    pub prefix: String,
}

impl Endpoint {
    /// Parse and check `url`: `http` only, host `localhost`, an IPv4 address in 127.0.0.0/8
    /// or `[::1]`; the port defaults to 9090 (Prometheus' own).
    pub fn parse(url: &str) -> Result<Endpoint, FleetError> {
        let bad = |why: &str| FleetError::BadUrl(format!("{url}: {why}"));
        let rest = if let Some(r) = url.strip_prefix("http://") {
            r
        } else if url.starts_with("https://") {
            return Err(bad(
                "https is not supported (loopback only: use http://127.0.0.1:PORT)",
            ));
        } else {
            return Err(bad("expected http://HOST:PORT, e.g. http://127.0.0.1:9090"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("no host"))?;
        let port: u16 = match port {
            None => 9090,
            Some(p) => p.parse().map_err(|_| bad("the port is not a number"))?,
        };
        let addrs: Vec<SocketAddr> = if host.eq_ignore_ascii_case("localhost") {
            // Resolve, but keep only loopback answers: a hosts file that maps localhost
            // elsewhere must not redirect us.
            let mut v: Vec<SocketAddr> = (host, port)
                .to_socket_addrs()
                .map(|it| it.filter(|a| a.ip().is_loopback()).collect())
                .unwrap_or_default();
            if v.is_empty() {
                v.push(SocketAddr::from(([127, 0, 0, 1], port)));
            }
            v
        } else {
            let ip: IpAddr = host.parse().map_err(|_| {
                FleetError::NotLoopback(format!(
                    "{url}: {host} is not a loopback address (only 127.0.0.0/8, ::1 and localhost are accepted; reach a remote Prometheus through a port-forward to 127.0.0.1)"
                ))
            })?;
            if !ip.is_loopback() {
                return Err(FleetError::NotLoopback(format!(
                    "{url}: {ip} is not a loopback address (only 127.0.0.0/8, ::1 and localhost are accepted; reach a remote Prometheus through a port-forward to 127.0.0.1)"
                )));
            }
            vec![SocketAddr::new(ip, port)]
        };
        let prefix = path.split(['?', '#']).next().unwrap_or("");
        Ok(Endpoint {
            host_header: authority.to_string(),
            addrs,
            prefix: prefix.trim_end_matches('/').to_string(),
        })
    }
}

/// `host:port`, `[v6]:port`, `host`, `[v6]`.
fn split_host_port(a: &str) -> Option<(&str, Option<&str>)> {
    if let Some(r) = a.strip_prefix('[') {
        let end = r.find(']')?;
        let host = &r[..end];
        let after = &r[end + 1..];
        let port = after.strip_prefix(':');
        if !after.is_empty() && port.is_none() {
            return None;
        }
        return Some((host, port));
    }
    if a.is_empty() {
        return None;
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h, Some(p))),
        Some(_) => Some((a, None)), // a bare IPv6 without brackets
        None => Some((a, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_accepted_in_every_spelling() {
        let e = Endpoint::parse("http://127.0.0.1:9090").unwrap();
        assert_eq!(e.addrs, vec!["127.0.0.1:9090".parse().unwrap()]);
        assert_eq!(e.prefix, "");
        let e = Endpoint::parse("http://127.8.0.3:1234/prom/").unwrap();
        assert_eq!(e.addrs, vec!["127.8.0.3:1234".parse().unwrap()]);
        assert_eq!(e.prefix, "/prom");
        let e = Endpoint::parse("http://[::1]:9091").unwrap();
        assert_eq!(e.addrs, vec!["[::1]:9091".parse().unwrap()]);
        let e = Endpoint::parse("http://localhost").unwrap();
        assert!(e
            .addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 9090));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        for url in [
            "http://10.0.0.5:9090",
            "http://prometheus.internal:9090",
            "http://0.0.0.0:9090",
            "http://[::2]:9090",
        ] {
            match Endpoint::parse(url) {
                Err(FleetError::NotLoopback(m)) => assert!(m.contains("loopback"), "{m}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(matches!(
            Endpoint::parse("https://127.0.0.1:9090"),
            Err(FleetError::BadUrl(_))
        ));
        assert!(matches!(
            Endpoint::parse("127.0.0.1:9090"),
            Err(FleetError::BadUrl(_))
        ));
        assert!(matches!(
            Endpoint::parse("http://127.0.0.1:notaport"),
            Err(FleetError::BadUrl(_))
        ));
    }
}
