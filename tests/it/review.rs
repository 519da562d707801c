//! The GitHub review flow against the stateful fake of the GitHub REST API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipsync::plan::{self, Budget, Dropped, Plan, PlanSource, PlanTag, PlanTarget};
use ipsync::prefix::Ipv4Prefix;
use ipsync::review::client::RateLimitPolicy;
use ipsync::review::comment;
use ipsync::review::flow::{Change, IssueChange};
use ipsync::review::{
    ApplyCheckError, GitHub, PublishInput, PublishOutcome, RunContext, check_apply_allowed,
    post_apply_refusal, post_apply_result, publish_plan, read_committed_plan,
};

use crate::support::fake_github::{DEFAULT_BRANCH, FakeGitHub, OWNER, REPO};

const SLUG: &str = "prod";
const BRANCH: &str = "ipsync/prod";

fn prefixes(entries: &[&str]) -> Vec<Ipv4Prefix> {
    entries.iter().map(|entry| entry.parse().unwrap()).collect()
}

/// Builds a plan for list `ipsync-azure` that goes from `before` to `after`.
fn make_plan(before: &[&str], after: &[&str], change_number: u64) -> Plan {
    let before_owned: Vec<String> = before.iter().map(|entry| (*entry).to_owned()).collect();
    let after_prefixes = prefixes(after);
    let add: Vec<Ipv4Prefix> = after_prefixes
        .iter()
        .filter(|prefix| !before.contains(&prefix.to_string().as_str()))
        .copied()
        .collect();
    let remove: Vec<String> = before
        .iter()
        .filter(|entry| !after.contains(entry))
        .map(|entry| (*entry).to_owned())
        .collect();
    Plan {
        version: plan::PLAN_VERSION,
        target: PlanTarget {
            scope: "workspace".to_owned(),
            host: "https://adb-1234567890123456.7.azuredatabricks.net".to_owned(),
            account_id: None,
            list_id: Some("7c1f3b2a-0000-4000-8000-000000000001".to_owned()),
            label: "ipsync-azure".to_owned(),
        },
        source: PlanSource {
            cloud: "Public".to_owned(),
            file_name: "ServiceTags_Public_20261130.json".to_owned(),
            url: None,
            sha256: "ab".repeat(32),
            change_number: 400,
            tags: vec![PlanTag {
                name: "AzureDevOps".to_owned(),
                change_number,
                ipv4_count: after.len(),
                ipv6_count: 0,
            }],
            include: Vec::new(),
        },
        before_sha256: plan::fingerprint(&before_owned),
        before: before_owned,
        budget: Budget {
            limit: 1000,
            other_lists: 0,
            after: after_prefixes.len(),
        },
        after: after_prefixes,
        add,
        remove,
        dropped: Dropped::default(),
        warnings: Vec::new(),
        overrides: Vec::new(),
        created_at: "2026-12-04T06:00:00Z".to_owned(),
    }
}

fn plan_files(plan: &Plan) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "ipsync/prod/service-tags.json".to_owned(),
            br#"{"changeNumber":400,"cloud":"Public","values":[]}"#.to_vec(),
        ),
        (
            "ipsync/prod/backup.json".to_owned(),
            serde_json::to_vec_pretty(&plan.before).unwrap(),
        ),
        (
            "ipsync/prod/plan.json".to_owned(),
            serde_json::to_vec_pretty(plan).unwrap(),
        ),
    ]
}

fn input<'a>(plan: &'a Plan, markdown: &str) -> PublishInput<'a> {
    PublishInput {
        slug: SLUG.to_owned(),
        plan,
        markdown: markdown.to_owned(),
        files: plan_files(plan),
        branch: BRANCH.to_owned(),
        state_dir: "ipsync".to_owned(),
        post_when_unchanged: false,
    }
}

