//! Renders plans and apply results as text for a terminal, JSON, and Markdown for GitHub.
//!
//! Pure functions from data to strings, so every format is snapshot-tested.

use std::fmt::Write as _;

use crate::plan::Plan;

/// Output formats of `ipsync plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// Entries shown in full before a Markdown table is folded into a `<details>` block.
const MARKDOWN_OPEN_ROWS: usize = 20;

/// Renders the plan file's content: pretty JSON with a trailing newline.
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan always serialises");
    text.push('\n');
    text
}

/// Returns `text` with control characters escaped, so that a label cannot move the cursor or
/// change colours on a terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                character.escape_default().to_string()
            } else {
                character.to_string()
            }
        })
        .collect()
}

/// Returns one line naming the list, its scope and host.
pub fn target_line(plan: &Plan) -> String {
    let target = &plan.target;
    let label = printable(&target.label);
    let list = match &target.list_id {
        Some(list_id) => format!("`{label}` (`{}`)", printable(list_id)),
        None => format!("`{label}` (to be created)"),
    };
    match &target.account_id {
        Some(account_id) => format!(
            "{} list {list} of account `{account_id}` on {}",
            target.scope, target.host
        ),
        None => format!("{} list {list} on {}", target.scope, target.host),
    }
}

fn counts_line(plan: &Plan) -> String {
    format!(
        "{} to add, {} to remove, {} entries after ({} of {} values used with the other lists)",
        plan.add.len(),
        plan.remove.len(),
        plan.after.len(),
        plan.budget.other_lists + plan.budget.after,
        plan.budget.limit
    )
}

/// Renders the plan for a terminal; `color` adds ANSI colours to added and removed lines.
pub fn text(plan: &Plan, color: bool) -> String {
    let (green, red, yellow, reset) = if color {
        ("\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let mut out = String::new();

    let _ = writeln!(out, "Plan for the {}", target_line(plan));
    let source = &plan.source;
    let _ = writeln!(
        out,
        "Source: {} (cloud {}, changeNumber {}, sha256 {})",
        source.file_name,
        source.cloud,
        source.change_number,
        &source.sha256[..12.min(source.sha256.len())]
    );
    for tag in &source.tags {
        let _ = writeln!(
            out,
            "  {}: changeNumber {}, {} IPv4, {} IPv6 left out",
            tag.name, tag.change_number, tag.ipv4_count, tag.ipv6_count
        );
    }
    if !source.include.is_empty() {
        let include: Vec<String> = source.include.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  always kept (--include): {}", include.join(", "));
    }
    out.push('\n');

    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "No changes: the list already holds the {} wanted entries.",
            plan.after.len()
        );
    } else {
        for prefix in &plan.add {
            let _ = writeln!(out, "{green}+ {prefix}{reset}");
        }
        for entry in &plan.remove {
            let _ = writeln!(out, "{red}- {entry}{reset}");
        }
        if !plan.add.is_empty() || !plan.remove.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", counts_line(plan));
    }

    for warning in &plan.warnings {
        let _ = writeln!(out, "{yellow}warning:{reset} {warning}");
    }
    out
}

/// A point of the list-size chart: a snapshot's label and how many entries the list held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizePoint {
    pub label: String,
    pub entries: usize,
}

/// Renders the plan as GitHub-flavoured Markdown: a headline, counts, tables and warnings.
///
/// `history` contains earlier list sizes, oldest first; with two or more points a Mermaid
/// chart of the list's size is added.
pub fn markdown(plan: &Plan, history: &[SizePoint]) -> String {
    let mut out = String::new();

    let headline = if plan.has_changes() {
        format!("{} to add, {} to remove", plan.add.len(), plan.remove.len())
    } else {
        "no changes".to_owned()
    };
    let _ = writeln!(out, "### ipsync plan: {headline}\n");
    let _ = writeln!(out, "**Target:** {}  ", target_line(plan));
    let source = &plan.source;
    let origin = match &source.url {
        Some(url) => format!("[`{}`]({url})", source.file_name),
        None => format!("`{}`", source.file_name),
    };
    let _ = writeln!(
        out,
        "**Source:** {origin}, cloud {}, changeNumber {}  ",
        source.cloud, source.change_number
    );
    let _ = writeln!(out, "**Result:** {}\n", counts_line(plan));

    out.push_str("| tag | changeNumber | IPv4 | IPv6 left out |\n|---|---:|---:|---:|\n");
    for tag in &source.tags {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            tag.name, tag.change_number, tag.ipv4_count, tag.ipv6_count
        );
    }
    if !source.include.is_empty() {
        let include: Vec<String> = source
            .include
            .iter()
            .map(|prefix| format!("`{prefix}`"))
            .collect();
        let _ = writeln!(out, "\nAlways kept (`--include`): {}", include.join(", "));
    }

    let added: Vec<String> = plan.add.iter().map(ToString::to_string).collect();
    push_prefix_table(&mut out, "Added", &added);
    push_prefix_table(&mut out, "Removed", &plan.remove);

    if history.len() >= 2 {
        push_size_chart(&mut out, history);
    }

    if !plan.warnings.is_empty() {
        out.push_str("\n#### Warnings\n\n");
        for warning in &plan.warnings {
            let _ = writeln!(out, "- {warning}");
        }
    }
    out
}

