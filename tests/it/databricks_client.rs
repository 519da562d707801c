//! The Databricks IP access list client against a wiremock server on 127.0.0.1: exact requests
//! at both scopes, error decoding and hints, retries, the create lookup and token renewal.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ipsync::auth::{AuthError, Authenticate, BoxFuture};
use ipsync::databricks::{
    AccessList, AccessListReplacement, AccessListUpdate, ApiError, Client, ClientConfig, ListType,
    NewAccessList, Scope,
};
use ipsync::secret::Secret;
use serde_json::json;
use url::Url;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCOUNT_ID: &str = "0d26daa6-5e44-4c97-a497-ef015f91254a";
const LIST_ID: &str = "8e3b8c6a-4f0e-4a55-9d8c-2b7f3c1e9a01";
const USER_AGENT: &str = "ipsync-test/1.0";

/// An [`Authenticate`] that hands out `token-1`, then `token-2` after one invalidation, and
/// so on, and counts its calls.
#[derive(Default)]
struct CountingAuth {
    header_calls: AtomicUsize,
    invalidations: AtomicUsize,
}

impl CountingAuth {
    fn header_calls(&self) -> usize {
        self.header_calls.load(Ordering::SeqCst)
    }

    fn invalidations(&self) -> usize {
        self.invalidations.load(Ordering::SeqCst)
    }
}

impl Authenticate for CountingAuth {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, Secret)>, AuthError>> {
        self.header_calls.fetch_add(1, Ordering::SeqCst);
        let generation = self.invalidations() + 1;
        Box::pin(async move {
            Ok(vec![
                (
                    "Authorization".to_owned(),
                    Secret::new(format!("Bearer token-{generation}")),
                ),
                (
                    "X-Databricks-Azure-SP-Management-Token".to_owned(),
                    Secret::new("management-token"),
                ),
            ])
        })
    }

    fn invalidate(&self) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }

    fn method(&self) -> &'static str {
        "counting-test"
    }
}

/// An [`Authenticate`] whose token endpoint is down.
struct FailingAuth;

impl Authenticate for FailingAuth {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, Secret)>, AuthError>> {
        Box::pin(async {
            Err(AuthError::Failed {
                method: "oauth-m2m",
                message: "token endpoint returned 500".to_owned(),
            })
        })
    }

    fn invalidate(&self) {}

    fn method(&self) -> &'static str {
        "oauth-m2m"
    }
}

fn account_scope() -> Scope {
    Scope::Account {
        account_id: ACCOUNT_ID.to_owned(),
    }
}