/// Builds a client for the fake that records rate limit waits instead of sleeping.
fn client(context: &RunContext) -> (GitHub, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let recorded = waits.clone();
    let policy = RateLimitPolicy {
        sleep: Arc::new(move |duration| {
            recorded.lock().unwrap().push(duration);
            Box::pin(async {})
        }),
        ..RateLimitPolicy::default()
    };
    let github = GitHub::new(context).unwrap().with_rate_limit_policy(policy);
    (github, waits)
}

fn scheduled(fake: &FakeGitHub) -> (RunContext, GitHub) {
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let env = fake.env("schedule", "refs/heads/main", &sha);
    let context = RunContext::from_env(&env).unwrap();
    let (github, _) = client(&context);
    (context, github)
}

/// Method and path of every request that changed something.
fn write_paths(fake: &FakeGitHub) -> Vec<String> {
    fake.writes()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

const BEFORE: &[&str] = &["20.37.158.0/23", "52.108.0.0/15"];
const AFTER: &[&str] = &["20.37.158.0/23", "20.42.5.0/24", "20.42.134.0/23"];
const AFTER_SECOND: &[&str] = &["20.37.158.0/23", "20.42.5.0/24"];

async fn first_run(fake: &FakeGitHub) -> PublishOutcome {
    let (context, github) = scheduled(fake);
    let plan = make_plan(BEFORE, AFTER, 120);
    publish_plan(&github, &context, input(&plan, "## plan one\n"))
        .await
        .unwrap()
}

#[tokio::test]
async fn first_run_creates_issue_commit_pull() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let main_head = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let plan = make_plan(BEFORE, AFTER, 120);

    let outcome = first_run(&fake).await;

    let repo = format!("/repos/{OWNER}/{REPO}");
    assert_eq!(
        write_paths(&fake),
        vec![
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/trees"),
            format!("POST {repo}/git/commits"),
            format!("POST {repo}/git/refs"),
            format!("POST {repo}/pulls"),
            format!("POST {repo}/issues"),
            format!("POST {repo}/issues/2/comments"),
        ]
    );
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);

    let files = fake.branch_files(BRANCH);
    let expected: Vec<(String, Vec<u8>)> = plan_files(&plan);
    assert_eq!(files.len(), 4, "README.md and the three ipsync files");
    assert_eq!(files["README.md"], b"# infra\n".to_vec());
    for (path, content) in &expected {
        assert_eq!(&files[path], content, "{path}");
    }
    let commit = fake.commit(outcome.commit.as_ref().unwrap()).unwrap();
    assert_eq!(commit.parents, vec![main_head.clone()]);
    assert!(commit.message.starts_with(
        "ipsync: update ipsync-azure (2 to add, 1 to remove)\n\nSource: ServiceTags_Public_20261130.json"
    ));
    let tree_request = fake
        .writes()
        .into_iter()
        .find(|request| request.path.ends_with("/git/trees"))
        .unwrap();
    assert_eq!(
        tree_request.body["base_tree"],
        fake.commit(&main_head).unwrap().tree
    );
    assert_eq!(tree_request.body["tree"].as_array().unwrap().len(), 3);

    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].number, 1);
    assert_eq!(pulls[0].head, BRANCH);
    assert_eq!(pulls[0].base, DEFAULT_BRANCH);
    assert_eq!(
        pulls[0].title,
        "ipsync: update ipsync-azure (2 to add, 1 to remove)"
    );
    assert_eq!(pulls[0].body, "## plan one\n");
    let pull_outcome = outcome.pull_request.unwrap();
    assert_eq!(pull_outcome.change, Change::Created);

    let issues = fake.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].title, "ipsync: prod");
    assert_eq!(issues[0].labels, vec!["ipsync".to_owned()]);
    assert_eq!(issues[0].state, "open");
    assert_eq!(outcome.issue.unwrap().change, IssueChange::Created);

    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].issue_number, 2);
    assert!(
        comments[0]
            .body
            .starts_with("<!-- ipsync:target=prod -->\nReview and merge ")
    );
    assert!(comments[0].body.contains(&pull_outcome.html_url));
    assert!(comments[0].body.ends_with("## plan one\n"));
}

