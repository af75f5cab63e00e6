//! leakhound's HTTP/1.1 load engine.
//!
//! Built to reproduce a memory problem quickly and to tell the truth about what happened:
//! fast (pre-built request bytes, one reusable read buffer per connection, no per-request
//! allocation on the fast path, one current-thread runtime per worker thread), flat in memory
//! (an HDR histogram, never a list of results), and honest (status codes apart from transport
//! errors; in-flight requests at the deadline are waited for, up to the timeout, and counted;
//! the open model measures latency from each request's intended send time).
//!
//! # Driving it
//!
//! ```no_run
//! use leakhound_load::{Bounds, Engine, Plan};
//! use std::time::Duration;
//!
//! let mut plan = Plan::from_url("http://127.0.0.1:3000/api/data")?;
//! plan.connections = 50;
//! let mut engine = Engine::new(plan)?;
//! let counters = engine.counters(); // read from any thread while a round runs
//! let stop = engine.stop_handle(); // stop.stop() from any thread ends the round early
//! for _ in 0..3 {
//!     let round = engine.run_round(Bounds::duration(Duration::from_secs(2)));
//!     println!("{} requests this round", round.requests);
//! }
//! println!("{}", engine.summary()); // cumulative; serialises as `leakhound.load/v1`
//! # Ok::<(), leakhound_load::Error>(())
//! ```
//!
//! [`Engine::run_round`] blocks the calling thread while worker threads (each with its own
//! current-thread tokio runtime) do the work, so it never nests runtimes: from async code call
//! it through `tokio::task::spawn_blocking` (move the engine in and back out, or keep it in a
//! `std::sync::Mutex`). Connections are opened per round and closed when it ends.
//!
//! # Connection shapes
//!
//! By default each connection is kept alive for the whole round. [`Plan::keep_alive`] `false`
//! (`--no-keepalive`) sends every request with `Connection: close` on a new connection that the
//! client closes once the response has ended; an endpoint's own `Connection: close` header
//! does exactly the same. [`Plan::abort`] (`--abort`) abandons a seeded share of the requests
//! after sending them ([`abort`]). The summary counts `connections_opened` and `aborted`.

pub mod abort;
pub mod cookies;
pub mod endpoint;
mod engine;
pub mod error;
pub mod har;
pub mod http;
pub mod openapi;
pub mod plan;
mod request;
pub mod setup;
mod setup_run;
pub mod stats;
pub mod status;
pub mod template;

pub use abort::{Abort, BadShare};
pub use cookies::{CookieMode, Jar};
pub use engine::{Bounds, Counters, Engine, RoundReport, StopHandle};
pub use error::Error;
pub use plan::{parse_url, Config, Endpoint, Plan, Target};
pub use setup::{Scope, Setup};
pub use setup_run::SetupFailure;
pub use stats::{ErrorKind, Failure, Latency, Summary};
pub use status::StatusSet;
pub use template::Template;
