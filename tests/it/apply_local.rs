//! `apply`, `backup`, `restore` and `tags` run by hand against the emulator.
//!
//! Expected values: AzureActiveDirectory from 20240701 to 20251006 adds 22 and removes 3
//! prefixes and keeps 200 (computed with Python's `ipaddress`).

use std::path::Path;

use ipsync::databricks::{AccessList, Scope};
use ipsync::emulator::Emulator;

use crate::support::{self, run_ipsync_in, seed_allow, service_tags_file, stderr, stdout};

const LABEL: &str = "AzureActiveDirectory";

struct Setup {
    emulator: Emulator,
    list: AccessList,
    new_file: String,
    workspace: tempfile::TempDir,
}

async fn setup() -> Option<Setup> {
    let old = service_tags_file("ServiceTags_Public_20240701.json")?;
    let new = service_tags_file("ServiceTags_Public_20251006.json")?;
    let emulator = support::start_emulator().await;
    support::seed_runner_list(&emulator);
    let list = seed_allow(&emulator, LABEL, support::fixture_ipv4(&old, &[LABEL]));
    Some(Setup {
        emulator,
        list,
        new_file: new.display().to_string(),
        workspace: tempfile::tempdir().unwrap(),
    })
}

impl Setup {
    async fn run(&self, args: &[&str]) -> std::process::Output {
        let args = args
            .iter()
            .map(|arg| arg.replace("{new}", &self.new_file))
            .collect();
        run_ipsync_in(
            self.workspace.path(),
            args,
            support::emulator_env(&self.emulator),
        )
        .await
    }

    fn live(&self) -> AccessList {
        self.emulator
            .lists(&Scope::Workspace)
            .into_iter()
            .find(|list| list.list_id == self.list.list_id)
            .unwrap()
    }

    fn path(&self, relative: &str) -> std::path::PathBuf {
        self.workspace.path().join(relative)
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn detailed_exitcode_reports_changes() {
    let Some(setup) = setup().await else { return };

    let changes = setup
        .run(&[
            "plan",
            "--service-tags-file",
            "{new}",
            "--detailed-exitcode",
        ])
        .await;
    assert_eq!(changes.status.code(), Some(2), "{}", stderr(&changes));

    let applied = setup
        .run(&["apply", "--yes", "--service-tags-file", "{new}"])
        .await;
    assert!(applied.status.success(), "{}", stderr(&applied));

    let clean = setup
        .run(&[
            "plan",
            "--service-tags-file",
            "{new}",
            "--detailed-exitcode",
        ])
        .await;
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_plan_file_backs_up_and_records() {
    let Some(setup) = setup().await else { return };
    let planned = setup
        .run(&["plan", "--service-tags-file", "{new}", "--out", "plan.json"])
        .await;
    assert!(planned.status.success(), "{}", stderr(&planned));
    let plan = json(&setup.path("plan.json"));

    let applied = setup.run(&["apply", "--yes", "--plan", "plan.json"]).await;

    assert!(applied.status.success(), "{}", stderr(&applied));
    assert!(
        stdout(&applied).contains("22 added, 3 removed, 200 entries; read back and verified"),
        "{}",
        stdout(&applied)
    );
    let after: Vec<String> = serde_json::from_value(plan["after"].clone()).unwrap();
    assert_eq!(setup.live().ip_addresses, after);

    let folder = setup.path(&format!(
        "ipsync/workspace-127.0.0.1-{}-{LABEL}",
        setup.emulator.local_addr().port()
    ));
    let backup: AccessList = serde_json::from_value(json(&folder.join("backup.json"))).unwrap();
    assert_eq!(
        backup.ip_addresses, setup.list.ip_addresses,
        "the backup holds the list as it was"
    );
    let timestamped = std::fs::read_dir(&folder)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("backup-")
        })
        .count();
    assert_eq!(timestamped, 1);
    let applied_record = json(&folder.join("applied.json"));
    assert_eq!(applied_record["tags"][0]["change_number"], 26);
    assert_eq!(applied_record["added"], 22);
    assert_eq!(applied_record["removed"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_plan_file_refuses_drift() {
    let Some(setup) = setup().await else { return };
    setup
        .run(&["plan", "--service-tags-file", "{new}", "--out", "plan.json"])
        .await;
    let plan_again = setup
        .run(&["apply", "--yes", "--service-tags-file", "{new}"])
        .await;
    assert!(plan_again.status.success(), "{}", stderr(&plan_again));
    let changed = setup.live();

    let applied = setup.run(&["apply", "--yes", "--plan", "plan.json"]).await;

    assert_eq!(applied.status.code(), Some(1));
    assert!(
        stderr(&applied).contains("refused by the `drift` guard"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(setup.live(), changed);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_tampered_plan_host() {
    let Some(setup) = setup().await else { return };
    setup
        .run(&["plan", "--service-tags-file", "{new}", "--out", "plan.json"])
        .await;

    let applied = setup
        .run(&[
            "apply",
            "--yes",
            "--plan",
            "plan.json",
            "--host",
            "http://127.0.0.1:9",
        ])
        .await;

    assert_eq!(applied.status.code(), Some(1));
    assert!(
        stderr(&applied).contains("apply it where it was planned"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(setup.live(), setup.list);
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_then_restore_round_trip() {
    let Some(setup) = setup().await else { return };
    let saved = setup.run(&["backup", "--out", "saved.json"]).await;
    assert!(saved.status.success(), "{}", stderr(&saved));
    let applied = setup
        .run(&["apply", "--yes", "--service-tags-file", "{new}"])
        .await;
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_ne!(setup.live().ip_addresses, setup.list.ip_addresses);

    let restored = setup
        .run(&["restore", "--yes", "--from", "saved.json"])
        .await;

    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_eq!(setup.live().ip_addresses, setup.list.ip_addresses);
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_lists_counts_and_change_numbers() {
    let Some(setup) = setup().await else { return };

    let listed = setup
        .run(&[
            "tags",
            "--service-tags-file",
            "{new}",
            "--tag",
            "AzureActiveDirectory",
            "--format",
            "json",
        ])
        .await;

    assert!(listed.status.success(), "{}", stderr(&listed));
    let summary: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(summary["change_number"], 372);
    let tag = summary["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tag| tag["name"] == "AzureActiveDirectory")
        .unwrap()
        .clone();
    assert_eq!(tag["change_number"], 26);
    assert_eq!(tag["ipv4_count"], 200);
    assert_eq!(tag["ipv6_count"], 16);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_refuses_block_list_backup_into_allow_list() {
    let Some(setup) = setup().await else { return };
    let blocked = setup.emulator.seed(
        &Scope::Workspace,
        ipsync::databricks::NewAccessList {
            label: "blocked".into(),
            list_type: ipsync::databricks::ListType::Block,
            ip_addresses: vec!["198.51.100.0/24".into()],
        },
    );
    let saved = setup
        .run(&[
            "backup",
            "--out",
            "blocked.json",
            "--list-id",
            &blocked.list_id,
        ])
        .await;
    assert!(saved.status.success(), "{}", stderr(&saved));

    let restored = setup
        .run(&[
            "restore",
            "--yes",
            "--from",
            "blocked.json",
            "--list-id",
            &setup.list.list_id,
        ])
        .await;

    assert_eq!(restored.status.code(), Some(1));
    assert!(
        stderr(&restored).contains("is of a BLOCK list"),
        "{}",
        stderr(&restored)
    );
    assert_eq!(setup.live(), setup.list);
}
