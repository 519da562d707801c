//! A catalogue of bad inputs: files, server responses, flags and list states.
//!
//! Each case runs the `ipsync` binary against a fresh emulator and asserts the exit
//! status (1), a part of the message, and that no list in the emulator changed.

use std::net::Ipv4Addr;
use std::path::Path;

use ipsync::databricks::{ListType, NewAccessList, Scope};
use ipsync::emulator::Emulator;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, run_ipsync, seed_allow, service_tags_file};

const NEW_FILE: &str = "ServiceTags_Public_20251103.json";
const OLD_FILE: &str = "ServiceTags_Public_20251006.json";

/// The lists a case starts from. Every variant but `Lockout` also seeds the runner list.
#[derive(Clone, Copy)]
enum Lists {
    /// AzureActiveDirectory as of 20251006.
    Standard,
    /// No list with the label.
    Missing,
    /// The label belongs to a BLOCK list.
    Block,
    /// Two allow lists share the label.
    SharedLabel,
    /// AzureActiveDirectory plus 30 entries that the plan would remove.
    LargeRemoval,
    /// Another list already contains 990 values.
    Crowded,
    /// The caller (203.0.113.9) is admitted only by an entry the plan removes.
    Lockout,
}

struct Case {
    lists: Lists,
    /// Arguments; `{new}` is the 20251103 file, `{dir}` a scratch folder, `{page}` a local
    /// download page server and `{emulator}` the emulator's URL.
    args: &'static [&'static str],
    /// Extra environment variables, with the same placeholders.
    env: &'static [(&'static str, &'static str)],
    /// Part of stderr that must appear.
    expect: &'static str,
    /// Address the emulator treats as the caller's.
    caller: Option<Ipv4Addr>,
}

const DEFAULT: Case = Case {
    lists: Lists::Standard,
    args: &[],
    env: &[],
    expect: "",
    caller: None,
};

fn seed(emulator: &Emulator, lists: Lists, old_aad: Vec<String>) {
    if !matches!(lists, Lists::Lockout) {
        support::seed_runner_list(emulator);
    }
    match lists {
        Lists::Standard => {
            seed_allow(emulator, "AzureActiveDirectory", old_aad);
        }
        Lists::Missing => {}
        Lists::Block => {
            emulator.seed(
                &Scope::Workspace,
                NewAccessList {
                    label: "AzureActiveDirectory".into(),
                    list_type: ListType::Block,
                    ip_addresses: vec!["192.0.2.0/24".into()],
                },
            );
        }
        Lists::SharedLabel => {
            seed_allow(emulator, "AzureActiveDirectory", old_aad.clone());
            seed_allow(emulator, "AzureActiveDirectory", old_aad);
        }
        Lists::LargeRemoval => {
            let mut entries = old_aad;
            entries.extend((0..30).map(|index| format!("198.18.{index}.0/24")));
            seed_allow(emulator, "AzureActiveDirectory", entries);
        }
        Lists::Crowded => {
            let others: Vec<String> = (0..990)
                .map(|index| format!("100.64.{}.{}", index / 256, index % 256))
                .collect();
            seed_allow(emulator, "office", others);
            seed_allow(emulator, "AzureDatabricks", Vec::new());
        }
        Lists::Lockout => {
            let mut entries = old_aad;
            entries.push("203.0.113.9/32".into());
            seed_allow(emulator, "AzureActiveDirectory", entries);
        }
    }
}

/// Writes the bad files every case may point at.
fn write_scratch_files(dir: &Path) {
    let files: [(&str, &str); 7] = [
        (
            "page.json",
            "<!DOCTYPE html><html><head><title>Access Denied</title></head><body></body></html>",
        ),
        (
            "truncated.json",
            r#"{"changeNumber": 376, "cloud": "Public", "values": [{"name": "AzureActiveDirectory""#,
        ),
        ("empty.json", ""),
        ("array.json", "[]"),
        (
            "ipv6-only.json",
            r#"{"changeNumber": 1, "cloud": "Public", "values": [{"name": "AzureActiveDirectory", "id": "AzureActiveDirectory",
               "properties": {"changeNumber": 1, "region": "", "regionId": 0, "platform": "Azure", "systemService": "AzureAD",
               "addressPrefixes": ["2603:1006:2000::/48"], "networkFeatures": null}}]}"#,
        ),
        (
            "bad-prefix.json",
            r#"{"changeNumber": 1, "cloud": "Public", "values": [{"name": "AzureActiveDirectory", "id": "AzureActiveDirectory",
               "properties": {"changeNumber": 1, "region": "", "regionId": 0, "platform": "Azure", "systemService": "AzureAD",
               "addressPrefixes": ["20.190.128.0/18", "20.231.128.0/33"], "networkFeatures": null}}]}"#,
        ),
        ("plan-v2.json", r#"{"version": 2, "target": {}}"#),
    ];
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

