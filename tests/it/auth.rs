//! Authentication against local fakes: each method's exact token request, the token accepted
//! by a fake list endpoint, precedence of variables and profiles, errors, and secrecy.

use std::sync::{Arc, Mutex};

use ipsync::auth::{
    self, AuthEndpoints, AuthError, AuthInputs, Authenticate, mask_commands, resolve,
};
use ipsync::databricks::Scope;
use ipsync::env::Env;
use ipsync::secret::Secret;
use serde_json::json;
use tempfile::TempDir;
use url::Url;
use wiremock::ResponseTemplate;

use crate::support::auth_fakes::{
    FakeDatabricks, FakeEntra, FakeGithubOidc, FakeMetadata, token_response,
};

const ACCOUNT_ID: &str = "0d5f0e6c-1111-2222-3333-444455556666";
const WORKSPACE_LISTS: &str = "/api/2.0/ip-access-lists";
const DATABRICKS_RESOURCE: &str = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d";
/// `Basic base64("sp-client-id:m2m-secret")`, computed with Python's `base64`.
const M2M_BASIC: &str = "Basic c3AtY2xpZW50LWlkOm0ybS1zZWNyZXQ=";
/// A JWT whose payload is `{"iss":"https://token.actions.githubusercontent.com",
/// "sub":"repo:octo-org/ipsync:environment:production","aud":"api://AzureADTokenExchange"}`.
const GITHUB_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIiwic3ViIjoicmVwbzpvY3RvLW9yZy9pcHN5bmM6ZW52aXJvbm1lbnQ6cHJvZHVjdGlvbiIsImF1ZCI6ImFwaTovL0F6dXJlQURUb2tlbkV4Y2hhbmdlIn0.c2lnbmF0dXJl";

fn account_lists() -> String {
    format!("/api/2.0/accounts/{ACCOUNT_ID}/ip-access-lists")
}

/// Builds an environment with `HOME` at an empty folder, so no real `~/.databrickscfg` is read.
fn test_env(pairs: &[(&str, &str)]) -> (TempDir, Env) {
    let home = tempfile::tempdir().unwrap();
    let mut env = Env::from_pairs(pairs.iter().copied());
    env.set("HOME", home.path().to_str().unwrap());
    (home, env)
}

/// Returns endpoints that no test reaches unless it replaces them: the discard port on loopback.
fn loopback_endpoints() -> AuthEndpoints {
    let unused = Url::parse("http://127.0.0.1:9/").unwrap();
    AuthEndpoints {
        azure_login_public: unused.clone(),
        azure_login_usgov: unused.clone(),
        azure_login_china: unused.clone(),
        azure_metadata: unused,
    }
}

fn inputs(host: Url, scope: Scope) -> AuthInputs {
    AuthInputs {
        host,
        scope,
        profile: None,
        endpoints: loopback_endpoints(),
        github_actions: false,
    }
}

fn account() -> Scope {
    Scope::Account {
        account_id: ACCOUNT_ID.to_owned(),
    }
}

/// Sends `GET {collection_path}` with the authenticator's headers and returns the status.
async fn list_status(auth: &dyn Authenticate, host: &Url, collection_path: &str) -> u16 {
    let headers = auth.headers().await.unwrap();
    let mut request = reqwest::Client::new().get(format!(
        "{}{}",
        host.as_str().trim_end_matches('/'),
        collection_path
    ));
    for (name, value) in headers {
        request = request.header(name, value.expose());
    }
    request.send().await.unwrap().status().as_u16()
}

fn resolve_error(env: &Env, inputs: &AuthInputs) -> AuthError {
    match resolve(env, inputs, reqwest::Client::new()) {
        Ok(auth) => panic!("expected an error, got method `{}`", auth.method()),
        Err(error) => error,
    }
}

#[tokio::test]
async fn pat_token_lists_workspace() {
    let databricks = FakeDatabricks::start().await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "dapi-workspace-token", &[])
        .await;
    let (_home, env) = test_env(&[("DATABRICKS_TOKEN", "dapi-workspace-token")]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "pat");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn fake_list_rejects_other_token() {
    let databricks = FakeDatabricks::start().await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "dapi-workspace-token", &[])
        .await;
    let (_home, env) = test_env(&[("DATABRICKS_TOKEN", "dapi-other-token")]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        401
    );
}

#[tokio::test]
async fn pat_rejected_for_account() {
    let (_home, env) = test_env(&[
        ("DATABRICKS_TOKEN", "dapi-workspace-token"),
        ("DATABRICKS_AUTH_TYPE", "pat"),
    ]);
    let host = Url::parse("https://accounts.azuredatabricks.net").unwrap();

    let error = resolve_error(&env, &inputs(host.clone(), account()));
    let (_home, env) = test_env(&[("DATABRICKS_TOKEN", "dapi-workspace-token")]);
    let unforced = resolve_error(&env, &inputs(host, account()));

    for error in [error, unforced] {
        let message = error.to_string();
        assert!(
            matches!(error, AuthError::PatForAccount { .. }),
            "{message}"
        );
        assert!(message.starts_with(
            "the Databricks account API does not accept personal access tokens (DATABRICKS_TOKEN is set)"
        ));
        assert!(message.contains("oauth-m2m"));
    }
}

