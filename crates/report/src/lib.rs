//! Result types and renderings shared by the subcommands.
//!
//! `run` writes a [`run_schema::RunReport`]; everything else here renders or judges one:
//! [`html::render`], [`markdown::render`], [`compare::compare`] and [`gate::check`].

pub mod compare;
pub mod fit;
pub mod gate;
pub mod html;
pub mod markdown;
/// `leakhound.run/v1` lives in the schema crate; re-exported under its old name.
pub use leakhound_schema::run as run_schema;
pub mod svg;
pub mod units;