async fn run_case(case: Case) {
    let (Some(new_file), Some(old_file)) =
        (service_tags_file(NEW_FILE), service_tags_file(OLD_FILE))
    else {
        return;
    };
    let emulator = support::start_emulator().await;
    let old_aad = support::fixture_ipv4(&old_file, &["AzureActiveDirectory"]);
    seed(&emulator, case.lists, old_aad);
    if let Some(caller) = case.caller {
        emulator.set_caller_ip(caller);
    }

    let page = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/no-link"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("<html><body>Azure IP Ranges, no file today</body></html>"),
        )
        .mount(&page)
        .await;
    Mock::given(method("GET"))
        .and(path("/missing.json"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .mount(&page)
        .await;

    let scratch = tempfile::tempdir().unwrap();
    write_scratch_files(scratch.path());
    let emulator_url = emulator.url().as_str().trim_end_matches('/').to_owned();
    let fill = |text: &str| {
        text.replace("{new}", &new_file.display().to_string())
            .replace("{dir}", &scratch.path().display().to_string())
            .replace("{page}", &page.uri())
            .replace("{emulator}", &emulator_url)
            .replace("PORT", &emulator.local_addr().port().to_string())
    };
    // The record of an earlier apply that used a newer AzureActiveDirectory (changeNumber 99).
    if case.expect.contains("older-source") {
        let state = scratch
            .path()
            .join(fill("state/workspace-127.0.0.1-PORT-AzureActiveDirectory"));
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(
            state.join("applied.json"),
            r#"{"applied_at": "2026-11-30T00:00:00Z", "list_id": "x", "file_name": "ServiceTags_Public_20991231.json",
                "change_number": 999, "tags": [{"name": "AzureActiveDirectory", "change_number": 99, "ipv4_count": 200,
                "ipv6_count": 16}], "entries": 200, "added": 0, "removed": 0}"#,
        )
        .unwrap();
    }

    let mut args: Vec<String> = case.args.iter().map(|arg| fill(arg)).collect();
    args.extend([
        "--state-dir".to_owned(),
        scratch.path().join("state").display().to_string(),
    ]);
    let mut env = support::emulator_env(&emulator);
    for (name, value) in case.env {
        env.retain(|(existing, _)| existing != name);
        env.push(((*name).to_owned(), fill(value)));
    }
    let before = emulator.lists(&Scope::Workspace);

    let output = run_ipsync(args, env).await;

    let stderr = support::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(case.expect),
        "expected `{}` in stderr: {stderr}",
        case.expect
    );
    assert_eq!(
        emulator.lists(&Scope::Workspace),
        before,
        "the lists changed"
    );
    emulator.shutdown().await;
}

macro_rules! bad_input {
    ($($name:ident: $case:expr;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $name() {
                run_case($case).await;
            }
        )*
    };
}

