//! The engine: worker threads, each with its own current-thread tokio runtime and its share of
//! the connections, so nothing is shared on the fast path but a ticket counter and the live
//! counters, and each worker tallies into its own [`Stats`], merged at the end of a round.

use crate::cookies::{CookieMode, Jar};
use crate::error::Result;
use crate::http::{parse_head, BadResponse, Body, Chunked, MAX_HEAD};
use crate::plan::Plan;
use crate::request::{prepare, render_with, Prepared, RenderCtx};
use crate::setup::{Scope, User};
use crate::setup_run::{run_blocking, run_steps, SetupFailure};
use crate::stats::{ErrorKind, Failure, Stats, Summary};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// What ends a round: whichever comes first. With neither, 10 seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    pub requests: Option<u64>,
    pub duration: Option<Duration>,
}

impl Bounds {
    pub fn requests(n: u64) -> Bounds {
        Bounds {
            requests: Some(n),
            duration: None,
        }
    }
    pub fn duration(d: Duration) -> Bounds {
        Bounds {
            requests: None,
            duration: Some(d),
        }
    }
}

/// Live tallies over the engine's whole life (all rounds), readable from any thread while a
/// round runs. `completed == succeeded + failed + aborted` once a round has ended.
#[derive(Debug, Default)]
pub struct Counters {
    pub completed: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    /// Abandoned on purpose (`--abort`).
    pub aborted: AtomicU64,
    pub bytes: AtomicU64,
}

/// Ends the running round early from another thread (the target died, the user pressed
/// Ctrl-C). Sticky: later rounds return at once until [`StopHandle::clear`].
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
    pub fn clear(&self) {
        self.0.send_replace(false);
    }
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// What one round did.
#[derive(Debug, Clone)]
pub struct RoundReport {
    pub requests: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub aborted: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    /// The round was ended by the [`StopHandle`]; requests in flight were abandoned uncounted.
    pub stopped: bool,
    /// The round alone, as a summary.
    pub summary: Summary,
    /// A setup step failed: the round stopped, and every later round returns at once.
    pub setup_failed: Option<SetupFailure>,
    /// Requests finished this round per endpoint, in the plan's order (what a per-endpoint
    /// regression of retained memory needs).
    pub per_endpoint: Vec<u64>,
}

/// Drives a [`Plan`] in rounds; statistics accumulate across rounds.
pub struct Engine {
    plan: Arc<Plan>,
    prepared: Arc<Vec<Prepared>>,
    counters: Arc<Counters>,
    stop: StopHandle,
    total: Stats,
    rounds: u64,
    elapsed: Duration,
    next_seq: u64,
    /// Setup steps or a cookie jar: each connection slot is a user with its own state.
    users: Option<Users>,
    setup_failed: Option<SetupFailure>,
    /// The endpoint weights of the next rounds, when they differ from the plan's.
    mix: Option<Vec<u64>>,
}

/// The users' state across rounds: what the run-scope steps made (shared by every
/// connection), and each connection slot's own (set up on its first round, kept after: a new
/// socket each round is the same user, as a browser reconnecting).
struct Users {
    run: Option<User>,
    slots: Vec<Mutex<Option<User>>>,
}

impl Engine {
    pub fn new(plan: Plan) -> Result<Engine> {
        plan.validate()?;
        let prepared = Arc::new(prepare(&plan));
        let users =
            (!plan.setup.is_empty() || plan.setup.cookies == Some(CookieMode::Jar)).then(|| {
                Users {
                    run: None,
                    slots: (0..plan.connections).map(|_| Mutex::new(None)).collect(),
                }
            });
        Ok(Engine {
            plan: Arc::new(plan),
            prepared,
            counters: Arc::default(),
            stop: StopHandle(Arc::new(watch::channel(false).0)),
            total: Stats::default(),
            rounds: 0,
            elapsed: Duration::ZERO,
            next_seq: 0,
            users,
            setup_failed: None,
            mix: None,
        })
    }

    /// The setup step that failed, if one did (the run must stop: exit 4).
    pub fn setup_failure(&self) -> Option<&SetupFailure> {
        self.setup_failed.as_ref()
    }

