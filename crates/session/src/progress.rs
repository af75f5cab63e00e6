//! Where progress lines go: a callback the binary points at stderr. Its own module so the
//! driving loop ([`crate::run`]) and the hooks it calls ([`crate::culprit`]) both depend on it
//! rather than on each other.

/// A sink for one progress line (no trailing newline).
pub type Progress<'a> = &'a mut (dyn FnMut(&str) + Send);
