//! The whole review loop as GitHub Actions runs it: a scheduled plan opens a pull request,
//! the merge triggers apply on the protected default branch, and the list changes only then.
//!
//! The binary runs with the variables a runner sets, against a stateful fake of the GitHub
//! API and the Databricks emulator. Expected additions and removals (22 and 3 for
//! AzureActiveDirectory from 20240701 to 20251006) were computed with Python's `ipaddress`.

use std::path::Path;

use ipsync::databricks::{AccessList, Scope};
use ipsync::emulator::Emulator;

use crate::support::fake_github::FakeGitHub;
use crate::support::{self, run_ipsync_in, seed_allow, service_tags_file, stderr};

const SLUG_LABEL: &str = "AzureActiveDirectory";

struct Loop {
    github: FakeGitHub,
    emulator: Emulator,
    list: AccessList,
    new_file: String,
    runner_files: tempfile::TempDir,
}

async fn start() -> Option<Loop> {
    start_from("ServiceTags_Public_20240701.json").await
}

/// Starts the loop with the list seeded from the AzureActiveDirectory ranges of `seed_file`.
async fn start_from(seed_file: &str) -> Option<Loop> {
    let old = service_tags_file(seed_file)?;
    let new = service_tags_file("ServiceTags_Public_20251006.json")?;
    let github = FakeGitHub::start().await?;
    github.set_protected(true);
    let emulator = support::start_emulator().await;
    support::seed_runner_list(&emulator);
    let list = seed_allow(
        &emulator,
        SLUG_LABEL,
        support::fixture_ipv4(&old, &[SLUG_LABEL]),
    );
    Some(Loop {
        github,
        emulator,
        list,
        new_file: new.display().to_string(),
        runner_files: tempfile::tempdir().unwrap(),
    })
}

impl Loop {
    fn slug(&self) -> String {
        format!(
            "workspace-127.0.0.1-{}-{SLUG_LABEL}",
            self.emulator.local_addr().port()
        )
    }

