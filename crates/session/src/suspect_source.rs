//! The source lines of suspects found in snapshots outside `--snapshots`' own comparison (the
//! heap at death, `attach`): the same search as [`crate::culprit`]'s, over the app's files
//! (the scripts on the command line and the files of the allocation sites), walking up each
//! suspect's retainer path ([`crate::holder_walk`]).

use std::path::Path;

use leakhound_heap::leaks::LeakGroup;
use leakhound_profile::SourceMaps;
use leakhound_report::run_schema::SuspectOut;

/// Fill `suspects[i].source` from `groups[i]` (the groups they were made from, in order),
/// searching the files of `command` and of the sites at `locations`.
pub fn fill<'a>(
    suspects: &mut [SuspectOut],
    groups: &[LeakGroup],
    command: &[String],
    locations: impl Iterator<Item = &'a str>,
    base: Option<&Path>,
) {
    let names: Vec<Vec<crate::holder_walk::Name>> = groups
        .iter()
        .map(|g| crate::holder_walk::names(&g.path_steps))
        .collect();
    if names.iter().all(|n| n.is_empty()) {
        return;
    }
    let mut maps = SourceMaps::new(base);
    let files = crate::source_files::app_files(command, locations, base);
    let texts = crate::source_files::read(&files, base, &mut maps);
    for (s, names) in suspects.iter_mut().zip(names) {
        if s.source.is_empty() {
            s.source = crate::holder_walk::lines(&names, &texts);
        }
    }
}