/// Both scopes with their collection paths, written out instead of taken from `Scope`.
fn scopes() -> [(Scope, &'static str); 2] {
    [
        (Scope::Workspace, "/api/2.0/ip-access-lists"),
        (
            account_scope(),
            "/api/2.0/accounts/0d26daa6-5e44-4c97-a497-ef015f91254a/ip-access-lists",
        ),
    ]
}

fn test_config(server: &MockServer, scope: Scope, auth: Arc<dyn Authenticate>) -> ClientConfig {
    let mut config = ClientConfig::new(Url::parse(&server.uri()).unwrap(), scope, auth);
    config.request_timeout = Duration::from_secs(10);
    config.retry_deadline = Duration::from_secs(30);
    config.retry_base = Duration::from_millis(1);
    config.retry_max_wait = Duration::from_millis(4);
    config.user_agent = USER_AGENT.to_owned();
    config
}

fn test_client(server: &MockServer, scope: Scope) -> (Client, Arc<CountingAuth>) {
    let auth = Arc::new(CountingAuth::default());
    let client = Client::new(test_config(server, scope, auth.clone())).unwrap();
    (client, auth)
}

fn list_json() -> serde_json::Value {
    json!({
        "list_id": LIST_ID,
        "label": "AzureActiveDirectory",
        "list_type": "ALLOW",
        "ip_addresses": ["20.190.128.0/18", "40.126.0.0/18"],
        "address_count": 2,
        "enabled": true,
        "created_at": 1_733_300_000_000_i64,
        "created_by": 4_242_i64,
        "updated_at": 1_733_300_500_000_i64,
        "updated_by": 4_243_i64
    })
}

fn list_value() -> AccessList {
    AccessList {
        list_id: LIST_ID.to_owned(),
        label: "AzureActiveDirectory".to_owned(),
        list_type: ListType::Allow,
        ip_addresses: vec!["20.190.128.0/18".to_owned(), "40.126.0.0/18".to_owned()],
        address_count: Some(2),
        enabled: true,
        created_at: Some(1_733_300_000_000),
        created_by: Some(4_242),
        updated_at: Some(1_733_300_500_000),
        updated_by: Some(4_243),
    }
}

fn new_list() -> NewAccessList {
    NewAccessList {
        label: "AzureActiveDirectory".to_owned(),
        list_type: ListType::Allow,
        ip_addresses: vec!["20.190.128.0/18".to_owned(), "40.126.0.0/18".to_owned()],
    }
}

/// Checks the headers that every request carries, and `Content-Type` exactly when a body is sent.
fn assert_common_headers(request: &Request, has_body: bool) {
    let value = |name: &str| {
        request
            .headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };

    assert_eq!(value("accept").as_deref(), Some("application/json"));
    assert_eq!(value("user-agent").as_deref(), Some(USER_AGENT));
    assert_eq!(value("authorization").as_deref(), Some("Bearer token-1"));
    assert_eq!(
        value("x-databricks-azure-sp-management-token").as_deref(),
        Some("management-token")
    );
    if has_body {
        assert_eq!(value("content-type").as_deref(), Some("application/json"));
    } else {
        assert_eq!(value("content-type"), None);
        assert!(request.body.is_empty());
    }
}

async fn single_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

fn error_json(code: serde_json::Value, message: &str) -> serde_json::Value {
    json!({ "error_code": code, "message": message })
}

#[tokio::test]
async fn list_both_scopes() {
    for (scope, collection) in scopes() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(collection))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "ip_access_lists": [list_json()] })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = test_client(&server, scope);

        let lists = client.list().await.unwrap();

        assert_eq!(lists, vec![list_value()]);
        assert_common_headers(&single_request(&server).await, false);
    }
}

#[tokio::test]
async fn list_empty_object() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/ip-access-lists"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    assert_eq!(client.list().await.unwrap(), Vec::<AccessList>::new());
}

#[tokio::test]
async fn get_both_scopes() {
    for (scope, collection) in scopes() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("{collection}/{LIST_ID}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = test_client(&server, scope);

        let list = client.get(LIST_ID).await.unwrap();

        assert_eq!(list, list_value());
        assert_common_headers(&single_request(&server).await, false);
    }
}

#[tokio::test]
async fn get_percent_encodes_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/ip-access-lists/a%2Fb%20c%3Fd"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    client.get("a/b c?d").await.unwrap();
}

#[tokio::test]
async fn create_both_scopes() {
    for (scope, collection) in scopes() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(collection))
            .and(body_json(json!({
                "label": "AzureActiveDirectory",
                "list_type": "ALLOW",
                "ip_addresses": ["20.190.128.0/18", "40.126.0.0/18"]
            })))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = test_client(&server, scope);

        let created = client.create(&new_list()).await.unwrap();

        assert_eq!(created, list_value());
        assert_common_headers(&single_request(&server).await, true);
    }
}

