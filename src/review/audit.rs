//! The files that a plan commits to the repository as its audit trail.
//!
//! Under the state folder, one folder per target contains `service-tags.json` (the selected tags
//! exactly as Microsoft published them, plus where the file came from), `backup.json` (the
//! list as read before the change, or `null` when the list does not exist yet) and
//! `plan.json` (the plan file that apply reads after review). None of them holds a secret.

use serde_json::{Map, Value, json};

use crate::databricks::AccessList;
use crate::plan::Plan;
use crate::report;

/// A service-tags file that lacks what the plan records as selected from it.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid service-tags file `{file_name}`: {reason}")]
    InvalidServiceTags { file_name: String, reason: String },
    #[error(
        "service tag `{tag}` of the plan is missing from `{file_name}`; pass the same file the plan was made from"
    )]
    MissingTag { tag: String, file_name: String },
}

/// Returns the repository paths of a target's three files.
pub fn state_paths(state_dir: &str, slug: &str) -> [String; 3] {
    let folder = format!("{}/{slug}", state_dir.trim_matches('/'));
    [
        format!("{folder}/service-tags.json"),
        format!("{folder}/backup.json"),
        format!("{folder}/plan.json"),
    ]
}

/// Builds the three files to commit for a plan, as `(path, bytes)`.
///
/// `service_tags` is the Microsoft file the plan was computed from, byte for byte, and
/// `backup` the target list as read before the change.
pub fn state_files(
    state_dir: &str,
    slug: &str,
    plan: &Plan,
    service_tags: &[u8],
    backup: Option<&AccessList>,
) -> Result<Vec<(String, Vec<u8>)>, AuditError> {
    let snapshot = trim_service_tags(plan, service_tags)?;
    let [snapshot_path, backup_path, plan_path] = state_paths(state_dir, slug);

    let mut snapshot_text =
        serde_json::to_string_pretty(&snapshot).expect("a JSON value always serialises");
    snapshot_text.push('\n');
    let mut backup_text =
        serde_json::to_string_pretty(&backup).expect("an access list always serialises");
    backup_text.push('\n');

    Ok(vec![
        (snapshot_path, snapshot_text.into_bytes()),
        (backup_path, backup_text.into_bytes()),
        (plan_path, report::json(plan).into_bytes()),
    ])
}

/// Keeps the plan's tags of a service-tags file, in the plan's order, and records the source.
fn trim_service_tags(plan: &Plan, service_tags: &[u8]) -> Result<Value, AuditError> {
    let file_name = &plan.source.file_name;
    let invalid = |reason: String| AuditError::InvalidServiceTags {
        file_name: file_name.clone(),
        reason,
    };
    let document: Value = serde_json::from_slice(service_tags)
        .map_err(|error| invalid(format!("invalid JSON: {error}")))?;
    let values = document["values"]
        .as_array()
        .ok_or_else(|| invalid("expected a `values` array".to_owned()))?;

    let mut selected = Vec::with_capacity(plan.source.tags.len());
    for tag in &plan.source.tags {
        let found = values
            .iter()
            .find(|value| value["name"].as_str() == Some(tag.name.as_str()))
            .ok_or_else(|| AuditError::MissingTag {
                tag: tag.name.clone(),
                file_name: file_name.clone(),
            })?;
        selected.push(found.clone());
    }

    let tags: Vec<Value> = plan
        .source
        .tags
        .iter()
        .map(|tag| json!({ "name": tag.name, "change_number": tag.change_number }))
        .collect();
    let mut trimmed = Map::new();
    trimmed.insert("changeNumber".to_owned(), document["changeNumber"].clone());
    trimmed.insert("cloud".to_owned(), document["cloud"].clone());
    trimmed.insert("values".to_owned(), Value::Array(selected));
    trimmed.insert(
        "source".to_owned(),
        json!({
            "url": plan.source.url,
            "file_name": plan.source.file_name,
            "sha256": plan.source.sha256,
            "change_number": plan.source.change_number,
            "tags": tags,
        }),
    );
    Ok(Value::Object(trimmed))
}