#[tokio::test]
async fn pat_skipped_for_account_when_m2m_set() {
    let (_home, env) = test_env(&[
        ("DATABRICKS_TOKEN", "dapi-workspace-token"),
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);
    let host = Url::parse("https://accounts.cloud.databricks.com").unwrap();

    let auth = resolve(&env, &inputs(host, account()), reqwest::Client::new()).unwrap();

    assert_eq!(auth.method(), "oauth-m2m");
}

#[tokio::test]
async fn m2m_workspace_discovers_endpoint() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            token_response("m2m-access", 3600),
            1,
        )
        .await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "m2m-access", &[])
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "oauth-m2m");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn m2m_account_endpoint() {
    let databricks = FakeDatabricks::start().await;
    databricks
        .m2m_token(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            M2M_BASIC,
            token_response("m2m-account-access", 3600),
            1,
        )
        .await;
    databricks
        .accept_list_with(&account_lists(), "m2m-account-access", &[])
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), account()),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), &account_lists()).await,
        200
    );
}

#[tokio::test]
async fn m2m_invalidate_fetches_new_token() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            token_response("m2m-access", 3600),
            2,
        )
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);
    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    auth.headers().await.unwrap();
    auth.headers().await.unwrap();
    auth.invalidate();
    auth.headers().await.unwrap();

    // The token endpoint mock expects exactly two requests; the server verifies on drop.
}

#[tokio::test]
async fn m2m_token_near_expiry_refreshed() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    // 40 seconds is inside the refresh margin, so each call needs a new token.
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            token_response("short-lived", 40),
            2,
        )
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);
    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    auth.headers().await.unwrap();
    auth.headers().await.unwrap();
}

#[tokio::test]
async fn m2m_concurrent_calls_share_one_refresh() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            token_response("m2m-access", 3600),
            1,
        )
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);
    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    let (first, second, third) = tokio::join!(auth.headers(), auth.headers(), auth.headers());

    for headers in [first, second, third] {
        assert_eq!(headers.unwrap()[0].1.expose(), "Bearer m2m-access");
    }
}

#[tokio::test]
async fn m2m_rejected_secret_error() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client",
                "error_description": "Client authentication failed",
            })),
            1,
        )
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);
    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    let message = auth.headers().await.unwrap_err().to_string();

    assert_eq!(
        message.lines().next().unwrap(),
        format!(
            "oauth-m2m authentication failed: `{}` returned HTTP 401: invalid_client: Client \
             authentication failed (credentials from DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET)",
            databricks.workspace_token_url()
        )
    );
    assert!(message.contains("hint: check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"));
}

/// Returns the form-urlencoded spelling of the fake's workspace token URL.
fn encoded_token_url(databricks: &FakeDatabricks) -> String {
    let port = databricks.url().port().unwrap();
    format!("http%3A%2F%2F127.0.0.1%3A{port}%2Foidc%2Fv1%2Ftoken")
}

fn github_env(github: &FakeGithubOidc, extra: &[(&str, &str)]) -> (TempDir, Env) {
    let mut pairs = vec![
        ("ACTIONS_ID_TOKEN_REQUEST_URL", github.request_url()),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "gh-request-token".to_owned(),
        ),
    ];
    pairs.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    test_env(&pairs)
}

#[tokio::test]
async fn github_oidc_workspace_audience_is_token_endpoint() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    databricks.serve_discovery().await;
    github
        .issue(
            "gh-request-token",
            &encoded_token_url(&databricks),
            GITHUB_JWT,
        )
        .await;
    databricks
        .token_exchange(
            "/oidc/v1/token",
            GITHUB_JWT,
            Some("sp-client-id"),
            token_response("federated-access", 3600),
        )
        .await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "federated-access", &[])
        .await;
    let (_home, env) = github_env(&github, &[("DATABRICKS_CLIENT_ID", "sp-client-id")]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "github-oidc");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn github_oidc_account_audience_is_account_id() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    github
        .issue("gh-request-token", ACCOUNT_ID, GITHUB_JWT)
        .await;
    databricks
        .token_exchange(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            GITHUB_JWT,
            Some("sp-client-id"),
            token_response("federated-account-access", 3600),
        )
        .await;
    databricks
        .accept_list_with(&account_lists(), "federated-account-access", &[])
        .await;
    let (_home, env) = github_env(&github, &[("DATABRICKS_CLIENT_ID", "sp-client-id")]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), account()),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), &account_lists()).await,
        200
    );
}

#[tokio::test]
async fn github_oidc_audience_from_variable() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    github
        .issue("gh-request-token", "custom%2Faudience+one", GITHUB_JWT)
        .await;
    databricks
        .token_exchange(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            GITHUB_JWT,
            Some("sp-client-id"),
            token_response("federated-access", 3600),
        )
        .await;
    let (_home, env) = github_env(
        &github,
        &[
            ("DATABRICKS_CLIENT_ID", "sp-client-id"),
            ("DATABRICKS_TOKEN_AUDIENCE", "custom/audience one"),
        ],
    );

    let auth = resolve(
        &env,
        &inputs(databricks.url(), account()),
        reqwest::Client::new(),
    )
    .unwrap();

    auth.headers().await.unwrap();
}

#[tokio::test]
async fn github_oidc_audience_from_host_metadata() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    databricks.serve_discovery().await;
    databricks.serve_host_metadata("metadata-audience").await;
    github
        .issue("gh-request-token", "metadata-audience", GITHUB_JWT)
        .await;
    databricks
        .token_exchange(
            "/oidc/v1/token",
            GITHUB_JWT,
            Some("sp-client-id"),
            token_response("federated-access", 3600),
        )
        .await;
    let (_home, env) = github_env(&github, &[("DATABRICKS_CLIENT_ID", "sp-client-id")]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    auth.headers().await.unwrap();
}

