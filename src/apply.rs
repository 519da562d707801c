//! Executes a plan: re-read the live list, refuse drift, back up, write, read back.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::databricks::{AccessList, AccessListUpdate, Client, ListType, NewAccessList};
use crate::plan::{self, Plan};
use crate::state::{self, Applied, TargetState};

/// The result of an apply.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    /// The list as read back after the write.
    pub list: AccessList,
    pub created: bool,
    /// The backup of the list as it was, `None` when the list was created.
    pub backup: Option<PathBuf>,
    pub added: usize,
    pub removed: usize,
}

/// Backup locations and the timestamp of one apply.
pub struct ApplyOptions<'a> {
    pub target_state: &'a TargetState,
    /// Folder for timestamped backups; the target's `backup.json` is always updated too.
    pub backup_dir: &'a Path,
    /// Timestamp for file names and the history, in RFC 3339.
    pub now: &'a str,
}

/// Finds the plan's list among the live lists: by id, or by label when the plan creates it.
pub fn find_planned_list<'a>(plan: &Plan, lists: &'a [AccessList]) -> Option<&'a AccessList> {
    match &plan.target.list_id {
        Some(list_id) => lists.iter().find(|list| &list.list_id == list_id),
        None => lists
            .iter()
            .find(|list| list.label == plan.target.label && list.list_type == ListType::Allow),
    }
}

/// Applies a plan whose guards have passed.
///
/// The live list is read again and compared with the plan's `before`, so a list that
/// someone edited after the plan is never overwritten. The list is backed up before
/// the write and read back after it.
pub async fn execute(
    client: &Client,
    plan: &Plan,
    options: &ApplyOptions<'_>,
) -> Result<ApplyOutcome> {
    let lists = client
        .list()
        .await
        .context("failed to read the live IP access lists before writing")?;
    let live = find_planned_list(plan, &lists);
    plan::check_drift(plan, live)?;

    let backup = match live {
        Some(list) => Some(back_up(list, options)?),
        None => None,
    };

    let after = plan.after_strings();
    let (list_id, created) = match live {
        Some(list) => {
            tracing::info!(list_id = %list.list_id, entries = after.len(), "updating the IP access list");
            let update = AccessListUpdate {
                ip_addresses: Some(after.clone()),
                ..AccessListUpdate::default()
            };
            client
                .update(&list.list_id, &update)
                .await
                .with_context(|| {
                    format!(
                        "failed to update list `{}` (`{}`)",
                        list.label, list.list_id
                    )
                })?;
            (list.list_id.clone(), false)
        }
        None => {
            tracing::info!(label = %plan.target.label, entries = after.len(), "creating the IP access list");
            let new = NewAccessList {
                label: plan.target.label.clone(),
                list_type: ListType::Allow,
                ip_addresses: after.clone(),
            };
            let created = client
                .create(&new)
                .await
                .with_context(|| format!("failed to create list `{}`", plan.target.label))?;
            (created.list_id, true)
        }
    };

    let read_back = client
        .get(&list_id)
        .await
        .with_context(|| format!("failed to read list `{list_id}` back after writing it"))?;
    verify(plan, &read_back)?;

    let outcome = ApplyOutcome {
        list: read_back,
        created,
        backup,
        added: plan.add.len(),
        removed: plan.remove.len(),
    };
    record(plan, &outcome, options)?;
    Ok(outcome)
}

fn back_up(list: &AccessList, options: &ApplyOptions<'_>) -> Result<PathBuf> {
    let bytes = state::to_json_bytes(list);
    let slug = options
        .target_state
        .dir()
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = options.now.replace(':', "-");
    let path = options
        .backup_dir
        .join(&slug)
        .join(format!("backup-{stamp}.json"));

    state::write_atomic(&path, &bytes)
        .context("failed to back up the list before writing; nothing was written")?;
    options
        .target_state
        .write(state::BACKUP_FILE, &bytes)
        .context("failed to back up the list before writing; nothing was written")?;
    tracing::info!(path = %path.display(), "backed up the list");
    Ok(path)
}

fn verify(plan: &Plan, read_back: &AccessList) -> Result<()> {
    let expected = plan::fingerprint(&plan.after_strings());
    let found = plan::fingerprint(&read_back.ip_addresses);
    if expected != found {
        bail!(
            "list `{}` read back after writing holds {} entries that differ from the {} written; \
             inspect it with `ipsync backup` and restore the backup if needed",
            read_back.list_id,
            read_back.ip_addresses.len(),
            plan.after.len()
        );
    }
    Ok(())
}

fn record(plan: &Plan, outcome: &ApplyOutcome, options: &ApplyOptions<'_>) -> Result<()> {
    let applied = Applied {
        applied_at: options.now.to_owned(),
        list_id: outcome.list.list_id.clone(),
        file_name: plan.source.file_name.clone(),
        change_number: plan.source.change_number,
        tags: plan.source.tags.clone(),
        entries: outcome.list.ip_addresses.len(),
        added: outcome.added,
        removed: outcome.removed,
    };
    options
        .target_state
        .record_applied(&applied)
        .context("the list was written, but recording the apply in the state folder failed")
}

/// Renders an apply result for a terminal.
pub fn render_outcome(plan: &Plan, outcome: &ApplyOutcome) -> String {
    let verb = if outcome.created {
        "Created"
    } else {
        "Updated"
    };
    let mut text = format!(
        "{verb} list `{}` (`{}`): {} added, {} removed, {} entries; read back and verified.\n",
        outcome.list.label,
        outcome.list.list_id,
        outcome.added,
        outcome.removed,
        outcome.list.ip_addresses.len()
    );
    if let Some(backup) = &outcome.backup {
        text.push_str(&format!(
            "Backup of the previous list: {}\n",
            backup.display()
        ));
    }
    text.push_str(&format!(
        "Source: {} (changeNumber {})\n",
        plan.source.file_name, plan.source.change_number
    ));
    text
}
