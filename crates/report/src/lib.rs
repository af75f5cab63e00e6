//! Result types and renderings shared by the subcommands.

pub mod run_schema;