    /// Run the run-scope setup steps once, before the first round. `false`: one failed.
    fn setup_run_scope(&mut self) -> bool {
        if self.setup_failed.is_some() {
            return false;
        }
        let Some(users) = &mut self.users else {
            return true;
        };
        if users.run.is_none() {
            let mut user = User::new(self.plan.setup.names.len());
            if let Err(f) = run_blocking(&self.plan, Scope::Run, 0, &mut user) {
                self.setup_failed = Some(f);
                return false;
            }
            users.run = Some(user);
        }
        true
    }

    /// Weights for the following rounds, one per endpoint in the plan's order (`None`: the
    /// plan's own). `leakhound run` varies the mix between rounds so that retained memory can
    /// be attributed to each endpoint. A mix of the wrong length or all zeros is ignored.
    pub fn set_mix(&mut self, weights: Option<Vec<u32>>) {
        self.mix = weights
            .filter(|w| w.len() == self.prepared.len() && w.iter().any(|&x| x > 0))
            .map(|w| w.into_iter().map(u64::from).collect());
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Everything so far, over all rounds.
    pub fn summary(&self) -> Summary {
        crate::stats::build_summary(
            &self.total,
            &self.plan,
            self.rounds,
            self.elapsed.as_secs_f64(),
        )
    }

    /// Run one round and block until it ends (bounds reached and in-flight requests answered
    /// or timed out, or stopped). The work happens on threads the engine spawns, each with its
    /// own runtime, so this may be called from anywhere: from async code, call it through
    /// `tokio::task::spawn_blocking`.
    pub fn run_round(&mut self, bounds: Bounds) -> RoundReport {
        let bounds = if bounds.requests.is_none() && bounds.duration.is_none() {
            Bounds::duration(Duration::from_secs(10))
        } else {
            bounds
        };
        if !self.setup_run_scope() {
            return RoundReport {
                requests: 0,
                succeeded: 0,
                failed: 0,
                aborted: 0,
                bytes: 0,
                elapsed: Duration::ZERO,
                stopped: true,
                summary: crate::stats::build_summary(&Stats::default(), &self.plan, 1, 0.0),
                setup_failed: self.setup_failed.clone(),
                per_endpoint: vec![0; self.prepared.len()],
            };
        }
        let plan = &*self.plan;
        let threads = plan
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, plan.connections);
        let start = Instant::now();
        let round = Round {
            tickets: AtomicU64::new(0),
            limit: bounds.requests.unwrap_or(u64::MAX),
            start,
            deadline: bounds.duration.map(|d| start + d),
            interval_ns: plan.rate.map(|r| 1e9 / r),
            seq_base: self.next_seq,
            halted: AtomicBool::new(false),
            setup_failed: Mutex::new(None),
            weights: self.mix.clone().unwrap_or_else(|| {
                self.prepared
                    .iter()
                    .map(|p| p.endpoint.weight as u64)
                    .collect()
            }),
            per_endpoint: self.prepared.iter().map(|_| AtomicU64::new(0)).collect(),
        };
        // Every connection's first request is claimed here, before any worker runs: with `-n`
        // no larger than `-c` each connection then sends exactly one (the seed's burst of 100
        // at once), instead of an early connection taking a second ticket while a worker
        // thread that started later has not claimed its first.
        let mut firsts: Vec<(usize, Option<Ticket>)> = (0..plan.connections)
            .map(|slot| (slot, round.claim()))
            .collect();
        let results: Vec<Stats> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|w| {
                    let conns =
                        plan.connections / threads + usize::from(w < plan.connections % threads);
                    let mine: Vec<(usize, Option<Ticket>)> = firsts.drain(..conns).collect();
                    let ctx = Ctx {
                        plan,
                        prepared: &self.prepared,
                        counters: &self.counters,
                        round: &round,
                        users: self.users.as_ref(),
                    };
                    let stop = self.stop.0.subscribe();
                    std::thread::Builder::new()
                        .name(format!("leakhound-load-{w}"))
                        .spawn_scoped(s, move || worker(ctx, mine, stop))
                        .expect("spawn load worker thread")
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("load worker panicked"))
                .collect()
        });
        let elapsed = start.elapsed();
        if let Some(f) = round
            .setup_failed
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
        {
            self.setup_failed = Some(f);
        }
        let mut stats = Stats::default();
        for r in &results {
            stats.merge(r);
        }
        self.next_seq += round.tickets.load(Relaxed).min(round.limit);
        self.total.merge(&stats);
        self.rounds += 1;
        self.elapsed += elapsed;
        RoundReport {
            requests: stats.completed(),
            succeeded: stats.succeeded,
            failed: stats.failed,
            aborted: stats.aborted,
            bytes: stats.bytes,
            elapsed,
            stopped: self.stop.is_stopped(),
            summary: crate::stats::build_summary(&stats, plan, 1, elapsed.as_secs_f64()),
            setup_failed: self.setup_failed.clone(),
            per_endpoint: round.per_endpoint.iter().map(|c| c.load(Relaxed)).collect(),
        }
    }
}

