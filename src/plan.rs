//! The plan: what the target list holds, what it should hold, and the difference.
//!
//! Pure logic with no I/O. A plan is computed from the selected service tags, the
//! `--include` ranges and the live lists, then checked against the safety guards.
//! Its JSON form is the plan file that `ipsync apply --plan` applies after review.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::databricks::{AccessList, ListType};
use crate::prefix::{self, Ipv4Prefix};

/// Version of the plan file format; `apply --plan` rejects any other.
pub const PLAN_VERSION: u32 = 1;

/// Values Databricks allows across all allow and block lists of one workspace or account.
pub const MAX_VALUES: usize = 1000;

/// Removals allowed without `--allow-large-removal`: the larger of this share of the
/// live list and [`LARGE_REMOVAL_MIN_ENTRIES`].
pub const LARGE_REMOVAL_PERCENT: usize = 10;
pub const LARGE_REMOVAL_MIN_ENTRIES: usize = 25;

/// The list a plan writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTarget {
    /// `account` or `workspace`.
    pub scope: String,
    pub host: String,
    pub account_id: Option<String>,
    /// `None` when the list does not exist yet and apply will create it.
    pub list_id: Option<String>,
    pub label: String,
}

/// The origin of the desired ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSource {
    pub cloud: String,
    pub file_name: String,
    pub url: Option<String>,
    pub sha256: String,
    /// The file's top-level `changeNumber`; it moves without content changes, so it is for the record only.
    pub change_number: u64,
    pub tags: Vec<PlanTag>,
    /// `--include` ranges, which are always kept.
    pub include: Vec<Ipv4Prefix>,
}

/// One selected service tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTag {
    pub name: String,
    /// The tag's own `changeNumber`, which moves exactly when its prefixes change.
    pub change_number: u64,
    pub ipv4_count: usize,
    pub ipv6_count: usize,
}

/// IPv6 prefixes of the selected tags, which Databricks does not accept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub count: usize,
    pub prefixes: Vec<String>,
}

/// How many of the scope's 1,000 values the lists use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub limit: usize,
    /// Values in every other list of the workspace or account, allow and block.
    pub other_lists: usize,
    /// Values the target list contains after the change.
    pub after: usize,
}

/// The reviewed unit of change: the plan file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub version: u32,
    pub target: PlanTarget,
    pub source: PlanSource,
    /// Live entries exactly as the API returned them.
    pub before: Vec<String>,
    /// Fingerprint of `before` after normalisation; see [`fingerprint`].
    pub before_sha256: String,
    /// The complete list to write, normalised and sorted.
    pub after: Vec<Ipv4Prefix>,
    pub add: Vec<Ipv4Prefix>,
    pub remove: Vec<String>,
    pub dropped: Dropped,
    pub budget: Budget,
    pub warnings: Vec<String>,
    /// Guard overrides the plan was made with, shown to the reviewer and honoured by apply.
    #[serde(default)]
    pub overrides: Vec<String>,
    pub created_at: String,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.add.is_empty() || !self.remove.is_empty() || self.target.list_id.is_none()
    }

    /// Returns the entries to send as `ip_addresses`.
    pub fn after_strings(&self) -> Vec<String> {
        self.after.iter().map(ToString::to_string).collect()
    }
}

/// The guards that stop a plan from being applied, each with the flag that overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    EmptyList,
    BlockList,
    AmbiguousLabel,
    MissingList,
    Budget,
    LargeRemoval,
    OlderSource,
    Drift,
    UnsupportedPlan,
    InconsistentPlan,
    UnknownListId,
}