bad_input! {
    file_html_page: Case {
        args: &["plan", "--service-tags-file", "{dir}/page.json"],
        expect: "is an HTML page titled `Access Denied`, not a service tags JSON file",
        ..DEFAULT
    };
    file_truncated: Case {
        args: &["plan", "--service-tags-file", "{dir}/truncated.json"],
        expect: "ends early after",
        ..DEFAULT
    };
    file_empty: Case {
        args: &["plan", "--service-tags-file", "{dir}/empty.json"],
        expect: "empty.json",
        ..DEFAULT
    };
    file_wrong_shape: Case {
        args: &["plan", "--service-tags-file", "{dir}/array.json"],
        expect: "array.json",
        ..DEFAULT
    };
    file_missing: Case {
        args: &["plan", "--service-tags-file", "{dir}/absent.json"],
        expect: "failed to read service tags file",
        ..DEFAULT
    };
    file_wrong_cloud: Case {
        args: &["plan", "--service-tags-file", "{new}", "--cloud", "usgov"],
        expect: "contains service tags for cloud `Public`, but cloud `usgov` (`AzureGovernment`) was requested",
        ..DEFAULT
    };
    tag_missing_with_suggestion: Case {
        args: &["plan", "--service-tags-file", "{new}", "--tag", "AzureActiveDirectry"],
        expect: "service tag `AzureActiveDirectry` (did you mean `AzureActiveDirectory`?) not found",
        ..DEFAULT
    };
    tag_without_ipv4: Case {
        args: &["plan", "--service-tags-file", "{dir}/ipv6-only.json"],
        expect: "AzureActiveDirectory",
        ..DEFAULT
    };
    tag_with_invalid_prefix: Case {
        args: &["plan", "--service-tags-file", "{dir}/bad-prefix.json"],
        expect: "20.231.128.0/33",
        ..DEFAULT
    };
    url_not_found: Case {
        args: &["plan", "--service-tags-url", "{page}/missing.json"],
        expect: "404",
        ..DEFAULT
    };
    page_without_link: Case {
        args: &["plan", "--download-page-url", "{page}/no-link"],
        expect: "--service-tags-url",
        ..DEFAULT
    };
    token_rejected: Case {
        args: &["plan", "--service-tags-file", "{new}"],
        env: &[("DATABRICKS_TOKEN", "dapi-wrong")],
        expect: "401",
        ..DEFAULT
    };
    caller_blocked_by_ip_acl: Case {
        args: &["plan", "--service-tags-file", "{new}"],
        expect: "blocked by Databricks IP ACL",
        caller: Some(Ipv4Addr::new(198, 51, 100, 77)),
        ..DEFAULT
    };
    include_invalid: Case {
        args: &["plan", "--service-tags-file", "{new}", "--include", "10.0.0.0/33"],
        expect: "invalid `--include` range `10.0.0.0/33`",
        ..DEFAULT
    };
    cloud_unknown: Case {
        args: &["plan", "--service-tags-file", "{new}", "--cloud", "mars"],
        expect: "invalid cloud `mars`: expected one of `public`, `usgov`, `china`",
        ..DEFAULT
    };
    host_unsupported_scheme: Case {
        args: &["plan", "--service-tags-file", "{new}", "--host", "ftp://adb-1.azuredatabricks.net"],
        expect: "unsupported scheme `ftp`",
        ..DEFAULT
    };
    host_plain_http_remote: Case {
        args: &["plan", "--service-tags-file", "{new}", "--host", "http://adb-1.azuredatabricks.net"],
        expect: "plain `http://` is accepted only for a loopback address",
        ..DEFAULT
    };
    host_missing: Case {
        args: &["plan", "--service-tags-file", "{new}"],
        env: &[("DATABRICKS_HOST", "")],
        expect: "no Databricks host given",
        ..DEFAULT
    };
    account_host_without_id: Case {
        args: &["plan", "--service-tags-file", "{new}", "--host", "https://accounts.azuredatabricks.net"],
        expect: "set `--account-id` or `DATABRICKS_ACCOUNT_ID`",
        ..DEFAULT
    };
    bool_flag_misspelt: Case {
        args: &["apply", "--service-tags-file", "{new}", "--yes=maybe"],
        expect: "expected `true` or `false`, found `maybe`",
        ..DEFAULT
    };
    bool_variable_misspelt: Case {
        args: &["plan", "--service-tags-file", "{new}"],
        env: &[("IPSYNC_DETAILED_EXITCODE", "yes")],
        expect: "invalid value `yes` for input `detailed-exitcode`: expected `true` or `false` \
                 (environment variable `IPSYNC_DETAILED_EXITCODE`)",
        ..DEFAULT
    };
    file_and_url_together: Case {
        args: &["plan", "--service-tags-file", "{new}", "--service-tags-url", "{page}/x.json"],
        expect: "cannot be used with",
        ..DEFAULT
    };
    tag_empty: Case {
        args: &["plan", "--service-tags-file", "{new}", "--tag="],
        expect: "no service tag given",
        ..DEFAULT
    };
    list_is_block_list: Case {
        lists: Lists::Block,
        args: &["apply", "--yes", "--service-tags-file", "{new}"],
        expect: "refused by the `block-list` guard",
        ..DEFAULT
    };
    label_shared: Case {
        lists: Lists::SharedLabel,
        args: &["apply", "--yes", "--service-tags-file", "{new}"],
        expect: "refused by the `ambiguous-label` guard",
        ..DEFAULT
    };
    list_missing: Case {
        lists: Lists::Missing,
        args: &["apply", "--yes", "--service-tags-file", "{new}"],
        expect: "refused by the `missing-list` guard: no IP access list has the label `AzureActiveDirectory`",
        ..DEFAULT
    };
    list_id_unknown: Case {
        args: &["apply", "--yes", "--service-tags-file", "{new}", "--list-id", "no-such-list"],
        expect: "no IP access list has id `no-such-list`",
        ..DEFAULT
    };
    removal_too_large: Case {
        lists: Lists::LargeRemoval,
        args: &["apply", "--yes", "--service-tags-file", "{new}"],
        expect: "refused by the `large-removal` guard: the plan removes 30 of 230 entries",
        ..DEFAULT
    };
    values_over_budget: Case {
        lists: Lists::Crowded,
        args: &["apply", "--yes", "--service-tags-file", "{new}", "--tag", "AzureDatabricks"],
        expect: "refused by the `value-budget` guard",
        ..DEFAULT
    };
    source_older_than_applied: Case {
        args: &["apply", "--yes", "--service-tags-file", "{new}"],
        expect: "refused by the `older-source` guard: tag `AzureActiveDirectory` has changeNumber 26",
        ..DEFAULT
    };
    plan_file_version_unknown: Case {
        args: &["apply", "--yes", "--plan", "{dir}/plan-v2.json"],
        expect: "has version 2, and this ipsync reads version 1",
        ..DEFAULT
    };
    plan_file_missing: Case {
        args: &["apply", "--yes", "--plan", "{dir}/absent-plan.json"],
        expect: "failed to read the plan file",
        ..DEFAULT
    };
    write_would_lock_out_caller: Case {
        lists: Lists::Lockout,
        args: &["apply", "--yes", "--service-tags-file", "{new}"],
        expect: "INVALID_STATE",
        caller: Some(Ipv4Addr::new(203, 0, 113, 9)),
        ..DEFAULT
    };
}
