//! The paths of the files that a plan commits to the repository as its audit trail.
//!
//! Under the state folder, one folder per target contains `service-tags.json` (the selected
//! tags as Microsoft published them, plus where the file came from; see
//! `Selection::snapshot_json`), `backup.json` (the list as read before the change) and
//! `plan.json` (the plan file that apply reads after review). None of them holds a secret.

/// Returns the repository paths of a target's three files.
pub fn state_paths(state_dir: &str, slug: &str) -> [String; 3] {
    let folder = format!("{}/{slug}", state_dir.trim_matches('/'));
    [
        format!("{folder}/service-tags.json"),
        format!("{folder}/backup.json"),
        format!("{folder}/plan.json"),
    ]
}