/// The round's shared schedule.
struct Round {
    tickets: AtomicU64,
    limit: u64,
    start: Instant,
    deadline: Option<Instant>,
    /// Open model: nanoseconds between intended send times.
    interval_ns: Option<f64>,
    seq_base: u64,
    /// A setup step failed: no more tickets.
    halted: AtomicBool,
    setup_failed: Mutex<Option<SetupFailure>>,
    /// This round's endpoint weights, in the plan's order.
    weights: Vec<u64>,
    /// Requests finished per endpoint this round.
    per_endpoint: Vec<AtomicU64>,
}

struct Ticket {
    seq: u64,
    /// Open model: when this request should go out; latency is measured from here.
    intended: Option<Instant>,
}

impl Round {
    fn claim(&self) -> Option<Ticket> {
        if self.halted.load(Relaxed) {
            return None;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) && self.interval_ns.is_none() {
            return None;
        }
        let i = self.tickets.fetch_add(1, Relaxed);
        if i >= self.limit {
            return None;
        }
        let intended = match self.interval_ns {
            Some(ns) => {
                let at = self.start + Duration::from_nanos((i as f64 * ns) as u64);
                if self.deadline.is_some_and(|d| at >= d) {
                    return None;
                }
                Some(at)
            }
            None => None,
        };
        Some(Ticket {
            seq: self.seq_base + i,
            intended,
        })
    }
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    plan: &'a Plan,
    prepared: &'a [Prepared],
    counters: &'a Counters,
    round: &'a Round,
    users: Option<&'a Users>,
}