fn push_prefix_table(out: &mut String, title: &str, entries: &[String]) {
    if entries.is_empty() {
        return;
    }

    let _ = writeln!(out, "\n#### {title} ({})\n", entries.len());
    let folded = entries.len() > MARKDOWN_OPEN_ROWS;
    if folded {
        let _ = writeln!(
            out,
            "<details><summary>Show {} entries</summary>\n",
            entries.len()
        );
    }
    out.push_str("| prefix |\n|---|\n");
    for entry in entries {
        let _ = writeln!(out, "| `{entry}` |");
    }
    if folded {
        out.push_str("\n</details>\n");
    }
}

fn push_size_chart(out: &mut String, history: &[SizePoint]) {
    let labels: Vec<String> = history
        .iter()
        .map(|point| format!("\"{}\"", point.label.replace('"', "'")))
        .collect();
    let sizes: Vec<String> = history
        .iter()
        .map(|point| point.entries.to_string())
        .collect();
    let top = history.iter().map(|point| point.entries).max().unwrap_or(0);

    out.push_str("\n#### List size over the kept snapshots\n\n```mermaid\nxychart-beta\n");
    let _ = writeln!(out, "    x-axis [{}]", labels.join(", "));
    let _ = writeln!(out, "    y-axis \"entries\" 0 --> {}", top + top / 10 + 1);
    let _ = writeln!(out, "    line [{}]", sizes.join(", "));
    out.push_str("```\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Budget, Dropped, PlanSource, PlanTag, PlanTarget};

    fn sample_plan() -> Plan {
        Plan {
            version: 1,
            target: PlanTarget {
                scope: "account".into(),
                host: "https://accounts.azuredatabricks.net".into(),
                account_id: Some("acc-1".into()),
                list_id: Some("list-1".into()),
                label: "AzureActiveDirectory".into(),
            },
            source: PlanSource {
                cloud: "Public".into(),
                file_name: "ServiceTags_Public_20251103.json".into(),
                url: None,
                sha256: "5efcd36dd443c9f9d2a5aa10bd7e38ce07abae518ec5ea936581602271554c16".into(),
                change_number: 376,
                tags: vec![PlanTag {
                    name: "AzureActiveDirectory".into(),
                    change_number: 26,
                    ipv4_count: 2,
                    ipv6_count: 1,
                }],
                include: vec!["203.0.113.7/32".parse().unwrap()],
            },
            before: vec!["10.0.0.0/24".into(), "198.51.100.0/24".into()],
            before_sha256: "x".into(),
            after: vec![
                "10.0.0.0/24".parse().unwrap(),
                "20.190.128.0/18".parse().unwrap(),
                "203.0.113.7/32".parse().unwrap(),
            ],
            add: vec![
                "20.190.128.0/18".parse().unwrap(),
                "203.0.113.7/32".parse().unwrap(),
            ],
            remove: vec!["198.51.100.0/24".into()],
            dropped: Dropped {
                count: 1,
                prefixes: vec!["2603:1006:2000::/48".into()],
            },
            budget: Budget {
                limit: 1000,
                other_lists: 4,
                after: 3,
            },
            warnings: vec![
                "left out 1 IPv6 prefixes, because Databricks IP access lists accept IPv4 only"
                    .into(),
            ],
            overrides: vec![],
            created_at: "2026-12-04T00:00:00Z".into(),
        }
    }

    #[test]
    fn text_lists_changes_and_counts() {
        insta::assert_snapshot!(text(&sample_plan(), false), @r"
        Plan for the account list `AzureActiveDirectory` (`list-1`) of account `acc-1` on https://accounts.azuredatabricks.net
        Source: ServiceTags_Public_20251103.json (cloud Public, changeNumber 376, sha256 5efcd36dd443)
          AzureActiveDirectory: changeNumber 26, 2 IPv4, 1 IPv6 left out
          always kept (--include): 203.0.113.7/32

        + 20.190.128.0/18
        + 203.0.113.7/32
        - 198.51.100.0/24

        2 to add, 1 to remove, 3 entries after (7 of 1000 values used with the other lists)
        warning: left out 1 IPv6 prefixes, because Databricks IP access lists accept IPv4 only
        ");
    }

    #[test]
    fn text_colours_only_when_asked() {
        let coloured = text(&sample_plan(), true);

        assert!(coloured.contains("\x1b[32m+ 20.190.128.0/18\x1b[0m"));
        assert!(coloured.contains("\x1b[31m- 198.51.100.0/24\x1b[0m"));
        assert!(!text(&sample_plan(), false).contains('\x1b'));
    }

    #[test]
    fn target_line_escapes_control_characters() {
        let mut plan = sample_plan();
        plan.target.label = "\u{1b}[31mred".into();

        let line = target_line(&plan);

        assert!(!line.contains('\u{1b}'), "{line}");
        assert!(line.contains("`\\u{1b}[31mred`"), "{line}");
    }

    #[test]
    fn text_says_no_changes() {
        let mut plan = sample_plan();
        plan.add.clear();
        plan.remove.clear();

        assert!(
            text(&plan, false).contains("No changes: the list already holds the 3 wanted entries.")
        );
    }

    #[test]
    fn markdown_has_headline_tables_and_warnings() {
        insta::assert_snapshot!(markdown(&sample_plan(), &[]), @r"
        ### ipsync plan: 2 to add, 1 to remove

        **Target:** account list `AzureActiveDirectory` (`list-1`) of account `acc-1` on https://accounts.azuredatabricks.net  
        **Source:** `ServiceTags_Public_20251103.json`, cloud Public, changeNumber 376  
        **Result:** 2 to add, 1 to remove, 3 entries after (7 of 1000 values used with the other lists)

        | tag | changeNumber | IPv4 | IPv6 left out |
        |---|---:|---:|---:|
        | `AzureActiveDirectory` | 26 | 2 | 1 |

        Always kept (`--include`): `203.0.113.7/32`

        #### Added (2)

        | prefix |
        |---|
        | `20.190.128.0/18` |
        | `203.0.113.7/32` |

        #### Removed (1)

        | prefix |
        |---|
        | `198.51.100.0/24` |

        #### Warnings

        - left out 1 IPv6 prefixes, because Databricks IP access lists accept IPv4 only
        ");
    }

    #[test]
    fn markdown_folds_long_tables() {
        let mut plan = sample_plan();
        plan.add = (0..21)
            .map(|index| format!("10.9.{index}.0/24").parse().unwrap())
            .collect();

        let rendered = markdown(&plan, &[]);

        assert!(
            rendered.contains("#### Added (21)\n\n<details><summary>Show 21 entries</summary>\n")
        );
        assert!(!rendered.contains("#### Removed (1)\n\n<details>"));
    }

    #[test]
    fn markdown_charts_history() {
        let history = [
            SizePoint {
                label: "20240701".into(),
                entries: 190,
            },
            SizePoint {
                label: "20251103".into(),
                entries: 200,
            },
        ];

        let rendered = markdown(&sample_plan(), &history);

        assert!(rendered.contains(
            "```mermaid\nxychart-beta\n    x-axis [\"20240701\", \"20251103\"]\n    y-axis \"entries\" 0 --> 221\n    line [190, 200]\n```\n"
        ));
    }

    #[test]
    fn json_is_stable_and_round_trips() {
        let plan = sample_plan();

        let rendered = json(&plan);

        assert_eq!(rendered, json(&plan));
        assert!(rendered.ends_with("}\n"));
        let back: Plan = serde_json::from_str(&rendered).unwrap();
        assert_eq!(back, plan);
    }
}
