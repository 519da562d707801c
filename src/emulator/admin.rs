//! Admin endpoints under `/_emulator/`, for CLI users and tests that run the emulator in
//! another process. They need no token and are never gated, faulted or recorded.
//!
//! - `GET /_emulator/state`: settings and every list.
//! - `POST /_emulator/lists`: add a list without the API's checks; body
//!   `{"account_id"?, "label", "list_type", "ip_addresses"?, "enabled"?}` (no `account_id`
//!   means the workspace).
//! - `PATCH /_emulator/settings`: `{"caller_ip"?, "enforce"?}`.
//! - `POST /_emulator/faults`: queue a fault, such as
//!   `{"kind": "too_many_requests", "retry_after_seconds": 2, "count": 1}`. The kinds are
//!   `too_many_requests`, `unavailable` (optional `retry_after_seconds`), `delay` (`millis`),
//!   `drop_connection` and `drop_response`; `count`, `method` and `path_prefix` are optional.
//!   `DELETE` clears the queue.
//! - `GET /_emulator/requests`: requests the emulated API received; `DELETE` clears them.
//! - `DELETE /_emulator/tokens`: revoke every issued OAuth token.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{Fault, Shared};
use crate::databricks::{AccessList, ListType, Scope};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(state))
        .route("/lists", post(seed))
        .route("/settings", patch(settings))
        .route("/faults", post(inject).delete(clear_faults))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/tokens", delete(expire_tokens))
}

async fn state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let inner = shared.lock();
    Json(json!({
        "caller_ip": inner.caller_ip,
        "enforce": inner.enforce,
        "workspace_id": shared.workspace_id,
        "workspace": inner.store.workspace,
        "accounts": inner.store.accounts,
    }))
}

#[derive(Debug, Deserialize)]
struct SeedRequest {
    account_id: Option<String>,
    label: String,
    list_type: ListType,
    #[serde(default)]
    ip_addresses: Vec<String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

async fn seed(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<SeedRequest>,
) -> Result<Json<Value>, ApiError> {
    let scope = match request.account_id {
        Some(account_id) => Scope::Account { account_id },
        None => Scope::Workspace,
    };
    let list = AccessList {
        list_id: String::new(),
        label: request.label,
        list_type: request.list_type,
        ip_addresses: request.ip_addresses,
        address_count: None,
        enabled: request.enabled,
        created_at: None,
        created_by: None,
        updated_at: None,
        updated_by: None,
    };

    let list = shared.seed(&scope, list).map_err(|error| {
        ApiError::internal(format!("The emulator failed to save its state: {error}"))
    })?;
    Ok(Json(json!({ "ip_access_list": list })))
}

#[derive(Debug, Deserialize)]
struct SettingsRequest {
    caller_ip: Option<Ipv4Addr>,
    enforce: Option<bool>,
}

async fn settings(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<SettingsRequest>,
) -> Json<Value> {
    let mut inner = shared.lock();
    if let Some(caller_ip) = request.caller_ip {
        inner.caller_ip = caller_ip;
    }
    if let Some(enforce) = request.enforce {
        inner.enforce = enforce;
    }
    Json(json!({ "caller_ip": inner.caller_ip, "enforce": inner.enforce }))
}

async fn inject(State(shared): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    shared.lock().faults.push(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().faults.clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "requests": shared.lock().requests }))
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().requests.clear();
    StatusCode::NO_CONTENT
}

async fn expire_tokens(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().issued.clear();
    StatusCode::NO_CONTENT
}
