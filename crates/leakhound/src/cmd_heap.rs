//! `leakhound heap` (being built).

use crate::exit::Outcome;

#[derive(clap::Args, Debug)]
pub struct HeapCmd {}

pub fn run(_cmd: HeapCmd) -> Outcome {
    anyhow::bail!("`leakhound heap` is not built yet")
}