#[tokio::test]
async fn second_run_updates_comment_and_pull() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let first = first_run(&fake).await;
    fake.clear_requests();
    let (context, github) = scheduled(&fake);
    let plan = make_plan(BEFORE, AFTER_SECOND, 121);

    let outcome = publish_plan(&github, &context, input(&plan, "## plan two\n"))
        .await
        .unwrap();

    let repo = format!("/repos/{OWNER}/{REPO}");
    assert_eq!(
        write_paths(&fake),
        vec![
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/trees"),
            format!("POST {repo}/git/commits"),
            format!("PATCH {repo}/git/refs/heads/ipsync/prod"),
            format!("PATCH {repo}/pulls/1"),
            format!("PATCH {repo}/issues/comments/{}", first.comment.unwrap().id),
        ]
    );
    let commit = fake.commit(outcome.commit.as_ref().unwrap()).unwrap();
    assert_eq!(commit.parents, vec![first.commit.unwrap()]);
    assert_eq!(
        fake.branch_files(BRANCH)["ipsync/prod/plan.json"],
        serde_json::to_vec_pretty(&plan).unwrap()
    );

    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(
        pulls[0].title,
        "ipsync: update ipsync-azure (1 to add, 1 to remove)"
    );
    assert_eq!(pulls[0].body, "## plan two\n");
    assert_eq!(outcome.pull_request.unwrap().change, Change::Updated);

    assert_eq!(fake.issues().len(), 1);
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.ends_with("## plan two\n"));
    assert_eq!(outcome.comment.unwrap().change, Change::Updated);
}

#[tokio::test]
async fn moved_default_branch_becomes_parent() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let first = first_run(&fake).await;
    let moved = fake.push_files(DEFAULT_BRANCH, &[("docs/notes.md", b"notes\n")]);
    let (context, github) = scheduled(&fake);
    let plan = make_plan(BEFORE, AFTER_SECOND, 121);

    let outcome = publish_plan(&github, &context, input(&plan, "## plan two\n"))
        .await
        .unwrap();

    let commit = fake.commit(outcome.commit.as_ref().unwrap()).unwrap();
    assert_eq!(commit.parents, vec![first.commit.unwrap(), moved]);
    let files = fake.branch_files(BRANCH);
    assert_eq!(files["docs/notes.md"], b"notes\n".to_vec());
    assert_eq!(files.len(), 5);
}

#[tokio::test]
async fn unchanged_run_closes_issue() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let first = first_run(&fake).await;
    fake.clear_requests();
    let (context, github) = scheduled(&fake);
    let plan = make_plan(AFTER, AFTER, 120);
    let branch_head = fake.branch_head(BRANCH);

    let outcome = publish_plan(&github, &context, input(&plan, "No changes.\n"))
        .await
        .unwrap();

    let repo = format!("/repos/{OWNER}/{REPO}");
    let comment_id = first.comment.unwrap().id;
    assert_eq!(
        write_paths(&fake),
        vec![
            format!("PATCH {repo}/pulls/1"),
            format!("PATCH {repo}/issues/comments/{comment_id}"),
            format!("PATCH {repo}/issues/2"),
        ]
    );
    assert_eq!(outcome.closed_pull_requests, vec![1]);
    assert_eq!(fake.pulls()[0].state, "closed");
    assert!(!fake.pulls()[0].merged);
    assert_eq!(fake.branch_head(BRANCH), branch_head, "no commit");
    let issues = fake.issues();
    assert_eq!(issues[0].state, "closed");
    assert_eq!(outcome.issue.unwrap().change, IssueChange::Closed);
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .body
            .starts_with("<!-- ipsync:target=prod -->\n### ipsync: `ipsync-azure` is in sync\n")
    );
    let closing = fake
        .writes()
        .into_iter()
        .find(|request| request.path.ends_with("/issues/2"))
        .unwrap();
    assert_eq!(closing.body["state"], "closed");
    assert_eq!(closing.body["state_reason"], "completed");
}

