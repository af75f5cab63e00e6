//! `leakhound compare`'s result: the side-by-side table, or `leakhound.compare/v1`.

use std::io;

use super::{write_json, Json, Render, Text};
use crate::compare::{render_terminal, Comparison};

impl Render<Comparison> for Text {
    fn render(&self, c: &Comparison, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(render_terminal(c).as_bytes())
    }
}

impl Render<Comparison> for Json {
    fn render(&self, c: &Comparison, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(c, out)
    }
}