#[tokio::test]
async fn update_both_scopes() {
    for (scope, collection) in scopes() {
        let server = MockServer::start().await;
        Mock::given(method("PATCH"))
            .and(path(format!("{collection}/{LIST_ID}")))
            .and(body_json(json!({
                "ip_addresses": ["20.190.128.0/18", "40.126.0.0/18"]
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = test_client(&server, scope);
        let update = AccessListUpdate {
            ip_addresses: Some(vec![
                "20.190.128.0/18".to_owned(),
                "40.126.0.0/18".to_owned(),
            ]),
            ..AccessListUpdate::default()
        };

        client.update(LIST_ID, &update).await.unwrap();

        assert_common_headers(&single_request(&server).await, true);
    }
}

#[tokio::test]
async fn update_sends_enabled_false() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/2.0/ip-access-lists/{LIST_ID}")))
        .and(body_json(json!({ "enabled": false })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);
    let update = AccessListUpdate {
        enabled: Some(false),
        ..AccessListUpdate::default()
    };

    client.update(LIST_ID, &update).await.unwrap();
}

#[tokio::test]
async fn update_accepts_empty_response() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/2.0/ip-access-lists/{LIST_ID}")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    client
        .update(LIST_ID, &AccessListUpdate::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn update_accepts_list_response() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/2.0/ip-access-lists/{LIST_ID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);
    let update = AccessListUpdate {
        label: Some("AzureActiveDirectory".to_owned()),
        ..AccessListUpdate::default()
    };

    client.update(LIST_ID, &update).await.unwrap();
}

#[tokio::test]
async fn replace_both_scopes() {
    for (scope, collection) in scopes() {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path(format!("{collection}/{LIST_ID}")))
            .and(body_json(json!({
                "label": "AzureActiveDirectory",
                "list_type": "ALLOW",
                "enabled": false,
                "ip_addresses": ["20.190.128.0/18"]
            })))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
            )
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = test_client(&server, scope);
        let replacement = AccessListReplacement {
            label: "AzureActiveDirectory".to_owned(),
            list_type: ListType::Allow,
            enabled: false,
            ip_addresses: vec!["20.190.128.0/18".to_owned()],
        };

        client.replace(LIST_ID, &replacement).await.unwrap();

        assert_common_headers(&single_request(&server).await, true);
    }
}

#[tokio::test]
async fn replace_accepts_empty_object() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/2.0/ip-access-lists/{LIST_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);
    let replacement = AccessListReplacement {
        label: "office".to_owned(),
        list_type: ListType::Block,
        enabled: true,
        ip_addresses: vec![],
    };

    client.replace(LIST_ID, &replacement).await.unwrap();
}

#[tokio::test]
async fn delete_both_scopes() {
    for (scope, collection) in scopes() {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .and(path(format!("{collection}/{LIST_ID}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = test_client(&server, scope);

        client.delete(LIST_ID).await.unwrap();

        assert_common_headers(&single_request(&server).await, false);
    }
}

#[tokio::test]
async fn error_string_code() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-databricks-request-id", "7c1f-42aa")
                .set_body_json(error_json(
                    json!("INVALID_STATE"),
                    "Your current IP 203.0.113.7 will not be allowed to access the workspace under current configuration",
                )),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client
        .update(LIST_ID, &AccessListUpdate::default())
        .await
        .unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(400));
    assert_eq!(error.error_code(), Some("INVALID_STATE"));
    assert_eq!(error.request_id(), Some("7c1f-42aa"));
    assert_eq!(
        error.to_string(),
        format!(
            "PATCH `/api/2.0/ip-access-lists/{LIST_ID}` on `{}` failed: 400 INVALID_STATE: \
             Your current IP 203.0.113.7 will not be allowed to access the workspace under \
             current configuration (request id `7c1f-42aa`)",
            server.uri()
        )
    );
    assert!(error.hint().unwrap().contains("`--include`"));
}

#[tokio::test]
async fn error_numeric_code() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(error_json(
            json!(403),
            "Source IP address: 203.0.113.7 is blocked by Databricks IP ACL for workspace: 1234567890123456",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client.list().await.unwrap_err();

    assert_eq!(error.error_code(), Some("403"));
    assert_eq!(
        error.message(),
        Some(
            "Source IP address: 203.0.113.7 is blocked by Databricks IP ACL for workspace: 1234567890123456"
        )
    );
    let hint = error.hint().unwrap();
    assert!(hint.contains("fixed egress address"), "{hint}");
}

#[tokio::test]
async fn error_plain_text_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string("INVALID_PARAMETER_VALUE: Invalid IP address: 300.1.1.1"),
        )
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, account_scope());

    let error = client.list().await.unwrap_err();

    assert_eq!(error.error_code(), Some("INVALID_PARAMETER_VALUE"));
    assert_eq!(error.message(), Some("Invalid IP address: 300.1.1.1"));
}

#[tokio::test]
async fn error_not_found_hint() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_json(
            json!("RESOURCE_DOES_NOT_EXIST"),
            "Can't find an IP access list with id: 8e3b8c6a-4f0e-4a55-9d8c-2b7f3c1e9a01.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, account_scope());

    let error = client.get(LIST_ID).await.unwrap_err();

    let hint = error.hint().unwrap();
    assert!(
        hint.contains(&format!("`{LIST_ID}` does not exist in this account")),
        "{hint}"
    );
    assert!(hint.contains("`--create-if-missing`"), "{hint}");
}