#[tokio::test]
async fn github_oidc_forced_without_client_is_account_wide() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    github
        .issue("gh-request-token", ACCOUNT_ID, GITHUB_JWT)
        .await;
    databricks
        .token_exchange(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            GITHUB_JWT,
            None,
            token_response("account-wide-access", 3600),
        )
        .await;
    let (_home, env) = github_env(&github, &[("DATABRICKS_AUTH_TYPE", "github-oidc")]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), account()),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(
        auth.headers().await.unwrap()[0].1.expose(),
        "Bearer account-wide-access"
    );
}

#[tokio::test]
async fn github_oidc_without_permission_hint() {
    let (_home, env) = test_env(&[
        ("DATABRICKS_AUTH_TYPE", "github-oidc"),
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
    ]);
    let host = Url::parse("https://accounts.cloud.databricks.com").unwrap();

    let message = resolve_error(&env, &inputs(host, account())).to_string();

    assert_eq!(
        message,
        "github-oidc authentication needs ACTIONS_ID_TOKEN_REQUEST_URL and \
         ACTIONS_ID_TOKEN_REQUEST_TOKEN\n  hint: GitHub sets ACTIONS_ID_TOKEN_REQUEST_URL and \
         ACTIONS_ID_TOKEN_REQUEST_TOKEN only in a job with `permissions: id-token: write`; add it \
         to the workflow or the job"
    );
}

#[tokio::test]
async fn github_oidc_policy_mismatch_hint() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    github
        .issue("gh-request-token", ACCOUNT_ID, GITHUB_JWT)
        .await;
    databricks
        .token_exchange(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            GITHUB_JWT,
            Some("sp-client-id"),
            ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client",
                "error_description": "Token exchange failed: no matching federation policy",
            })),
        )
        .await;
    let (_home, env) = github_env(&github, &[("DATABRICKS_CLIENT_ID", "sp-client-id")]);
    let auth = resolve(
        &env,
        &inputs(databricks.url(), account()),
        reqwest::Client::new(),
    )
    .unwrap();

    let message = auth.headers().await.unwrap_err().to_string();

    assert!(
        message.starts_with("github-oidc authentication failed: `"),
        "{message}"
    );
    assert!(message.contains(&format!(
        "/oidc/accounts/{ACCOUNT_ID}/v1/token` returned HTTP 401"
    )));
    assert!(message.contains(
        "(credentials from ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN, DATABRICKS_CLIENT_ID)"
    ));
    assert!(message.contains("subject `repo:octo-org/ipsync:environment:production`"));
    assert!(message.contains("`repo:<owner>/<repo>:environment:<environment>`"));
    assert!(!message.contains(GITHUB_JWT));
}

#[tokio::test]
async fn env_oidc_named_variable() {
    let databricks = FakeDatabricks::start().await;
    databricks
        .token_exchange(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            "jwt-from-ci",
            Some("sp-client-id"),
            token_response("env-oidc-access", 3600),
        )
        .await;
    databricks
        .accept_list_with(&account_lists(), "env-oidc-access", &[])
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_OIDC_TOKEN_ENV", "CI_JOB_JWT"),
        ("CI_JOB_JWT", "jwt-from-ci"),
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
    ]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), account()),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "env-oidc");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), &account_lists()).await,
        200
    );
}

#[tokio::test]
async fn file_oidc_reads_token_file() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .token_exchange(
            "/oidc/v1/token",
            "jwt-from-file",
            None,
            token_response("file-oidc-access", 3600),
        )
        .await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "file-oidc-access", &[])
        .await;
    let folder = tempfile::tempdir().unwrap();
    let token_file = folder.path().join("token.jwt");
    std::fs::write(&token_file, "jwt-from-file\n").unwrap();
    let (_home, env) = test_env(&[(
        "DATABRICKS_OIDC_TOKEN_FILEPATH",
        token_file.to_str().unwrap(),
    )]);

    let auth = resolve(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "file-oidc");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn file_oidc_missing_file_error() {
    let (_home, env) = test_env(&[(
        "DATABRICKS_OIDC_TOKEN_FILEPATH",
        "/nonexistent/ipsync/token",
    )]);
    let host = Url::parse("http://127.0.0.1:9").unwrap();
    let auth = resolve(&env, &inputs(host, account()), reqwest::Client::new()).unwrap();

    let message = auth.headers().await.unwrap_err().to_string();

    assert!(
        message.starts_with("failed to read the OIDC token file `/nonexistent/ipsync/token`: "),
        "{message}"
    );
}

fn azure_inputs(
    databricks: &FakeDatabricks,
    scope: Scope,
    entra: Option<&FakeEntra>,
) -> AuthInputs {
    let mut inputs = inputs(databricks.url(), scope);
    if let Some(entra) = entra {
        inputs.endpoints.azure_login_public = entra.login_url();
    }
    inputs
}