impl Guard {
    pub fn name(self) -> &'static str {
        match self {
            Guard::EmptyList => "empty-list",
            Guard::BlockList => "block-list",
            Guard::AmbiguousLabel => "ambiguous-label",
            Guard::MissingList => "missing-list",
            Guard::Budget => "value-budget",
            Guard::LargeRemoval => "large-removal",
            Guard::OlderSource => "older-source",
            Guard::Drift => "drift",
            Guard::UnsupportedPlan => "plan-version",
            Guard::InconsistentPlan => "plan-integrity",
            Guard::UnknownListId => "unknown-list-id",
        }
    }

    /// Returns the flag that lets the change through, where one exists.
    pub fn override_flag(self) -> Option<&'static str> {
        match self {
            Guard::LargeRemoval => Some("--allow-large-removal"),
            Guard::OlderSource => Some("--allow-older-source"),
            Guard::MissingList => Some("--create-if-missing"),
            Guard::AmbiguousLabel => Some("--list-id"),
            _ => None,
        }
    }
}

/// A guard's refusal, which always names the guard and what would let the change through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refusal {
    pub guard: Guard,
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused by the `{}` guard: {}",
            self.guard.name(),
            self.message
        )?;
        match self.guard.override_flag() {
            Some(flag) => write!(f, " (override with `{flag}`)"),
            None => write!(f, " (this guard has no override)"),
        }
    }
}

impl Refusal {
    fn new(guard: Guard, message: impl Into<String>) -> Self {
        Self {
            guard,
            message: message.into(),
        }
    }
}

/// Guard overrides the user asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub allow_large_removal: bool,
    pub allow_older_source: bool,
    pub create_if_missing: bool,
}

impl Overrides {
    fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.allow_large_removal {
            names.push("allow-large-removal".to_owned());
        }
        if self.allow_older_source {
            names.push("allow-older-source".to_owned());
        }
        names
    }

    /// Adds the overrides recorded in a reviewed plan.
    pub fn with_recorded(mut self, recorded: &[String]) -> Self {
        for name in recorded {
            match name.as_str() {
                "allow-large-removal" => self.allow_large_removal = true,
                "allow-older-source" => self.allow_older_source = true,
                _ => {}
            }
        }
        self
    }
}

/// Everything a plan is computed from.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    pub scope: String,
    pub host: String,
    pub account_id: Option<String>,
    pub label: String,
    /// `--list-id`, when the user named the list.
    pub list_id: Option<String>,
    pub source: PlanSource,
    /// IPv4 prefixes of the selected tags, in any order, possibly repeated across tags.
    pub desired: Vec<Ipv4Prefix>,
    pub dropped_ipv6: Vec<String>,
    /// Every list of the workspace or account, as the API returned them.
    pub live_lists: &'a [AccessList],
    pub overrides: Overrides,
    pub created_at: String,
}

