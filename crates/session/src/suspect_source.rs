//! The source lines of suspects found in snapshots outside `--snapshots`' own comparison (the
//! heap at death, `attach`): the same search as [`crate::culprit`]'s, over the app's files
//! (the scripts on the command line and the files of the allocation sites), walking up each
//! suspect's retainer path ([`crate::holder_walk`]).

use std::path::Path;

use leakhound_heap::leaks::LeakGroup;
use leakhound_profile::SourceMaps;
use leakhound_report::run_schema::{SourceLine, SuspectOut};

/// The `declared`/`grows` lines of one suspect's group `g` in the app's sources `texts`: the
/// names up its retainer path ([`crate::holder_walk`]), and when the app names none of them
/// growing, its calls into the package that holds the memory ([`crate::package_lines`]).
pub fn lines_for(g: &LeakGroup, texts: &[(String, String)]) -> Vec<SourceLine> {
    let names = crate::holder_walk::names(&g.path_steps);
    let mut lines = crate::holder_walk::lines(&names, texts);
    if !lines.iter().any(|l| l.kind == "grows") {
        let mut calls = crate::package_lines::named_by_string(&g.path_steps, texts);
        if calls.is_empty() {
            calls = crate::package_lines::lines(&g.path_steps, texts);
        }
        lines.splice(0..0, calls);
    }
    lines
}

/// Fill `suspects[i].source` from `groups[i]` (the groups they were made from, in order),
/// searching the files of `command` and of the sites at `locations`; returns the sources read
/// (display name, text), for the culprit's sentence.
pub fn fill<'a>(
    suspects: &mut [SuspectOut],
    groups: &[LeakGroup],
    command: &[String],
    locations: impl Iterator<Item = &'a str>,
    base: Option<&Path>,
) -> Vec<(String, String)> {
    let mut maps = SourceMaps::new(base);
    let files = crate::source_files::app_files(command, locations, base);
    let texts = crate::source_files::read(&files, base, &mut maps);
    for (s, g) in suspects.iter_mut().zip(groups) {
        if s.source.is_empty() {
            s.source = lines_for(g, &texts);
        }
    }
    texts
}
