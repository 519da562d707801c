//! The state folder: one subfolder per target holding the audit trail.
//!
//! ```text
//! <state-dir>/<target-slug>/service-tags.json   the selected tags, in Microsoft's schema
//!                          /backup.json         the list as read before the change
//!                          /plan.json           the plan
//!                          /applied.json        the last apply: its source and result
//!                          /history.json        every apply, oldest first
//! ```
//!
//! Files are written whole through a temporary file and a rename, so a crash never
//! leaves half a file. None of them ever contains a secret.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::plan::{Plan, PlanTag};

pub const SNAPSHOT_FILE: &str = "service-tags.json";
pub const BACKUP_FILE: &str = "backup.json";
pub const PLAN_FILE: &str = "plan.json";
pub const APPLIED_FILE: &str = "applied.json";
pub const HISTORY_FILE: &str = "history.json";

/// Builds the folder name of a target from its scope, host or account, and label.
///
/// Characters other than ASCII letters, digits, `.`, `_` and `-` become `-`, so the
/// name is safe as a path segment and as a git branch name.
pub fn target_slug(scope: &str, host: &str, account_id: Option<&str>, label: &str) -> String {
    let place = match account_id {
        Some(account_id) => account_id.to_owned(),
        None => host
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned(),
    };
    let raw = format!("{scope}-{place}-{label}");
    let safe: String = raw
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-') {
                character
            } else {
                '-'
            }
        })
        .collect();

    // Labels that differ only in replaced characters ("Entra ID" and "Entra/ID") would share a
    // folder, so a short digest of the original label keeps them apart.
    let label_is_safe = label
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-'));
    if label_is_safe {
        safe
    } else {
        let digest = hex::encode(&sha2::Sha256::digest(label.as_bytes())[..4]);
        format!("{safe}-{digest}")
    }
}

/// Returns the slug of the target a plan writes to.
pub fn plan_slug(plan: &Plan) -> String {
    target_slug(
        &plan.target.scope,
        &plan.target.host,
        plan.target.account_id.as_deref(),
        &plan.target.label,
    )
}

/// The record of the last apply to a target, read back by the older-source guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub applied_at: String,
    pub list_id: String,
    pub file_name: String,
    pub change_number: u64,
    pub tags: Vec<PlanTag>,
    pub entries: usize,
    pub added: usize,
    pub removed: usize,
}

/// The state subfolder of one target.
#[derive(Debug, Clone)]
pub struct TargetState {
    dir: PathBuf,
}

impl TargetState {
    pub fn new(state_dir: &Path, slug: &str) -> Self {
        Self {
            dir: state_dir.join(slug),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Writes one file of the folder, creating the folder when needed.
    pub fn write(&self, file: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.path(file);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Reads the record of the last apply, if there was one.
    pub fn read_applied(&self) -> Result<Option<Applied>> {
        read_json_if_exists(&self.path(APPLIED_FILE))
    }

    /// Records an apply as the last one and appends it to the history.
    pub fn record_applied(&self, applied: &Applied) -> Result<()> {
        let mut history: Vec<Applied> =
            read_json_if_exists(&self.path(HISTORY_FILE))?.unwrap_or_default();
        history.push(applied.clone());

        self.write(APPLIED_FILE, &to_json_bytes(applied))?;
        self.write(HISTORY_FILE, &to_json_bytes(&history))?;
        Ok(())
    }

    /// Reads every recorded apply, oldest first.
    pub fn read_history(&self) -> Result<Vec<Applied>> {
        Ok(read_json_if_exists(&self.path(HISTORY_FILE))?.unwrap_or_default())
    }
}

/// Serialises a value as pretty JSON with a trailing newline.
pub fn to_json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("state values always serialise");
    bytes.push(b'\n');
    bytes
}

fn read_json_if_exists<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read `{}`", path.display()));
        }
    };
    let value = serde_json::from_slice(&bytes)
        .with_context(|| format!("`{}` is not a valid ipsync state file", path.display()))?;
    Ok(Some(value))
}

/// Writes a file through a temporary sibling and a rename, creating parent folders.
///
/// A path that exists as something other than a regular file (a symbolic link, a device,
/// a folder) is rejected, because the rename would replace it instead of writing to it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Ok(metadata) = fs::symlink_metadata(path) {
        if !metadata.file_type().is_file() {
            anyhow::bail!(
                "`{}` exists and is not a regular file (a link, device or folder); give the path of a file",
                path.display()
            );
        }
    }
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent)
        .with_context(|| format!("failed to create folder `{}`", parent.display()))?;

    let mut temporary = tempfile::NamedTempFile::new_in(parent).with_context(|| {
        format!(
            "failed to create a temporary file in `{}`",
            parent.display()
        )
    })?;
    temporary
        .write_all(bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    temporary.persist(path).with_context(|| {
        format!(
            "failed to move the new file into place at `{}`",
            path.display()
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_is_safe_path_segment() {
        assert_eq!(
            target_slug(
                "workspace",
                "https://adb-12.3.azuredatabricks.net/",
                None,
                "AzureActiveDirectory"
            ),
            "workspace-adb-12.3.azuredatabricks.net-AzureActiveDirectory"
        );
        assert_eq!(
            target_slug(
                "account",
                "https://accounts.azuredatabricks.net",
                Some("0d2f-9a"),
                "Entra ID/SCIM"
            ),
            // Digest: printf 'Entra ID/SCIM' | sha256sum | cut -c1-8
            "account-0d2f-9a-Entra-ID-SCIM-3b19207c"
        );
        assert_eq!(
            target_slug("workspace", "http://127.0.0.1:8787", None, "x"),
            "workspace-127.0.0.1-8787-x"
        );
    }

    #[test]
    fn record_applied_appends_history() {
        let folder = tempfile::tempdir().unwrap();
        let state = TargetState::new(folder.path(), "t");
        let first = Applied {
            applied_at: "2026-12-01T00:00:00Z".into(),
            list_id: "l1".into(),
            file_name: "ServiceTags_Public_20251028.json".into(),
            change_number: 375,
            tags: vec![],
            entries: 198,
            added: 198,
            removed: 0,
        };
        let second = Applied {
            applied_at: "2026-12-02T00:00:00Z".into(),
            change_number: 376,
            entries: 200,
            ..first.clone()
        };

        assert_eq!(state.read_applied().unwrap(), None);
        state.record_applied(&first).unwrap();
        state.record_applied(&second).unwrap();

        assert_eq!(state.read_applied().unwrap(), Some(second.clone()));
        assert_eq!(state.read_history().unwrap(), vec![first, second]);
    }

    #[test]
    fn write_rejects_links_and_devices() {
        let folder = tempfile::tempdir().unwrap();
        let target = folder.path().join("target.txt");
        std::fs::write(&target, "kept").unwrap();
        let link = folder.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let error = write_atomic(&link, b"new").unwrap_err();

        assert!(
            error.to_string().contains("is not a regular file"),
            "{error}"
        );
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "kept");
        assert!(write_atomic(Path::new("/dev/null"), b"x").is_err());
    }

    #[test]
    fn corrupt_state_file_names_path() {
        let folder = tempfile::tempdir().unwrap();
        let state = TargetState::new(folder.path(), "t");
        state.write(APPLIED_FILE, b"{not json").unwrap();

        let error = state.read_applied().unwrap_err();

        assert!(
            format!("{error:#}").contains("applied.json` is not a valid ipsync state file"),
            "{error:#}"
        );
    }
}
