//! REST client for Databricks IP access lists, at the account or the workspace level.
//!
//! API reference: <https://docs.databricks.com/api/workspace/ipaccesslists> and
//! <https://docs.databricks.com/api/account/accountipaccesslists>. Both levels take the same
//! JSON and differ only in the collection path (see [`Scope::collection_path`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{ApiError, BODY_EXCERPT_CHARS, ErrorResponse, RequestSummary, cut};
use super::host::{ScopeKind, validate_account_id, validate_host};
use super::retry::{RetrySchedule, parse_retry_after};
use super::{AccessList, AccessListReplacement, AccessListUpdate, NewAccessList, Scope};
use crate::auth::{AuthError, Authenticate};

/// Time limit of one HTTP request, as in the Databricks SDKs.
/// Largest response body read from Databricks. 1,000 entries of a list are about 20 KB, so
/// this leaves room for any real response.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Time limit of all the tries of one operation, as in the Databricks SDKs.
pub const DEFAULT_RETRY_DEADLINE: Duration = Duration::from_secs(5 * 60);
/// First wait between tries. Each further wait doubles it.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(1);
/// Maximum wait between two tries, unless a `Retry-After` header requests more.
pub const DEFAULT_RETRY_MAX_WAIT: Duration = Duration::from_secs(10);

/// Settings of a [`Client`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Workspace URL or accounts console URL, checked by [`validate_host`].
    pub host: Url,
    pub scope: Scope,
    pub auth: Arc<dyn Authenticate>,
    /// Time limit of one HTTP request.
    pub request_timeout: Duration,
    /// Time after which a failing operation stops retrying and returns the last error.
    pub retry_deadline: Duration,
    /// First wait between tries. Tests set it to a millisecond.
    pub retry_base: Duration,
    /// Maximum backoff between two tries.
    pub retry_max_wait: Duration,
    pub user_agent: String,
}

impl ClientConfig {
    /// Creates settings with the default time limits and an `ipsync/<version>` user agent.
    pub fn new(host: Url, scope: Scope, auth: Arc<dyn Authenticate>) -> Self {
        Self {
            host,
            scope,
            auth,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            retry_deadline: DEFAULT_RETRY_DEADLINE,
            retry_base: DEFAULT_RETRY_BASE,
            retry_max_wait: DEFAULT_RETRY_MAX_WAIT,
            user_agent: format!("ipsync/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("host", &self.host.as_str())
            .field("scope", &self.scope)
            .field("auth", &self.auth.method())
            .field("request_timeout", &self.request_timeout)
            .field("retry_deadline", &self.retry_deadline)
            .field("retry_base", &self.retry_base)
            .field("retry_max_wait", &self.retry_max_wait)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// Client of the IP access list API of one workspace or one account.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
}

/// `GET` of the collection.
#[derive(Deserialize)]
struct ListResponse {
    /// The API leaves the field out when there are no lists.
    #[serde(default)]
    ip_access_lists: Vec<AccessList>,
}

/// `GET` of one list and `POST`.
#[derive(Deserialize)]
struct SingleResponse {
    ip_access_list: AccessList,
}

/// A 2xx response.
struct Success {
    status: StatusCode,
    body: Vec<u8>,
}

/// One HTTP request of an operation, kept so that it can be sent again.
struct Call {
    method: Method,
    url: Url,
    list_id: Option<String>,
    body: Option<Vec<u8>>,
}

/// Whether [`Client::execute`] tries a retryable failure again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Until the deadline: for requests that change nothing or change to the same result twice.
    UntilDeadline,
    /// Never, because sending the request twice could create two lists.
    Never,
}

impl Client {
    /// Checks the settings and builds the HTTP client.
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let host = validate_host(config.host.as_str())?;
        if let Scope::Account { account_id } = &config.scope {
            validate_account_id(account_id)?;
        }

        // Redirects are not followed: the API does not send them, and following one could
        // carry the credentials to another host.
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ApiError::HttpClient)?;

        Ok(Client {
            http,
            config: ClientConfig { host, ..config },
        })
    }

    pub fn scope(&self) -> &Scope {
        &self.config.scope
    }

    /// Returns the validated host, with the path `/`.
    pub fn host(&self) -> &Url {
        &self.config.host
    }

    /// Returns every allow and block list of the workspace or account.
    pub async fn list(&self) -> Result<Vec<AccessList>, ApiError> {
        let call = self.call(Method::GET, None, None);
        let success = self.execute(&call, Retry::UntilDeadline).await?;
        let response: ListResponse = self.decode(&call, &success)?;

        Ok(response.ip_access_lists)
    }

    pub async fn get(&self, list_id: &str) -> Result<AccessList, ApiError> {
        let call = self.call(Method::GET, Some(list_id), None);
        let success = self.execute(&call, Retry::UntilDeadline).await?;
        let response: SingleResponse = self.decode(&call, &success)?;

        Ok(response.ip_access_list)
    }

