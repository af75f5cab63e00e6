//! The files a command writes, opened before it does any work.
//!
//! A bad output path (`--report /no/such/dir/r.html`) found after a 60 s run loses the run, so
//! every output is opened (and truncated in place, no rename: `/dev/null` and FIFOs work) when
//! the command starts, and a bad one is exit 2 at once. `-` is stdout; when a result goes to
//! stdout, the human text goes to stderr so the two never mix. An output may not be one of the
//! command's inputs (`gc log.txt --json log.txt` would destroy the log before reading it).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// One opened output.
pub struct Output {
    path: PathBuf,
    sink: Sink,
}

enum Sink {
    Stdout,
    File(File),
}

impl Output {
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write the whole document; errors name the file (a closed stdout stays a broken pipe,
    /// which ends the command quietly).
    pub fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let r = match &mut self.sink {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Sink::File(f) => f.write_all(bytes).and_then(|()| f.flush()),
        };
        r.with_context(|| format!("writing {}", self.path.display()))
    }

    /// The document in `format`, through the one render layer.
    pub fn render<D: ?Sized>(
        &mut self,
        format: &impl leakhound_report::render::Render<D>,
        doc: &D,
    ) -> anyhow::Result<()> {
        let text = leakhound_report::render::to_string(format, doc);
        self.write_all(text.as_bytes())
    }

    /// Pretty JSON and a final newline.
    pub fn write_json<T: serde::Serialize>(&mut self, v: &T) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(v).context("serialising the result")?;
        text.push('\n');
        self.write_all(text.as_bytes())
    }
}

/// The outputs of one command, checked against its inputs and each other.
pub struct Outputs {
    inputs: Vec<PathBuf>,
    /// Device and inode of every regular file opened so far.
    opened: Vec<(u64, u64, String)>,
    stdout: Option<String>,
}

/// An existing regular file's identity.
fn identity(path: &Path) -> Option<(u64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    m.file_type().is_file().then(|| (m.dev(), m.ino()))
}

impl Outputs {
    /// `inputs`: files the command reads (`-` is ignored).
    pub fn new<P: AsRef<Path>>(inputs: &[P]) -> Outputs {
        Outputs {
            inputs: inputs
                .iter()
                .map(|p| p.as_ref().to_path_buf())
                .filter(|p| p != Path::new("-"))
                .collect(),
            opened: Vec::new(),
            stdout: None,
        }
    }