#[tokio::test]
async fn unchanged_run_posts_nothing() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let (context, github) = scheduled(&fake);
    let plan = make_plan(AFTER, AFTER, 120);

    let outcome = publish_plan(&github, &context, input(&plan, "No changes.\n"))
        .await
        .unwrap();

    assert_eq!(write_paths(&fake), Vec::<String>::new());
    assert_eq!(outcome, PublishOutcome::default());
}

#[tokio::test]
async fn changed_run_reopens_closed_issue() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    first_run(&fake).await;
    let (context, github) = scheduled(&fake);
    let in_sync = make_plan(AFTER, AFTER, 120);
    publish_plan(&github, &context, input(&in_sync, "No changes.\n"))
        .await
        .unwrap();
    let changed = make_plan(AFTER, AFTER_SECOND, 122);

    let outcome = publish_plan(&github, &context, input(&changed, "## plan three\n"))
        .await
        .unwrap();

    assert_eq!(outcome.issue.unwrap().change, IssueChange::Reopened);
    let issues = fake.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].state, "open");
    assert_eq!(fake.comments().len(), 1);
    assert!(fake.comments()[0].body.ends_with("## plan three\n"));
}

#[tokio::test]
async fn forbidden_comment_becomes_warning() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_comments_forbidden(true);

    let outcome = first_run(&fake).await;

    assert_eq!(outcome.warnings.len(), 1);
    assert!(
        outcome.warnings[0].contains("add `issues: write` under `permissions:`"),
        "{}",
        outcome.warnings[0]
    );
    assert!(outcome.comment.is_none());
    assert!(outcome.commit.is_some());
    assert_eq!(fake.pulls().len(), 1);
    assert_eq!(fake.comments(), Vec::new());
    let rejected: Vec<String> = fake
        .writes()
        .iter()
        .filter(|request| request.path.ends_with("/comments"))
        .map(|request| request.path.clone())
        .collect();
    assert_eq!(
        rejected,
        vec![format!("/repos/{OWNER}/{REPO}/issues/2/comments")]
    );
}

#[tokio::test]
async fn long_body_is_cut_with_link() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let (context, github) = scheduled(&fake);
    let plan = make_plan(BEFORE, AFTER, 120);
    let mut markdown = String::from("## plan\n\n<details><summary>entries</summary>\n\n```diff\n");
    for index in 0..6000 {
        markdown.push_str(&format!("+ 10.{}.{}.0/24\n", index / 256, index % 256));
    }
    markdown.push_str("```\n\n</details>\n");
    assert!(markdown.chars().count() > 65_536);

    publish_plan(&github, &context, input(&plan, &markdown))
        .await
        .unwrap();

    let link = format!("{}/{OWNER}/{REPO}/tree/ipsync/prod/ipsync/prod", fake.url());
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(body.chars().count() < 65_536, "{}", body.chars().count());
    assert!(body.starts_with("<!-- ipsync:target=prod -->\n"));
    assert!(body.ends_with(&format!("The complete files are at {link}\n")));
    assert!(body.contains("```\n</details>\n\n---\n"));
    let pull_body = &fake.pulls()[0].body;
    assert!(pull_body.chars().count() < 65_536);
    assert!(pull_body.ends_with(&format!("The complete files are at {link}\n")));
}

#[tokio::test]
async fn secondary_rate_limit_is_waited_out() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let context = RunContext::from_env(&fake.env("schedule", "refs/heads/main", &sha)).unwrap();
    let (github, waits) = client(&context);
    fake.rate_limit_once();

    let branch = github.default_branch().await.unwrap();

    assert_eq!(branch, "main");
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(7)]);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, requests[1].path);
}

