//! [`Culprit::fill`]: what the capture found, put into the run's result: the allocation
//! sites and the flame graph (source-mapped), the snapshot suspects with their lines, the
//! culprit sentence and the excerpts. A child of `culprit` so it reads the capture's state.

use leakhound_profile::{AllocSummary, SourceMaps};
use leakhound_report::run_schema::{AllocSiteOut, RunReport};
use serde_json::Value;

use super::{shown, significant, suspects, Culprit, TOP_SITES};

impl Culprit {
    /// Put what was found into the run's result.
    pub fn fill(&self, r: &mut RunReport) {
        let base = self
            .opts
            .base
            .clone()
            .or_else(|| std::env::current_dir().ok());
        // Sites in scripts with a source map are shown in the original source: the map V8
        // saw (tsx's in-memory output), else the one the script on disk names.
        let mut maps = SourceMaps::new(base.as_deref());
        for (url, map) in &self.script_maps {
            maps.know(url, map);
        }
        let mut trees = leakhound_report::run_schema::AllocTrees::default();
        let mut summarize = |p: &Option<Value>, tree: &mut Option<_>| -> Option<AllocSummary> {
            let bytes = serde_json::to_vec(p.as_ref()?).ok()?;
            let profile = leakhound_profile::parse(&bytes).ok()?;
            // The call tree for the report's flame graph, cut small (see `cut_tree`).
            *tree = Some(leakhound_profile::cut_tree(
                &profile,
                base.as_deref(),
                leakhound_profile::tree::DEFAULT_MIN_SHARE,
                leakhound_profile::tree::DEFAULT_MAX_NODES,
                Some(&mut maps),
            ));
            Some(leakhound_profile::summarize_mapped(
                &profile,
                base.as_deref(),
                TOP_SITES,
                &mut maps,
            ))
        };
        if let Some(s) = summarize(&self.all, &mut trees.all) {
            r.alloc_all = s.top_culprits.iter().map(AllocSiteOut::from).collect();
        }
        // The first app sites' heaviest stacks: which package allocated under them.
        let mut app_stacks: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(s) = summarize(&self.survivors, &mut trees.survivors) {
            r.alloc_survivors = s.top_culprits.iter().map(AllocSiteOut::from).collect();
            app_stacks = s
                .top_culprits
                .iter()
                .map(|c| (c.site.location(), c.path.clone()))
                .filter(|(loc, _)| crate::culprit_line::is_app(loc))
                .take(crate::culprit_line::TOP_SITES)
                .collect();
        }
        if trees.all.is_some() || trees.survivors.is_some() {
            r.alloc_trees = Some(trees);
        }
        if self.all.is_some() || self.survivors.is_some() {
            r.alloc_sampling_interval = Some(self.opts.sampling_interval);
        }
        r.alloc_profiles = self.saved_profiles.iter().map(|p| shown(p)).collect();
        r.snapshots = self.snapshots.iter().map(|p| shown(p)).collect();
        // The app's own sources, read once: for the suspects' lines and the culprit's.
        // A culprit for every run that did not find the memory flat (an inconclusive or a
        // crashed run's evidence still points at the line).
        let leaking = r.verdict != leakhound_report::run_schema::Verdict::NoLeak;
        let texts = if self.leaks.is_some() || (leaking && !r.alloc_survivors.is_empty()) {
            let sites = r.alloc_all.iter().chain(&r.alloc_survivors);
            let files = crate::source_files::app_files(
                &r.command,
                sites.map(|s| s.location.as_str()),
                base.as_deref(),
            );
            crate::source_files::read(&files, base.as_deref(), &mut maps)
        } else {
            Vec::new()
        };
        if let Some(l) = &self.leaks {
            r.suspects = suspects(l);
            // The names to search for, in the order of `suspects` (both walk `significant`):
            // the holder's, then those up its retainer path (see `crate::holder_walk`).
            for (s, g) in r.suspects.iter_mut().zip(significant(l)) {
                s.source = crate::suspect_source::lines_for(g, &texts);
            }
        }
        let into = crate::package_calls::first(&app_stacks, &texts);
        if let Some(p) = &into {
            // A path that names nothing the app grows: the app's call into the package that
            // allocated what survived.
            for s in r.suspects.iter_mut() {
                if !s.source.iter().any(|l| l.kind == "grows") {
                    s.source.insert(0, p.line.clone());
                }
            }
        }
        if leaking {
            r.culprit = crate::culprit_line::build_with(r, &texts, into.as_ref());
        }
        r.culprit_notes.extend(self.notes.iter().cloned());
        r.source_excerpts = crate::source_excerpts::excerpts(r, base.as_deref());
    }
}
