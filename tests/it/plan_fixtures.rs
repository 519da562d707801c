//! `ipsync plan --format json` against the emulator on Microsoft's real files.
//!
//! The expected additions and removals were computed independently with Python's
//! `json` and `ipaddress` modules (IPv4 prefixes of the tags in the old and new
//! files, as sets of `ip_network`, sorted) and are written here as literals.

use crate::support::{self, emulator_env, run_ipsync, seed_allow, service_tags_file, strings};

struct Case {
    old_file: &'static str,
    new_file: &'static str,
    tags: &'static [&'static str],
    add: &'static [&'static str],
    remove: &'static [&'static str],
    after_len: usize,
}

async fn check(case: Case) {
    let (Some(old), Some(new)) = (
        service_tags_file(case.old_file),
        service_tags_file(case.new_file),
    ) else {
        return;
    };
    let emulator = support::start_emulator().await;
    support::seed_runner_list(&emulator);
    let label = case.tags[0];
    let seeded = seed_allow(&emulator, label, support::fixture_ipv4(&old, case.tags));

    let mut args = strings(&["plan", "--format", "json", "--service-tags-file"]);
    args.push(new.display().to_string());
    for tag in case.tags {
        args.push("--tag".into());
        args.push((*tag).into());
    }
    let state = tempfile::tempdir().unwrap();
    args.push("--state-dir".into());
    args.push(state.path().display().to_string());
    let output = run_ipsync(args, emulator_env(&emulator)).await;

    assert!(
        output.status.success(),
        "stderr: {}",
        support::stderr(&output)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["add"], serde_json::json!(case.add));
    assert_eq!(plan["remove"], serde_json::json!(case.remove));
    assert_eq!(plan["after"].as_array().unwrap().len(), case.after_len);
    assert_eq!(plan["target"]["list_id"], serde_json::json!(seeded.list_id));
    assert_eq!(
        plan["source"]["file_name"],
        serde_json::json!(case.new_file)
    );

    let lists = emulator.lists(&ipsync::databricks::Scope::Workspace);
    let unchanged = lists
        .iter()
        .find(|list| list.list_id == seeded.list_id)
        .unwrap();
    assert_eq!(
        unchanged.ip_addresses, seeded.ip_addresses,
        "plan must not write"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_aad_20240701_to_20251006() {
    check(Case {
        old_file: "ServiceTags_Public_20240701.json",
        new_file: "ServiceTags_Public_20251006.json",
        tags: &["AzureActiveDirectory"],
        add: &[
            "13.87.32.5/32",
            "13.87.32.18/32",
            "13.87.33.25/32",
            "13.87.33.28/32",
            "40.79.142.128/26",
            "40.79.149.192/26",
            "40.79.165.0/26",
            "40.79.175.0/26",
            "48.211.20.204/30",
            "48.211.20.224/29",
            "48.213.128.0/20",
            "48.215.88.248/29",
            "48.215.89.64/30",
            "57.154.153.72/29",
            "57.154.153.80/30",
            "74.176.1.40/29",
            "74.176.1.48/30",
            "74.176.1.160/28",
            "74.226.38.28/30",
            "74.226.38.64/29",
            "135.225.177.112/28",
            "191.234.147.0/26",
        ],
        remove: &["13.87.16.0/26", "13.87.57.160/27", "13.87.123.160/27"],
        after_len: 200,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_aad_unchanged_week() {
    check(Case {
        old_file: "ServiceTags_Public_20251006.json",
        new_file: "ServiceTags_Public_20251013.json",
        tags: &["AzureActiveDirectory"],
        add: &[],
        remove: &[],
        after_len: 200,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_westeurope_20251028_to_20251103() {
    check(Case {
        old_file: "ServiceTags_Public_20251028.json",
        new_file: "ServiceTags_Public_20251103.json",
        tags: &["AzureCloud.westeurope"],
        add: &["57.157.14.0/25", "57.157.14.128/31", "145.190.66.0/24"],
        remove: &[
            "57.157.14.0/26",
            "57.157.14.64/27",
            "57.157.14.96/30",
            "57.157.14.100/31",
        ],
        after_len: 417,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_two_tags_together() {
    check(Case {
        old_file: "ServiceTags_Public_20251006.json",
        new_file: "ServiceTags_Public_20251103.json",
        tags: &["AzureActiveDirectory", "AzureDatabricks"],
        add: &["48.198.81.0/26"],
        remove: &[],
        after_len: 758,
    })
    .await;
}