#[tokio::test]
async fn pull_request_run_comments_on_pull() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    first_run(&fake).await;
    fake.clear_requests();
    let dir = tempfile::tempdir().unwrap();
    let event_path = dir.path().join("event.json");
    std::fs::write(
        &event_path,
        r#"{"action":"synchronize","number":1,"pull_request":{"number":1}}"#,
    )
    .unwrap();
    let mut env = fake.env(
        "pull_request",
        "refs/pull/1/merge",
        "0123456789abcdef0123456789abcdef01234567",
    );
    env.set("GITHUB_EVENT_PATH", event_path.display().to_string());
    let context = RunContext::from_env(&env).unwrap();
    let (github, _) = client(&context);
    let plan = make_plan(BEFORE, AFTER, 120);

    let outcome = publish_plan(&github, &context, input(&plan, "## plan on pull\n"))
        .await
        .unwrap();

    assert_eq!(
        write_paths(&fake),
        vec![format!("POST /repos/{OWNER}/{REPO}/issues/1/comments")]
    );
    assert!(outcome.commit.is_none());
    let on_pull: Vec<_> = fake
        .comments()
        .into_iter()
        .filter(|comment| comment.issue_number == 1)
        .collect();
    assert_eq!(on_pull.len(), 1);
    assert!(
        on_pull[0]
            .body
            .starts_with("<!-- ipsync:target=prod -->\n## plan on pull")
    );
}

fn push_context(fake: &FakeGitHub, git_ref: &str, sha: &str) -> (RunContext, GitHub) {
    let context = RunContext::from_env(&fake.env("push", git_ref, sha)).unwrap();
    let (github, _) = client(&context);
    (context, github)
}

#[tokio::test]
async fn apply_allowed_on_protected_default() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_protected(true);
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let (context, github) = push_context(&fake, "refs/heads/main", &sha);

    let warnings = check_apply_allowed(&github, &context, false).await.unwrap();

    assert_eq!(warnings, Vec::<String>::new());
    let paths: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|request| request.path)
        .collect();
    assert_eq!(
        paths,
        vec![
            format!("/repos/{OWNER}/{REPO}"),
            format!("/repos/{OWNER}/{REPO}/branches/main"),
        ]
    );
}

#[tokio::test]
async fn apply_refused_on_other_branch() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_protected(true);
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let (context, github) = push_context(&fake, "refs/heads/ipsync/prod", &sha);

    let error = check_apply_allowed(&github, &context, true)
        .await
        .unwrap_err();

    assert!(matches!(error, ApplyCheckError::NotDefaultBranch { .. }));
    assert_eq!(
        error.to_string(),
        "apply runs only on the default branch `main`, and this run is on `ipsync/prod`; \
         merge the reviewed pull request and let the workflow run on `main`"
    );
}

#[tokio::test]
async fn apply_refused_on_pull_request_ref() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_protected(true);
    let (context, github) = push_context(
        &fake,
        "refs/pull/1/merge",
        "0123456789abcdef0123456789abcdef01234567",
    );

    let error = check_apply_allowed(&github, &context, false)
        .await
        .unwrap_err();

    assert!(
        error
            .to_string()
            .contains("this run is on `refs/pull/1/merge`"),
        "{error}"
    );
}

#[tokio::test]
async fn apply_refused_when_unprotected() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let (context, github) = push_context(&fake, "refs/heads/main", &sha);

    let error = check_apply_allowed(&github, &context, false)
        .await
        .unwrap_err();

    assert!(matches!(error, ApplyCheckError::Unprotected { ref branch } if branch == "main"));
    assert!(
        error.to_string().contains("`--allow-unprotected`"),
        "{error}"
    );
}

#[tokio::test]
async fn apply_allowed_unprotected_with_override() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let (context, github) = push_context(&fake, "refs/heads/main", &sha);

    let warnings = check_apply_allowed(&github, &context, true).await.unwrap();

    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("`main`, which is NOT protected"),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn committed_plan_read_after_merge() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let initial = fake.branch_head(DEFAULT_BRANCH).unwrap();
    first_run(&fake).await;
    let merged = fake.merge(1);
    let plan = make_plan(BEFORE, AFTER, 120);

    let (context, github) = push_context(&fake, "refs/heads/main", &merged);
    let read = read_committed_plan(&github, &context, "ipsync/prod/plan.json")
        .await
        .unwrap();

    assert_eq!(read, plan);
    let (before_merge, github) = push_context(&fake, "refs/heads/main", &initial);
    let error = read_committed_plan(&github, &before_merge, "ipsync/prod/plan.json")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "no plan file `ipsync/prod/plan.json` at commit `{initial}`; run plan, review and merge its pull request first"
        )
    );
    assert_eq!(fake.pulls()[0].state, "closed");
}

