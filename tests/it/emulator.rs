//! The Databricks API emulator over HTTP, with reqwest: every endpoint at both scopes, the
//! validation errors, quota, lockout, tokens, OAuth, faults and the state file.

use std::net::Ipv4Addr;
use std::time::Duration;

use ipsync::databricks::{AccessList, ListType, NewAccessList, Scope};
use ipsync::emulator::{Emulator, EmulatorConfig, Fault, RecordedRequest};
use ipsync::secret::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "dapi-emulator-test-token";
const CLIENT_ID: &str = "3f1c2d4e-sp-client";
const CLIENT_SECRET: &str = "dose-client-secret";
const CALLER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
const WORKSPACE_ID: u64 = 987_654_321;

fn config() -> EmulatorConfig {
    EmulatorConfig {
        tokens: vec![Secret::new(TOKEN), Secret::new("second-token")],
        client: Some((CLIENT_ID.to_owned(), Secret::new(CLIENT_SECRET))),
        caller_ip: CALLER,
        workspace_id: WORKSPACE_ID,
        ..EmulatorConfig::default()
    }
}

async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

fn account(id: &str) -> Scope {
    Scope::Account {
        account_id: id.to_owned(),
    }
}

/// Sends a request with the test token and returns the status and the JSON body.
async fn call(
    emulator: &Emulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_with_token(emulator, method, path, body, Some(TOKEN)).await
}

async fn call_with_token(
    emulator: &Emulator,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let url = emulator.url().join(path.trim_start_matches('/')).unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }

    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn new_list(label: &str, list_type: ListType, entries: &[&str]) -> NewAccessList {
    NewAccessList {
        label: label.to_owned(),
        list_type,
        ip_addresses: entries.iter().map(|entry| entry.to_string()).collect(),
    }
}

/// `count` distinct single addresses, 10.0.x.y.
fn addresses(count: usize) -> Vec<String> {
    (0..count)
        .map(|index| format!("10.0.{}.{}", index / 256, index % 256))
        .collect()
}

