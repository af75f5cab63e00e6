//! `leakhound load`'s summary: the seed's text, or `leakhound.load/v1`.

use std::io;

use leakhound_load::Summary;

use super::{write_json, Json, Render, Text};

impl Render<Summary> for Text {
    fn render(&self, s: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        write!(out, "{s}")
    }
}

impl Render<Summary> for Json {
    fn render(&self, s: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        write_json(s, out)
    }
}