/// Computes the plan, refusing targets that no override can make safe.
///
/// The guards that depend on the user's overrides ([`check_guards`]) are not applied
/// here, so a refused plan can still be shown to the user.
pub fn compute(input: PlanInput<'_>) -> Result<Plan, Refusal> {
    let target_list = find_target(&input)?;
    let mut warnings = Vec::new();

    let live_entries: Vec<String> = target_list
        .map(|list| list.ip_addresses.clone())
        .unwrap_or_default();
    let live = normalise_live(&live_entries, &mut warnings);

    let mut wanted = input.desired.clone();
    wanted.extend(input.source.include.iter().copied());
    warn_redundant("the selected ranges", &wanted, &mut warnings);
    if wanted.iter().any(|prefix| prefix.len() == 0) {
        warnings
            .push("the list would contain `0.0.0.0/0`, which admits every IPv4 address".to_owned());
    }
    let mut after = prefix::remove_redundant(&wanted);

    let other_lists = count_other_values(input.live_lists, target_list);
    if other_lists + after.len() > MAX_VALUES {
        let aggregated = prefix::aggregate(&after);
        if other_lists + aggregated.len() > MAX_VALUES {
            return Err(Refusal::new(
                Guard::Budget,
                format!(
                    "the list would need {} values (after exact aggregation) and other lists use {other_lists}, \
                     over Databricks' limit of {MAX_VALUES} values per workspace or account; select fewer tags",
                    aggregated.len()
                ),
            ));
        }
        warnings.push(format!(
            "merged adjacent and nested prefixes to fit Databricks' limit of {MAX_VALUES} values: {} entries became {}; \
             the admitted addresses are the same",
            after.len(),
            aggregated.len()
        ));
        after = aggregated;
    }

    let add: Vec<Ipv4Prefix> = after
        .iter()
        .filter(|wanted| !live.prefixes.contains(wanted))
        .copied()
        .collect();
    let mut remove: Vec<String> = live
        .prefixes
        .iter()
        .filter(|entry| after.binary_search(entry).is_err())
        .map(ToString::to_string)
        .collect();
    remove.extend(live.invalid.iter().cloned());

    if !input.dropped_ipv6.is_empty() {
        warnings.push(format!(
            "left out {} IPv6 prefixes, because Databricks IP access lists accept IPv4 only",
            input.dropped_ipv6.len()
        ));
    }

    Ok(Plan {
        version: PLAN_VERSION,
        target: PlanTarget {
            scope: input.scope,
            host: input.host,
            account_id: input.account_id,
            list_id: target_list.map(|list| list.list_id.clone()),
            label: target_list
                .map(|list| list.label.clone())
                .unwrap_or(input.label),
        },
        source: input.source,
        before_sha256: fingerprint(&live_entries),
        before: live_entries,
        budget: Budget {
            limit: MAX_VALUES,
            other_lists,
            after: after.len(),
        },
        after,
        add,
        remove,
        dropped: Dropped {
            count: input.dropped_ipv6.len(),
            prefixes: input.dropped_ipv6,
        },
        warnings,
        overrides: input.overrides.names(),
        created_at: input.created_at,
    })
}

/// Finds the target list by `--list-id` or by label, refusing block lists and ambiguity.
fn find_target<'a>(input: &PlanInput<'a>) -> Result<Option<&'a AccessList>, Refusal> {
    let found: Option<&AccessList> = match &input.list_id {
        Some(list_id) => {
            let list = input
                .live_lists
                .iter()
                .find(|list| &list.list_id == list_id);
            if list.is_none() {
                return Err(Refusal::new(
                    Guard::UnknownListId,
                    format!(
                        "no IP access list has id `{list_id}` on `{}`; check `--list-id`",
                        input.host
                    ),
                ));
            }
            list
        }
        None => {
            let matching: Vec<&AccessList> = input
                .live_lists
                .iter()
                .filter(|list| list.label == input.label)
                .collect();
            if matching.len() > 1 {
                let ids: Vec<String> = matching
                    .iter()
                    .map(|list| format!("`{}`", list.list_id))
                    .collect();
                return Err(Refusal::new(
                    Guard::AmbiguousLabel,
                    format!(
                        "{} lists have the label `{}` ({}); name the one to update with `--list-id`",
                        matching.len(),
                        input.label,
                        ids.join(", ")
                    ),
                ));
            }
            matching.first().copied()
        }
    };

    match found {
        Some(list) if list.list_type == ListType::Block => Err(Refusal::new(
            Guard::BlockList,
            format!(
                "list `{}` (`{}`) is a BLOCK list, and ipsync only writes allow lists",
                list.label, list.list_id
            ),
        )),
        None if !input.overrides.create_if_missing => Err(Refusal::new(
            Guard::MissingList,
            format!(
                "no IP access list has the label `{}` on `{}`",
                input.label, input.host
            ),
        )),
        other => Ok(other),
    }
}

/// The live list after parsing: prefixes, and entries that are not IPv4 prefixes at all.
struct LiveEntries {
    prefixes: Vec<Ipv4Prefix>,
    invalid: Vec<String>,
}

