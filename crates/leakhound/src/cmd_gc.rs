//! `leakhound gc` (being built).

use crate::exit::Outcome;

#[derive(clap::Args, Debug)]
pub struct GcCmd {}

pub fn run(_cmd: GcCmd) -> Outcome {
    anyhow::bail!("`leakhound gc` is not built yet")
}