    /// Creates a list and returns it as stored.
    ///
    /// A create is never sent twice blindly. After a retryable failure, such as a response lost
    /// to a timeout, the client reads all lists and returns the one with the same label and
    /// type. Only when there is none does it send the create again.
    ///
    /// NOTE: the lookup assumes that no list with this label and type existed before the
    /// create, which the caller checks before it creates one. If one did, it is returned.
    pub async fn create(&self, new: &NewAccessList) -> Result<AccessList, ApiError> {
        let call = self.call(Method::POST, None, Some(to_json(new)));
        let mut schedule = self.retry_schedule();

        loop {
            let error = match self.execute(&call, Retry::Never).await {
                Ok(success) => {
                    let response: SingleResponse = self.decode(&call, &success)?;
                    return Ok(response.ip_access_list);
                }
                Err(error) if error.is_retryable() => error,
                Err(error) => return Err(error),
            };

            tracing::warn!(
                label = %new.label,
                error = %error,
                "creating the IP access list failed with a retryable error; \
                 looking it up by label before trying again"
            );
            if let Some(created) = self.find_created(new).await? {
                tracing::info!(
                    label = %created.label,
                    list_id = %created.list_id,
                    "found the IP access list that the failed create made"
                );
                return Ok(created);
            }

            self.wait_before_retry(&call, error, &mut schedule).await?;
        }
    }

    /// Changes the fields of `update` that are set and leaves the others as they are.
    pub async fn update(&self, list_id: &str, update: &AccessListUpdate) -> Result<(), ApiError> {
        let call = self.call(Method::PATCH, Some(list_id), Some(to_json(update)));
        self.execute(&call, Retry::UntilDeadline).await?;

        Ok(())
    }

    /// Overwrites every field of a list.
    pub async fn replace(
        &self,
        list_id: &str,
        replacement: &AccessListReplacement,
    ) -> Result<(), ApiError> {
        let call = self.call(Method::PUT, Some(list_id), Some(to_json(replacement)));
        self.execute(&call, Retry::UntilDeadline).await?;

        Ok(())
    }

    /// Deletes a list. A 404 on a retry counts as success, because an earlier try may have
    /// deleted the list before its response was lost.
    pub async fn delete(&self, list_id: &str) -> Result<(), ApiError> {
        let call = self.call(Method::DELETE, Some(list_id), None);
        self.execute(&call, Retry::UntilDeadline).await?;

        Ok(())
    }

    /// Finds the list that a create may have made before its response was lost.
    async fn find_created(&self, new: &NewAccessList) -> Result<Option<AccessList>, ApiError> {
        let mut matches = self
            .list()
            .await?
            .into_iter()
            .filter(|list| list.label == new.label && list.list_type == new.list_type);

        let found = matches.next();
        if found.is_some() && matches.next().is_some() {
            tracing::warn!(
                label = %new.label,
                "several IP access lists have this label and type; returning the first"
            );
        }
        Ok(found)
    }

    fn call(&self, method: Method, list_id: Option<&str>, body: Option<Vec<u8>>) -> Call {
        let mut url = self.config.host.clone();
        url.set_path(&self.config.scope.collection_path());
        if let Some(list_id) = list_id {
            // `push` percent-encodes the id, so `/`, `?` or `#` in it stay inside one segment.
            url.path_segments_mut()
                .expect("an https or http URL has a path")
                .push(list_id);
        }

        Call {
            method,
            url,
            list_id: list_id.map(str::to_owned),
            body,
        }
    }

    fn summary(&self, call: &Call) -> Box<RequestSummary> {
        Box::new(RequestSummary {
            method: call.method.clone(),
            host: self.config.host.origin().ascii_serialization(),
            path: call.url.path().to_owned(),
            scope: ScopeKind::from(&self.config.scope),
            list_id: call.list_id.clone(),
            auth_method: self.config.auth.method(),
        })
    }

    fn retry_schedule(&self) -> RetrySchedule {
        RetrySchedule::new(
            self.config.retry_deadline,
            self.config.retry_base,
            self.config.retry_max_wait,
        )
    }

