//! A local, stateful emulator of the Databricks IP access list APIs and their OAuth token
//! endpoints, for tests, `ipsync demo` and users who rehearse a change (`ipsync emulate`).
//!
//! One port serves the workspace API (`/api/2.0/ip-access-lists`) and the account API of any
//! account id (`/api/2.0/accounts/{account_id}/ip-access-lists`), where each account has its
//! own lists. It also serves the OAuth endpoints (`/oidc/v1/token`,
//! `/oidc/accounts/{account_id}/v1/token` and their discovery documents). Admin endpoints
//! under `/_emulator/` seed lists, read the state, set the caller's address and inject faults. The emulated behaviour follows the
//! Databricks REST reference (<https://docs.databricks.com/api/workspace/ipaccesslists>) and
//! the official SDKs: the same JSON shapes, validation errors, the 1,000-value quota, the
//! caller-lockout check (`INVALID_STATE`) and the 403 of a blocked address.
//!
//! The admin endpoints need no token, so the emulator should listen on loopback only.

mod admin;
mod api;
mod error;
mod faults;
mod oauth;
mod store;

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use faults::{Fault, FaultKind};
pub use store::MAX_VALUES;

use crate::databricks::{AccessList, NewAccessList, Scope};
use crate::secret::Secret;
use error::ApiError;
use faults::{Connection, SeverableListener};
use oauth::IssuedToken;
use store::{Store, WriteContext};

/// Settings of an emulator: accepted credentials, the caller's address and the state file.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Bearer tokens (personal access tokens) accepted at every scope.
    pub tokens: Vec<Secret>,
    /// The OAuth client (service principal) whose id and secret the token endpoints accept.
    pub client: Option<(String, Secret)>,
    /// Subject tokens (such as a GitHub OIDC JWT) that the token-exchange grant accepts.
    pub federated_subject_tokens: Vec<Secret>,
    /// The address the emulated service takes as the caller's, for the lockout checks.
    pub caller_ip: Ipv4Addr,
    /// A JSON file that stores the lists: read at start when it exists, written after each change.
    pub state_file: Option<PathBuf>,
    /// Whether the lists gate requests; when false, neither the 403 block nor `INVALID_STATE`
    /// applies, as on a workspace whose IP access list feature is off.
    pub enforce: bool,
    /// The numeric workspace id that the 403 message and the host metadata name.
    pub workspace_id: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            client: None,
            federated_subject_tokens: Vec::new(),
            caller_ip: Ipv4Addr::LOCALHOST,
            state_file: None,
            enforce: true,
            workspace_id: 1_234_567_890_123_456,
        }
    }
}

/// One request that reached the emulated API (admin requests are not recorded). Bodies and
/// headers are left out, because they carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The response status, or `None` when an injected fault dropped the connection.
    pub status: Option<u16>,
}

/// A running emulator. Dropping it stops the server too, but [`Emulator::shutdown`] also
/// waits until the server has stopped.
pub struct Emulator {
    shared: Arc<Shared>,
    address: SocketAddr,
    url: Url,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `listen` (use `127.0.0.1:0` in tests) and starts serving in the background.
    ///
    /// Fails when the address cannot be bound, or when the state file exists but cannot be
    /// read or parsed, or cannot be written.
    pub async fn start(listen: SocketAddr, config: EmulatorConfig) -> io::Result<Emulator> {
        let store = match &config.state_file {
            Some(path) if path.exists() => Store::load(path)?,
            _ => Store::default(),
        };
        if let Some(path) = &config.state_file {
            store.save(path)?;
        }

        let listener = TcpListener::bind(listen).await?;
        let address = listener.local_addr()?;
        let url_host = if address.ip().is_unspecified() {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port())
        } else {
            address
        };
        let url = Url::parse(&format!("http://{url_host}/")).map_err(io::Error::other)?;

