//! `ipsync plan` through the real binary with every authentication method. The emulator
//! accepts only the token that the method must obtain, and the local fakes of GitHub, Entra ID
//! and the instance metadata service respond only to the exact request each method must send.
//! A last test runs plan, apply, `auth`, failing runs and every `--help` with a secret planted
//! in each credential variable, and scans the output and the written files for them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use ipsync::databricks::{AccessList, ListType, NewAccessList, Scope};
use ipsync::emulator::{Emulator, EmulatorConfig};
use ipsync::secret::Secret;
use tempfile::TempDir;
use wiremock::ResponseTemplate;

use crate::support::auth_fakes::{FakeEntra, FakeGithubOidc, FakeMetadata, token_response};
use crate::support::{self, run_ipsync, service_tags_file, strings};

const FIXTURE: &str = "ServiceTags_Public_20251103.json";
/// The list the plan targets: by default, the one labelled with the first tag's name.
const LABEL: &str = "AzureActiveDirectory";
const ACCOUNT_ID: &str = "acc-1";
const DATABRICKS_RESOURCE: &str = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d";
const MANAGEMENT_RESOURCE: &str = "https://management.core.windows.net/";
const PAT: &str = "dapi-plan-pat-4c1e";
const CLIENT_ID: &str = "sp-client-id";
const CLIENT_SECRET: &str = "m2m-secret-9b2d";
const REQUEST_TOKEN: &str = "gh-request-token-51aa";
/// A JWT whose payload is `{"iss":"https://token.actions.githubusercontent.com",
/// "sub":"repo:octo-org/ipsync:environment:production","aud":"api://AzureADTokenExchange"}`.
const GITHUB_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIiwic3ViIjoicmVwbzpvY3RvLW9yZy9pcHN5bmM6ZW52aXJvbm1lbnQ6cHJvZHVjdGlvbiIsImF1ZCI6ImFwaTovL0F6dXJlQURUb2tlbkV4Y2hhbmdlIn0.c2lnbmF0dXJl";
/// A subject token that no federation policy of the emulator accepts unless a test lists it.
const OTHER_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvdGhlciJ9.b3RoZXI";
const ARM_CLIENT_ID: &str = "arm-client";
const ARM_CLIENT_SECRET: &str = "arm-secret-d81f";
const TENANT: &str = "tenant-1";
const ENTRA_DATABRICKS_TOKEN: &str = "entra-databricks-access-3e7c";
const ENTRA_MANAGEMENT_TOKEN: &str = "entra-management-access-a09b";
const MSI_DATABRICKS_TOKEN: &str = "msi-databricks-access-62f0";
const MSI_MANAGEMENT_TOKEN: &str = "msi-management-access-0cd4";
/// The only token the emulator accepts in the cases where the method's token must be rejected.
const UNRELATED_TOKEN: &str = "dapi-unrelated-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Pat,
    OAuthM2mWorkspace,
    OAuthM2mAccount,
    GithubOidc,
    EnvOidc,
    FileOidc,
    AzureClientSecret,
    GithubOidcAzure,
    AzureMsi,
}

impl Case {
    /// The method name that `ipsync` reports.
    fn method(self) -> &'static str {
        match self {
            Case::Pat => "pat",
            Case::OAuthM2mWorkspace | Case::OAuthM2mAccount => "oauth-m2m",
            Case::GithubOidc => "github-oidc",
            Case::EnvOidc => "env-oidc",
            Case::FileOidc => "file-oidc",
            Case::AzureClientSecret => "azure-client-secret",
            Case::GithubOidcAzure => "github-oidc-azure",
            Case::AzureMsi => "azure-msi",
        }
    }

    fn scope(self) -> Scope {
        match self {
            Case::OAuthM2mAccount => Scope::Account {
                account_id: ACCOUNT_ID.to_owned(),
            },
            _ => Scope::Workspace,
        }
    }
}

/// Whether the Databricks side accepts what the method obtains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Rejected,
}

