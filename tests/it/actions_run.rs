//! A simulated scheduled run in GitHub Actions: the runner's variables and files, the
//! emulator as Databricks and a fixture as the source. The job summary and the outputs
//! are compared byte for byte with snapshots, with ports, ids, times, paths and the
//! random heredoc delimiter filtered out.

use std::path::Path;

use crate::support::{self, run_ipsync_in, seed_allow, service_tags_file, stderr};

struct Run {
    status: Option<i32>,
    summary: String,
    output: String,
    stderr: String,
}

/// Runs `ipsync plan` as an action step would, with `prefilled` already in the summary file.
async fn scheduled_plan(seed_file: &str, extra_entries: usize, prefilled: &str) -> Option<Run> {
    let old = service_tags_file(seed_file)?;
    let new = service_tags_file("ServiceTags_Public_20251006.json")?;
    let emulator = support::start_emulator().await;
    support::seed_runner_list(&emulator);
    let mut entries = support::fixture_ipv4(&old, &["AzureActiveDirectory"]);
    entries.extend((0..extra_entries).map(|index| format!("198.18.{index}.0/24")));
    seed_allow(&emulator, "AzureActiveDirectory", entries);

    let workspace = tempfile::tempdir().unwrap();
    let summary_path = workspace.path().join("step_summary_1");
    let output_path = workspace.path().join("set_output_1");
    std::fs::write(&summary_path, prefilled).unwrap();
    let mut env = support::emulator_env(&emulator);
    env.extend(
        [
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("GITHUB_EVENT_NAME", "schedule".to_owned()),
            ("GITHUB_REPOSITORY", "example-org/infra".to_owned()),
            ("GITHUB_REF", "refs/heads/main".to_owned()),
            ("GITHUB_STEP_SUMMARY", summary_path.display().to_string()),
            ("GITHUB_OUTPUT", output_path.display().to_string()),
            ("IPSYNC_COMMENT", "false".to_owned()),
            ("IPSYNC_SERVICE_TAGS_FILE", new.display().to_string()),
            // Inputs the workflow left out arrive empty.
            ("IPSYNC_SCOPE", String::new()),
            ("IPSYNC_LIST_LABEL", String::new()),
            ("IPSYNC_INCLUDE", String::new()),
        ]
        .map(|(name, value)| (name.to_owned(), value)),
    );

    let output = run_ipsync_in(workspace.path(), vec!["plan".to_owned()], env).await;
    let run = Run {
        status: output.status.code(),
        summary: read(&summary_path).replacen(prefilled, "", 1),
        output: read(&output_path),
        stderr: stderr(&output),
    };
    emulator.shutdown().await;
    Some(run)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
            (r"127\.0\.0\.1-\d+", "127.0.0.1-[port]"),
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[list-id]"),
            (r"ipsync_[0-9a-f]{32}", "[delimiter]"),
            (r"/tmp/[^\s`]*/", "[tmp]/"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_plan_with_changes() {
    let Some(run) = scheduled_plan("ServiceTags_Public_20240701.json", 0, "").await else {
        return;
    };

    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("::group::ipsync plan: 22 to add, 3 to remove\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("::endgroup::\n"), "{}", run.stderr);
    snapshot!("actions_plan_with_changes_summary", run.summary);
    snapshot!("actions_plan_with_changes_output", run.output);
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_plan_without_changes() {
    let Some(run) = scheduled_plan("ServiceTags_Public_20251006.json", 0, "").await else {
        return;
    };

    assert_eq!(run.status, Some(0), "{}", run.stderr);
    snapshot!("actions_plan_without_changes_summary", run.summary);
    snapshot!("actions_plan_without_changes_output", run.output);
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_plan_refused_by_guard() {
    let Some(run) = scheduled_plan("ServiceTags_Public_20251006.json", 40, "").await else {
        return;
    };

    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("::error::refused by the `large-removal` guard"),
        "{}",
        run.stderr
    );
    assert_eq!(run.output, "", "a refused plan sets no outputs");
    snapshot!("actions_plan_refused_summary", run.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_summary_cut_at_limit() {
    // Earlier steps left the summary 300 bytes short of GitHub's 1 MiB limit.
    let line = format!("{}\n", "x".repeat(99));
    let prefilled = line.repeat((1024 * 1024 - 300) / 100);
    let Some(run) = scheduled_plan("ServiceTags_Public_20240701.json", 0, &prefilled).await else {
        return;
    };

    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(run.summary.len() + prefilled.len() <= 1024 * 1024);
    assert!(
        run.stderr.contains("::warning::the job summary was cut by"),
        "{}",
        run.stderr
    );
    snapshot!("actions_summary_cut", run.summary);
}