#[tokio::test]
async fn apply_result_updates_same_comment() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let first = first_run(&fake).await;
    let merged = fake.merge(1);
    fake.clear_requests();
    let (context, github) = push_context(&fake, "refs/heads/main", &merged);
    let content = comment::apply_content("Added 2 entries, removed 1.");

    let outcome = post_apply_result(&github, &context, SLUG, &content)
        .await
        .unwrap();

    let comment_id = first.comment.unwrap().id;
    assert_eq!(
        write_paths(&fake),
        vec![format!(
            "PATCH /repos/{OWNER}/{REPO}/issues/comments/{comment_id}"
        )]
    );
    assert_eq!(outcome.comment.unwrap().change, Change::Updated);
    assert_eq!(
        fake.comments()[0].body,
        "<!-- ipsync:target=prod -->\n### ipsync: applied\n\nAdded 2 entries, removed 1.\n"
    );
}

#[tokio::test]
async fn token_reaches_github() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };

    first_run(&fake).await;

    let requests = fake.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer ghs_fake_token"),
            "{} {}",
            request.method,
            request.path
        );
    }
}

#[tokio::test]
async fn forbidden_contents_skips_pull() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_contents_forbidden(true);

    let outcome = first_run(&fake).await;

    assert_eq!(outcome.warnings.len(), 1);
    assert!(
        outcome.warnings[0].contains("add `contents: write` under `permissions:`"),
        "{}",
        outcome.warnings[0]
    );
    assert!(outcome.commit.is_none());
    assert!(outcome.pull_request.is_none());
    assert_eq!(fake.branch_head(BRANCH), None);
    assert_eq!(fake.pulls(), Vec::new());
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .body
            .starts_with("<!-- ipsync:target=prod -->\n## plan one")
    );
}

#[tokio::test]
async fn forbidden_pulls_becomes_warning() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_pulls_forbidden(true);

    let outcome = first_run(&fake).await;

    assert_eq!(outcome.warnings.len(), 1);
    assert!(
        outcome.warnings[0].contains("Allow GitHub Actions to create and approve pull requests"),
        "{}",
        outcome.warnings[0]
    );
    assert!(outcome.commit.is_some());
    assert_eq!(fake.pulls(), Vec::new());
    assert_eq!(fake.comments().len(), 1);
}

#[tokio::test]
async fn primary_rate_limit_waits_until_reset() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let context = RunContext::from_env(&fake.env("schedule", "refs/heads/main", &sha)).unwrap();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let recorded = waits.clone();
    let policy = RateLimitPolicy {
        now: Arc::new(|| 1_764_849_600),
        sleep: Arc::new(move |duration| {
            recorded.lock().unwrap().push(duration);
            Box::pin(async {})
        }),
        ..RateLimitPolicy::default()
    };
    let github = GitHub::new(&context)
        .unwrap()
        .with_rate_limit_policy(policy);
    fake.primary_rate_limit_once(1_764_849_600 + 90);

    let protected = github.branch_protected("main").await.unwrap();

    assert!(!protected);
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(91)]);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn long_rate_limit_fails() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let context = RunContext::from_env(&fake.env("schedule", "refs/heads/main", &sha)).unwrap();
    let policy = RateLimitPolicy {
        now: Arc::new(|| 1_764_849_600),
        sleep: Arc::new(|_| panic!("must not wait past the maximum")),
        ..RateLimitPolicy::default()
    };
    let github = GitHub::new(&context)
        .unwrap()
        .with_rate_limit_policy(policy);
    fake.primary_rate_limit_once(1_764_849_600 + 3600);

    let error = github.default_branch().await.unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "GitHub rate limit on `GET /repos/{OWNER}/{REPO}`: the limit resets in 3601 s, \
             longer than the 900 s ipsync waits; run again later"
        )
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn fake_shapes_parse_as_octocrab_models() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    first_run(&fake).await;
    let octocrab = octocrab::Octocrab::builder()
        .base_uri(fake.url())
        .unwrap()
        .personal_token("ghs_fake_token".to_owned())
        .build()
        .unwrap();

    let issue: octocrab::models::issues::Issue = octocrab
        .get(format!("/repos/{OWNER}/{REPO}/issues/2"), None::<&()>)
        .await
        .unwrap();
    let comments: Vec<octocrab::models::issues::Comment> = octocrab
        .get(
            format!("/repos/{OWNER}/{REPO}/issues/2/comments"),
            None::<&()>,
        )
        .await
        .unwrap();
    let pulls: Vec<octocrab::models::pulls::PullRequest> = octocrab
        .get(format!("/repos/{OWNER}/{REPO}/pulls"), None::<&()>)
        .await
        .unwrap();

    assert_eq!(issue.number, 2);
    assert_eq!(comments.len(), 1);
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].head.ref_field, BRANCH);
}