#[tokio::test]
async fn azure_client_secret_sends_management_token() {
    let databricks = FakeDatabricks::start().await;
    let entra = FakeEntra::start().await;
    entra
        .client_secret(
            "tenant-1",
            "arm-client",
            "arm-secret",
            DATABRICKS_RESOURCE,
            token_response("entra-databricks-access", 3599),
        )
        .await;
    entra
        .client_secret(
            "tenant-1",
            "arm-client",
            "arm-secret",
            "https://management.core.windows.net/",
            token_response("entra-management-access", 3599),
        )
        .await;
    databricks
        .accept_list_with(
            WORKSPACE_LISTS,
            "entra-databricks-access",
            &[(
                "x-databricks-azure-sp-management-token",
                "entra-management-access",
            )],
        )
        .await;
    let (_home, env) = test_env(&[
        ("ARM_CLIENT_ID", "arm-client"),
        ("ARM_CLIENT_SECRET", "arm-secret"),
        ("ARM_TENANT_ID", "tenant-1"),
        ("DATABRICKS_CLOUD", "azure"),
    ]);

    let auth = resolve(
        &env,
        &azure_inputs(&databricks, Scope::Workspace, Some(&entra)),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "azure-client-secret");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn azure_client_secret_usgov_login() {
    let databricks = FakeDatabricks::start().await;
    let entra = FakeEntra::start().await;
    entra
        .client_secret(
            "tenant-gov",
            "arm-client",
            "arm-secret",
            DATABRICKS_RESOURCE,
            token_response("gov-access", 3599),
        )
        .await;
    entra
        .client_secret(
            "tenant-gov",
            "arm-client",
            "arm-secret",
            "https://management.core.usgovcloudapi.net/",
            token_response("gov-management", 3599),
        )
        .await;
    databricks
        .accept_list_with(
            WORKSPACE_LISTS,
            "gov-access",
            &[
                ("x-databricks-azure-sp-management-token", "gov-management"),
                (
                    "x-databricks-azure-workspace-resource-id",
                    "/subscriptions/s/resourceGroups/r/providers/Microsoft.Databricks/workspaces/w",
                ),
            ],
        )
        .await;
    let (_home, env) = test_env(&[
        ("ARM_CLIENT_ID", "arm-client"),
        ("ARM_CLIENT_SECRET", "arm-secret"),
        ("ARM_TENANT_ID", "tenant-gov"),
        ("ARM_ENVIRONMENT", "usgovernment"),
        (
            "DATABRICKS_AZURE_RESOURCE_ID",
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Databricks/workspaces/w",
        ),
    ]);
    let mut inputs = inputs(databricks.url(), Scope::Workspace);
    inputs.endpoints.azure_login_usgov = entra.login_url();

    let auth = resolve(&env, &inputs, reqwest::Client::new()).unwrap();

    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn azure_client_secret_invalid_secret_hint() {
    let databricks = FakeDatabricks::start().await;
    let entra = FakeEntra::start().await;
    entra
        .client_secret(
            "tenant-1",
            "arm-client",
            "arm-secret",
            DATABRICKS_RESOURCE,
            ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2",
                "error_codes": [7000215],
            })),
        )
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_AUTH_TYPE", "azure-client-secret"),
        ("ARM_CLIENT_ID", "arm-client"),
        ("ARM_CLIENT_SECRET", "arm-secret"),
        ("ARM_TENANT_ID", "tenant-1"),
    ]);
    let auth = resolve(
        &env,
        &azure_inputs(&databricks, Scope::Workspace, Some(&entra)),
        reqwest::Client::new(),
    )
    .unwrap();

    let message = auth.headers().await.unwrap_err().to_string();

    assert_eq!(
        message,
        format!(
            "azure-client-secret authentication failed: `{}tenant-1/oauth2/token` returned HTTP \
             401: invalid_client: AADSTS7000215: Invalid client secret provided. (credentials \
             from ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID)\n  hint: the client secret is \
             invalid: ARM_CLIENT_SECRET must be the secret's value, not its ID, and the secret \
             must not have expired",
            entra.login_url()
        )
    );
}

#[tokio::test]
async fn github_oidc_azure_assertion() {
    let databricks = FakeDatabricks::start().await;
    let entra = FakeEntra::start().await;
    let github = FakeGithubOidc::start().await;
    github
        .issue(
            "gh-request-token",
            "api%3A%2F%2FAzureADTokenExchange",
            GITHUB_JWT,
        )
        .await;
    entra
        .client_assertion(
            "tenant-1",
            "arm-client",
            GITHUB_JWT,
            DATABRICKS_RESOURCE,
            token_response("entra-federated-access", 3599),
        )
        .await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "entra-federated-access", &[])
        .await;
    let (_home, env) = github_env(
        &github,
        &[
            ("ARM_CLIENT_ID", "arm-client"),
            ("ARM_TENANT_ID", "tenant-1"),
            ("DATABRICKS_CLOUD", "azure"),
        ],
    );

    let auth = resolve(
        &env,
        &azure_inputs(&databricks, Scope::Workspace, Some(&entra)),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "github-oidc-azure");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn github_oidc_azure_no_federated_record_hint() {
    let databricks = FakeDatabricks::start().await;
    let entra = FakeEntra::start().await;
    let github = FakeGithubOidc::start().await;
    github
        .issue(
            "gh-request-token",
            "api%3A%2F%2FAzureADTokenExchange",
            GITHUB_JWT,
        )
        .await;
    entra
        .client_assertion(
            "tenant-1",
            "arm-client",
            GITHUB_JWT,
            DATABRICKS_RESOURCE,
            ResponseTemplate::new(400).set_body_json(json!({
                "error": "invalid_request",
                "error_description": "AADSTS70021: No matching federated identity record found for presented assertion.",
            })),
        )
        .await;
    let (_home, env) = github_env(
        &github,
        &[
            ("DATABRICKS_AUTH_TYPE", "github-oidc-azure"),
            ("ARM_CLIENT_ID", "arm-client"),
            ("ARM_TENANT_ID", "tenant-1"),
        ],
    );
    let auth = resolve(
        &env,
        &azure_inputs(&databricks, Scope::Workspace, Some(&entra)),
        reqwest::Client::new(),
    )
    .unwrap();

    let message = auth.headers().await.unwrap_err().to_string();

    assert!(
        message.contains("returned HTTP 400: invalid_request: AADSTS70021"),
        "{message}"
    );
    assert!(message.contains(
        "hint: no federated credential of the Entra application (ARM_CLIENT_ID) matches the GitHub token"
    ));
    assert!(message.contains("subject `repo:octo-org/ipsync:environment:production`"));
}

