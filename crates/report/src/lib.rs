//! Result types and renderings shared by the subcommands.
//!
//! `run` writes a [`run_schema::RunReport`]; everything else here renders or judges one. Every
//! document leakhound prints or writes is told through [`render`]: one [`render::Render`]
//! trait, implemented by one type per format ([`render::Text`], [`render::Json`],
//! [`render::Markdown`], [`render::Html`]) for each document it supports. Figures for people
//! come from [`format`]; the fitted line drawn and compared is the run's own ([`fit`]).

pub mod charts;
pub mod compare;
pub mod compare_leaks;
pub mod escape;
pub mod fit;
mod flame;
pub mod format;
pub mod gate;
pub mod html;
pub mod markdown;
pub mod openmetrics;
pub mod render;
/// `leakhound.run/v1` lives in the schema crate; re-exported under its old name.
pub use leakhound_schema::run as run_schema;
mod suspect_html;
pub mod svg;
pub mod threads;
pub mod units;
