//! The OAuth endpoints of Databricks: token endpoints for the workspace
//! (`/oidc/v1/token`) and for each account (`/oidc/accounts/{account_id}/v1/token`), their
//! discovery documents, and the host metadata (`/.well-known/databricks-config`) that newer
//! SDKs read first.
//!
//! Grants: `client_credentials` (OAuth M2M; client id and secret in HTTP Basic or in the
//! form) and the RFC 8693 token exchange used by workload identity federation. Each token
//! lasts one hour and is valid only for the scope whose endpoint issued it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use rand::Rng as _;
use serde_json::{Value, json};

use super::{Shared, principal};
use crate::databricks::Scope;

/// Lifetime of an issued access token, as Databricks documents it (one hour).
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

const CLIENT_CREDENTIALS: &str = "client_credentials";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const REQUIRED_SCOPE: &str = "all-apis";

/// An access token the emulator issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    /// The only scope whose API accepts the token.
    pub audience: Scope,
    pub principal: i64,
    pub expires_at: Instant,
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oidc/v1/token", post(workspace_token))
        .route("/oidc/accounts/{account_id}/v1/token", post(account_token))
        .route(
            "/oidc/.well-known/oauth-authorization-server",
            get(workspace_discovery),
        )
        .route(
            "/oidc/accounts/{account_id}/.well-known/oauth-authorization-server",
            get(account_discovery),
        )
        .route("/.well-known/databricks-config", get(host_metadata))
}

async fn workspace_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    issue(&shared, Scope::Workspace, &headers, &body)
}

async fn account_token(
    State(shared): State<Arc<Shared>>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    issue(&shared, Scope::Account { account_id }, &headers, &body)
}

fn issue(shared: &Shared, audience: Scope, headers: &HeaderMap, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();

    let scopes = form.get("scope").map(String::as_str).unwrap_or_default();
    if !scopes.split(' ').any(|scope| scope == REQUIRED_SCOPE) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The scope must include all-apis.",
        );
    }

    let principal = match form.get("grant_type").map(String::as_str) {
        Some(CLIENT_CREDENTIALS) => match shared.check_client(headers, &form) {
            Some(principal) => principal,
            None => {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "Client authentication failed: unknown client id or wrong secret.",
                );
            }
        },
        Some(TOKEN_EXCHANGE) => match shared.check_subject_token(&form) {
            Some(principal) => principal,
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The subject token is not accepted by any federation policy.",
                );
            }
        },
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The grant type must be client_credentials or token-exchange.",
            );
        }
    };

    let access_token = hex::encode(rand::rng().random::<[u8; 32]>());
    let issued = IssuedToken {
        audience,
        principal,
        expires_at: Instant::now() + TOKEN_LIFETIME,
    };
    shared.lock().issued.insert(access_token.clone(), issued);

    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "scope": REQUIRED_SCOPE,
    }))
    .into_response()
}

impl Shared {
    /// Returns the client's user id when the id and secret (HTTP Basic first, then the form
    /// fields) match the configured client.
    fn check_client(&self, headers: &HeaderMap, form: &HashMap<String, String>) -> Option<i64> {
        let (expected_id, expected_secret) = self.client.as_ref()?;

        let (client_id, client_secret) = basic_credentials(headers).or_else(|| {
            let client_id = form.get("client_id")?.clone();
            let client_secret = form.get("client_secret")?.clone();
            Some((client_id, client_secret))
        })?;

        let matches = client_id == *expected_id && client_secret == expected_secret.expose();
        matches.then_some(principal::CLIENT_USER_ID)
    }

    fn check_subject_token(&self, form: &HashMap<String, String>) -> Option<i64> {
        let subject_token = form.get("subject_token")?;
        self.federated_subject_tokens
            .iter()
            .any(|accepted| accepted.expose() == subject_token)
            .then_some(principal::FEDERATED_USER_ID)
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }

    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (client_id, client_secret) = decoded.split_once(':')?;
    Some((client_id.to_owned(), client_secret.to_owned()))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = Json(json!({ "error": error, "error_description": description }));
    (status, body).into_response()
}

async fn workspace_discovery(headers: HeaderMap) -> Json<Value> {
    let issuer = format!("{}/oidc", base_url(&headers));
    Json(discovery_document(&issuer))
}

async fn account_discovery(Path(account_id): Path<String>, headers: HeaderMap) -> Json<Value> {
    let issuer = format!("{}/oidc/accounts/{account_id}", base_url(&headers));
    Json(discovery_document(&issuer))
}

fn discovery_document(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/v1/authorize"),
        "token_endpoint": format!("{issuer}/v1/token"),
        "grant_types_supported": [CLIENT_CREDENTIALS, TOKEN_EXCHANGE],
        "scopes_supported": [REQUIRED_SCOPE],
    })
}

/// Returns host metadata as a workspace host does. One port cannot also act as an accounts
/// host, so an account client must be pointed at the account discovery document.
async fn host_metadata(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Json<Value> {
    Json(json!({
        "oidc_endpoint": format!("{}/oidc", base_url(&headers)),
        "workspace_id": shared.workspace_id.to_string(),
    }))
}

/// Returns the URL the client used to reach the emulator, from the `Host` header.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
