//! Parse errors carry the section and byte offset, because a 1 GB file that fails "somewhere"
//! is useless to a user who has to decide whether the capture or the tool is broken.

use std::fmt;

/// A snapshot that cannot be read: which part of the file, where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// `header`, `nodes`, `edges`, `strings`, `locations`, `file` or `graph`.
    pub section: &'static str,
    /// Byte offset into the file where the problem was seen.
    pub offset: u64,
    pub message: String,
}

impl ParseError {
    pub fn new(section: &'static str, offset: usize, message: impl Into<String>) -> Self {
        ParseError {
            section,
            offset: offset as u64,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "corrupt heap snapshot: {} in section `{}` at byte {}",
            self.message, self.section, self.offset
        )
    }
}

impl std::error::Error for ParseError {}

/// Why `Heap::open` (or `parse::read_file`) could not read a file: the file
/// itself (missing, unreadable), or its contents.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{action} {}", path.display())]
    Io {
        /// `opening`, `reading` or `mapping`.
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl OpenError {
    /// The error of `action` on `path`, for `map_err`.
    pub(crate) fn io<'a>(
        action: &'static str,
        path: &'a std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> OpenError + 'a {
        move |source| OpenError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
