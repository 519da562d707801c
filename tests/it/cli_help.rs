//! `--help` is part of what users read first, so its text is pinned by snapshots.
//! The binary runs with an empty environment, so no `[env: NAME=value]` shows a value.

use crate::support::{run_ipsync, stdout};

async fn help(args: &[&str]) -> String {
    let output = run_ipsync(
        args.iter().map(|arg| (*arg).to_owned()).collect(),
        Vec::new(),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    stdout(&output)
}

#[tokio::test]
async fn help_top_level() {
    insta::assert_snapshot!(help(&["--help"]).await);
}

#[tokio::test]
async fn help_plan() {
    insta::assert_snapshot!(help(&["plan", "--help"]).await);
}

#[tokio::test]
async fn help_apply() {
    insta::assert_snapshot!(help(&["apply", "--help"]).await);
}

#[tokio::test]
async fn help_emulate_hides_secret_values() {
    let output = run_ipsync(
        vec!["emulate".into(), "--help".into()],
        vec![(
            "IPSYNC_EMULATOR_TOKEN".into(),
            "planted-emulator-token".into(),
        )],
    )
    .await;

    let text = stdout(&output);
    assert!(text.contains("IPSYNC_EMULATOR_TOKEN"), "{text}");
    assert!(!text.contains("planted-emulator-token"), "{text}");
}

#[tokio::test]
async fn usage_error_exits_with_one() {
    let output = run_ipsync(vec!["plan".into(), "--no-such-flag".into()], Vec::new()).await;

    assert_eq!(
        output.status.code(),
        Some(1),
        "usage errors must not look like `changes pending` (2)"
    );
}
