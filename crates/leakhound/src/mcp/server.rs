//! The MCP tools: each one is a leakhound command, its inputs a JSON Schema (schemars) that
//! mirrors the command's flags, its output the command's `leakhound.*/v1` document.

use std::path::PathBuf;

use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{redact, spawn};

/// The server: where the leakhound binary is, and whether snapshot strings are redacted.
#[derive(Clone)]
pub struct Leakhound {
    exe: PathBuf,
    redact: bool,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunInput {
    /// The command that starts the Node service, e.g. ["node", "server.js"]. It gets `PORT`
    /// and is driven on 127.0.0.1 only.
    pub command: Vec<String>,
    /// Path requested (default `/`).
    pub path: Option<String>,
    /// HTTP method (default GET, or POST with a body).
    pub method: Option<String>,
    /// Request headers, each "Name: value".
    #[serde(default)]
    pub headers: Vec<String>,
    /// Request body (templates such as `{{seq}}` allowed).
    pub body: Option<String>,
    /// The whole run spends at most this long under load, e.g. "20s" (default 60s).
    pub max_duration: Option<String>,
    /// The target's heap limit in MB (default 128).
    pub heap_mb: Option<u64>,
    /// Connections, each keeping one request in flight.
    pub connections: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FileInput {
    /// The input file.
    pub file: String,
    /// How many entries to list.
    pub top: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LeaksInput {
    /// Three .heapsnapshot files of one process, in time order.
    pub files: [String; 3],
    /// How many groups to list.
    pub top: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GcInput {
    /// A V8 --trace-gc log file.
    pub file: String,
    /// The heap limit, e.g. "4GB" or MB as a number.
    pub heap_limit: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AttachInput {
    /// The running Node process to watch: SIGUSR1 opens its inspector (closed again after).
    pub pid: Option<u32>,
    /// Or an inspector that is already open, e.g. "127.0.0.1:9229" (loopback only).
    pub inspect: Option<String>,
    /// How long to watch, e.g. "30s" (default 60s).
    pub duration: Option<String>,
    /// Time between two samples, e.g. "5s" (default).
    pub sample_every: Option<String>,
    /// Force a full GC before each sample (pauses the process briefly each time).
    #[serde(default)]
    pub force_gc: bool,
    /// Sample allocations over the watch and name the sites of what survived.
    #[serde(default)]
    pub alloc_sites: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CompareInput {
    /// `leakhound run --json` result before the fix.
    pub before: String,
    /// `leakhound run --json` result after the fix.
    pub after: String,
}

/// What kind of document a tool returns, for redaction.
#[derive(Clone, Copy, PartialEq)]
enum Doc {
    Run,
    Heap,
    Other,
}

fn opt(args: &mut Vec<String>, flag: &str, v: Option<impl ToString>) {
    if let Some(v) = v {
        args.push(flag.to_string());
        args.push(v.to_string());
    }
}

/// What an exit code means, for the line beside the document.
fn meaning(code: i32) -> &'static str {
    match code {
        0 => "ok: no leak, fix proven, or done",
        1 => "leak",
        2 => "usage or input error",
        3 => "inconclusive",
        4 => "the target failed",
        5 => "fix not proven",
        6 => "regression",
        10 => "allocation pressure (--fail-on pressure)",
        11 => "--max-retained-per-request exceeded",
        12 => "--max-gc-share exceeded",
        130 => "interrupted",
        _ => "unexpected exit",
    }
}

impl Leakhound {
    pub fn new(exe: PathBuf, redact: bool) -> Leakhound {
        Leakhound {
            exe,
            redact,
            tool_router: Self::tool_router(),
        }
    }

    /// Run `leakhound <args> --json -`, with progress notifications when the client asked
    /// for them (`_meta.progressToken`), and turn the outcome into a tool result: a verdict
    /// (any code but 2, 4, 130) is a successful call whose structured content is the
    /// document; usage errors, a failed target and interruptions are tool errors carrying the
    /// one-line message (and the partial document when one was written). A cancelled request
    /// (`notifications/cancelled`) stops the child with SIGTERM, as Ctrl-C would.
    async fn call(
        &self,
        args: Vec<String>,
        doc: Doc,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let token = ctx.meta.get_progress_token();
        let peer = ctx.peer.clone();
        let progress = |elapsed: f64, line: Option<String>| {
            let token = token.clone();
            let peer = peer.clone();
            async move {
                if let Some(token) = token {
                    // No `total`: a run takes its --max-duration under load plus start-up,
                    // warm-up, idle and snapshots, and progress may not pass its total.
                    let mut p = ProgressNotificationParam::new(token, elapsed.floor());
                    if let Some(l) = line {
                        p = p.with_message(l);
                    }
                    let _ = peer.notify_progress(p).await;
                }
            }
        };
        let cancelled = ctx.ct.clone().cancelled_owned();
        let ran = spawn::run_json(&self.exe, &args, progress, cancelled)
            .await
            .map_err(|e| ErrorData::internal_error(format!("running leakhound: {e}"), None))?;
        let code = ran.code.unwrap_or(130);
        let mut document = ran.doc.clone();
        if self.redact {
            if let Some(d) = document.as_mut() {
                match doc {
                    Doc::Run => redact::run_doc(d),
                    Doc::Heap => redact::heap_doc(d),
                    Doc::Other => {}
                }
            }
        }
        let failed = matches!(code, 2 | 4 | 130) || document.is_none();
        let status = if failed {
            format!(
                "leakhound exited {code} ({}): {}",
                meaning(code),
                ran.message()
            )
        } else {
            format!("leakhound exited {code} ({})", meaning(code))
        };
        let mut content = vec![ContentBlock::text(status)];
        let mut result = match document {
            Some(d) => {
                content.push(ContentBlock::text(
                    serde_json::to_string_pretty(&d).unwrap_or_default(),
                ));
                if failed {
                    CallToolResult::structured_error(d)
                } else {
                    CallToolResult::structured(d)
                }
            }
            None => CallToolResult::error(vec![]),
        };
        result.content = content;
        Ok(result)
    }
}

#[tool_router]
impl Leakhound {
    /// Start a Node service, drive HTTP load at it on 127.0.0.1, watch its retained memory and
    /// decide whether it leaks. Returns leakhound.run/v1 (verdict, evidence, suspects,
    /// allocation sites). Takes about max_duration plus a few seconds.
    #[tool(name = "run")]
    async fn run(
        &self,
        Parameters(i): Parameters<RunInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if i.command.is_empty() {
            return Err(ErrorData::invalid_params(
                "run: `command` is empty: give the command that starts the service, e.g. [\"node\", \"server.js\"]",
                None,
            ));
        }
        let mut args = vec!["run".to_string()];
        opt(&mut args, "--path", i.path);
        opt(&mut args, "--method", i.method);
        for h in i.headers {
            opt(&mut args, "-H", Some(h));
        }
        opt(&mut args, "--body", i.body);
        opt(&mut args, "--max-duration", i.max_duration);
        opt(&mut args, "--heap-mb", i.heap_mb);
        opt(&mut args, "--connections", i.connections);
        args.push("--".into());
        args.extend(i.command);
        self.call(args, Doc::Run, ctx).await
    }

    /// Watch a running Node process leakhound did not start (by pid, or an open inspector)
    /// and decide whether it leaks from its post-GC heap over time. Returns
    /// leakhound.attach/v1 (verdict, MiB/hour with its interval, time to OOM). The process
    /// is left as it was. Takes about `duration`.
    #[tool(name = "attach")]
    async fn attach(
        &self,
        Parameters(i): Parameters<AttachInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut args = vec!["attach".to_string()];
        match (i.pid, i.inspect) {
            (Some(pid), None) => args.push(pid.to_string()),
            (None, Some(addr)) => opt(&mut args, "--inspect", Some(addr)),
            _ => {
                return Err(ErrorData::invalid_params(
                    "attach: give exactly one of `pid` and `inspect`",
                    None,
                ))
            }
        }
        opt(&mut args, "-d", i.duration);
        opt(&mut args, "--sample-every", i.sample_every);
        if i.force_gc {
            args.push("--force-gc".into());
        }
        if i.alloc_sites {
            args.push("--alloc-sites".into());
        }
        self.call(args, Doc::Other, ctx).await
    }

    /// Summarise one .heapsnapshot: the classes holding the most memory and the suspects with
    /// their retainer paths. Returns leakhound.heap.summary/v1.
    #[tool(name = "heap_summary")]
    async fn heap_summary(
        &self,
        Parameters(i): Parameters<FileInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut args = vec!["heap".into(), "summary".into(), i.file];
        opt(&mut args, "--top", i.top);
        self.call(args, Doc::Heap, ctx).await
    }

    /// Find what grows across three .heapsnapshot files of one process (taken in time
    /// order). Returns leakhound.heap.leaks/v1; a leak found is a result, not an error.
    #[tool(name = "heap_leaks")]
    async fn heap_leaks(
        &self,
        Parameters(i): Parameters<LeaksInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let [a, b, c] = i.files;
        let mut args = vec!["heap".into(), "leaks".into(), a, b, c];
        opt(&mut args, "--top", i.top);
        self.call(args, Doc::Heap, ctx).await
    }

    /// Judge a V8 --trace-gc log: leak, no leak, allocation pressure or inconclusive.
    /// Returns leakhound.gc/v1.
    #[tool(name = "gc")]
    async fn gc(
        &self,
        Parameters(i): Parameters<GcInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut args = vec!["gc".into(), i.file];
        opt(&mut args, "--heap-limit", i.heap_limit);
        self.call(args, Doc::Other, ctx).await
    }

    /// Which code allocates, from a sampling heap profile (.heapprofile), with file:line.
    /// Returns leakhound.alloc/v1.
    #[tool(name = "alloc")]
    async fn alloc(
        &self,
        Parameters(i): Parameters<FileInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut args = vec!["alloc".into(), i.file];
        opt(&mut args, "--top", i.top);
        self.call(args, Doc::Other, ctx).await
    }

    /// Compare two `run --json` results (before and after a fix): fix proven, not proven or
    /// regression. Returns leakhound.compare/v1.
    #[tool(name = "compare")]
    async fn compare(
        &self,
        Parameters(i): Parameters<CompareInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = vec!["compare".into(), i.before, i.after];
        self.call(args, Doc::Other, ctx).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Leakhound {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("leakhound", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "leakhound finds memory leaks in Node.js services. `run` starts a service and \
                 decides leak / no-leak / inconclusive; `attach` watches a running \
                 process by pid; `heap_summary`, `heap_leaks`, `gc`, \
                 `alloc` and `compare` analyse files. Results are leakhound.*/v1 JSON.",
            )
    }
}