/// One run's servers and files, kept alive until the run ends. The fakes check on drop that
/// each expected request arrived.
struct Setup {
    emulator: Emulator,
    seeded: AccessList,
    env: Vec<(String, String)>,
    _github: Option<FakeGithubOidc>,
    entra: Option<FakeEntra>,
    metadata: Option<FakeMetadata>,
    _token_folder: Option<TempDir>,
}

/// Builds the emulator configuration. Methods that exchange credentials at the emulator's own
/// token endpoints get no static token, so only an issued token passes. For the other methods
/// the method's token is the only static one. A rejected case changes the accepted credential.
fn emulator_config(case: Case, outcome: Outcome) -> EmulatorConfig {
    let accepted = outcome == Outcome::Accepted;
    let static_token = |token: &str| {
        let token = if accepted { token } else { UNRELATED_TOKEN };
        vec![Secret::new(token)]
    };
    let subject_token = if accepted { GITHUB_JWT } else { OTHER_JWT };
    let client_secret = if accepted {
        CLIENT_SECRET
    } else {
        "another-secret"
    };

    let mut config = EmulatorConfig::default();
    match case {
        Case::Pat => config.tokens = static_token(PAT),
        Case::OAuthM2mWorkspace | Case::OAuthM2mAccount => {
            config.client = Some((CLIENT_ID.to_owned(), Secret::new(client_secret)));
        }
        Case::GithubOidc | Case::EnvOidc | Case::FileOidc => {
            config.federated_subject_tokens = vec![Secret::new(subject_token)];
        }
        Case::AzureClientSecret | Case::GithubOidcAzure => {
            config.tokens = static_token(ENTRA_DATABRICKS_TOKEN);
        }
        Case::AzureMsi => config.tokens = static_token(MSI_DATABRICKS_TOKEN),
    }
    config
}