        let shared = Arc::new(Shared::new(config, store));
        let service = router(shared.clone()).into_make_service_with_connect_info::<Connection>();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let served = axum::serve(SeverableListener(listener), service)
                .with_graceful_shutdown(shutdown)
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "emulator server failed");
            }
        });
        tracing::debug!(%address, "emulator started");

        Ok(Emulator {
            shared,
            address,
            url,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// Returns the base URL, such as `http://127.0.0.1:41234/`; use it as the Databricks host.
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Adds an enabled list without any of the API's checks (validation, uniqueness, quota,
    /// lockout), so tests can set up states the API would reject.
    ///
    /// Panics when the state file cannot be written.
    pub fn seed(&self, scope: &Scope, list: NewAccessList) -> AccessList {
        let list = AccessList {
            list_id: String::new(),
            label: list.label,
            list_type: list.list_type,
            ip_addresses: list.ip_addresses,
            address_count: None,
            enabled: true,
            created_at: None,
            created_by: None,
            updated_at: None,
            updated_by: None,
        };
        self.seed_exact(scope, list)
    }

    /// Adds `list` as given, without checks. An empty `list_id` gets a new UUID, and missing
    /// `address_count` and timestamps are filled in.
    ///
    /// Panics when the state file cannot be written.
    pub fn seed_exact(&self, scope: &Scope, list: AccessList) -> AccessList {
        self.shared
            .seed(scope, list)
            .expect("failed to write the emulator state file")
    }

    /// Returns the lists of `scope`, in creation order.
    pub fn lists(&self, scope: &Scope) -> Vec<AccessList> {
        self.shared.lock().store.lists(scope).to_vec()
    }

    /// Queues a fault for the next matching requests. Faults apply in the order injected.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Returns the requests that reached the emulated API so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    pub fn set_caller_ip(&self, caller_ip: Ipv4Addr) {
        self.shared.lock().caller_ip = caller_ip;
    }

    pub fn set_enforce(&self, enforce: bool) {
        self.shared.lock().enforce = enforce;
    }

    /// Revokes every OAuth token issued so far, as if they had expired.
    pub fn expire_tokens(&self) {
        self.shared.lock().issued.clear();
    }

    /// Stops accepting connections and waits for the server to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs an emulator on `listen` until Ctrl-C, printing its URL on stdout.
pub async fn run_until_ctrl_c(listen: SocketAddr, config: EmulatorConfig) -> anyhow::Result<()> {
    use anyhow::Context as _;

    if !listen.ip().is_loopback() {
        tracing::warn!(
            %listen,
            "the emulator's admin endpoints need no token; listen on a loopback address unless \
             the network is trusted"
        );
    }
    let emulator = Emulator::start(listen, config)
        .await
        .with_context(|| format!("failed to start the emulator on `{listen}`"))?;

    let url = emulator.url();
    println!("Databricks API emulator listening on {url}");
    println!("Lists and settings: {url}_emulator/state (press Ctrl-C to stop)");

    tokio::signal::ctrl_c()
        .await
        .context("failed to wait for Ctrl-C")?;
    emulator.shutdown().await;
    Ok(())
}

/// State shared by the handlers.
pub(crate) struct Shared {
    tokens: Vec<Secret>,
    client: Option<(String, Secret)>,
    federated_subject_tokens: Vec<Secret>,
    workspace_id: u64,
    state_file: Option<PathBuf>,
    inner: Mutex<Inner>,
}

/// The mutable part of [`Shared`], behind one lock that is never held across an await.
pub(crate) struct Inner {
    store: Store,
    caller_ip: Ipv4Addr,
    enforce: bool,
    faults: Vec<Fault>,
    requests: Vec<RecordedRequest>,
    /// Issued OAuth access tokens, keyed by the token.
    issued: HashMap<String, IssuedToken>,
}

/// The `created_by` and `updated_by` of lists seeded outside the API.
const SEED_USER_ID: i64 = 0;

impl Shared {
    fn new(config: EmulatorConfig, store: Store) -> Self {
        Self {
            tokens: config.tokens,
            client: config.client,
            federated_subject_tokens: config.federated_subject_tokens,
            workspace_id: config.workspace_id,
            state_file: config.state_file,
            inner: Mutex::new(Inner {
                store,
                caller_ip: config.caller_ip,
                enforce: config.enforce,
                faults: Vec::new(),
                requests: Vec::new(),
                issued: HashMap::new(),
            }),
        }
    }

    /// Locks the mutable state. A handler that panicked cannot leave the store half-written,
    /// because writes swap in a finished copy, so a poisoned lock is safe to reuse.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on a copy of the store, saves the copy and only then makes it current,
    /// so a rejected or unsaved write leaves nothing behind.
    fn write<T>(
        &self,
        principal: i64,
        change: impl FnOnce(&mut Store, &WriteContext) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut inner = self.lock();
        let context = WriteContext {
            now_ms: now_ms(),
            principal,
            caller_ip: inner.enforce.then_some(inner.caller_ip),
        };

        let mut next = inner.store.clone();
        let result = change(&mut next, &context)?;
        self.save(&next).map_err(|error| {
            tracing::error!(%error, state_file = ?self.state_file, "failed to write the emulator state file");
            ApiError::internal(format!("The emulator failed to save its state: {error}"))
        })?;
        inner.store = next;
        Ok(result)
    }

    fn seed(&self, scope: &Scope, mut list: AccessList) -> io::Result<AccessList> {
        let now = now_ms();
        if list.list_id.is_empty() {
            list.list_id = uuid::Uuid::new_v4().to_string();
        }
        list.address_count = list
            .address_count
            .or(u32::try_from(list.ip_addresses.len()).ok());
        list.created_at = list.created_at.or(Some(now));
        list.created_by = list.created_by.or(Some(SEED_USER_ID));
        list.updated_at = list.updated_at.or(Some(now));
        list.updated_by = list.updated_by.or(Some(SEED_USER_ID));

        let mut inner = self.lock();
        let mut next = inner.store.clone();
        next.lists_mut(scope).push(list.clone());
        self.save(&next)?;
        inner.store = next;
        Ok(list)
    }

    fn save(&self, store: &Store) -> io::Result<()> {
        match &self.state_file {
            Some(path) => store.save(path),
            None => Ok(()),
        }
    }
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn router(shared: Arc<Shared>) -> Router {
    let emulated = Router::new()
        .merge(api::routes())
        .merge(oauth::routes())
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), gate));

    Router::new()
        .nest("/_emulator", admin::routes())
        .merge(emulated)
        .with_state(shared)
}

