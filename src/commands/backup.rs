//! `ipsync backup` and `ipsync restore`.

use std::io::Write as _;

use anyhow::{Context as _, Result, bail};

use super::target::connect;
use super::{Context, Status};
use crate::cli::{BackupArgs, RestoreArgs};
use crate::databricks::{AccessList, AccessListUpdate, ListType};
use crate::plan;
use crate::prefix::Ipv4Prefix;
use crate::state;

/// Finds the list named by `--list-id` or `--list-label`, refusing an ambiguous label.
fn find_list<'a>(
    lists: &'a [AccessList],
    list_id: Option<&str>,
    label: &str,
) -> Result<&'a AccessList> {
    if let Some(list_id) = list_id {
        return lists
            .iter()
            .find(|list| list.list_id == list_id)
            .with_context(|| format!("no IP access list has id `{list_id}`"));
    }
    let matching: Vec<&AccessList> = lists.iter().filter(|list| list.label == label).collect();
    match matching.as_slice() {
        [list] => Ok(list),
        [] => bail!(
            "no IP access list has the label `{label}`; name it with `--list-label` or `--list-id`"
        ),
        _ => bail!(
            "{} lists have the label `{label}`; name the one you mean with `--list-id`",
            matching.len()
        ),
    }
}

pub async fn backup(context: &Context, args: BackupArgs) -> Result<Status> {
    let target = connect(context, &args.target, "AzureActiveDirectory").await?;
    let lists = target
        .client
        .list()
        .await
        .context("failed to read the IP access lists")?;
    let list = find_list(&lists, target.list_id.as_deref(), &target.label)?;

    state::write_atomic(&args.out, &state::to_json_bytes(list))?;
    eprintln!(
        "Saved list `{}` (`{}`, {} entries) to {}",
        list.label,
        list.list_id,
        list.ip_addresses.len(),
        args.out.display()
    );
    Ok(Status::Success)
}

pub async fn restore(context: &Context, args: RestoreArgs) -> Result<Status> {
    let bytes = std::fs::read(&args.from)
        .with_context(|| format!("failed to read the backup `{}`", args.from.display()))?;
    let saved: AccessList = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "`{}` is not a backup of an IP access list",
            args.from.display()
        )
    })?;
    if saved.ip_addresses.is_empty() && saved.list_type == ListType::Allow {
        bail!(
            "refused by the `empty-list` guard: the backup `{}` contains no entries, and an empty allow list is never written \
             (this guard has no override)",
            args.from.display()
        );
    }

    let mut target_args = args.target.clone();
    if target_args.list_id.is_none() && target_args.list_label.is_none() {
        target_args.list_id = Some(saved.list_id.clone());
    }
    let target = connect(context, &target_args, &saved.label).await?;
    let lists = target
        .client
        .list()
        .await
        .context("failed to read the IP access lists")?;
    let live = find_list(&lists, target.list_id.as_deref(), &target.label)?;

    let backup_dir = args
        .state
        .backup_dir
        .clone()
        .unwrap_or_else(|| args.state.state_dir.clone());
    let slug = state::target_slug(
        target.scope.name(),
        target.host.as_str(),
        target.scope.account_id(),
        &live.label,
    );
    let stamp = super::now_rfc3339().replace(':', "-");
    let before_path = backup_dir.join(&slug).join(format!("backup-{stamp}.json"));

    if saved.list_type != live.list_type {
        bail!(
            "the backup `{}` is of a {} list, and list `{}` (`{}`) is a {} list; restore it to a list of the same type",
            args.from.display(),
            saved.list_type,
            live.label,
            live.list_id,
            live.list_type
        );
    }
    if saved.list_id != live.list_id {
        tracing::warn!(
            "the backup was taken of list `{}` (`{}`) and is restored to list `{}` (`{}`)",
            saved.label,
            saved.list_id,
            live.label,
            live.list_id
        );
    }
    for entry in &saved.ip_addresses {
        Ipv4Prefix::parse_entry(entry).with_context(|| {
            format!(
                "the backup `{}` holds an invalid entry",
                args.from.display()
            )
        })?;
    }
    print_restore_diff(&live.ip_addresses, &saved.ip_addresses)?;

    if plan::fingerprint(&live.ip_addresses) == plan::fingerprint(&saved.ip_addresses) {
        eprintln!(
            "List `{}` already holds the entries of the backup; nothing to restore.",
            live.label
        );
        return Ok(Status::Success);
    }
    if context.interactive && !args.yes {
        let question = format!(
            "Replace the {} entries of list `{}` (`{}`) with the {} entries of the backup?",
            live.ip_addresses.len(),
            live.label,
            live.list_id,
            saved.ip_addresses.len()
        );
        if !super::confirm(&question)? {
            bail!("restore cancelled at the prompt; nothing was written");
        }
    }

    state::write_atomic(&before_path, &state::to_json_bytes(live))
        .context("failed to back up the list before restoring; nothing was written")?;
    let update = AccessListUpdate {
        ip_addresses: Some(saved.ip_addresses.clone()),
        ..AccessListUpdate::default()
    };
    target
        .client
        .update(&live.list_id, &update)
        .await
        .with_context(|| {
            format!(
                "failed to restore list `{}` (`{}`)",
                live.label, live.list_id
            )
        })?;
    let read_back = target
        .client
        .get(&live.list_id)
        .await
        .context("failed to read the list back after restoring")?;
    if plan::fingerprint(&read_back.ip_addresses) != plan::fingerprint(&saved.ip_addresses) {
        bail!(
            "list `{}` read back after restoring differs from the backup",
            live.list_id
        );
    }

    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "Restored list `{}` (`{}`) to the {} entries of {}; the list as it was is saved in {}",
        read_back.label,
        read_back.list_id,
        read_back.ip_addresses.len(),
        args.from.display(),
        before_path.display()
    )?;
    Ok(Status::Success)
}

/// Prints what a restore changes, compared as prefixes, on stdout.
fn print_restore_diff(live: &[String], saved: &[String]) -> Result<()> {
    let canonical = |entries: &[String]| -> std::collections::BTreeSet<String> {
        entries
            .iter()
            .map(|entry| {
                entry
                    .parse::<Ipv4Prefix>()
                    .map_or_else(|_| entry.trim().to_owned(), |prefix| prefix.to_string())
            })
            .collect()
    };
    let (live, saved) = (canonical(live), canonical(saved));
    let mut stdout = std::io::stdout().lock();
    for added in saved.difference(&live) {
        writeln!(stdout, "+ {added}")?;
    }
    for removed in live.difference(&saved) {
        writeln!(stdout, "- {removed}")?;
    }
    Ok(())
}