    /// Sends a request and returns the body of its 2xx response.
    ///
    /// A 401 drops the cached token and sends the request once more with a new one, regardless
    /// of `retry`, because the server did not act on the rejected request. With
    /// [`Retry::UntilDeadline`], retryable failures are tried again until the deadline.
    async fn execute(&self, call: &Call, retry: Retry) -> Result<Success, ApiError> {
        let mut schedule = self.retry_schedule();
        let mut token_renewed = false;

        loop {
            let error = match self.send(call).await {
                Ok(success) => return Ok(success),
                Err(error) => error,
            };

            if error.status() == Some(StatusCode::UNAUTHORIZED) && !token_renewed {
                tracing::warn!(
                    method = %call.method,
                    path = call.url.path(),
                    auth = self.config.auth.method(),
                    "Databricks rejected the token with 401; retrying once with a new token"
                );
                self.config.auth.invalidate();
                token_renewed = true;
                continue;
            }

            // An earlier try of this delete may have removed the list before its response was
            // lost, and the list is gone either way.
            if call.method == Method::DELETE
                && schedule.retries() > 0
                && error.status() == Some(StatusCode::NOT_FOUND)
            {
                tracing::info!(
                    path = call.url.path(),
                    "the IP access list was already deleted when the delete was retried"
                );
                return Ok(Success {
                    status: StatusCode::NOT_FOUND,
                    body: Vec::new(),
                });
            }

            if retry == Retry::Never || !error.is_retryable() {
                return Err(error);
            }
            self.wait_before_retry(call, error, &mut schedule).await?;
        }
    }

    /// Sleeps before the next try, or returns `error` when the next try would start after the
    /// deadline.
    async fn wait_before_retry(
        &self,
        call: &Call,
        error: ApiError,
        schedule: &mut RetrySchedule,
    ) -> Result<(), ApiError> {
        let retry_after = match &error {
            ApiError::Status { response, .. } => response.retry_after,
            _ => None,
        };
        let status = error.status().map(|status| status.as_u16());

        let Some(wait) = schedule.next_wait(retry_after) else {
            tracing::warn!(
                method = %call.method,
                path = call.url.path(),
                status,
                retries = schedule.retries(),
                deadline = ?self.config.retry_deadline,
                "giving up on the Databricks request: the retry deadline would pass before the next try"
            );
            return Err(error);
        };

        tracing::warn!(
            method = %call.method,
            path = call.url.path(),
            status,
            wait = ?wait,
            retry = schedule.retries(),
            error = %error,
            "retrying the Databricks request after a transient failure"
        );
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Sends one HTTP request with the authentication headers.
    async fn send(&self, call: &Call) -> Result<Success, ApiError> {
        let auth_headers = self.auth_headers(call).await?;

        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json")
            .headers(auth_headers);
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }

        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|source| self.transport_error(call, source))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(call, response).await?;

        tracing::debug!(
            method = %call.method,
            path = call.url.path(),
            status = status.as_u16(),
            elapsed = ?started.elapsed(),
            "Databricks request finished"
        );

        if status.is_success() {
            return Ok(Success {
                status,
                body: body.to_vec(),
            });
        }
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));

        Err(ApiError::Status {
            request: self.summary(call),
            response: Box::new(ErrorResponse::new(status, &headers, &body, retry_after)),
        })
    }

    /// Converts the headers from [`Authenticate::headers`], marking each value as sensitive so
    /// that it is left out of debug output.
    async fn auth_headers(&self, call: &Call) -> Result<HeaderMap, ApiError> {
        let method = self.config.auth.method();
        let auth_error = |message: String| ApiError::Auth {
            request: self.summary(call),
            source: AuthError::Failed { method, message },
        };

        let pairs = self
            .config
            .auth
            .headers()
            .await
            .map_err(|source| ApiError::Auth {
                request: self.summary(call),
                source,
            })?;

        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| auth_error(format!("invalid header name `{name}`")))?;
            let mut header_value = HeaderValue::from_str(value.expose()).map_err(|_| {
                auth_error(format!(
                    "the value of header `{name}` is not a valid HTTP header value"
                ))
            })?;
            header_value.set_sensitive(true);
            headers.insert(header_name, header_value);
        }
        Ok(headers)
    }

    /// Reads a response body of at most [`MAX_RESPONSE_BYTES`], so that a broken or hostile
    /// server cannot exhaust memory with an endless or decompressed-to-huge body.
    async fn read_body(
        &self,
        call: &Call,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ApiError> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|source| self.transport_error(call, source))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ApiError::BodyTooLarge {
                    request: self.summary(call),
                    limit: MAX_RESPONSE_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, call: &Call, source: reqwest::Error) -> ApiError {
        if source.is_timeout() {
            return ApiError::Timeout {
                request: self.summary(call),
                after: self.config.request_timeout,
            };
        }
        ApiError::Transport {
            request: self.summary(call),
            source: source.without_url(),
        }
    }

    fn decode<T: DeserializeOwned>(&self, call: &Call, success: &Success) -> Result<T, ApiError> {
        serde_json::from_slice(&success.body).map_err(|error| ApiError::Decode {
            request: self.summary(call),
            status: success.status,
            error,
            body: cut(&String::from_utf8_lossy(&success.body), BODY_EXCERPT_CHARS),
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("request bodies are plain structs of strings, bools and lists")
}