fn worker(
    ctx: Ctx<'_>,
    firsts: Vec<(usize, Option<Ticket>)>,
    mut stop: watch::Receiver<bool>,
) -> Stats {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime for a load worker");
    let stats = RefCell::new(Stats::default());
    rt.block_on(async {
        let mut all: FuturesUnordered<_> = firsts
            .into_iter()
            .map(|(slot, first)| connection(ctx, &stats, slot, first))
            .collect();
        tokio::select! {
            _ = async { while all.next().await.is_some() {} } => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    });
    stats.into_inner()
}

/// A failed exchange.
struct Fail {
    kind: ErrorKind,
    reason: String,
    /// Nothing of a response had arrived (a reused connection may be retried once).
    before_response: bool,
}

impl Fail {
    fn io(e: std::io::Error, before_response: bool) -> Fail {
        Fail {
            kind: ErrorKind::from_io(&e),
            reason: e.to_string(),
            before_response,
        }
    }
    fn closed(before_response: bool) -> Fail {
        Fail {
            kind: ErrorKind::ClosedEarly,
            reason: "connection closed before the response was complete".into(),
            before_response,
        }
    }
    fn bad(e: BadResponse) -> Fail {
        Fail {
            kind: ErrorKind::BadResponse,
            reason: e.0,
            before_response: false,
        }
    }
}

/// One connection's state: the socket and its single reusable read buffer.
struct Conn {
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Bytes of `buf` already read but not yet consumed.
    filled: usize,
    bytes: u64,
    /// Sockets this connection slot has opened.
    opened: u64,
    /// The user's cookies, when load requests carry them (`Set-Cookie` answers update it).
    jar: Option<Jar>,
}

impl Conn {
    async fn connect(&mut self, plan: &Plan) -> Result<(), Fail> {
        let s =
            match tokio::time::timeout(plan.connect_timeout, TcpStream::connect(plan.target.addr))
                .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(Fail::io(e, true)),
                Err(_) => {
                    return Err(Fail {
                        kind: ErrorKind::ConnectTimeout,
                        reason: format!("no connection within {:?}", plan.connect_timeout),
                        before_response: true,
                    })
                }
            };
        let _ = s.set_nodelay(true);
        self.stream = Some(s);
        self.filled = 0;
        self.opened += 1;
        Ok(())
    }

    /// Send `req` and close the connection without reading the response (`--abort`): the
    /// server sees the request, then the client going away before its response has ended. A
    /// reused connection found closed by the server is retried once on a fresh one, as in
    /// [`Conn::exchange`].
    async fn abandon(&mut self, plan: &Plan, req: &[u8]) -> Result<(), Fail> {
        for attempt in 0..2 {
            let reused = self.stream.is_some();
            if !reused {
                self.connect(plan).await?;
            }
            let s = self.stream.as_mut().expect("connected");
            let sent = s.write_all(req).await;
            // Dropping the socket closes it (FIN; RST if response bytes were already there).
            self.stream = None;
            match sent {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let f = Fail::io(e, true);
                    let stale = matches!(f.kind, ErrorKind::ClosedEarly | ErrorKind::Reset);
                    if !(reused && attempt == 0 && stale) {
                        return Err(f);
                    }
                }
            }
        }
        unreachable!("the second attempt always returns")
    }

    /// Send `req`, read the whole response; retry once on a fresh connection when a reused
    /// one turns out to have been closed by the server while idle.
    async fn exchange(&mut self, plan: &Plan, req: &[u8], head_req: bool) -> Result<u16, Fail> {
        for attempt in 0..2 {
            let reused = self.stream.is_some();
            if !reused {
                self.connect(plan).await?;
            }
            match self.once(req, head_req).await {
                Ok(status) => return Ok(status),
                Err(f) => {
                    self.stream = None;
                    let stale = matches!(f.kind, ErrorKind::ClosedEarly | ErrorKind::Reset);
                    if !(reused && attempt == 0 && f.before_response && stale) {
                        return Err(f);
                    }
                }
            }
        }
        unreachable!("the second attempt always returns")
    }

    async fn read_more(&mut self, from: usize) -> Result<usize, Fail> {
        let s = self.stream.as_mut().expect("connected");
        let n = s
            .read(&mut self.buf[from..])
            .await
            .map_err(|e| Fail::io(e, from == 0 && self.filled == 0))?;
        self.bytes += n as u64;
        Ok(n)
    }

    async fn once(&mut self, req: &[u8], head_req: bool) -> Result<u16, Fail> {
        let s = self.stream.as_mut().expect("connected");
        s.write_all(req).await.map_err(|e| Fail::io(e, true))?;
        let head = loop {
            if self.filled > 0 {
                if let Some(h) =
                    parse_head(&self.buf[..self.filled], head_req).map_err(Fail::bad)?
                {
                    break h;
                }
            }
            if self.filled == self.buf.len() {
                if self.buf.len() >= MAX_HEAD {
                    return Err(Fail::bad(BadResponse(format!(
                        "response head over {MAX_HEAD} bytes"
                    ))));
                }
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let n = self.read_more(self.filled).await?;
            if n == 0 {
                return Err(Fail::closed(self.filled == 0));
            }
            self.filled += n;
        };
        if let Some(jar) = &mut self.jar {
            jar.absorb_head(&self.buf[..head.len]);
        }
        // `pos..filled` is unconsumed input.
        let mut pos = head.len;
        match head.body {
            Body::Empty => {}
            Body::Length(len) => {
                let mut rem = len;
                let take = rem.min((self.filled - pos) as u64);
                pos += take as usize;
                rem -= take;
                while rem > 0 {
                    let n = self.read_more(0).await?;
                    if n == 0 {
                        return Err(Fail::closed(false));
                    }
                    let take = rem.min(n as u64);
                    rem -= take;
                    pos = take as usize;
                    self.filled = n;
                }
            }
            Body::Chunked => {
                let mut c = Chunked::default();
                let (used, mut done) = c.feed(&self.buf[pos..self.filled]).map_err(Fail::bad)?;
                pos += used;
                while !done {
                    let n = self.read_more(0).await?;
                    if n == 0 {
                        return Err(Fail::closed(false));
                    }
                    let (used, d) = c.feed(&self.buf[..n]).map_err(Fail::bad)?;
                    done = d;
                    pos = used;
                    self.filled = n;
                }
            }
            Body::UntilClose => loop {
                let n = self.read_more(0).await?;
                if n == 0 {
                    pos = 0;
                    self.filled = 0;
                    break;
                }
            },
        }
        if pos < self.filled {
            self.buf.copy_within(pos..self.filled, 0);
            self.filled -= pos;
        } else {
            self.filled = 0;
        }
        if head.close {
            self.stream = None;
        }
        Ok(head.status)
    }
}