#[tokio::test]
async fn azure_msi_user_assigned() {
    let databricks = FakeDatabricks::start().await;
    let metadata = FakeMetadata::start().await;
    metadata
        .identity_token(
            &format!("api-version=2018-02-01&resource={DATABRICKS_RESOURCE}&client_id=msi-client"),
            "msi-databricks-access",
        )
        .await;
    metadata
        .identity_token(
            "api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.core.windows.net%2F&client_id=msi-client",
            "msi-management-access",
        )
        .await;
    databricks
        .accept_list_with(
            WORKSPACE_LISTS,
            "msi-databricks-access",
            &[(
                "x-databricks-azure-sp-management-token",
                "msi-management-access",
            )],
        )
        .await;
    let (_home, env) = test_env(&[
        ("ARM_USE_MSI", "true"),
        ("ARM_CLIENT_ID", "msi-client"),
        ("DATABRICKS_CLOUD", "azure"),
    ]);
    let mut inputs = inputs(databricks.url(), Scope::Workspace);
    inputs.endpoints.azure_metadata = metadata.url();

    let auth = resolve(&env, &inputs, reqwest::Client::new()).unwrap();

    assert_eq!(auth.method(), "azure-msi");
    assert_eq!(
        list_status(auth.as_ref(), &databricks.url(), WORKSPACE_LISTS).await,
        200
    );
}

