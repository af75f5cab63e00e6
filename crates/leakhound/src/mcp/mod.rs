//! `leakhound mcp`: an MCP server over stdio, so agents can call leakhound as tools.
//!
//! Every tool runs this same binary (`current_exe()`) with `--json -` and returns the
//! `leakhound.*/v1` document it prints: one code path for the CLI, the JS API and the agents,
//! so a tool result is exactly what `leakhound … --json -` writes. The modules: [`server`] (the
//! tools and their JSON Schema inputs), [`spawn`] (running the binary, progress), [`redact`]
//! (scrubbing snapshot strings, which hold user data).

mod redact;
mod server;
mod spawn;

use rmcp::ServiceExt;

use crate::exit::Outcome;

#[derive(clap::Args, Debug)]
pub struct McpCmd {
    /// Replace the string contents found in heap snapshots (property names that are not
    /// identifiers, quoted values) with `[redacted]` in heap results and run suspects:
    /// snapshots hold user data that should not reach a model.
    #[arg(long = "redact-strings")]
    redact_strings: bool,
}

pub fn run(cmd: McpCmd) -> Outcome {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let exe = std::env::current_exe()?;
        let server = server::Leakhound::new(exe, cmd.redact_strings);
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("mcp: starting the server: {e}"))?;
        service
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("mcp: {e}"))?;
        Ok(crate::exit::OK)
    })
}