#[tokio::test]
async fn identical_run_commits_nothing() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let first = first_run(&fake).await;
    fake.clear_requests();

    let second = first_run(&fake).await;

    let repo = format!("/repos/{OWNER}/{REPO}");
    assert_eq!(
        write_paths(&fake),
        vec![
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/blobs"),
            format!("POST {repo}/git/trees"),
        ]
    );
    assert_eq!(second.commit, first.commit);
    assert_eq!(second.commit_change, Some(Change::Unchanged));
    assert_eq!(second.pull_request.unwrap().change, Change::Unchanged);
    assert_eq!(second.comment.unwrap().change, Change::Unchanged);
    assert_eq!(second.issue.unwrap().change, IssueChange::Kept);
}

#[tokio::test]
async fn server_error_retried_for_get() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let context = RunContext::from_env(&fake.env("schedule", "refs/heads/main", &sha)).unwrap();
    let (github, waits) = client(&context);
    fake.server_error_once();

    let branch = github.default_branch().await.unwrap();

    assert_eq!(branch, "main");
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(2)]);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn server_error_not_retried_for_post() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let context = RunContext::from_env(&fake.env("schedule", "refs/heads/main", &sha)).unwrap();
    let (github, waits) = client(&context);
    fake.server_error_once();

    let error = github
        .create_issue("ipsync: prod", "body", &["ipsync"])
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(502));
    assert_eq!(*waits.lock().unwrap(), Vec::<Duration>::new());
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.issues(), Vec::new());
}

#[tokio::test]
async fn apply_refusal_reopens_issue() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    first_run(&fake).await;
    let (context, github) = scheduled(&fake);
    let in_sync = make_plan(AFTER, AFTER, 120);
    publish_plan(&github, &context, input(&in_sync, "No changes.\n"))
        .await
        .unwrap();
    let content = comment::refusal_content(
        "apply",
        "refused by the `drift` guard: list `ipsync-azure` changed since the plan was made",
        None,
    );

    let outcome = post_apply_refusal(&github, &context, SLUG, &content)
        .await
        .unwrap();

    assert_eq!(outcome.issue.unwrap().change, IssueChange::Reopened);
    assert_eq!(fake.issues()[0].state, "open");
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        comments[0].body,
        "<!-- ipsync:target=prod -->\n### ipsync: apply refused\n\n\
         > refused by the `drift` guard: list `ipsync-azure` changed since the plan was made\n"
    );
}