/// Starts the emulator and the method's fakes, seeds the runner list and the target list in
/// the case's scope, and returns the environment for `ipsync`.
async fn set_up(case: Case, outcome: Outcome) -> Setup {
    let emulator = Emulator::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        emulator_config(case, outcome),
    )
    .await
    .unwrap();
    let scope = case.scope();
    let list = |label: &str, entries: &[&str]| NewAccessList {
        label: label.to_owned(),
        list_type: ListType::Allow,
        ip_addresses: strings(entries),
    };
    emulator.seed(&scope, list("ci-runners", &["127.0.0.1/32"]));
    let seeded = emulator.seed(&scope, list(LABEL, &["20.190.128.0/18"]));

    let host = emulator.url().as_str().trim_end_matches('/').to_owned();
    let mut setup = Setup {
        emulator,
        seeded,
        env: vec![("DATABRICKS_HOST".to_owned(), host)],
        _github: None,
        entra: None,
        metadata: None,
        _token_folder: None,
    };
    match case {
        Case::Pat => setup.set("DATABRICKS_TOKEN", PAT),
        Case::OAuthM2mWorkspace | Case::OAuthM2mAccount => {
            setup.set("DATABRICKS_CLIENT_ID", CLIENT_ID);
            setup.set("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET);
        }
        Case::GithubOidc => {
            let port = setup.emulator.local_addr().port();
            let audience = format!("http%3A%2F%2F127.0.0.1%3A{port}%2Foidc%2Fv1%2Ftoken");
            setup.github(&audience, 1).await;
            setup.set("DATABRICKS_CLIENT_ID", CLIENT_ID);
        }
        Case::EnvOidc => setup.set("DATABRICKS_OIDC_TOKEN", GITHUB_JWT),
        Case::FileOidc => {
            let folder = tempfile::tempdir().unwrap();
            let path = folder.path().join("oidc-token");
            std::fs::write(&path, GITHUB_JWT).unwrap();
            setup.set("DATABRICKS_OIDC_TOKEN_FILEPATH", path.to_str().unwrap());
            setup._token_folder = Some(folder);
        }
        Case::AzureClientSecret => {
            let entra = FakeEntra::start().await;
            for (resource, token) in [
                (DATABRICKS_RESOURCE, ENTRA_DATABRICKS_TOKEN),
                (MANAGEMENT_RESOURCE, ENTRA_MANAGEMENT_TOKEN),
            ] {
                entra
                    .client_secret(
                        TENANT,
                        ARM_CLIENT_ID,
                        ARM_CLIENT_SECRET,
                        resource,
                        token_response(token, 3599),
                    )
                    .await;
            }
            setup.set("DATABRICKS_AUTH_TYPE", "azure-client-secret");
            setup.set("ARM_CLIENT_ID", ARM_CLIENT_ID);
            setup.set("ARM_CLIENT_SECRET", ARM_CLIENT_SECRET);
            setup.set("ARM_TENANT_ID", TENANT);
            setup.set("IPSYNC_AZURE_LOGIN_URL", entra.login_url().as_str());
            setup.entra = Some(entra);
        }
        Case::GithubOidcAzure => {
            // A 401 from Databricks makes ipsync drop the token and run the whole grant once
            // more, which requests a new GitHub JWT.
            let calls = match outcome {
                Outcome::Accepted => 1,
                Outcome::Rejected => 2,
            };
            setup
                .github("api%3A%2F%2FAzureADTokenExchange", calls)
                .await;
            let entra = FakeEntra::start().await;
            entra
                .client_assertion(
                    TENANT,
                    ARM_CLIENT_ID,
                    GITHUB_JWT,
                    DATABRICKS_RESOURCE,
                    token_response(ENTRA_DATABRICKS_TOKEN, 3599),
                )
                .await;
            setup.set("DATABRICKS_AUTH_TYPE", "github-oidc-azure");
            setup.set("ARM_CLIENT_ID", ARM_CLIENT_ID);
            setup.set("ARM_TENANT_ID", TENANT);
            setup.set("IPSYNC_AZURE_LOGIN_URL", entra.login_url().as_str());
            setup.entra = Some(entra);
        }
        Case::AzureMsi => {
            let metadata = FakeMetadata::start().await;
            for (resource, token) in [
                (DATABRICKS_RESOURCE, MSI_DATABRICKS_TOKEN),
                (
                    "https%3A%2F%2Fmanagement.core.windows.net%2F",
                    MSI_MANAGEMENT_TOKEN,
                ),
            ] {
                let query =
                    format!("api-version=2018-02-01&resource={resource}&client_id=msi-client");
                metadata.identity_token(&query, token).await;
            }
            setup.set("DATABRICKS_AUTH_TYPE", "azure-msi");
            setup.set("ARM_USE_MSI", "true");
            setup.set("ARM_CLIENT_ID", "msi-client");
            setup.set("IPSYNC_AZURE_METADATA_URL", metadata.url().as_str());
            setup.metadata = Some(metadata);
        }
    }
    setup
}

impl Setup {
    /// Counts the requests that reached the Entra ID and instance metadata fakes.
    async fn azure_token_requests(&self) -> usize {
        let mut count = 0;
        if let Some(entra) = &self.entra {
            count += entra.server.received_requests().await.unwrap().len();
        }
        if let Some(metadata) = &self.metadata {
            count += metadata.server.received_requests().await.unwrap().len();
        }
        count
    }