#[tokio::test]
async fn error_forbidden_hint_account() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(error_json(
            json!("PERMISSION_DENIED"),
            "User is not an account admin",
        )))
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, account_scope());

    let error = client.list().await.unwrap_err();

    assert!(error.hint().unwrap().contains("account admin"));
}

#[tokio::test]
async fn error_quota_hint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_json(
            json!("QUOTA_EXCEEDED"),
            "IP access list quota exceeded",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client.create(&new_list()).await.unwrap_err();

    assert_eq!(error.error_code(), Some("QUOTA_EXCEEDED"));
    assert!(error.hint().unwrap().contains("1,000 values"));
}

#[tokio::test]
async fn retry_429_after_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_json(error_json(json!("REQUEST_LIMIT_EXCEEDED"), "slow down")),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "ip_access_lists": [] })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    assert_eq!(client.list().await.unwrap(), vec![]);
}

#[tokio::test]
async fn retry_after_beyond_deadline_stops() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(error_json(json!("REQUEST_LIMIT_EXCEEDED"), "slow down")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let auth = Arc::new(CountingAuth::default());
    let mut config = test_config(&server, Scope::Workspace, auth);
    config.retry_deadline = Duration::from_secs(20);
    let client = Client::new(config).unwrap();

    let error = client.list().await.unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(429));
}

#[tokio::test]
async fn retry_503_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    client.delete(LIST_ID).await.unwrap();
}

#[tokio::test]
async fn delete_retry_not_found_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_json(
            json!("RESOURCE_DOES_NOT_EXIST"),
            "Can't find an IP access list with id: 8e3b8c6a-4f0e-4a55-9d8c-2b7f3c1e9a01.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    client.delete(LIST_ID).await.unwrap();
}

#[tokio::test]
async fn delete_first_not_found_fails() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_json(
            json!("RESOURCE_DOES_NOT_EXIST"),
            "Can't find an IP access list with id: 8e3b8c6a-4f0e-4a55-9d8c-2b7f3c1e9a01.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client.delete(LIST_ID).await.unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    assert!(error.hint().unwrap().contains("`--list-id`"));
}

#[tokio::test]
async fn error_500_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(error_json(json!("INTERNAL_ERROR"), "unexpected failure")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client.list().await.unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(500));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn deadline_returns_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(error_json(
            json!("TEMPORARILY_UNAVAILABLE"),
            "first failure",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(error_json(json!("REQUEST_LIMIT_EXCEEDED"), "later failure")),
        )
        .mount(&server)
        .await;
    let auth = Arc::new(CountingAuth::default());
    let mut config = test_config(&server, Scope::Workspace, auth);
    config.retry_deadline = Duration::from_millis(200);
    let client = Client::new(config).unwrap();

    let error = client.list().await.unwrap_err();

    assert_eq!(error.error_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    assert_eq!(error.message(), Some("later failure"));
    assert!(server.received_requests().await.unwrap().len() >= 2);
}

#[tokio::test]
async fn connection_refused_is_transport_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let auth: Arc<dyn Authenticate> = Arc::new(CountingAuth::default());
    let mut config = ClientConfig::new(
        Url::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
        Scope::Workspace,
        auth,
    );
    config.retry_base = Duration::from_millis(1);
    config.retry_max_wait = Duration::from_millis(4);
    config.retry_deadline = Duration::from_millis(50);
    let client = Client::new(config).unwrap();

    let error = client.list().await.unwrap_err();

    assert!(matches!(error, ApiError::Transport { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn create_lost_response_found_by_label() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/ip-access-lists"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "ip_access_list": list_json() }))
                .set_delay(Duration::from_secs(5)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/ip-access-lists"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ip_access_lists": [
                {
                    "list_id": "5a0c2f5e-0000-4000-8000-000000000001",
                    "label": "AzureActiveDirectory",
                    "list_type": "BLOCK",
                    "ip_addresses": ["198.51.100.0/24"],
                    "enabled": true
                },
                list_json()
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let auth = Arc::new(CountingAuth::default());
    let mut config = test_config(&server, Scope::Workspace, auth);
    config.request_timeout = Duration::from_millis(300);
    let client = Client::new(config).unwrap();

    let created = client.create(&new_list()).await.unwrap();

    assert_eq!(created, list_value());
}

#[tokio::test]
async fn create_retried_when_lookup_finds_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let created = client.create(&new_list()).await.unwrap();

    assert_eq!(created, list_value());
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 2);
}

#[tokio::test]
async fn unauthorized_renews_token_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(error_json(json!("UNAUTHENTICATED"), "Token is expired")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer token-2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "ip_access_list": list_json() })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, auth) = test_client(&server, Scope::Workspace);

    let list = client.get(LIST_ID).await.unwrap();

    assert_eq!(list, list_value());
    assert_eq!(auth.invalidations(), 1);
    assert_eq!(auth.header_calls(), 2);
}