/// Backoff after the target refused or dropped a connection: from 10 ms, doubling, to 100 ms,
/// so a dead server costs at most ten attempts a second per connection, not a core, while a
/// `-n` run against it still ends in reasonable time (each attempt is a counted failure).
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_millis(100);

/// This connection slot's user: kept from an earlier round, or made now from the run-scope
/// state and the connection-scope steps. `Err`: a step failed (recorded; the round halts).
async fn user_of(ctx: Ctx<'_>, users: &Users, slot: usize) -> Result<User, ()> {
    let kept = users.slots[slot]
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(u) = kept {
        return Ok(u);
    }
    let plan = ctx.plan;
    let mut user = users
        .run
        .clone()
        .unwrap_or_else(|| User::new(plan.setup.names.len()));
    let steps = plan.setup.steps_of(Scope::Connection, plan.keep_alive);
    if let Err(f) = run_steps(plan, steps, slot as u64, &mut user).await {
        ctx.round.halted.store(true, Relaxed);
        ctx.round
            .setup_failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(f);
        return Err(());
    }
    Ok(user)
}

async fn connection(ctx: Ctx<'_>, stats: &RefCell<Stats>, slot: usize, mut first: Option<Ticket>) {
    let plan = ctx.plan;
    if first.is_none() {
        // Every ticket was claimed before this connection's first: it has nothing to send.
        return;
    }
    let mut user = match ctx.users {
        Some(users) => match user_of(ctx, users, slot).await {
            Ok(u) => Some(u),
            Err(()) => return,
        },
        None => None,
    };
    let mut conn = Conn {
        stream: None,
        buf: vec![0; 16 * 1024],
        filled: 0,
        bytes: 0,
        opened: 0,
        jar: user
            .as_mut()
            .filter(|u| u.sends_cookies(plan.setup.cookies))
            .map(|u| std::mem::take(&mut u.jar)),
    };
    let mut cookie_buf = Vec::new();
    let mut rng = fastrand::Rng::new();
    let (mut scratch, mut req_buf) = (Vec::new(), Vec::new());
    let total_weight: u64 = ctx.round.weights.iter().sum();
    let mut backoff = Duration::ZERO;
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    while let Some(ticket) = first.take().or_else(|| ctx.round.claim()) {
        if let Some(at) = ticket.intended {
            tokio::time::sleep_until(at.into()).await;
        }
        let pick = if ctx.prepared.len() == 1 {
            0
        } else {
            let mut x = rng.u64(..total_weight.max(1));
            ctx.round
                .weights
                .iter()
                .position(|&w| {
                    if x < w {
                        true
                    } else {
                        x -= w;
                        false
                    }
                })
                .unwrap_or(0)
        };
        let p = &ctx.prepared[pick];
        let req: &[u8] = match &p.fixed {
            Some(b) if conn.jar.is_none() => b,
            _ => {
                if let Some(jar) = &conn.jar {
                    jar.write_header(&mut cookie_buf);
                }
                let rctx = RenderCtx {
                    host: &plan.target.host_header,
                    add_close: p.add_close,
                    seq: ticket.seq,
                    vars: user.as_ref().map_or(&[][..], |u| &u.vars),
                    cookie: conn.jar.as_ref().map(|_| &cookie_buf[..]),
                };
                render_with(&p.endpoint, &rctx, &mut rng, &mut scratch, &mut req_buf);
                &req_buf
            }
        };
        let sent = Instant::now();
        let deadline = sent + plan.timeout;
        // Lazy timeout: the timer is re-armed only when it fires (at an earlier request's
        // deadline) or has already fired, not on every request; deadlines only move forward.
        if timer.is_elapsed() {
            timer.as_mut().reset(deadline.into());
        }
        let (bytes_before, opened_before) = (conn.bytes, conn.opened);
        let abort = plan.abort.is_some_and(|a| a.aborts(ticket.seq));
        let result = {
            // `Ok(None)`: abandoned on purpose.
            let exchange = async {
                if abort {
                    conn.abandon(plan, req).await.map(|()| None)
                } else {
                    conn.exchange(plan, req, p.head_request).await.map(Some)
                }
            };
            tokio::pin!(exchange);
            loop {
                tokio::select! {
                    biased;
                    r = &mut exchange => break r,
                    _ = &mut timer => {
                        if Instant::now() >= deadline {
                            break Err(Fail {
                                kind: ErrorKind::Timeout,
                                reason: format!("no complete response within {:?}", plan.timeout),
                                before_response: false,
                            });
                        }
                        timer.as_mut().reset(deadline.into());
                    }
                }
            }
        };
        // A request that said `Connection: close` ends its connection here, whether or not
        // the server closed it too: one mechanism for `--no-keepalive` and the user's header.
        if p.close || result.as_ref().is_err_and(|f| f.kind == ErrorKind::Timeout) {
            conn.stream = None;
        }
        let done = Instant::now();
        let took = Took {
            bytes: conn.bytes - bytes_before,
            opened: conn.opened - opened_before,
        };
        ctx.round.per_endpoint[pick].fetch_add(1, Relaxed);
        let fail = record(ctx, stats, p, &ticket, sent, done, took, result);
        if fail.is_some_and(|k| {
            matches!(
                k,
                ErrorKind::Refused | ErrorKind::Reset | ErrorKind::ClosedEarly | ErrorKind::Other
            )
        }) {
            backoff = (backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
            let mut wake = Instant::now() + backoff;
            if let Some(d) = ctx.round.deadline {
                wake = wake.min(d);
            }
            tokio::time::sleep_until(wake.into()).await;
        } else if fail.is_none() {
            backoff = Duration::ZERO;
        }
    }
    // The user (its captures and cookies) outlives this round's socket.
    if let (Some(users), Some(mut u)) = (ctx.users, user) {
        if let Some(jar) = conn.jar.take() {
            u.jar = jar;
        }
        *users.slots[slot].lock().unwrap_or_else(|e| e.into_inner()) = Some(u);
    }
}

/// What one request cost the connection.
struct Took {
    bytes: u64,
    /// Sockets opened for it (0 on a reused connection; 2 when a stale one was retried).
    opened: u64,
}

/// Tally one finished request (`Ok(None)`: aborted on purpose); returns the transport error
/// kind, if any.
#[allow(clippy::too_many_arguments)]
fn record(
    ctx: Ctx<'_>,
    stats: &RefCell<Stats>,
    p: &Prepared,
    ticket: &Ticket,
    sent: Instant,
    done: Instant,
    took: Took,
    result: Result<Option<u16>, Fail>,
) -> Option<ErrorKind> {
    {
        let mut st = stats.borrow_mut();
        st.bytes += took.bytes;
        st.connections_opened += took.opened;
        ctx.counters.bytes.fetch_add(took.bytes, Relaxed);
        if ctx.round.deadline.is_some_and(|d| done > d) {
            st.after_deadline += 1;
        }
        let fail = match result {
            Ok(None) => {
                st.aborted += 1;
                ctx.counters.aborted.fetch_add(1, Relaxed);
                None
            }
            Ok(Some(status)) => {
                let lat = done.duration_since(ticket.intended.unwrap_or(sent));
                if st.record_response(status, lat.as_micros() as u64, &ctx.plan.expect_status) {
                    st.succeeded += 1;
                    ctx.counters.succeeded.fetch_add(1, Relaxed);
                    None
                } else {
                    st.failed += 1;
                    ctx.counters.failed.fetch_add(1, Relaxed);
                    st.keep_failure(|| Failure {
                        request: ticket.seq,
                        endpoint: p.endpoint.name.clone(),
                        reason: format!("HTTP {status}"),
                    });
                    None
                }
            }
            Err(f) => {
                st.record_error(f.kind);
                ctx.counters.failed.fetch_add(1, Relaxed);
                st.keep_failure(|| Failure {
                    request: ticket.seq,
                    endpoint: p.endpoint.name.clone(),
                    reason: format!("{}: {}", f.kind.as_str(), f.reason),
                });
                Some(f.kind)
            }
        };
        ctx.counters.completed.fetch_add(1, Relaxed);
        fail
    }
}