    /// Open `path` for `flag` now: `-` is stdout (at most one output may take it).
    pub fn open(&mut self, flag: &str, path: &Path) -> anyhow::Result<Output> {
        if path == Path::new("-") {
            if let Some(other) = &self.stdout {
                bail!("{flag} - and {other} - both write to stdout: give one of them a file");
            }
            self.stdout = Some(flag.to_string());
            return Ok(Output {
                path: path.to_path_buf(),
                sink: Sink::Stdout,
            });
        }
        if path.as_os_str().is_empty() {
            bail!("{flag}: the path is empty");
        }
        for input in &self.inputs {
            if same_file(path, input) {
                bail!(
                    "{flag} {}: that is an input of this command ({}); write elsewhere",
                    path.display(),
                    input.display()
                );
            }
        }
        if let Some(id) = identity(path) {
            if let Some((_, _, other)) = self.opened.iter().find(|(d, i, _)| (*d, *i) == id) {
                bail!("{flag} {}: {other} writes to the same file", path.display());
            }
        }
        if path.is_dir() {
            bail!(
                "{flag} {}: is a directory; give a file name",
                path.display()
            );
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(!is_special(path))
            .open(path)
            .with_context(|| format!("{flag} {}: cannot write there", path.display()))?;
        if let Some((d, i)) = identity(path) {
            self.opened.push((d, i, flag.to_string()));
        }
        Ok(Output {
            path: path.to_path_buf(),
            sink: Sink::File(file),
        })
    }

    /// [`open`](Self::open) when the flag was given.
    pub fn open_opt(&mut self, flag: &str, path: Option<&Path>) -> anyhow::Result<Option<Output>> {
        path.map(|p| self.open(flag, p)).transpose()
    }

    /// Whether some output took stdout (the human text then goes to stderr).
    pub fn stdout_taken(&self) -> bool {
        self.stdout.is_some()
    }

    /// Where the human text goes: stdout, or stderr when a result took stdout.
    pub fn human(&self) -> Human {
        Human {
            to_stderr: self.stdout_taken(),
        }
    }

    /// Check a directory output (`--profile-dir`, `--snapshots`): created if missing, and
    /// written to once (a probe file, removed) so a read-only one fails now.
    pub fn dir(&self, flag: &str, dir: &Path) -> anyhow::Result<()> {
        if dir == Path::new("-") {
            bail!("{flag} takes a directory, not -");
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{flag} {}: cannot create the directory", dir.display()))?;
        let probe = dir.join(format!(".leakhound-probe-{}", std::process::id()));
        File::create(&probe)
            .with_context(|| format!("{flag} {}: cannot write there", dir.display()))?;
        let _ = std::fs::remove_file(&probe);
        Ok(())
    }
}

/// Whether two paths name one file: the same inode when both exist, else the same absolute
/// path (an input that does not exist yet must not be created empty by its output).
fn same_file(a: &Path, b: &Path) -> bool {
    match (identity(a), identity(b)) {
        (Some(x), Some(y)) => x == y,
        _ => {
            let abs = |p: &Path| {
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
                let dir =
                    parent.map_or_else(|| Path::new(".").canonicalize(), |d| d.canonicalize());
                dir.ok().zip(p.file_name()).map(|(d, f)| d.join(f))
            };
            abs(a).is_some_and(|x| Some(x) == abs(b))
        }
    }
}

/// Character devices (`/dev/null`, a terminal) and FIFOs are written as they are.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        t.is_char_device() || t.is_fifo() || t.is_socket() || t.is_block_device()
    })
}

/// Where a command's human-readable text goes.
#[derive(Debug, Clone, Copy)]
pub struct Human {
    to_stderr: bool,
}

impl Human {
    /// Write `f`'s text to the human stream in one go (locked, buffered), so a closed pipe
    /// is an error the caller ends quietly on, never a panic.
    pub fn write(self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> anyhow::Result<()> {
        let r = if self.to_stderr {
            let mut w = io::BufWriter::new(io::stderr().lock());
            f(&mut w).and_then(|()| w.flush())
        } else {
            let mut w = io::BufWriter::new(io::stdout().lock());
            f(&mut w).and_then(|()| w.flush())
        };
        r.context(if self.to_stderr {
            "writing to stderr"
        } else {
            "writing to stdout"
        })
    }

    /// The document as text, through the one render layer.
    pub fn render<D: ?Sized>(self, doc: &D) -> anyhow::Result<()>
    where
        leakhound_report::render::Text: leakhound_report::render::Render<D>,
    {
        use leakhound_report::render::{Render, Text};
        self.write(|w| Text.render(doc, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_cannot_be_an_output() {
        let dir = std::env::temp_dir().join(format!("lh-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in.log");
        std::fs::write(&input, "keep me").unwrap();
        let mut outs = Outputs::new(&[&input]);
        let e = outs.open("--json", &input).err().unwrap();
        assert!(format!("{e:#}").contains("input"), "{e:#}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "keep me");
        // Two outputs on one file, and two on stdout, are refused too.
        let a = dir.join("a.json");
        outs.open("--json", &a).unwrap();
        assert!(outs.open("--markdown", &a).is_err());
        outs.open("--json", Path::new("-")).unwrap();
        assert!(outs.human().to_stderr);
        assert!(outs.open("--markdown", Path::new("-")).is_err());
        // /dev/null is fine, and not truncated.
        outs.open("--report", Path::new("/dev/null")).unwrap();
        assert!(outs.open("--report", &dir.join("no/such/r.html")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