#[tokio::test]
async fn unauthorized_twice_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(error_json(json!("UNAUTHENTICATED"), "Invalid access token")),
        )
        .expect(2)
        .mount(&server)
        .await;
    let (client, auth) = test_client(&server, account_scope());

    let error = client.list().await.unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(401));
    assert_eq!(auth.invalidations(), 1);
    let printed = format!("{error} {error:?} {}", error.hint().unwrap());
    assert!(!printed.contains("token-1"), "{printed}");
    assert!(!printed.contains("token-2"), "{printed}");
    assert!(!printed.contains("management-token"), "{printed}");
}

#[tokio::test]
async fn auth_failure_sends_nothing() {
    let server = MockServer::start().await;
    let client = Client::new(test_config(
        &server,
        Scope::Workspace,
        Arc::new(FailingAuth),
    ))
    .unwrap();

    let error = client.list().await.unwrap_err();

    assert!(matches!(error, ApiError::Auth { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn html_success_is_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>Sign in</body></html>", "text/html"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client.list().await.unwrap_err();

    let ApiError::Decode { body, .. } = &error else {
        panic!("expected a decode error, got {error:?}");
    };
    assert_eq!(body, "<html><body>Sign in</body></html>");
}

#[tokio::test]
async fn new_rejects_plain_http_host() {
    let auth: Arc<dyn Authenticate> = Arc::new(CountingAuth::default());
    let config = ClientConfig::new(
        Url::parse("http://adb-1234567890123456.7.azuredatabricks.net").unwrap(),
        Scope::Workspace,
        auth,
    );

    let error = Client::new(config).unwrap_err();

    assert!(matches!(error, ApiError::Host(_)), "{error:?}");
}

#[tokio::test]
async fn new_rejects_bad_account_id() {
    let auth: Arc<dyn Authenticate> = Arc::new(CountingAuth::default());
    let config = ClientConfig::new(
        Url::parse("https://accounts.azuredatabricks.net").unwrap(),
        Scope::Account {
            account_id: "../../api/2.0".to_owned(),
        },
        auth,
    );

    assert!(matches!(Client::new(config), Err(ApiError::Host(_))));
}

#[test]
fn config_defaults() {
    let auth: Arc<dyn Authenticate> = Arc::new(CountingAuth::default());
    let config = ClientConfig::new(
        Url::parse("https://adb-1234567890123456.7.azuredatabricks.net").unwrap(),
        Scope::Workspace,
        auth,
    );

    assert_eq!(config.request_timeout, Duration::from_secs(60));
    assert_eq!(config.retry_deadline, Duration::from_secs(300));
    assert_eq!(config.retry_base, Duration::from_secs(1));
    assert_eq!(config.retry_max_wait, Duration::from_secs(10));
    assert_eq!(
        config.user_agent,
        concat!("ipsync/", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn oversized_body_is_not_read() {
    let server = MockServer::start().await;
    let huge = vec![b' '; ipsync::databricks::MAX_RESPONSE_BYTES + 1];
    Mock::given(method("GET"))
        .and(path("/api/2.0/ip-access-lists"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(huge))
        .mount(&server)
        .await;
    let (client, _) = test_client(&server, Scope::Workspace);

    let error = client.list().await.unwrap_err();

    assert!(matches!(error, ApiError::BodyTooLarge { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("returned a body over 16777216 bytes"),
        "{error}"
    );
}
