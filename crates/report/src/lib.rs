//! Result types and renderings shared by the subcommands.
//!
//! `run` writes a [`run_schema::RunReport`]; everything else here renders or judges one:
//! [`html::render`], [`markdown::render`], [`compare::compare`] and [`gate::check`].

pub mod compare;
pub mod fit;
pub mod gate;
pub mod html;
pub mod markdown;
pub mod run_schema;
pub mod svg;
pub mod units;