#[tokio::test]
async fn azure_msi_unreachable_hint() {
    let (_home, env) = test_env(&[
        ("ARM_USE_MSI", "true"),
        ("DATABRICKS_AUTH_TYPE", "azure-msi"),
    ]);
    // Port 9 (discard) on loopback has no listener, so the connection is refused.
    let auth = resolve(
        &env,
        &inputs(Url::parse("http://127.0.0.1:9").unwrap(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    let message = auth.headers().await.unwrap_err().to_string();

    assert!(
        message.starts_with(
            "azure-msi authentication failed: request to `http://127.0.0.1:9/metadata/identity/oauth2/token` failed: connection failed"
        ),
        "{message}"
    );
    assert!(message.contains("GitHub-hosted runners have no managed identity"));
}

#[test]
fn endpoints_overridden_by_variables() {
    let env = Env::from_pairs([
        ("IPSYNC_AZURE_LOGIN_URL", "http://127.0.0.1:1/login/"),
        ("IPSYNC_AZURE_METADATA_URL", "http://127.0.0.1:2"),
    ]);

    let endpoints = AuthEndpoints::from_env(&env).unwrap();

    assert_eq!(
        endpoints.azure_login_public.as_str(),
        "http://127.0.0.1:1/login/"
    );
    assert_eq!(
        endpoints.azure_login_usgov.as_str(),
        "http://127.0.0.1:1/login/"
    );
    assert_eq!(
        endpoints.azure_login_china.as_str(),
        "http://127.0.0.1:1/login/"
    );
    assert_eq!(endpoints.azure_metadata.as_str(), "http://127.0.0.1:2/");
}

#[test]
fn endpoints_defaults() {
    let endpoints = AuthEndpoints::default();

    assert_eq!(
        endpoints.azure_login_public.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(
        endpoints.azure_login_usgov.as_str(),
        "https://login.microsoftonline.us/"
    );
    assert_eq!(
        endpoints.azure_login_china.as_str(),
        "https://login.chinacloudapi.cn/"
    );
    assert_eq!(endpoints.azure_metadata.as_str(), "http://169.254.169.254/");
}

// ---- precedence -------------------------------------------------------------------------

fn chosen(pairs: &[(&str, &str)], host: &str, scope: Scope) -> Result<&'static str, String> {
    let (_home, env) = test_env(pairs);
    resolve(
        &env,
        &inputs(Url::parse(host).unwrap(), scope),
        reqwest::Client::new(),
    )
    .map(|auth| auth.method())
    .map_err(|error| error.to_string())
}

const AZURE_HOST: &str = "https://adb-1234567890123456.7.azuredatabricks.net";
const AWS_HOST: &str = "https://dbc-1234.cloud.databricks.com";

#[test]
fn precedence_default_order() {
    let everything = [
        ("DATABRICKS_TOKEN", "t"),
        ("DATABRICKS_CLIENT_ID", "c"),
        ("DATABRICKS_CLIENT_SECRET", "s"),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://127.0.0.1:9/idtoken?api-version=2.0",
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "r"),
        ("DATABRICKS_OIDC_TOKEN", "j"),
        ("DATABRICKS_OIDC_TOKEN_FILEPATH", "/tmp/none"),
        ("ARM_CLIENT_ID", "a"),
        ("ARM_CLIENT_SECRET", "b"),
        ("ARM_TENANT_ID", "d"),
        ("ARM_USE_MSI", "true"),
    ];
    let expected = [
        "pat",
        "oauth-m2m",
        "github-oidc",
        "env-oidc",
        "file-oidc",
        "github-oidc-azure",
        "azure-msi",
        "azure-client-secret",
    ];

    // Removing the variables of each winner in turn reveals the next method in the order.
    let removals: [&[&str]; 8] = [
        &[],
        &["DATABRICKS_TOKEN"],
        &["DATABRICKS_CLIENT_SECRET"],
        &["DATABRICKS_CLIENT_ID"],
        &["DATABRICKS_OIDC_TOKEN"],
        &["DATABRICKS_OIDC_TOKEN_FILEPATH"],
        &["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
        &["ARM_USE_MSI"],
    ];
    let mut removed: Vec<&str> = Vec::new();
    for (removal, method) in removals.iter().zip(expected) {
        removed.extend(removal.iter());
        let pairs: Vec<(&str, &str)> = everything
            .iter()
            .copied()
            .filter(|(name, _)| !removed.contains(name))
            .collect();

        assert_eq!(
            chosen(&pairs, AZURE_HOST, Scope::Workspace),
            Ok(method),
            "removed {removed:?}"
        );
    }
}

#[test]
fn precedence_auth_type_forces_method() {
    let pairs = [
        ("DATABRICKS_TOKEN", "t"),
        ("ARM_CLIENT_ID", "a"),
        ("ARM_CLIENT_SECRET", "b"),
        ("ARM_TENANT_ID", "d"),
        ("DATABRICKS_AUTH_TYPE", "azure-client-secret"),
    ];

    assert_eq!(
        chosen(&pairs, AWS_HOST, Scope::Workspace),
        Ok("azure-client-secret")
    );
}

#[test]
fn precedence_unknown_auth_type_lists_valid() {
    let error = chosen(
        &[("DATABRICKS_AUTH_TYPE", "oauth")],
        AWS_HOST,
        Scope::Workspace,
    );

    assert_eq!(
        error,
        Err(
            "unknown authentication method `oauth` in DATABRICKS_AUTH_TYPE: expected one of \
             pat, oauth-m2m, github-oidc, env-oidc, file-oidc, github-oidc-azure, azure-msi, \
             azure-client-secret"
                .to_owned()
        )
    );
}

#[test]
fn precedence_azure_skipped_on_aws_host() {
    let pairs = [
        ("ARM_CLIENT_ID", "a"),
        ("ARM_CLIENT_SECRET", "b"),
        ("ARM_TENANT_ID", "d"),
    ];

    let error = chosen(&pairs, AWS_HOST, Scope::Workspace).unwrap_err();

    assert!(
        error.starts_with("no Databricks credentials found: "),
        "{error}"
    );
    assert!(error.contains(
        "skipped `azure-client-secret` (its variables are set, but `dbc-1234.cloud.databricks.com` \
         is not an Azure Databricks host; set DATABRICKS_CLOUD=azure or \
         DATABRICKS_AUTH_TYPE=azure-client-secret)"
    ));
}

#[test]
fn precedence_nothing_set_error() {
    let error = chosen(&[], AWS_HOST, Scope::Workspace).unwrap_err();

    assert_eq!(
        error,
        "no Databricks credentials found: set DATABRICKS_TOKEN (workspace APIs only), or \
         DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or ARM_CLIENT_ID, ARM_CLIENT_SECRET \
         and ARM_TENANT_ID; in a GitHub workflow set DATABRICKS_CLIENT_ID and grant \
         `permissions: id-token: write`; or name a profile of ~/.databrickscfg with --profile"
    );
}

#[test]
fn precedence_forced_missing_variables() {
    let error = chosen(
        &[
            ("DATABRICKS_AUTH_TYPE", "oauth-m2m"),
            ("DATABRICKS_CLIENT_ID", "c"),
        ],
        AWS_HOST,
        Scope::Workspace,
    );

    assert_eq!(
        error,
        Err("oauth-m2m authentication needs DATABRICKS_CLIENT_SECRET".to_owned())
    );
}

#[test]
fn precedence_invalid_msi_bool() {
    let error = chosen(&[("ARM_USE_MSI", "yes")], AZURE_HOST, Scope::Workspace);

    assert_eq!(
        error,
        Err("invalid value `yes` for ARM_USE_MSI: expected `true` or `false`".to_owned())
    );
}

// ---- profiles ---------------------------------------------------------------------------

fn profile_env(config: &str, pairs: &[(&str, &str)]) -> (TempDir, Env) {
    let (home, env) = test_env(pairs);
    std::fs::write(home.path().join(".databrickscfg"), config).unwrap();
    (home, env)
}

const CONFIG: &str = "\
[DEFAULT]
host = https://dbc-1234.cloud.databricks.com
token = dapi-from-default

[ci]
host = https://accounts.cloud.databricks.com
account_id = 0d5f0e6c-1111-2222-3333-444455556666
client_id = profile-client
client_secret = profile-secret

[forced]
auth_type = pat
token = dapi-forced
";

#[tokio::test]
async fn profile_default_supplies_token() {
    let databricks = FakeDatabricks::start().await;
    databricks
        .accept_list_with(WORKSPACE_LISTS, "dapi-from-default", &[])
        .await;
    let host = databricks.url();
    let config = CONFIG.replace("https://dbc-1234.cloud.databricks.com", host.as_str());
    let (_home, env) = profile_env(&config, &[]);

    let auth = resolve(
        &env,
        &inputs(host.clone(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "pat");
    assert_eq!(
        list_status(auth.as_ref(), &host, WORKSPACE_LISTS).await,
        200
    );
}

#[test]
fn profile_default_ignored_for_other_host() {
    let (_home, env) = profile_env(CONFIG, &[]);

    let error = resolve_error(
        &env,
        &inputs(Url::parse(AZURE_HOST).unwrap(), Scope::Workspace),
    );

    assert!(matches!(error, AuthError::NoMethod { .. }), "{error}");
}

#[test]
fn profile_default_ignored_when_env_configures_auth() {
    let (_home, env) = profile_env(
        CONFIG,
        &[
            ("DATABRICKS_CLIENT_ID", "c"),
            ("DATABRICKS_CLIENT_SECRET", "s"),
        ],
    );

    let auth = resolve(
        &env,
        &inputs(Url::parse(AWS_HOST).unwrap(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "oauth-m2m");
}

#[tokio::test]
async fn profile_named_env_overrides_fields() {
    let databricks = FakeDatabricks::start().await;
    // The secret comes from the environment and the client ID from the profile.
    databricks
        .m2m_token(
            &FakeDatabricks::account_token_path(ACCOUNT_ID),
            // Basic base64("profile-client:env-secret"), computed with Python's base64.
            "Basic cHJvZmlsZS1jbGllbnQ6ZW52LXNlY3JldA==",
            token_response("profile-access", 3600),
            1,
        )
        .await;
    let (_home, env) = profile_env(CONFIG, &[("DATABRICKS_CLIENT_SECRET", "env-secret")]);
    let mut inputs = inputs(databricks.url(), account());
    inputs.profile = Some("ci".to_owned());

    let auth = resolve(&env, &inputs, reqwest::Client::new()).unwrap();

    assert_eq!(
        auth.headers().await.unwrap()[0].1.expose(),
        "Bearer profile-access"
    );
}

#[test]
fn profile_auth_type_forces_method() {
    let (_home, env) = profile_env(
        CONFIG,
        &[
            ("DATABRICKS_CONFIG_PROFILE", "forced"),
            ("DATABRICKS_CLIENT_ID", "c"),
            ("DATABRICKS_CLIENT_SECRET", "s"),
        ],
    );

    let auth = resolve(
        &env,
        &inputs(Url::parse(AWS_HOST).unwrap(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .unwrap();

    assert_eq!(auth.method(), "pat");
}

#[test]
fn profile_flag_missing_is_error() {
    let (_home, env) = profile_env(CONFIG, &[]);
    let mut inputs = inputs(Url::parse(AWS_HOST).unwrap(), Scope::Workspace);
    inputs.profile = Some("staging".to_owned());

    let error = resolve_error(&env, &inputs);

    assert!(
        error
            .to_string()
            .starts_with("profile `staging` not found in `"),
        "{error}"
    );
}

// ---- report -----------------------------------------------------------------------------

#[tokio::test]
async fn describe_reports_identity_and_endpoint() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            token_response("m2m-access", 3600),
            1,
        )
        .await;
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
    ]);

    let report = auth::describe(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .await;
    let text = report
        .render_text()
        .replace(&databricks.server.uri(), "http://[fake]");

    assert_eq!(
        text,
        "host:            http://[fake]/\n\
         scope:           workspace\n\
         method:          oauth-m2m (first configured in the default order)\n\
         from:            DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET\n\
         client id:       sp-client-id\n\
         token endpoint:  http://[fake]/oidc/v1/token\n\
         token:           obtained\n"
    );
}

#[tokio::test]
async fn describe_reports_failure() {
    let (_home, env) = test_env(&[("DATABRICKS_AUTH_TYPE", "github-oidc")]);

    let report = auth::describe(
        &env,
        &inputs(Url::parse(AWS_HOST).unwrap(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .await;

    assert_eq!(report.method.as_deref(), Some("github-oidc"));
    assert!(!report.token_obtained);
    assert!(
        report
            .error
            .unwrap()
            .starts_with("github-oidc authentication needs ACTIONS_ID_TOKEN_REQUEST_URL")
    );
}

// ---- secrecy ----------------------------------------------------------------------------

/// A tracing writer that keeps everything logged, so the test can scan it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PLANTED: &str = "PLANTEDSECRET";

/// Lists every secret-bearing variable, each with a recognisable value.
fn planted_variables(github: &FakeGithubOidc, token_file: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABRICKS_TOKEN", format!("{PLANTED}-pat")),
        (
            "DATABRICKS_CLIENT_SECRET",
            format!("{PLANTED}-client-secret"),
        ),
        ("ARM_CLIENT_SECRET", format!("{PLANTED}-arm-secret")),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            format!("{PLANTED}-request-token"),
        ),
        ("DATABRICKS_OIDC_TOKEN", format!("{PLANTED}-oidc-token")),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", github.request_url()),
        ("DATABRICKS_OIDC_TOKEN_FILEPATH", token_file.to_owned()),
        ("DATABRICKS_CLIENT_ID", "sp-client-id".to_owned()),
        ("ARM_CLIENT_ID", "arm-client".to_owned()),
        ("ARM_TENANT_ID", "tenant-1".to_owned()),
        ("ARM_USE_MSI", "true".to_owned()),
        ("DATABRICKS_CLOUD", "azure".to_owned()),
    ]
}

#[tokio::test]
async fn secrets_never_in_output() {
    let databricks = FakeDatabricks::start().await;
    let github = FakeGithubOidc::start().await;
    let entra = FakeEntra::start().await;
    let metadata = FakeMetadata::start().await;
    // Every token endpoint rejects, echoing nothing secret, so each method reaches its error path.
    databricks.serve_discovery().await;
    let folder = tempfile::tempdir().unwrap();
    let token_file = folder.path().join("token.jwt");
    std::fs::write(&token_file, format!("{PLANTED}-file-token")).unwrap();

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut output = String::new();
    for method in [
        "pat",
        "oauth-m2m",
        "github-oidc",
        "env-oidc",
        "file-oidc",
        "github-oidc-azure",
        "azure-msi",
        "azure-client-secret",
    ] {
        let mut pairs = planted_variables(&github, token_file.to_str().unwrap());
        pairs.push(("DATABRICKS_AUTH_TYPE", method.to_owned()));
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let (_home, env) = test_env(&pairs);
        let mut inputs = inputs(databricks.url(), Scope::Workspace);
        inputs.endpoints.azure_login_public = entra.login_url();
        inputs.endpoints.azure_metadata = metadata.url();

        let report = auth::describe(&env, &inputs, reqwest::Client::new()).await;
        output.push_str(&report.render_text());
        output.push_str(&serde_json::to_string(&report).unwrap());
        if let Ok(auth) = resolve(&env, &inputs, reqwest::Client::new()) {
            output.push_str(&format!("{:?}", auth.headers().await));
        }
        let error = resolve(&env, &inputs, reqwest::Client::new()).err();
        output.push_str(&format!(
            "{error:?} {}",
            error.as_ref().map(ToString::to_string).unwrap_or_default()
        ));
    }
    let (_home, env) = test_env(&[
        ("DATABRICKS_AUTH_TYPE", "pat"),
        ("DATABRICKS_TOKEN", "PLANTEDSECRET-account"),
    ]);
    output.push_str(&resolve_error(&env, &inputs(databricks.url(), account())).to_string());

    let config = format!(
        "[DEFAULT]\nhost = {}\ntoken = {PLANTED}-profile-token\nclient_secret = {PLANTED}-profile-secret\nazure_client_secret = {PLANTED}-profile-arm\n",
        databricks.url()
    );
    let (home, env) = test_env(&[]);
    std::fs::write(home.path().join(".databrickscfg"), config).unwrap();
    let report = auth::describe(
        &env,
        &inputs(databricks.url(), Scope::Workspace),
        reqwest::Client::new(),
    )
    .await;
    assert_eq!(report.method.as_deref(), Some("pat"));
    output.push_str(&report.render_text());
    output.push_str(&format!("{report:?}"));

    // The planted values did reach the fakes, so the error paths above ran with them.
    let mut sent = String::new();
    for server in [
        &databricks.server,
        &github.server,
        &entra.server,
        &metadata.server,
    ] {
        for request in server.received_requests().await.unwrap_or_default() {
            sent.push_str(&format!(
                "{:?} {}",
                request.headers,
                String::from_utf8_lossy(&request.body)
            ));
        }
    }
    for planted in ["arm-secret", "request-token", "oidc-token", "file-token"] {
        assert!(
            sent.contains(&format!("{PLANTED}-{planted}")),
            "{planted} was not sent"
        );
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("error"), "the scan must cover error output");
    assert!(!output.contains(PLANTED), "secret in output: {output}");
    assert!(!logs.contains(PLANTED), "secret in logs: {logs}");
}

#[test]
fn mask_command_for_planted_secret() {
    let commands = mask_commands(&Secret::new(format!("{PLANTED}%1")));

    assert_eq!(commands, vec![format!("::add-mask::{PLANTED}%251")]);
}

const MASK_CHILD_HOST: &str = "IPSYNC_TEST_MASK_CHILD_HOST";

/// Resolves with GitHub Actions masking on, obtains a token, then prints a marker. It runs
/// only as the child process of `masking_precedes_output`, which reads its stdout.
#[tokio::test]
#[ignore = "run as a child process by masking_precedes_output"]
async fn masking_child() {
    let host = Url::parse(&std::env::var(MASK_CHILD_HOST).unwrap()).unwrap();
    let (_home, env) = test_env(&[
        ("DATABRICKS_CLIENT_ID", "sp-client-id"),
        ("DATABRICKS_CLIENT_SECRET", "m2m-secret"),
        ("ARM_CLIENT_SECRET", "arm-100%-secret"),
    ]);
    let mut inputs = inputs(host, Scope::Workspace);
    inputs.github_actions = true;

    let auth = resolve(&env, &inputs, reqwest::Client::new()).unwrap();
    auth.headers().await.unwrap();

    println!("marker: after the token request");
}

#[tokio::test]
async fn masking_precedes_output() {
    let databricks = FakeDatabricks::start().await;
    databricks.serve_discovery().await;
    databricks
        .m2m_token(
            "/oidc/v1/token",
            M2M_BASIC,
            token_response("issued-access-token", 3600),
            1,
        )
        .await;

    let uri = databricks.server.uri();
    // The child runs on a blocking thread, so the fake keeps serving on this runtime.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "auth::masking_child", "--nocapture"])
            .env(MASK_CHILD_HOST, uri)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();

    assert!(output.status.success(), "{stdout}");
    let marker = stdout.find("marker: after the token request").unwrap();
    for mask in [
        "::add-mask::m2m-secret\n",
        "::add-mask::arm-100%25-secret\n",
        "::add-mask::issued-access-token\n",
    ] {
        let position = stdout
            .find(mask)
            .unwrap_or_else(|| panic!("{mask:?} missing: {stdout}"));
        assert!(position < marker, "{mask:?} printed after other output");
    }
}