#[tokio::test]
async fn commit_to_branch_keeps_history() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let (_, github) = scheduled(&fake);
    let main_head = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let first_files = vec![("ipsync/prod/history.json".to_owned(), b"[1]\n".to_vec())];
    let second_files = vec![("ipsync/prod/history.json".to_owned(), b"[1,2]\n".to_vec())];

    let first = ipsync::review::commit_to_branch(
        &github,
        "ipsync/history",
        DEFAULT_BRANCH,
        &first_files,
        "Record apply 1",
    )
    .await
    .unwrap();
    let second = ipsync::review::commit_to_branch(
        &github,
        "ipsync/history",
        DEFAULT_BRANCH,
        &second_files,
        "Record apply 2",
    )
    .await
    .unwrap();

    assert_eq!(fake.commit(&first).unwrap().parents, vec![main_head]);
    assert_eq!(fake.commit(&second).unwrap().parents, vec![first]);
    assert_eq!(fake.branch_head("ipsync/history"), Some(second));
    let files = fake.branch_files("ipsync/history");
    assert_eq!(files["ipsync/prod/history.json"], b"[1,2]\n".to_vec());
    assert_eq!(files["README.md"], b"# infra\n".to_vec());
    let ref_writes: Vec<String> = write_paths(&fake)
        .into_iter()
        .filter(|path| path.contains("/git/refs"))
        .collect();
    assert_eq!(
        ref_writes,
        vec![
            format!("POST /repos/{OWNER}/{REPO}/git/refs"),
            format!("PATCH /repos/{OWNER}/{REPO}/git/refs/heads/ipsync/history"),
        ]
    );
    let update = fake
        .writes()
        .into_iter()
        .find(|request| request.method == "PATCH")
        .unwrap();
    assert_eq!(update.body["force"], false);
}

#[tokio::test]
async fn protected_default_rejects_commit() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    fake.set_protected(true);
    let (_, github) = scheduled(&fake);
    let main_head = fake.branch_head(DEFAULT_BRANCH);
    let files = vec![("ipsync/prod/history.json".to_owned(), b"[1]\n".to_vec())];

    let error = ipsync::review::commit_to_branch(
        &github,
        DEFAULT_BRANCH,
        DEFAULT_BRANCH,
        &files,
        "Record apply",
    )
    .await
    .unwrap_err();

    assert_eq!(error.status(), Some(422));
    assert!(
        error.to_string().contains("Protected branch update failed"),
        "{error}"
    );
    assert_eq!(fake.branch_head(DEFAULT_BRANCH), main_head);
}

#[tokio::test]
async fn enterprise_api_path_is_kept() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let sha = fake.branch_head(DEFAULT_BRANCH).unwrap();
    let mut env = fake.env("schedule", "refs/heads/main", &sha);
    env.set("GITHUB_API_URL", format!("{}/api/v3", fake.url()));
    let context = RunContext::from_env(&env).unwrap();
    let (github, _) = client(&context);

    let branch = github.default_branch().await.unwrap();

    assert_eq!(branch, "main");
    assert_eq!(
        fake.requests()[0].path,
        format!("/api/v3/repos/{OWNER}/{REPO}")
    );
}

#[tokio::test]
async fn unchanged_run_posts_when_asked() {
    let Some(fake) = FakeGitHub::start().await else {
        return;
    };
    let (context, github) = scheduled(&fake);
    let plan = make_plan(AFTER, AFTER, 120);
    let mut asked = input(&plan, "No changes.\n");
    asked.post_when_unchanged = true;

    let outcome = publish_plan(&github, &context, asked).await.unwrap();

    let repo = format!("/repos/{OWNER}/{REPO}");
    assert_eq!(
        write_paths(&fake),
        vec![
            format!("POST {repo}/issues"),
            format!("POST {repo}/issues/1/comments"),
            format!("PATCH {repo}/issues/1"),
        ]
    );
    assert_eq!(outcome.issue.unwrap().change, IssueChange::Closed);
    assert_eq!(fake.issues()[0].state, "closed");
    assert_eq!(
        fake.comments()[0].body,
        "<!-- ipsync:target=prod -->\n### ipsync: `ipsync-azure` is in sync\n\n\
         The live list matches the selected service tags; nothing to change.\n\nNo changes.\n"
    );
    assert!(outcome.commit.is_none());
}