async fn crud_round_trip(collection: &str) {
    let emulator = start(config()).await;

    let (status, body) = call(&emulator, Method::GET, collection, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({}));

    let (status, body) = call(
        &emulator,
        Method::POST,
        collection,
        Some(json!({"label": "office", "list_type": "ALLOW", "ip_addresses": ["203.0.113.0/24", "198.51.100.1"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = &body["ip_access_list"];
    let list_id = created["list_id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&list_id).is_ok(), "{list_id}");
    assert_eq!(created["label"], "office");
    assert_eq!(created["list_type"], "ALLOW");
    assert_eq!(
        created["ip_addresses"],
        json!(["203.0.113.0/24", "198.51.100.1"])
    );
    assert_eq!(created["address_count"], 2);
    assert_eq!(created["enabled"], true);
    assert!(created["created_at"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(created["created_by"], 100);
    assert!(created["updated_at"].is_i64());
    assert_eq!(created["updated_by"], 100);

    let (status, body) = call(&emulator, Method::GET, collection, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ip_access_lists"].as_array().unwrap().len(), 1);
    assert_eq!(body["ip_access_lists"][0], *created);

    let item = format!("{collection}/{list_id}");
    let (status, body) = call(&emulator, Method::GET, &item, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ip_access_list"], *created);

    let (status, body) = call(
        &emulator,
        Method::PATCH,
        &item,
        Some(json!({"ip_addresses": ["203.0.113.0/24"], "enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ip_access_list"]["ip_addresses"],
        json!(["203.0.113.0/24"])
    );
    assert_eq!(body["ip_access_list"]["address_count"], 1);
    assert_eq!(body["ip_access_list"]["enabled"], false);
    assert_eq!(body["ip_access_list"]["label"], "office");

    let (status, body) = call(
        &emulator,
        Method::PUT,
        &item,
        Some(json!({"label": "renamed", "list_type": "BLOCK", "enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ip_access_list"]["label"], "renamed");
    assert_eq!(body["ip_access_list"]["list_type"], "BLOCK");
    assert_eq!(body["ip_access_list"]["address_count"], 0);
    assert!(
        body["ip_access_list"].get("ip_addresses").is_none(),
        "{body}"
    );

    let (status, body) = call(&emulator, Method::DELETE, &item, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({}));

    let (status, _) = call(&emulator, Method::GET, &item, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workspace_crud_round_trip() {
    crud_round_trip("/api/2.0/ip-access-lists").await;
}

#[tokio::test]
async fn account_crud_round_trip() {
    crud_round_trip("/api/2.0/accounts/0d1e2f3a-acct/ip-access-lists").await;
}

#[tokio::test]
async fn scopes_keep_separate_lists() {
    let emulator = start(config()).await;

    let (status, _) = call(
        &emulator,
        Method::POST,
        "/api/2.0/accounts/first/ip-access-lists",
        Some(json!({"label": "a", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (_, second) = call(
        &emulator,
        Method::GET,
        "/api/2.0/accounts/second/ip-access-lists",
        None,
    )
    .await;
    let (_, workspace) = call(&emulator, Method::GET, "/api/2.0/ip-access-lists", None).await;
    assert_eq!(second, json!({}));
    assert_eq!(workspace, json!({}));
    assert_eq!(emulator.lists(&account("first")).len(), 1);
    assert_eq!(emulator.lists(&account("second")), []);
    assert_eq!(emulator.lists(&Scope::Workspace), []);
}

#[tokio::test]
async fn create_keeps_host_bits() {
    let emulator = start(config()).await;

    let (status, body) = call(
        &emulator,
        Method::POST,
        "/api/2.0/ip-access-lists",
        Some(json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["203.0.113.9/24"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ip_access_list"]["ip_addresses"],
        json!(["203.0.113.9/24"])
    );
}

#[tokio::test]
async fn create_rejects_invalid_fields() {
    let emulator = start(config()).await;
    let cases = [
        (
            json!({"label": "", "list_type": "ALLOW"}),
            "INVALID_PARAMETER_VALUE",
            "label",
        ),
        (
            json!({"list_type": "ALLOW"}),
            "INVALID_PARAMETER_VALUE",
            "label",
        ),
        (
            json!({"label": "x", "list_type": "allow"}),
            "INVALID_PARAMETER_VALUE",
            "list_type",
        ),
        (
            json!({"label": "x"}),
            "INVALID_PARAMETER_VALUE",
            "list_type",
        ),
        (
            json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["2001:db8::/32"]}),
            "INVALID_PARAMETER_VALUE",
            "2001:db8::/32",
        ),
        (
            json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["10.0.0.256"]}),
            "INVALID_PARAMETER_VALUE",
            "10.0.0.256",
        ),
        (
            json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["10.0.0.0/33"]}),
            "INVALID_PARAMETER_VALUE",
            "10.0.0.0/33",
        ),
        (
            json!({"label": "x", "list_type": "ALLOW", "ip_addresses": "10.0.0.1"}),
            "MALFORMED_REQUEST",
            "ip_addresses",
        ),
    ];

    for (body, code, named) in cases {
        let (status, error) = call(
            &emulator,
            Method::POST,
            "/api/2.0/ip-access-lists",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["error_code"], code, "{body}");
        assert!(
            error["message"].as_str().unwrap().contains(named),
            "{body} -> {error}"
        );
    }
    assert_eq!(emulator.lists(&Scope::Workspace), []);
}

#[tokio::test]
async fn create_rejects_malformed_json() {
    let emulator = start(config()).await;
    let url = emulator.url().join("api/2.0/ip-access-lists").unwrap();

    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"label\": ")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error_code"], "MALFORMED_REQUEST");
}

#[tokio::test]
async fn replace_requires_enabled() {
    let emulator = start(config()).await;
    let list = emulator.seed(
        &Scope::Workspace,
        new_list("x", ListType::Allow, &["203.0.113.7"]),
    );

    let (status, error) = call(
        &emulator,
        Method::PUT,
        &format!("/api/2.0/ip-access-lists/{}", list.list_id),
        Some(json!({"label": "x", "list_type": "ALLOW"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "INVALID_PARAMETER_VALUE");
    assert!(error["message"].as_str().unwrap().contains("enabled"));
}

#[tokio::test]
async fn unknown_id_is_not_found() {
    let emulator = start(config()).await;

    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"enabled": true}));
        let (status, error) = call(
            &emulator,
            method.clone(),
            "/api/2.0/accounts/a/ip-access-lists/no-such-id",
            body,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            error,
            json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Can't find an IP access list with id: no-such-id."}),
        );
    }
}

#[tokio::test]
async fn duplicate_label_and_type_rejected() {
    let emulator = start(config()).await;
    let path = "/api/2.0/ip-access-lists";
    let body = json!({"label": "office", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]});

    let (first, _) = call(&emulator, Method::POST, path, Some(body.clone())).await;
    let (second, error) = call(&emulator, Method::POST, path, Some(body)).await;
    // The same label with the other type is a different list.
    let (allow, _) = call(
        &emulator,
        Method::POST,
        path,
        Some(json!({"label": "office", "list_type": "ALLOW", "ip_addresses": ["203.0.113.7"]})),
    )
    .await;

    assert_eq!(first, StatusCode::OK);
    assert_eq!(second, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "RESOURCE_ALREADY_EXISTS");
    assert_eq!(
        error["message"],
        "IP access list with type (BLOCK) and label (office) already exists"
    );
    assert_eq!(allow, StatusCode::OK);
}

async fn quota_at_limit(scope: Scope) {
    let emulator = start(config()).await;
    let collection = scope.collection_path();
    emulator.seed(
        &scope,
        NewAccessList {
            label: "big".to_owned(),
            list_type: ListType::Allow,
            ip_addresses: [addresses(998), vec!["203.0.113.7".to_owned()]].concat(),
        },
    );

    // 999 + 1 = 1,000 values: allowed.
    let (status, body) = call(
        &emulator,
        Method::POST,
        &collection,
        Some(json!({"label": "blocked", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // 1,000 + 1 = 1,001 values: over the quota.
    let (status, error) = call(
        &emulator,
        Method::POST,
        &collection,
        Some(json!({"label": "one-more", "list_type": "BLOCK", "ip_addresses": ["192.0.2.2"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "QUOTA_EXCEEDED");
    assert_eq!(emulator.lists(&scope).len(), 2);

    // Growing an existing list over the limit is rejected too.
    let blocked = &emulator.lists(&scope)[1];
    let (status, error) = call(
        &emulator,
        Method::PATCH,
        &format!("{collection}/{}", blocked.list_id),
        Some(json!({"ip_addresses": ["192.0.2.1", "192.0.2.2"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "QUOTA_EXCEEDED");
}

#[tokio::test]
async fn quota_workspace_limit() {
    quota_at_limit(Scope::Workspace).await;
}

#[tokio::test]
async fn quota_account_limit() {
    quota_at_limit(account("quota")).await;
}

#[tokio::test]
async fn quota_counts_each_account_alone() {
    let emulator = start(config()).await;
    emulator.seed(
        &account("full"),
        NewAccessList {
            label: "big".to_owned(),
            list_type: ListType::Block,
            ip_addresses: addresses(1000),
        },
    );

    let (status, body) = call(
        &emulator,
        Method::POST,
        "/api/2.0/accounts/empty/ip-access-lists",
        Some(json!({"label": "x", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn lockout_rejects_write() {
    let emulator = start(config()).await;
    let path = "/api/2.0/ip-access-lists";

    // 203.0.113.7 is outside 198.51.100.0/24.
    let (status, error) = call(
        &emulator,
        Method::POST,
        path,
        Some(json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["198.51.100.0/24"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"error_code": "INVALID_STATE", "message": "Your current IP 203.0.113.7 will not be allowed to access the workspace under current configuration"}),
    );

    // 203.0.113.0/25 covers 203.0.113.0 to 203.0.113.127, so the caller stays in.
    let (status, body) = call(
        &emulator,
        Method::POST,
        path,
        Some(json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["203.0.113.0/25"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list_id = body["ip_access_list"]["list_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // 203.0.113.128/25 starts after the caller's address.
    let (status, error) = call(
        &emulator,
        Method::PATCH,
        &format!("{path}/{list_id}"),
        Some(json!({"ip_addresses": ["203.0.113.128/25"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "INVALID_STATE");

    let (status, error) = call(
        &emulator,
        Method::POST,
        path,
        Some(json!({"label": "self", "list_type": "BLOCK", "ip_addresses": ["203.0.113.7"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "INVALID_STATE");

    // Disabling the only allow list leaves no allow list in force, which admits everyone.
    let (status, body) = call(
        &emulator,
        Method::PATCH,
        &format!("{path}/{list_id}"),
        Some(json!({"enabled": false, "ip_addresses": ["198.51.100.0/24"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn lockout_off_without_enforce() {
    let emulator = start(EmulatorConfig {
        enforce: false,
        ..config()
    })
    .await;

    let (status, body) = call(
        &emulator,
        Method::POST,
        "/api/2.0/ip-access-lists",
        Some(json!({"label": "x", "list_type": "ALLOW", "ip_addresses": ["198.51.100.0/24"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _) = call(&emulator, Method::GET, "/api/2.0/ip-access-lists", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn blocked_caller_gets_403() {
    let emulator = start(config()).await;
    emulator.seed(
        &Scope::Workspace,
        new_list("elsewhere", ListType::Allow, &["198.51.100.0/24"]),
    );

    let (status, error) = call(&emulator, Method::GET, "/api/2.0/ip-access-lists", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        error,
        json!({"error_code": 403, "message": "Source IP address: 203.0.113.7 is blocked by Databricks IP ACL for workspace: 987654321"}),
    );

    // Account lists are separate, so the account API still responds.
    let (status, _) = call(
        &emulator,
        Method::GET,
        "/api/2.0/accounts/a/ip-access-lists",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // 198.51.100.20 is inside 198.51.100.0/24.
    emulator.set_caller_ip(Ipv4Addr::new(198, 51, 100, 20));
    let (status, _) = call(&emulator, Method::GET, "/api/2.0/ip-access-lists", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn blocked_caller_by_block_list() {
    let emulator = start(config()).await;
    let scope = account("blocked");
    emulator.seed(&scope, new_list("wide", ListType::Allow, &["0.0.0.0/0"]));
    emulator.seed(&scope, new_list("me", ListType::Block, &["203.0.113.0/24"]));

    let (status, error) = call(&emulator, Method::GET, &scope.collection_path(), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error["error_code"], 403);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Source IP address: 203.0.113.7 is blocked by Databricks IP ACL")
    );
}

#[tokio::test]
async fn token_missing_or_unknown() {
    let emulator = start(config()).await;
    let path = "/api/2.0/ip-access-lists";

    let (status, error) = call_with_token(&emulator, Method::GET, path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["error_code"], "UNAUTHENTICATED");

    let (status, error) = call_with_token(&emulator, Method::GET, path, None, Some("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["error_code"], "UNAUTHENTICATED");

    let (status, _) =
        call_with_token(&emulator, Method::GET, path, None, Some("second-token")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn request_token(emulator: &Emulator, path: &str, secret: &str) -> (StatusCode, Value) {
    let url = emulator.url().join(path.trim_start_matches('/')).unwrap();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("scope", "all-apis")
        .finish();

    let response = reqwest::Client::new()
        .post(url)
        .basic_auth(CLIENT_ID, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn oauth_workspace_client_credentials() {
    let emulator = start(config()).await;

    let (status, discovery) = call_with_token(
        &emulator,
        Method::GET,
        "/oidc/.well-known/oauth-authorization-server",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token_endpoint = emulator.url().join("oidc/v1/token").unwrap();
    assert_eq!(discovery["token_endpoint"], token_endpoint.as_str());
    assert_eq!(
        discovery["authorization_endpoint"],
        emulator.url().join("oidc/v1/authorize").unwrap().as_str()
    );

    let (status, token) = request_token(&emulator, "/oidc/v1/token", CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let access_token = token["access_token"].as_str().unwrap();

    let (status, body) = call_with_token(
        &emulator,
        Method::POST,
        "/api/2.0/ip-access-lists",
        Some(json!({"label": "sp", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]})),
        Some(access_token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ip_access_list"]["created_by"], 200);

    // A workspace token is not valid for an account.
    let (status, _) = call_with_token(
        &emulator,
        Method::GET,
        "/api/2.0/accounts/a/ip-access-lists",
        None,
        Some(access_token),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    emulator.expire_tokens();
    let (status, _) = call_with_token(
        &emulator,
        Method::GET,
        "/api/2.0/ip-access-lists",
        None,
        Some(access_token),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oauth_account_token_per_account() {
    let emulator = start(config()).await;

    let (status, token) =
        request_token(&emulator, "/oidc/accounts/acct-1/v1/token", CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let access_token = token["access_token"].as_str().unwrap();

    let own = call_with_token(
        &emulator,
        Method::GET,
        "/api/2.0/accounts/acct-1/ip-access-lists",
        None,
        Some(access_token),
    )
    .await;
    let other = call_with_token(
        &emulator,
        Method::GET,
        "/api/2.0/accounts/acct-2/ip-access-lists",
        None,
        Some(access_token),
    )
    .await;
    let workspace = call_with_token(
        &emulator,
        Method::GET,
        "/api/2.0/ip-access-lists",
        None,
        Some(access_token),
    )
    .await;
    assert_eq!(own.0, StatusCode::OK);
    assert_eq!(other.0, StatusCode::UNAUTHORIZED);
    assert_eq!(workspace.0, StatusCode::UNAUTHORIZED);

    let (status, discovery) = call_with_token(
        &emulator,
        Method::GET,
        "/oidc/accounts/acct-1/.well-known/oauth-authorization-server",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        discovery["token_endpoint"],
        emulator
            .url()
            .join("oidc/accounts/acct-1/v1/token")
            .unwrap()
            .as_str()
    );
}

#[tokio::test]
async fn oauth_wrong_secret_is_invalid_client() {
    let emulator = start(config()).await;

    let (status, error) = request_token(&emulator, "/oidc/v1/token", "wrong").await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["error"], "invalid_client");
    assert!(error["error_description"].is_string());
}

#[tokio::test]
async fn oauth_form_credentials_accepted() {
    let emulator = start(config()).await;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("scope", "all-apis")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("client_secret", CLIENT_SECRET)
        .finish();

    let response = reqwest::Client::new()
        .post(emulator.url().join("oidc/v1/token").unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn oauth_token_exchange_accepted() {
    let emulator = start(EmulatorConfig {
        federated_subject_tokens: vec![Secret::new("github-oidc-jwt")],
        ..config()
    })
    .await;
    let form = |subject_token: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            )
            .append_pair("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")
            .append_pair("subject_token", subject_token)
            .append_pair("scope", "all-apis")
            .finish()
    };
    let url = emulator
        .url()
        .join("oidc/accounts/acct-1/v1/token")
        .unwrap();

    let accepted = reqwest::Client::new()
        .post(url.clone())
        .body(form("github-oidc-jwt"))
        .send()
        .await
        .unwrap();
    let rejected = reqwest::Client::new()
        .post(url)
        .body(form("other-jwt"))
        .send()
        .await
        .unwrap();

    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fault_too_many_requests() {
    let emulator = start(config()).await;
    emulator.inject(Fault::too_many_requests(Duration::from_secs(7)));
    let url = emulator.url().join("api/2.0/ip-access-lists").unwrap();

    let limited = reqwest::Client::new()
        .get(url.clone())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "7");
    let error: Value = limited.json().await.unwrap();
    assert_eq!(error["error_code"], "REQUEST_LIMIT_EXCEEDED");

    let next = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::OK);
}

#[tokio::test]
async fn fault_unavailable_matches_method() {
    let emulator = start(config()).await;
    emulator.inject(
        Fault::unavailable()
            .times(2)
            .matching(Method::POST, "/api/2.0/ip-access-lists"),
    );
    let body = json!({"label": "x", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]});

    let (get, _) = call(&emulator, Method::GET, "/api/2.0/ip-access-lists", None).await;
    let (first, error) = call(
        &emulator,
        Method::POST,
        "/api/2.0/ip-access-lists",
        Some(body.clone()),
    )
    .await;
    let (second, _) = call(
        &emulator,
        Method::POST,
        "/api/2.0/ip-access-lists",
        Some(body.clone()),
    )
    .await;
    let (third, _) = call(
        &emulator,
        Method::POST,
        "/api/2.0/ip-access-lists",
        Some(body),
    )
    .await;

    assert_eq!(get, StatusCode::OK);
    assert_eq!(first, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error["error_code"], "TEMPORARILY_UNAVAILABLE");
    assert_eq!(second, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(third, StatusCode::OK);
    assert_eq!(emulator.lists(&Scope::Workspace).len(), 1);
}

#[tokio::test]
async fn fault_delay_outlasts_client_timeout() {
    let emulator = start(config()).await;
    emulator.inject(Fault::delay(Duration::from_secs(30)));
    let url = emulator.url().join("api/2.0/ip-access-lists").unwrap();

    let error = reqwest::Client::new()
        .get(url.clone())
        .bearer_auth(TOKEN)
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");

    let next = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::OK);
}

#[tokio::test]
async fn fault_drop_connection() {
    let emulator = start(config()).await;
    emulator.inject(Fault::drop_connection());
    let url = emulator.url().join("api/2.0/ip-access-lists").unwrap();

    let error = reqwest::Client::new()
        .get(url.clone())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_status(), "{error}");

    let next = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(
        emulator.requests(),
        [
            RecordedRequest {
                method: "GET".to_owned(),
                path: "/api/2.0/ip-access-lists".to_owned(),
                status: None
            },
            RecordedRequest {
                method: "GET".to_owned(),
                path: "/api/2.0/ip-access-lists".to_owned(),
                status: Some(200)
            },
        ]
    );
}

#[tokio::test]
async fn fault_drop_response_after_create() {
    let emulator = start(config()).await;
    emulator.inject(Fault::drop_response().matching(Method::POST, "/api/2.0/ip-access-lists"));

    let error = reqwest::Client::new()
        .post(emulator.url().join("api/2.0/ip-access-lists").unwrap())
        .bearer_auth(TOKEN)
        .json(&json!({"label": "lost", "list_type": "BLOCK", "ip_addresses": ["192.0.2.1"]}))
        .send()
        .await
        .unwrap_err();

    assert!(!error.is_status(), "{error}");
    let lists = emulator.lists(&Scope::Workspace);
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].label, "lost");
}

#[tokio::test]
async fn admin_endpoints_seed_and_fault() {
    let emulator = start(config()).await;
    let client = reqwest::Client::new();
    let admin = |path: &str| emulator.url().join(&format!("_emulator/{path}")).unwrap();

    let seeded = client
        .post(admin("lists"))
        .json(&json!({"account_id": "acct", "label": "seeded", "list_type": "ALLOW", "ip_addresses": ["203.0.113.0/24"], "enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), StatusCode::OK);

    let settings = client
        .patch(admin("settings"))
        .json(&json!({"caller_ip": "192.0.2.44"}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::OK);

    let fault = client
        .post(admin("faults"))
        .json(&json!({"kind": "too_many_requests", "retry_after_seconds": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), StatusCode::NO_CONTENT);

    let state: Value = client
        .get(admin("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["caller_ip"], "192.0.2.44");
    assert_eq!(state["enforce"], true);
    assert_eq!(state["workspace"], json!([]));
    assert_eq!(state["accounts"]["acct"][0]["label"], "seeded");
    assert_eq!(state["accounts"]["acct"][0]["enabled"], false);

    let (status, _) = call(
        &emulator,
        Method::GET,
        "/api/2.0/accounts/acct/ip-access-lists",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let recorded: Value = client
        .get(admin("requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        recorded,
        json!({"requests": [{"method": "GET", "path": "/api/2.0/accounts/acct/ip-access-lists", "status": 429}]})
    );
}

#[tokio::test]
async fn unknown_endpoint_is_not_found() {
    let emulator = start(config()).await;

    let (status, error) = call(&emulator, Method::GET, "/api/2.0/clusters/list", None).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error_code"], "ENDPOINT_NOT_FOUND");
}

#[tokio::test]
async fn state_file_survives_restart() {
    let folder = tempfile::tempdir().unwrap();
    let state_file = folder.path().join("state.json");
    let with_file = || EmulatorConfig {
        state_file: Some(state_file.clone()),
        ..config()
    };

    let first = start(with_file()).await;
    let (status, body) = call(
        &first,
        Method::POST,
        "/api/2.0/accounts/acct/ip-access-lists",
        Some(json!({"label": "kept", "list_type": "ALLOW", "ip_addresses": ["203.0.113.0/24"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let created: AccessList = serde_json::from_value(body["ip_access_list"].clone()).unwrap();
    first.shutdown().await;

    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(saved["accounts"]["acct"][0]["label"], "kept");
    assert!(!folder.path().join("state.json.tmp").exists());

    let second = start(with_file()).await;
    assert_eq!(
        second.lists(&account("acct")),
        std::slice::from_ref(&created)
    );
    let (status, body) = call(
        &second,
        Method::GET,
        &format!("/api/2.0/accounts/acct/ip-access-lists/{}", created.list_id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ip_access_list"]["label"], "kept");
}

#[tokio::test]
async fn requests_recorded_without_admin() {
    let emulator = start(config()).await;

    call(&emulator, Method::GET, "/api/2.0/ip-access-lists", None).await;
    call_with_token(
        &emulator,
        Method::GET,
        "/api/2.0/ip-access-lists",
        None,
        None,
    )
    .await;
    reqwest::get(emulator.url().join("_emulator/state").unwrap())
        .await
        .unwrap();

    assert_eq!(
        emulator.requests(),
        [
            RecordedRequest {
                method: "GET".to_owned(),
                path: "/api/2.0/ip-access-lists".to_owned(),
                status: Some(200)
            },
            RecordedRequest {
                method: "GET".to_owned(),
                path: "/api/2.0/ip-access-lists".to_owned(),
                status: Some(401)
            },
        ]
    );
}
