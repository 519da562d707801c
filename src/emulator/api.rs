//! The IP access list endpoints, at workspace and account scope, and the checks that run
//! before each: the 403 IP-ACL block of the caller's address, then the bearer token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::store::{admits, parse_fields};
use super::{Shared, principal};
use crate::databricks::{AccessList, Scope};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/2.0/ip-access-lists", get(list).post(create))
        .route(
            "/api/2.0/ip-access-lists/{list_id}",
            get(read).patch(update).put(replace).delete(delete),
        )
        .route(
            "/api/2.0/accounts/{account_id}/ip-access-lists",
            get(list).post(create),
        )
        .route(
            "/api/2.0/accounts/{account_id}/ip-access-lists/{list_id}",
            get(read).patch(update).put(replace).delete(delete),
        )
}

/// The scope and list id that a request's path names.
struct Target {
    scope: Scope,
    list_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let parameters: Option<Path<HashMap<String, String>>> =
            Option::from_request_parts(parts, state)
                .await
                .map_err(|error| ApiError::malformed(format!("Invalid path: {error}")))?;
        let mut parameters = parameters.map(|Path(map)| map).unwrap_or_default();

        let scope = match parameters.remove("account_id") {
            Some(account_id) => Scope::Account { account_id },
            None => Scope::Workspace,
        };
        let list_id = parameters.remove("list_id").unwrap_or_default();
        Ok(Target { scope, list_id })
    }
}

async fn list(
    State(shared): State<Arc<Shared>>,
    target: Target,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    shared.authorize(&headers, &target.scope)?;

    let inner = shared.lock();
    let lists: Vec<Value> = inner.store.lists(&target.scope).iter().map(wire).collect();
    // Like other Databricks list endpoints, the key is left out when there is nothing to list.
    if lists.is_empty() {
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({ "ip_access_lists": lists })))
}

async fn create(
    State(shared): State<Arc<Shared>>,
    target: Target,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let principal = shared.authorize(&headers, &target.scope)?;
    let fields = parse_fields(&body)?;

    let list = shared.write(principal, |store, context| {
        store.create(&target.scope, fields, context)
    })?;
    Ok(Json(json!({ "ip_access_list": wire(&list) })))
}

async fn read(
    State(shared): State<Arc<Shared>>,
    target: Target,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    shared.authorize(&headers, &target.scope)?;

    let inner = shared.lock();
    let list = inner.store.get(&target.scope, &target.list_id)?;
    Ok(Json(json!({ "ip_access_list": wire(list) })))
}

/// PATCH and PUT return the stored list, as the REST reference documents. The SDKs ignore
/// this body, so a client should also accept the `{}` that the real service may send.
async fn update(
    State(shared): State<Arc<Shared>>,
    target: Target,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let principal = shared.authorize(&headers, &target.scope)?;
    let fields = parse_fields(&body)?;

    let list = shared.write(principal, |store, context| {
        store.update(&target.scope, &target.list_id, fields, context)
    })?;
    Ok(Json(json!({ "ip_access_list": wire(&list) })))
}

async fn replace(
    State(shared): State<Arc<Shared>>,
    target: Target,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let principal = shared.authorize(&headers, &target.scope)?;
    let fields = parse_fields(&body)?;

    let list = shared.write(principal, |store, context| {
        store.replace(&target.scope, &target.list_id, fields, context)
    })?;
    Ok(Json(json!({ "ip_access_list": wire(&list) })))
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    target: Target,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let principal = shared.authorize(&headers, &target.scope)?;

    shared.write(principal, |store, context| {
        store.delete(&target.scope, &target.list_id, context)
    })?;
    Ok(Json(json!({})))
}

/// Renders a list as the service sends it: an empty `ip_addresses` is left out.
fn wire(list: &AccessList) -> Value {
    let mut value = serde_json::to_value(list).expect("an access list serializes to JSON");
    if list.ip_addresses.is_empty() {
        if let Value::Object(object) = &mut value {
            object.remove("ip_addresses");
        }
    }
    value
}

impl Shared {
    /// Checks that the caller's address may reach `scope`, then that the bearer token is
    /// valid there, and returns the caller's user id.
    ///
    /// NOTE: The service's order of the two checks is not documented. The address check
    /// comes first here, because the block applies to every request, signed in or not.
    fn authorize(&self, headers: &HeaderMap, scope: &Scope) -> Result<i64, ApiError> {
        let mut inner = self.lock();

        if inner.enforce && !admits(inner.store.lists(scope), inner.caller_ip) {
            let owner = match scope {
                Scope::Workspace => format!("workspace: {}", self.workspace_id),
                // NOTE: The wording for an account is a guess modelled on the workspace one.
                Scope::Account { account_id } => format!("account: {account_id}"),
            };
            return Err(ApiError::blocked_by_acl(format!(
                "Source IP address: {} is blocked by Databricks IP ACL for {owner}",
                inner.caller_ip
            )));
        }

        let Some(token) = bearer_token(headers) else {
            return Err(unauthenticated(
                "Credential was not sent or was of an unsupported type for this API.",
            ));
        };
        if let Some(index) = self.tokens.iter().position(|known| known.expose() == token) {
            let index = i64::try_from(index).unwrap_or(i64::MAX);
            return Ok(principal::FIRST_TOKEN_USER_ID + index);
        }

        let now = Instant::now();
        inner.issued.retain(|_, issued| issued.expires_at > now);
        match inner.issued.get(token) {
            Some(issued) if issued.audience == *scope => Ok(issued.principal),
            Some(_) => Err(unauthenticated(format!(
                "The OAuth token was issued for another audience and is not valid for this {}.",
                scope.name()
            ))),
            None => Err(unauthenticated("Invalid access token.")),
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// NOTE: The real service may return 403 rather than 401 for a bad personal access token.
/// The emulator returns 401 for every missing or unknown token.
fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
}
