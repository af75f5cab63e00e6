//! `leakhound completions SHELL` and `leakhound man`: generated from the clap definitions, so
//! they always list the flags the binary really takes.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::exit::{self, Outcome};

#[derive(clap::Args, Debug)]
pub struct CompletionsCmd {
    /// The shell to complete for: bash, zsh, fish, powershell (or elvish). Install e.g. with
    /// `leakhound completions bash > ~/.local/share/bash-completion/completions/leakhound`.
    shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManCmd {
    /// Write every page (leakhound.1, leakhound-run.1, leakhound-heap-summary.1 ...) into DIR
    /// instead of printing leakhound.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

pub fn completions(cmd: CompletionsCmd) -> Outcome {
    let mut buf = Vec::new();
    clap_complete::generate(cmd.shell, &mut crate::Cli::command(), "leakhound", &mut buf);
    write_stdout(&buf)
}

/// The man page (roff) on stdout: `leakhound man > leakhound.1`; with `--dir`, every page.
pub fn man(cmd: ManCmd) -> Outcome {
    if let Some(dir) = cmd.dir {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("--dir {}: cannot create it", dir.display()))?;
        clap_mangen::generate_to(crate::Cli::command(), &dir)
            .with_context(|| format!("--dir {}: writing the pages", dir.display()))?;
        return Ok(exit::OK);
    }
    let mut buf = Vec::new();
    clap_mangen::Man::new(crate::Cli::command())
        .render(&mut buf)
        .context("rendering the man page")?;
    write_stdout(&buf)
}

fn write_stdout(bytes: &[u8]) -> Outcome {
    exit::reached(exit::OK);
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("writing to stdout")?;
    Ok(exit::OK)
}