    /// Returns the variables of a runner for `event` on `git_ref` at `sha`, with the step's files.
    fn env(&self, event: &str, git_ref: &str, sha: &str) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .github
            .env(event, git_ref, sha)
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        let files = self.runner_files.path();
        env.push(("GITHUB_ACTIONS".into(), "true".into()));
        env.push((
            "GITHUB_STEP_SUMMARY".into(),
            files.join("summary.md").display().to_string(),
        ));
        env.push((
            "GITHUB_OUTPUT".into(),
            files.join("output").display().to_string(),
        ));
        env.extend(support::emulator_env(&self.emulator));
        env
    }

    fn live(&self) -> AccessList {
        self.emulator
            .lists(&Scope::Workspace)
            .into_iter()
            .find(|list| list.list_id == self.list.list_id)
            .unwrap()
    }

    async fn scheduled_plan(&self, workspace: &Path) -> std::process::Output {
        self.scheduled_plan_with(workspace, &[]).await
    }

    async fn scheduled_plan_with(
        &self,
        workspace: &Path,
        extra_env: &[(&str, &str)],
    ) -> std::process::Output {
        let head = self.github.branch_head("main").unwrap();
        let args = vec![
            "plan".into(),
            "--service-tags-file".into(),
            self.new_file.clone(),
        ];
        let mut env = self.env("schedule", "refs/heads/main", &head);
        env.extend(
            extra_env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        run_ipsync_in(workspace, args, env).await
    }

    async fn apply(&self, git_ref: &str, sha: &str) -> std::process::Output {
        let workspace = tempfile::tempdir().unwrap();
        run_ipsync_in(
            workspace.path(),
            vec!["apply".into()],
            self.env("push", git_ref, sha),
        )
        .await
    }

    fn read_runner_file(&self, name: &str) -> String {
        std::fs::read_to_string(self.runner_files.path().join(name)).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_plan_merge_apply() {
    let Some(run) = start().await else { return };
    let workspace = tempfile::tempdir().unwrap();

    let planned = run.scheduled_plan(workspace.path()).await;

    assert!(
        planned.status.success(),
        "plan failed: {}",
        stderr(&planned)
    );
    assert_eq!(run.live(), run.list, "plan must not write to Databricks");
    let pulls = run.github.pulls();
    assert_eq!(pulls.len(), 1);
    let pull = &pulls[0];
    assert_eq!(pull.head, format!("ipsync/{}", run.slug()));
    assert_eq!(pull.base, "main");
    assert!(
        pull.body.contains("22 to add, 3 to remove"),
        "{}",
        pull.body
    );
    let files = run.github.branch_files(&pull.head);
    for name in ["service-tags.json", "backup.json", "plan.json"] {
        assert!(
            files.contains_key(&format!("ipsync/{}/{name}", run.slug())),
            "missing {name}: {:?}",
            files.keys()
        );
    }
    let comments = run.github.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .body
            .contains(&format!("<!-- ipsync:target={} -->", run.slug()))
    );
    let outputs = run.read_runner_file("output");
    assert!(outputs.contains("has-changes<<"), "{outputs}");
    assert!(outputs.contains("\ntrue\n"), "{outputs}");
    assert!(outputs.contains("\n22\n"), "{outputs}");
    assert!(outputs.contains("\n3\n"), "{outputs}");
    assert!(
        run.read_runner_file("summary.md")
            .contains("### ipsync plan: 22 to add, 3 to remove")
    );

    let merged = run.github.merge(pull.number);
    let applied = run.apply("refs/heads/main", &merged).await;

    assert!(
        applied.status.success(),
        "apply failed: {}",
        stderr(&applied)
    );
    let committed = run.github.branch_files("main");
    let plan: serde_json::Value =
        serde_json::from_slice(&committed[&format!("ipsync/{}/plan.json", run.slug())]).unwrap();
    let after: Vec<String> = serde_json::from_value(plan["after"].clone()).unwrap();
    assert_eq!(run.live().ip_addresses, after);
    assert_eq!(after.len(), 200);
    let comments = run.github.comments();
    assert_eq!(
        comments.len(),
        1,
        "the sticky comment is edited, never reposted"
    );
    assert!(
        comments[0].body.contains("ipsync: applied"),
        "{}",
        comments[0].body
    );
    let record = run.github.branch_files("ipsync/applied");
    assert!(
        record.contains_key(&format!("ipsync/{}/applied.json", run.slug())),
        "{:?}",
        record.keys()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_apply_refuses_other_branch() {
    let Some(run) = start().await else { return };
    run.scheduled_plan(tempfile::tempdir().unwrap().path())
        .await;
    let merged = run.github.merge(run.github.pulls()[0].number);

    let applied = run.apply("refs/heads/feature", &merged).await;

    assert_eq!(applied.status.code(), Some(1));
    assert!(
        stderr(&applied).contains("apply runs only on the default branch `main`"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(run.live(), run.list);
    assert!(
        run.github.comments()[0].body.contains("apply refused"),
        "{:?} {}",
        run.github.comments(),
        stderr(&applied)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_apply_refuses_unprotected_branch() {
    let Some(run) = start().await else { return };
    run.scheduled_plan(tempfile::tempdir().unwrap().path())
        .await;
    let merged = run.github.merge(run.github.pulls()[0].number);
    run.github.set_protected(false);

    let applied = run.apply("refs/heads/main", &merged).await;

    assert_eq!(applied.status.code(), Some(1));
    assert!(
        stderr(&applied).contains("is not protected"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(run.live(), run.list);
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_apply_refuses_drifted_list() {
    let Some(run) = start().await else { return };
    run.scheduled_plan(tempfile::tempdir().unwrap().path())
        .await;
    let merged = run.github.merge(run.github.pulls()[0].number);
    let edited = edit_live_list(&run, "192.0.2.44/32").await;

    let applied = run.apply("refs/heads/main", &merged).await;

    assert_eq!(applied.status.code(), Some(1));
    assert!(
        stderr(&applied).contains("refused by the `drift` guard"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(run.live().ip_addresses, edited);
    assert!(run.github.comments()[0].body.contains("apply refused"));
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_apply_refuses_older_source() {
    let Some(run) = start().await else { return };
    run.scheduled_plan(tempfile::tempdir().unwrap().path())
        .await;
    let merged = run.github.merge(run.github.pulls()[0].number);
    let first = run.apply("refs/heads/main", &merged).await;
    assert!(first.status.success(), "{}", stderr(&first));

    // A reviewed plan whose source records AzureActiveDirectory changeNumber 17 (the 20240701
    // file), older than the 26 just applied, reaches the default branch.
    let path = format!("ipsync/{}/plan.json", run.slug());
    let mut plan: serde_json::Value =
        serde_json::from_slice(&run.github.branch_files("main")[&path]).unwrap();
    plan["source"]["tags"][0]["change_number"] = serde_json::json!(17);
    plan["before"] = serde_json::json!(run.live().ip_addresses);
    plan["before_sha256"] = serde_json::json!(ipsync::plan::fingerprint(&run.live().ip_addresses));
    plan["add"] = serde_json::json!(["192.0.2.0/24"]);
    plan["remove"] = serde_json::json!([]);
    let mut after: Vec<String> = serde_json::from_value(plan["after"].clone()).unwrap();
    after.push("192.0.2.0/24".into());
    plan["after"] = serde_json::json!(after);
    let bytes = serde_json::to_vec_pretty(&plan).unwrap();
    let sha = run
        .github
        .push_files("main", &[(path.as_str(), bytes.as_slice())]);
    let before = run.live();

    let applied = run.apply("refs/heads/main", &sha).await;

    assert_eq!(applied.status.code(), Some(1));
    assert!(
        stderr(&applied).contains("refused by the `older-source` guard"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(run.live(), before);
}

/// Adds an entry to the live list through the API, as a person editing it by hand would.
async fn edit_live_list(run: &Loop, entry: &str) -> Vec<String> {
    let mut entries = run.live().ip_addresses;
    entries.push(entry.to_owned());
    let url = format!(
        "{}api/2.0/ip-access-lists/{}",
        run.emulator.url(),
        run.list.list_id
    );
    let response = reqwest::Client::new()
        .patch(url)
        .bearer_auth(support::TOKEN)
        .json(&serde_json::json!({ "ip_addresses": entries }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    entries
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_in_sync_posts_only_when_asked() {
    let Some(run) = start_from("ServiceTags_Public_20251006.json").await else {
        return;
    };

    let quiet = run
        .scheduled_plan(tempfile::tempdir().unwrap().path())
        .await;
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(run.github.comments().is_empty());
    assert!(run.github.issues().is_empty());
    assert!(run.github.pulls().is_empty());

    let asked = run
        .scheduled_plan_with(
            tempfile::tempdir().unwrap().path(),
            &[("IPSYNC_COMMENT_WHEN_UNCHANGED", "true")],
        )
        .await;
    assert!(asked.status.success(), "{}", stderr(&asked));
    let comments = run.github.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("is in sync"),
        "{}",
        comments[0].body
    );
    assert!(
        run.github.pulls().is_empty(),
        "nothing to review, so no pull request"
    );
}
