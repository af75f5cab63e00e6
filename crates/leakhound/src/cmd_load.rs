//! `leakhound load` (being built).

use crate::exit::Outcome;

#[derive(clap::Args, Debug)]
pub struct LoadCmd {}

pub fn run(_cmd: LoadCmd) -> Outcome {
    anyhow::bail!("`leakhound load` is not built yet")
}