    fn set(&mut self, name: &str, value: &str) {
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Starts the GitHub OIDC fake, which issues [`GITHUB_JWT`] for `encoded_audience` and
    /// expects exactly `calls` requests.
    async fn github(&mut self, encoded_audience: &str, calls: u64) {
        let github = FakeGithubOidc::start().await;
        github
            .issue_times(REQUEST_TOKEN, encoded_audience, GITHUB_JWT, calls)
            .await;
        self.set("ACTIONS_ID_TOKEN_REQUEST_URL", &github.request_url());
        self.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
        self._github = Some(github);
    }
}

fn plan_args(fixture: PathBuf, case: Case) -> Vec<String> {
    let mut args = strings(&["plan", "--format", "json", "--service-tags-file"]);
    args.push(fixture.display().to_string());
    if case.scope() != Scope::Workspace {
        args.extend(strings(&["--scope", "account", "--account-id", ACCOUNT_ID]));
    }
    args
}

/// Runs `ipsync plan` with `case`'s method and checks that the plan names the seeded list.
async fn plan_succeeds(case: Case) {
    let Some(fixture) = service_tags_file(FIXTURE) else {
        return;
    };
    let setup = set_up(case, Outcome::Accepted).await;

    let output = run_ipsync(plan_args(fixture, case), setup.env.clone()).await;

    assert_eq!(
        output.status.code(),
        Some(0),
        "{}: stderr: {}",
        case.method(),
        support::stderr(&output)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["target"]["label"], LABEL, "{}", case.method());
    // The emulator ignores the management token header, so the Entra ID and metadata fakes
    // count the token requests instead: one per resource. A request that no mock matched
    // would have failed the run.
    let azure_requests = setup.azure_token_requests().await;
    let expected_azure_requests = match case {
        Case::AzureClientSecret | Case::AzureMsi => 2,
        Case::GithubOidcAzure => 1,
        _ => 0,
    };
    assert_eq!(azure_requests, expected_azure_requests, "{}", case.method());
    assert_eq!(
        plan["target"]["list_id"],
        setup.seeded.list_id.as_str(),
        "{}",
        case.method()
    );
    setup.emulator.shutdown().await;
}

/// Runs `ipsync plan` where the emulator accepts another credential than the method's, and
/// checks that the failure names the method.
async fn plan_rejected(case: Case) {
    let Some(fixture) = service_tags_file(FIXTURE) else {
        return;
    };
    let setup = set_up(case, Outcome::Rejected).await;

    let output = run_ipsync(plan_args(fixture, case), setup.env.clone()).await;

    let stderr = support::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{}: {stderr}", case.method());
    // The log lines before the error name the method too, so only the error part counts.
    let error = &stderr[stderr.find("error: ").expect(&stderr)..];
    let named = [
        format!("{} authentication failed: ", case.method()),
        format!("the token that `{}` authentication sent", case.method()),
    ];
    assert!(
        named.iter().any(|naming| error.contains(naming.as_str())),
        "the error does not name `{}`: {error}",
        case.method()
    );
    assert!(output.stdout.is_empty(), "{}", support::stdout(&output));
    setup.emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_pat() {
    plan_succeeds(Case::Pat).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_oauth_m2m_workspace() {
    plan_succeeds(Case::OAuthM2mWorkspace).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_oauth_m2m_account() {
    plan_succeeds(Case::OAuthM2mAccount).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_github_oidc() {
    plan_succeeds(Case::GithubOidc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_env_oidc() {
    plan_succeeds(Case::EnvOidc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_file_oidc() {
    plan_succeeds(Case::FileOidc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_azure_client_secret() {
    plan_succeeds(Case::AzureClientSecret).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_github_oidc_azure() {
    plan_succeeds(Case::GithubOidcAzure).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_azure_msi() {
    plan_succeeds(Case::AzureMsi).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_pat() {
    plan_rejected(Case::Pat).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_oauth_m2m_workspace() {
    plan_rejected(Case::OAuthM2mWorkspace).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_oauth_m2m_account() {
    plan_rejected(Case::OAuthM2mAccount).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_github_oidc() {
    plan_rejected(Case::GithubOidc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_env_oidc() {
    plan_rejected(Case::EnvOidc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_file_oidc() {
    plan_rejected(Case::FileOidc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_azure_client_secret() {
    plan_rejected(Case::AzureClientSecret).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_github_oidc_azure() {
    plan_rejected(Case::GithubOidcAzure).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_rejected_azure_msi() {
    plan_rejected(Case::AzureMsi).await;
}

/// Secrets planted in every variable that carries one, each distinct so that a leak names its
/// source.
const PLANTED: [(&str, &str); 8] = [
    ("DATABRICKS_TOKEN", "SECRET-PAT-7f3a91c2e4"),
    ("DATABRICKS_CLIENT_SECRET", "SECRET-M2M-52b8d0a6f1"),
    ("ARM_CLIENT_SECRET", "SECRET-ARM-c93e17b4a8"),
    ("DATABRICKS_OIDC_TOKEN", "SECRET-OIDC-0e6f2d9b35"),
    (
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SECRET-ACTIONS-8a4c61e7d0",
    ),
    ("GITHUB_TOKEN", "SECRET-GITHUB-3d7b05f92c"),
    ("IPSYNC_EMULATOR_TOKEN", "SECRET-EMULATOR-b61f48c3a7"),
    (
        "IPSYNC_EMULATOR_CLIENT_SECRET",
        "SECRET-EMULATOR-CLIENT-94e2a07d5b",
    ),
];

/// What one run left behind: its output and every file written under its working folder.
struct Scanned {
    run: String,
    texts: Vec<(String, Vec<u8>)>,
}

impl Scanned {
    /// Fails the test when any planted secret appears in the output or in a written file.
    fn assert_no_secret(&self) {
        for (source, bytes) in &self.texts {
            for (variable, secret) in PLANTED {
                let found = bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes());
                assert!(
                    !found,
                    "`{}`: {source} contains the value of {variable}",
                    self.run
                );
            }
        }
    }

    fn files(&self) -> Vec<&str> {
        self.texts
            .iter()
            .map(|(source, _)| source.as_str())
            .filter(|source| *source != "stdout" && *source != "stderr")
            .collect()
    }
}

/// Runs `ipsync` in a new working folder with the planted secrets plus `env`, and collects
/// stdout, stderr and every file under the folder.
async fn run_scanned(args: &[&str], env: &[(String, String)]) -> (std::process::Output, Scanned) {
    let folder = tempfile::tempdir().unwrap();
    let mut full_env: Vec<(String, String)> = PLANTED
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    full_env.extend(env.iter().cloned());

    let output = support::run_ipsync_in(folder.path(), strings(args), full_env).await;

    let mut texts = vec![
        ("stdout".to_owned(), output.stdout.clone()),
        ("stderr".to_owned(), output.stderr.clone()),
    ];
    let mut pending = vec![folder.path().to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(folder.path()).unwrap();
            texts.push((
                relative.display().to_string(),
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    let scanned = Scanned {
        run: args.join(" "),
        texts,
    };
    (output, scanned)
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_plan_secrets_never_written() {
    let Some(fixture) = service_tags_file(FIXTURE) else {
        return;
    };
    let fixture = fixture.display().to_string();
    let pat = PLANTED[0].1;
    let emulator = Emulator::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        EmulatorConfig {
            tokens: vec![Secret::new(pat)],
            client: Some((CLIENT_ID.to_owned(), Secret::new("not-the-planted-secret"))),
            ..EmulatorConfig::default()
        },
    )
    .await
    .unwrap();
    support::seed_runner_list(&emulator);
    let seeded = support::seed_allow(&emulator, LABEL, strings(&["198.51.100.0/24"]));
    let host = (
        "DATABRICKS_HOST".to_owned(),
        emulator.url().as_str().trim_end_matches('/').to_owned(),
    );
    let source = ["--service-tags-file", fixture.as_str()];

    let mut plan_args = vec!["-vv", "plan", "--save-state", "--out", "plan.json"];
    plan_args.extend(source);
    let (output, plan) = run_scanned(&plan_args, std::slice::from_ref(&host)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::stderr(&output)
    );
    assert!(plan.files().contains(&"plan.json"), "{:?}", plan.files());
    assert!(
        plan.files().len() > 1,
        "no state written: {:?}",
        plan.files()
    );
    plan.assert_no_secret();

    let mut apply_args = vec!["-vv", "apply", "--yes"];
    apply_args.extend(source);
    let (output, apply) = run_scanned(&apply_args, std::slice::from_ref(&host)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::stderr(&output)
    );
    let applied = emulator
        .lists(&Scope::Workspace)
        .into_iter()
        .find(|list| list.list_id == seeded.list_id)
        .unwrap();
    assert_ne!(
        applied.ip_addresses, seeded.ip_addresses,
        "apply wrote nothing"
    );
    assert!(!apply.files().is_empty(), "no backup written");
    apply.assert_no_secret();

    let (output, auth) = run_scanned(&["auth"], std::slice::from_ref(&host)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::stderr(&output)
    );
    let report = support::stdout(&output);
    assert!(report.contains("method:          pat "), "{report}");
    assert!(report.contains("token:           obtained"), "{report}");
    auth.assert_no_secret();

    // Each forced method fails with its planted credential, because the emulator accepts
    // another client secret and no subject token, Entra ID rejects the client secret, and the
    // GitHub fake has no route for the JWT request. The pat run sends a token that starts with the
    // planted one but is unknown to the emulator, so it fails with a 401.
    let entra = FakeEntra::start().await;
    entra
        .client_secret(
            TENANT,
            ARM_CLIENT_ID,
            PLANTED[2].1,
            DATABRICKS_RESOURCE,
            ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
            })),
        )
        .await;
    let github = FakeGithubOidc::start().await;
    let forced = |method: &str, extra: &[(&str, &str)]| {
        let mut env = vec![
            host.clone(),
            ("DATABRICKS_AUTH_TYPE".to_owned(), method.to_owned()),
        ];
        env.extend(
            extra
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        env
    };
    let login_url = entra.login_url().to_string();
    let request_url = github.request_url();
    let failing_runs = [
        (
            forced("oauth-m2m", &[("DATABRICKS_CLIENT_ID", CLIENT_ID)]),
            "oauth-m2m authentication failed: ",
        ),
        (forced("env-oidc", &[]), "env-oidc authentication failed: "),
        (
            forced(
                "github-oidc",
                &[
                    ("DATABRICKS_CLIENT_ID", CLIENT_ID),
                    ("ACTIONS_ID_TOKEN_REQUEST_URL", request_url.as_str()),
                ],
            ),
            "github-oidc authentication failed: ",
        ),
        (
            forced(
                "azure-client-secret",
                &[
                    ("ARM_CLIENT_ID", ARM_CLIENT_ID),
                    ("ARM_TENANT_ID", TENANT),
                    ("IPSYNC_AZURE_LOGIN_URL", login_url.as_str()),
                ],
            ),
            "azure-client-secret authentication failed: ",
        ),
        (
            vec![
                host.clone(),
                ("DATABRICKS_TOKEN".to_owned(), format!("{pat}-revoked")),
            ],
            "the token that `pat` authentication sent",
        ),
    ];
    for (env, expected_error) in failing_runs {
        let mut failing_args = vec!["-vv", "plan", "--save-state"];
        failing_args.extend(source);
        let (output, failed) = run_scanned(&failing_args, &env).await;
        let stderr = support::stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected_error), "{stderr}");
        failed.assert_no_secret();
    }

    for subcommand in [
        "plan", "apply", "backup", "restore", "tags", "emulate", "demo", "auth",
    ] {
        let (output, help) =
            run_scanned(&[subcommand, "--help"], std::slice::from_ref(&host)).await;
        assert_eq!(output.status.code(), Some(0), "{subcommand} --help");
        assert!(!output.stdout.is_empty(), "{subcommand} --help");
        help.assert_no_secret();
    }
    emulator.shutdown().await;
}

/// A host whose OAuth discovery names a token endpoint elsewhere never receives the secret there.
#[tokio::test(flavor = "multi_thread")]
async fn m2m_refuses_token_endpoint_on_other_host() {
    let Some(fixture) = crate::support::service_tags_file("ServiceTags_Public_20251103.json")
    else {
        return;
    };
    let elsewhere = wiremock::MockServer::start().await;
    let host = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path(
        "/oidc/.well-known/oauth-authorization-server",
    ))
    .respond_with(
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_endpoint": format!("{}/oidc/v1/token", elsewhere.uri()),
            "authorization_endpoint": format!("{}/oidc/v1/authorize", elsewhere.uri()),
        })),
    )
    .mount(&host)
    .await;

    let output = crate::support::run_ipsync(
        vec![
            "plan".into(),
            "--service-tags-file".into(),
            fixture.display().to_string(),
        ],
        vec![
            ("DATABRICKS_HOST".into(), host.uri()),
            ("DATABRICKS_CLIENT_ID".into(), "client-1".into()),
            (
                "DATABRICKS_CLIENT_SECRET".into(),
                "secret-never-sent".into(),
            ),
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(1));
    let stderr = crate::support::stderr(&output);
    assert!(stderr.contains("on another host"), "{stderr}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}