async fn unknown_endpoint(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        format!(
            "No API found for '{} {}'",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Wraps every emulated request: applies a pending fault, records the request and logs it.
async fn gate(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    tracing::debug!(%method, %path, "emulator request");

    let fault = faults::take_matching(&mut shared.lock().faults, &method, &path);
    let response = match fault {
        None => next.run(request).await,
        Some(FaultKind::Delay { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        Some(FaultKind::TooManyRequests {
            retry_after_seconds,
        }) => {
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_LIMIT_EXCEEDED",
                "Too many requests. Please wait a moment and try again.",
            );
            error.retry_after_seconds = Some(retry_after_seconds);
            error.into_response()
        }
        Some(FaultKind::Unavailable {
            retry_after_seconds,
        }) => {
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TEMPORARILY_UNAVAILABLE",
                "The service is temporarily unavailable. Please try again later.",
            );
            error.retry_after_seconds = retry_after_seconds;
            error.into_response()
        }
        Some(FaultKind::DropConnection) => {
            connection.sever();
            return dropped(
                &shared,
                &method,
                path,
                StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            );
        }
        Some(FaultKind::DropResponse) => {
            let response = next.run(request).await;
            connection.sever();
            return dropped(&shared, &method, path, response);
        }
    };

    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        tracing::info!(%method, %path, status = status.as_u16(), "emulator rejected a request");
    }
    shared.lock().requests.push(RecordedRequest {
        method: method.to_string(),
        path,
        status: Some(status.as_u16()),
    });
    response
}

/// Records a request whose connection an injected fault cut, and returns the response that
/// the severed stream will fail to send.
fn dropped(shared: &Shared, method: &Method, path: String, response: Response) -> Response {
    tracing::info!(%method, %path, "emulator dropped the connection (injected fault)");
    shared.lock().requests.push(RecordedRequest {
        method: method.to_string(),
        path,
        status: None,
    });
    response
}

/// The ids stored in `created_by` and `updated_by` for each kind of caller.
pub(crate) mod principal {
    /// The first static token; the next ones count up from here.
    pub const FIRST_TOKEN_USER_ID: i64 = 100;
    /// The OAuth client of the client-credentials grant.
    pub const CLIENT_USER_ID: i64 = 200;
    /// Callers that exchanged a federated subject token.
    pub const FEDERATED_USER_ID: i64 = 300;
}
