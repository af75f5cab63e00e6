//! The figures every leakhound output shows people (bytes in KiB/MiB/GiB, durations, counts,
//! shares): `leakhound-fmt`, re-exported so that the session's evidence sentences and the
//! binary reach them as `leakhound_report::format::{bytes, bytes_per, duration, thousands}`.

pub use leakhound_fmt::*;
