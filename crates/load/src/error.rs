//! The load crate's one error type.
//!
//! Everything that can go wrong before a round starts is a bad plan (a URL, a header, a
//! template, a config file) that the user must fix, so the error is a sentence plus the chain
//! of what was being read when it happened ("config x.toml: endpoint \"data\" body: unclosed
//! template placeholder"). The [`Context`] extension keeps the call sites as short as they
//! were, and the binary prints the chain on one line.

use std::fmt::Display;

/// A plan that cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What is wrong, in the user's terms.
    #[error("{0}")]
    Invalid(String),
    /// What was being read or built when `source` happened.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Reading a config file, resolving a host, starting the worker threads.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `return Err(Error::Invalid(format!(...)))`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::Invalid(format!($($arg)*)))
    };
}
pub(crate) use bail;

/// Attach what was being done to an error (or turn a missing value into one).
pub trait Context<T> {
    fn context<C: Display>(self, context: C) -> Result<T>;
    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T>;
}

impl<T, E> Context<T> for std::result::Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn context<C: Display>(self, context: C) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: context.to_string(),
            source: Box::new(e),
        })
    }

    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: f().to_string(),
            source: Box::new(e),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context<C: Display>(self, context: C) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(context.to_string()))
    }

    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(f().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_reads_outermost_first() {
        let inner: Result<()> = Err(Error::Invalid("unclosed template placeholder".into()));
        let e = inner.context("endpoint \"data\" body").unwrap_err();
        assert_eq!(e.to_string(), "endpoint \"data\" body");
        let src = std::error::Error::source(&e).unwrap().to_string();
        assert_eq!(src, "unclosed template placeholder");
        let none: Option<u8> = None;
        assert_eq!(
            none.context("the config has no [target]")
                .unwrap_err()
                .to_string(),
            "the config has no [target]"
        );
    }
}
