//! One render layer for every document leakhound tells: a [`Render`] trait implemented by one
//! type per format, for each document that format supports (as ripgrep's printers and
//! hyperfine's `Exporter`):
//!
//! | document                         | [`Text`] | [`Json`] | [`Markdown`] | [`Html`] |
//! |----------------------------------|:--------:|:--------:|:------------:|:--------:|
//! | run result (`RunReport`)         | ✓        | ✓        | ✓            | ✓        |
//! | comparison (`compare::Comparison`) | ✓      | ✓        | ✓            | ✓        |
//! | load summary                     | ✓        | ✓        |              |          |
//! | GC analysis ([`gc::Trace`])      | ✓        | ✓        |              |          |
//! | fleet (`schema::fleet::FleetReport`) | ✓    | ✓        | ✓            |          |
//! | attach (`schema::attach::AttachReport`) | ✓ | ✓        | ✓            | ✓        |
//! | exceeded budgets (`[gate::BudgetFailure]`) | ✓ |         |              |          |
//! | allocation summary               | ✓        | ✓        |              |          |
//! | heap summary / diff / leaks      | ✓        | ✓        | ✓            | summary (`heap_html::HeapPage`) |
//!
//! (Heap diff and leaks text and Markdown take [`heap::Top`]: the report and how many rows to show.)
//! A format a document does not support is a compile error, not a runtime one. Renderers
//! write to `&mut dyn io::Write` and return its errors, so a closed pipe reaches the caller
//! as an `io::Error` (never a panic) and the caller decides what to do.

use std::io;

use serde::Serialize;

pub mod alloc;
pub mod attach;
pub mod compare;
pub mod endpoints;
pub mod fleet;
pub mod gate;
pub mod gc;
pub mod heap;
pub mod heap_html;
mod heap_inspect;
mod heap_markdown;
pub mod load;
pub mod patterns;
pub mod processes;
pub mod run;

/// Tells a document `D` in one format.
pub trait Render<D: ?Sized> {
    fn render(&self, doc: &D, out: &mut dyn io::Write) -> io::Result<()>;
}

/// Plain text for a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Text;

/// The document's versioned JSON (`leakhound.*/v1`), pretty-printed, one trailing newline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

/// A short Markdown summary (CI step summary, PR comment).
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

/// A self-contained HTML page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

/// Render into a `String` (tests, and callers that need the text whole).
pub fn to_string<D: ?Sized>(format: &impl Render<D>, doc: &D) -> String {
    let mut v = Vec::new();
    format
        .render(doc, &mut v)
        .expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("renderers write UTF-8")
}

/// Pretty JSON and a newline, errors as `io::Error`.
fn write_json<T: Serialize + ?Sized>(doc: &T, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// The document as JSON when `json`, else as text: what a command with a `--json` switch
/// prints.
pub fn text_or_json<D: ?Sized>(doc: &D, json: bool, out: &mut dyn io::Write) -> io::Result<()>
where
    Text: Render<D>,
    Json: Render<D>,
{
    if json {
        Json.render(doc, out)
    } else {
        Text.render(doc, out)
    }
}