fn normalise_live(entries: &[String], warnings: &mut Vec<String>) -> LiveEntries {
    let mut prefixes = Vec::with_capacity(entries.len());
    let mut invalid = Vec::new();
    for entry in entries {
        match Ipv4Prefix::parse_entry(entry) {
            Ok(parsed) => {
                if parsed.host_bits_cleared {
                    warnings.push(format!(
                        "live entry `{entry}` has host bits set; it is compared as `{}`",
                        parsed.prefix
                    ));
                }
                prefixes.push(parsed.prefix);
            }
            Err(error) => {
                warnings.push(format!("live entry will be removed: {error}"));
                invalid.push(entry.clone());
            }
        }
    }

    warn_redundant("the live entries", &prefixes, warnings);
    prefixes.sort();
    prefixes.dedup();
    LiveEntries { prefixes, invalid }
}

/// Covered entries listed one by one before the rest are only counted.
const MAX_LISTED_COVERED: usize = 10;

fn warn_redundant(what: &str, prefixes: &[Ipv4Prefix], warnings: &mut Vec<String>) {
    let found = prefix::find_redundancy(prefixes);
    for (duplicate, count) in found.duplicates {
        warnings.push(format!("{what} contain `{duplicate}` {count} times"));
    }
    for (covered, wider) in found.covered.iter().take(MAX_LISTED_COVERED) {
        warnings.push(format!(
            "{what} contain `{covered}`, which `{wider}` already covers"
        ));
    }
    if found.covered.len() > MAX_LISTED_COVERED {
        warnings.push(format!(
            "{what} contain {} more entries that wider entries already cover",
            found.covered.len() - MAX_LISTED_COVERED
        ));
    }
}

fn count_other_values(lists: &[AccessList], target: Option<&AccessList>) -> usize {
    lists
        .iter()
        .filter(|list| target.is_none_or(|target| target.list_id != list.list_id))
        .map(|list| list.ip_addresses.len())
        .sum()
}

