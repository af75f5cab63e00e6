//! HTTP/1.1 response framing: the head through `httparse`, the body skipped by hand.
//!
//! The engine never keeps a body, it only needs to know where the response ends so the
//! connection stays reusable; a hand-written chunked scanner avoids copying or allocating.

/// How the body of a response is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body (HEAD, 1xx, 204, 304, or `Content-Length: 0`).
    Empty,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body runs until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the head, including the blank line.
    pub len: usize,
    pub body: Body,
    /// The server will close the connection after this response.
    pub close: bool,
}

/// Why a response could not be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadResponse(pub String);

impl std::fmt::Display for BadResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Largest response head accepted; beyond it the response is "bad".
pub const MAX_HEAD: usize = 64 * 1024;

/// Parse a response head from the start of `buf`. `Ok(None)`: more bytes are needed.
pub fn parse_head(buf: &[u8], head_request: bool) -> Result<Option<Head>, BadResponse> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() >= MAX_HEAD {
                return Err(BadResponse(format!("response head over {MAX_HEAD} bytes")));
            }
            return Ok(None);
        }
        Err(e) => return Err(BadResponse(format!("malformed response head: {e}"))),
    };
    let status = resp.code.unwrap_or(0);
    let mut close = resp.version == Some(0);
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for h in resp.headers.iter() {
        // Dispatch on the name's length first: most headers (Date, Server, Content-Type...)
        // are then skipped without a case-insensitive comparison.
        match h.name.len() {
            14 if h.name.eq_ignore_ascii_case("content-length") => {
                let v = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| BadResponse("invalid Content-Length".into()))?;
                if length.is_some_and(|l| l != v) {
                    return Err(BadResponse("conflicting Content-Length headers".into()));
                }
                length = Some(v);
            }
            17 if h.name.eq_ignore_ascii_case("transfer-encoding") => {
                chunked = h
                    .value
                    .rsplit(|&b| b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            }
            10 if h.name.eq_ignore_ascii_case("connection") => {
                for tok in h.value.split(|&b| b == b',') {
                    let tok = tok.trim_ascii();
                    if tok.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if tok.eq_ignore_ascii_case(b"keep-alive") {
                        close = false;
                    }
                }
            }
            _ => {}
        }
    }
    let body = if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        Body::Empty
    } else if chunked {
        Body::Chunked
    } else {
        match length {
            Some(0) => Body::Empty,
            Some(n) => Body::Length(n),
            None => {
                close = true;
                Body::UntilClose
            }
        }
    };
    Ok(Some(Head {
        status,
        len,
        body,
        close,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading hex digits of a chunk size.
    Size,
    /// After the size: extensions up to CR LF.
    SizeLine,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// The CR LF after chunk data.
    DataEnd,
    /// Trailer section: at the start of a line.
    TrailerLineStart,
    /// Inside a trailer line.
    TrailerLine,
    Done,
}

/// Skips a chunked body without copying it.
#[derive(Debug, Clone)]
pub struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u32,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked {
            state: ChunkState::Size,
            size: 0,
            digits: 0,
        }
    }
}

impl Chunked {
    /// Consume from `data`; returns how many bytes belonged to the body and whether the body
    /// is complete (then the rest of `data` belongs to the next response).
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, bool), BadResponse> {
        let mut i = 0;
        while i < data.len() {
            match self.state {
                ChunkState::Size => {
                    let b = data[i];
                    let d = match b {
                        b'0'..=b'9' => b - b'0',
                        b'a'..=b'f' => b - b'a' + 10,
                        b'A'..=b'F' => b - b'A' + 10,
                        _ => {
                            if self.digits == 0 {
                                return Err(BadResponse("bad chunk size".into()));
                            }
                            self.state = ChunkState::SizeLine;
                            continue;
                        }
                    };
                    self.digits += 1;
                    if self.digits > 15 {
                        return Err(BadResponse("chunk size too large".into()));
                    }
                    self.size = self.size * 16 + d as u64;
                    i += 1;
                }
                ChunkState::SizeLine => {
                    if let Some(p) = data[i..].iter().position(|&b| b == b'\n') {
                        i += p + 1;
                        self.state = if self.size == 0 {
                            ChunkState::TrailerLineStart
                        } else {
                            ChunkState::Data(self.size)
                        };
                    } else {
                        i = data.len();
                    }
                }
                ChunkState::Data(left) => {
                    let take = left.min((data.len() - i) as u64);
                    i += take as usize;
                    self.state = if take == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                ChunkState::DataEnd => {
                    match data[i] {
                        b'\r' => {}
                        b'\n' => {
                            self.state = ChunkState::Size;
                            self.size = 0;
                            self.digits = 0;
                        }
                        _ => return Err(BadResponse("missing CRLF after chunk data".into())),
                    }
                    i += 1;
                }
                ChunkState::TrailerLineStart => {
                    match data[i] {
                        b'\r' => {}
                        b'\n' => {
                            self.state = ChunkState::Done;
                            return Ok((i + 1, true));
                        }
                        _ => self.state = ChunkState::TrailerLine,
                    }
                    i += 1;
                }
                ChunkState::TrailerLine => {
                    if let Some(p) = data[i..].iter().position(|&b| b == b'\n') {
                        i += p + 1;
                        self.state = ChunkState::TrailerLineStart;
                    } else {
                        i = data.len();
                    }
                }
                ChunkState::Done => return Ok((i, true)),
            }
        }
        Ok((i, self.state == ChunkState::Done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_head() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let h = parse_head(r, false).unwrap().unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.body, Body::Length(5));
        assert_eq!(h.len, r.len() - 5);
        assert!(!h.close);
        assert_eq!(parse_head(&r[..10], false).unwrap(), None);
    }

    #[test]
    fn framing_rules() {
        let h = parse_head(b"HTTP/1.1 204 No\r\nContent-Length: 9\r\n\r\n", false)
            .unwrap()
            .unwrap();
        assert_eq!(h.body, Body::Empty);
        let h = parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false)
            .unwrap()
            .unwrap();
        assert_eq!(h.body, Body::UntilClose);
        assert!(h.close);
        let h = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false)
            .unwrap()
            .unwrap();
        assert!(h.close);
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: gzip, Chunked\r\nConnection: keep-alive\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.body, Body::Chunked);
        assert!(!h.close);
        let h = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert_eq!(h.body, Body::Empty, "HEAD has no body");
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false).is_err());
        assert!(parse_head(b"garbage\r\n\r\n", false).is_err());
    }

    #[test]
    fn chunked_in_pieces() {
        let body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for split in 0..body.len() {
            let mut c = Chunked::default();
            let (n1, d1) = c.feed(&body[..split]).unwrap();
            if d1 {
                assert_eq!(n1, body.len() - 4);
                continue;
            }
            assert_eq!(n1, split);
            let (n2, d2) = c.feed(&body[split..]).unwrap();
            assert!(d2);
            assert_eq!(split + n2, body.len() - 4);
        }
        assert!(Chunked::default().feed(b"zz\r\n").is_err());
    }
}