/// Fingerprints a live list so apply can tell whether it changed since the plan.
///
/// The entries are parsed, normalised, de-duplicated and sorted, so that order and
/// spelling do not count. Entries that do not parse are kept as trimmed text. The
/// digest is SHA-256 over each entry followed by a newline, in lowercase hex.
pub fn fingerprint(entries: &[String]) -> String {
    let mut normalised: Vec<String> = entries
        .iter()
        .map(|entry| match entry.parse::<Ipv4Prefix>() {
            Ok(prefix) => prefix.to_string(),
            Err(_) => entry.trim().to_owned(),
        })
        .collect();
    normalised.sort();
    normalised.dedup();

    let mut hasher = Sha256::new();
    for entry in &normalised {
        hasher.update(entry.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// Checks the guards that overrides can lift, before anything is written.
///
/// `last_applied` contains the per-tag `changeNumber`s recorded by the last apply to this target.
pub fn check_guards(
    plan: &Plan,
    overrides: Overrides,
    last_applied: &[PlanTag],
) -> Result<(), Refusal> {
    if plan.version != PLAN_VERSION {
        return Err(Refusal::new(
            Guard::UnsupportedPlan,
            format!(
                "the plan has version {}, and this ipsync reads version {PLAN_VERSION}",
                plan.version
            ),
        ));
    }

    check_consistency(plan)?;

    if plan.after.is_empty() {
        return Err(Refusal::new(
            Guard::EmptyList,
            "the new list would be empty, and an empty allow list is never written",
        ));
    }

    let threshold = large_removal_threshold(plan.before.len());
    if plan.remove.len() > threshold && !overrides.allow_large_removal {
        return Err(Refusal::new(
            Guard::LargeRemoval,
            format!(
                "the plan removes {} of {} entries, more than the {threshold} allowed without review \
                 (the larger of {LARGE_REMOVAL_PERCENT}% and {LARGE_REMOVAL_MIN_ENTRIES})",
                plan.remove.len(),
                plan.before.len()
            ),
        ));
    }

    if !overrides.allow_older_source {
        for tag in &plan.source.tags {
            let previous = last_applied.iter().find(|applied| applied.name == tag.name);
            if let Some(previous) =
                previous.filter(|previous| previous.change_number > tag.change_number)
            {
                return Err(Refusal::new(
                    Guard::OlderSource,
                    format!(
                        "tag `{}` has changeNumber {} in `{}`, older than {} that was last applied",
                        tag.name, tag.change_number, plan.source.file_name, previous.change_number
                    ),
                ));
            }
        }
    }

    Ok(())
}

/// Checks that a plan's parts agree, so that what apply writes (`after`) is exactly what the
/// reviewer saw (`add` and `remove` against `before`).
///
/// A plan file is JSON that anyone can edit. Without this check, an `after` changed by hand
/// would be written although the printed diff and the large-removal guard saw only `add` and
/// `remove`.
pub fn check_consistency(plan: &Plan) -> Result<(), Refusal> {
    let inconsistent = |detail: String| {
        Refusal::new(
            Guard::InconsistentPlan,
            format!(
                "the plan file is inconsistent: {detail}; make a new plan instead of editing one"
            ),
        )
    };

    if fingerprint(&plan.before) != plan.before_sha256 {
        return Err(inconsistent(
            "`before_sha256` is not the fingerprint of `before`".to_owned(),
        ));
    }
    if !plan.after.windows(2).all(|pair| pair[0] < pair[1]) {
        return Err(inconsistent(
            "`after` is not sorted or holds an entry twice".to_owned(),
        ));
    }

    let mut expected: BTreeSet<String> = BTreeSet::new();
    for entry in &plan.before {
        let canonical = match entry.parse::<Ipv4Prefix>() {
            Ok(prefix) => prefix.to_string(),
            Err(_) => entry.clone(),
        };
        expected.insert(canonical);
    }
    for entry in &plan.remove {
        if !expected.remove(entry) {
            return Err(inconsistent(format!(
                "`remove` names `{entry}`, which `before` does not hold"
            )));
        }
    }
    for prefix in &plan.add {
        if !expected.insert(prefix.to_string()) {
            return Err(inconsistent(format!(
                "`add` names `{prefix}`, which `before` already holds"
            )));
        }
    }

    let after: BTreeSet<String> = plan.after.iter().map(ToString::to_string).collect();
    if let Some(extra) = after.difference(&expected).next() {
        return Err(inconsistent(format!(
            "`after` holds `{extra}`, which neither `before` nor `add` holds"
        )));
    }
    if let Some(missing) = expected.difference(&after).next() {
        return Err(inconsistent(format!(
            "`after` lacks `{missing}`, which `remove` does not name"
        )));
    }
    Ok(())
}

/// Returns how many removals pass without `--allow-large-removal` for a list of `live_len` entries.
pub fn large_removal_threshold(live_len: usize) -> usize {
    (live_len * LARGE_REMOVAL_PERCENT / 100).max(LARGE_REMOVAL_MIN_ENTRIES)
}

/// Compares the live list with a plan's `before`, refusing when someone changed it since.
pub fn check_drift(plan: &Plan, live: Option<&AccessList>) -> Result<(), Refusal> {
    match (&plan.target.list_id, live) {
        (None, None) => Ok(()),
        (None, Some(list)) => Err(Refusal::new(
            Guard::Drift,
            format!(
                "the plan creates list `{}`, but a list with that label now exists (`{}`); make a new plan",
                plan.target.label, list.list_id
            ),
        )),
        (Some(list_id), None) => Err(Refusal::new(
            Guard::Drift,
            format!("list `{list_id}` from the plan no longer exists; make a new plan"),
        )),
        (Some(_), Some(list)) => {
            let live_fingerprint = fingerprint(&list.ip_addresses);
            if live_fingerprint == plan.before_sha256 {
                Ok(())
            } else {
                Err(Refusal::new(
                    Guard::Drift,
                    format!(
                        "list `{}` changed since the plan was made (fingerprint `{}` now, `{}` in the plan); \
                         make a new plan and review it",
                        list.label,
                        &live_fingerprint[..12],
                        &plan.before_sha256[..12.min(plan.before_sha256.len())]
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests;
