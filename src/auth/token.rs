//! OAuth token requests for each method, and the cache that reuses a token until shortly
//! before it expires.
//!
//! Requests follow the Databricks Go SDK. OAuth M2M sends client credentials to the Databricks
//! token endpoint (`config/auth_m2m.go`). OIDC federation uses the RFC 8693 token exchange
//! (`config/experimental/auth/oidc/tokensource.go`). Azure service principals use the Entra ID
//! v1 endpoint (`config/auth_azure_client_secret.go`, `config/auth_azure_github_oidc.go`), and
//! managed identities the Azure instance metadata service (`config/auth_azure_msi.go`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::secret::Secret;

use super::mask::add_mask;
use super::settings::Method;
use super::{AuthError, RequestFailure};

/// Azure Databricks rejects tokens that expire in 30 seconds or less, so a cached token is
/// replaced 40 seconds before its expiry (the Go SDK's `azureReuseTokenSource` does the same).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(40);

/// Time limit for each token request; the Go SDK allows 10 s for Entra ID and the metadata service.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ENTRA_FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";
pub const DEFAULT_SCOPE: &str = "all-apis";

/// An access token and the instant it expires, when the server stated one.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub value: Secret,
    pub expires_at: Option<Instant>,
}

impl AccessToken {
    /// Tells whether the token can still be sent. A token with no stated expiry is reused
    /// until `invalidate` drops it.
    fn is_fresh(&self, now: Instant) -> bool {
        self.expires_at
            .is_none_or(|expires_at| now + REFRESH_MARGIN < expires_at)
    }
}

/// The method and variables behind a token request, with the client that sends it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub method: Method,
    pub variables: Vec<String>,
    pub http: reqwest::Client,
}

impl RequestContext {
    fn failure(&self, endpoint: &Url) -> RequestFailure {
        RequestFailure {
            method: self.method.name(),
            variables: self.variables.clone(),
            endpoint: display_url(endpoint),
            status: None,
            error: None,
            description: None,
            hint: None,
        }
    }
}

/// The source of the JWT for an OIDC exchange.
#[derive(Debug)]
pub enum IdTokenSource {
    /// GitHub Actions' OIDC provider, at `ACTIONS_ID_TOKEN_REQUEST_URL`.
    Github {
        request_url: Url,
        request_token: Secret,
    },
    /// A variable read at start-up (`DATABRICKS_OIDC_TOKEN` or the one `DATABRICKS_OIDC_TOKEN_ENV` names).
    Variable { token: Secret },
    /// A file read at each exchange, so that a rotated token is picked up.
    File { path: PathBuf },
}

/// The Databricks OAuth token endpoint of the target.
#[derive(Debug)]
pub enum DatabricksEndpoint {
    /// `{accounts host}/oidc/accounts/{account_id}/v1/token`, built without discovery.
    Account(Url),
    /// Read from `{host}/oidc/.well-known/oauth-authorization-server` on first use.
    Workspace {
        host: Url,
        discovered: OnceCell<Url>,
    },
}

impl DatabricksEndpoint {
    pub fn for_target(host: &Url, account_id: Option<&str>) -> DatabricksEndpoint {
        match account_id {
            Some(account_id) => DatabricksEndpoint::Account(join(
                host,
                &format!("oidc/accounts/{account_id}/v1/token"),
            )),
            None => DatabricksEndpoint::Workspace {
                host: host.clone(),
                discovered: OnceCell::new(),
            },
        }
    }

    /// Names the endpoint for reports, before or after discovery.
    pub fn describe(&self) -> String {
        match self {
            DatabricksEndpoint::Account(url) => url.to_string(),
            DatabricksEndpoint::Workspace { host, discovered } => match discovered.get() {
                Some(url) => url.to_string(),
                None => format!(
                    "discovered from {}",
                    join(host, "oidc/.well-known/oauth-authorization-server")
                ),
            },
        }
    }

    async fn resolve(&self, context: &RequestContext) -> Result<Url, AuthError> {
        match self {
            DatabricksEndpoint::Account(url) => Ok(url.clone()),
            DatabricksEndpoint::Workspace { host, discovered } => discovered
                .get_or_try_init(|| discover_token_endpoint(context, host))
                .await
                .cloned(),
        }
    }
}

/// How a token is obtained.
// A run has one or two grants, so the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Grant {
    /// OAuth M2M: client credentials, sent in an HTTP Basic header, with scope `all-apis`.
    ClientCredentials {
        endpoint: DatabricksEndpoint,
        client_id: String,
        client_secret: Secret,
    },
    /// OIDC federation: a JWT exchanged at the Databricks token endpoint.
    TokenExchange {
        endpoint: DatabricksEndpoint,
        host: Url,
        /// Present for workload identity federation (a service principal's policy); absent
        /// for account-wide federation.
        client_id: Option<String>,
        audience: Option<String>,
        account_id: Option<String>,
        source: IdTokenSource,
        subject: std::sync::Mutex<Option<String>>,
    },
    /// Entra ID v1 client credentials with a client secret, for `resource`.
    EntraSecret {
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        resource: String,
    },
    /// Entra ID v1 client credentials with a GitHub JWT as the client assertion.
    EntraAssertion {
        token_url: Url,
        client_id: String,
        resource: String,
        request_url: Url,
        request_token: Secret,
        subject: std::sync::Mutex<Option<String>>,
    },
    /// The Azure instance metadata service, for a managed identity.
    InstanceMetadata {
        metadata_url: Url,
        client_id: Option<String>,
        resource: String,
    },
}

impl Grant {
    /// Names the token endpoint for reports.
    pub fn describe_endpoint(&self) -> String {
        match self {
            Grant::ClientCredentials { endpoint, .. } | Grant::TokenExchange { endpoint, .. } => {
                endpoint.describe()
            }
            Grant::EntraSecret { token_url, .. } | Grant::EntraAssertion { token_url, .. } => {
                token_url.to_string()
            }
            Grant::InstanceMetadata { metadata_url, .. } => {
                display_url(&imds_url(metadata_url, "", None))
            }
        }
    }

    /// Returns the `sub` claim of the last federated JWT, when there was one.
    pub fn subject(&self) -> Option<String> {
        match self {
            Grant::TokenExchange { subject, .. } | Grant::EntraAssertion { subject, .. } => {
                subject.lock().ok()?.clone()
            }
            _ => None,
        }
    }

    async fn fetch(&self, context: &RequestContext) -> Result<AccessToken, AuthError> {
        match self {
            Grant::ClientCredentials {
                endpoint,
                client_id,
                client_secret,
            } => {
                let url = endpoint.resolve(context).await?;
                let form = form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", DEFAULT_SCOPE),
                ]);
                let request = context
                    .http
                    .post(url.clone())
                    .basic_auth(client_id, Some(client_secret.expose()));
                send_token_request(context, &url, request.body(form), None).await
            }
            Grant::TokenExchange {
                endpoint,
                host,
                client_id,
                audience,
                account_id,
                source,
                subject,
            } => {
                let url = endpoint.resolve(context).await?;
                let audience = match audience {
                    Some(audience) => audience.clone(),
                    None => default_audience(context, host, account_id.as_deref(), &url).await,
                };
                let jwt = read_id_token(context, source, &audience).await?;
                let claims = JwtClaims::read(&jwt);
                *subject.lock().expect("subject lock") = claims.subject.clone();

                let mut fields = vec![
                    ("grant_type", TOKEN_EXCHANGE_GRANT),
                    ("subject_token_type", JWT_TOKEN_TYPE),
                    ("subject_token", jwt.expose()),
                    ("scope", DEFAULT_SCOPE),
                ];
                if let Some(client_id) = client_id {
                    fields.push(("client_id", client_id));
                }
                let request = context.http.post(url.clone()).body(form(&fields));
                send_token_request(context, &url, request, Some(&claims)).await
            }
            Grant::EntraSecret {
                token_url,
                client_id,
                client_secret,
                resource,
            } => {
                let body = form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", client_secret.expose()),
                    ("resource", resource),
                ]);
                let request = context.http.post(token_url.clone()).body(body);
                send_token_request(context, token_url, request, None).await
            }
            Grant::EntraAssertion {
                token_url,
                client_id,
                resource,
                request_url,
                request_token,
                subject,
            } => {
                let jwt = github_id_token(
                    context,
                    request_url,
                    request_token,
                    ENTRA_FEDERATION_AUDIENCE,
                )
                .await?;
                let claims = JwtClaims::read(&jwt);
                *subject.lock().expect("subject lock") = claims.subject.clone();

                let body = form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("resource", resource),
                    ("client_assertion_type", JWT_BEARER_ASSERTION),
                    ("client_assertion", jwt.expose()),
                ]);
                let request = context.http.post(token_url.clone()).body(body);
                send_token_request(context, token_url, request, Some(&claims)).await
            }
            Grant::InstanceMetadata {
                metadata_url,
                client_id,
                resource,
            } => {
                let url = imds_url(metadata_url, resource, client_id.as_deref());
                let request = context.http.get(url.clone()).header("Metadata", "true");
                send_token_request(context, &url, request, None).await
            }
        }
    }
}

/// A token, cached until [`REFRESH_MARGIN`] before it expires.
///
/// The tokio mutex is held across the request, so concurrent callers wait for one refresh
/// instead of each starting their own.
#[derive(Debug)]
pub struct TokenCache {
    pub grant: Grant,
    slot: Mutex<Option<AccessToken>>,
    stale: AtomicBool,
}

impl TokenCache {
    pub fn new(grant: Grant) -> Self {
        Self {
            grant,
            slot: Mutex::new(None),
            stale: AtomicBool::new(false),
        }
    }

    pub async fn token(&self, context: &RequestContext) -> Result<Secret, AuthError> {
        let mut slot = self.slot.lock().await;
        if self.stale.swap(false, Ordering::SeqCst) {
            *slot = None;
        }
        if let Some(token) = slot.as_ref().filter(|token| token.is_fresh(Instant::now())) {
            return Ok(token.value.clone());
        }

        let token = self.grant.fetch(context).await?;
        add_mask(&token.value);
        tracing::debug!(
            method = context.method.name(),
            endpoint = %self.grant.describe_endpoint(),
            "obtained a token"
        );
        let value = token.value.clone();
        *slot = Some(token);
        Ok(value)
    }

    /// Marks the cached token stale; it is dropped on the next call to `token`.
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }
}

/// The claims of a JWT that help explain a rejected federation. The signature is not checked:
/// these values are only shown to the user.
#[derive(Debug, Default, Clone)]
pub struct JwtClaims {
    pub subject: Option<String>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
}

impl JwtClaims {
    fn read(jwt: &Secret) -> JwtClaims {
        let payload = jwt
            .expose()
            .split('.')
            .nth(1)
            .and_then(|part| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part.trim_end_matches('='))
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let Some(payload) = payload else {
            return JwtClaims::default();
        };
        let text = |key: &str| match payload.get(key) {
            Some(Value::String(value)) => Some(value.clone()),
            Some(Value::Array(values)) => Some(
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        };
        JwtClaims {
            subject: text("sub"),
            audience: text("aud"),
            issuer: text("iss"),
        }
    }
}

async fn read_id_token(
    context: &RequestContext,
    source: &IdTokenSource,
    audience: &str,
) -> Result<Secret, AuthError> {
    let token = match source {
        IdTokenSource::Github {
            request_url,
            request_token,
        } => github_id_token(context, request_url, request_token, audience).await?,
        IdTokenSource::Variable { token } => token.clone(),
        IdTokenSource::File { path } => {
            let text = tokio::fs::read_to_string(path).await.map_err(|error| {
                AuthError::OidcTokenFile {
                    path: path.display().to_string(),
                    message: error.to_string(),
                }
            })?;
            let token = text.trim();
            if token.is_empty() {
                return Err(AuthError::OidcTokenFile {
                    path: path.display().to_string(),
                    message: "the file is empty".to_owned(),
                });
            }
            Secret::new(token)
        }
    };
    add_mask(&token);
    Ok(token)
}

/// Requests a JWT from GitHub Actions' OIDC provider for `audience`.
async fn github_id_token(
    context: &RequestContext,
    request_url: &Url,
    request_token: &Secret,
    audience: &str,
) -> Result<Secret, AuthError> {
    let mut url = request_url.clone();
    url.query_pairs_mut().append_pair("audience", audience);

    let response = context
        .http
        .get(url.clone())
        .bearer_auth(request_token.expose())
        .header("Accept", "application/json")
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|error| transport_failure(context, request_url, error))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let mut failure = context.failure(request_url);
        failure.status = Some(status.as_u16());
        read_error_fields(&mut failure, &body);
        failure.hint = Some(
            "GitHub refused the ID token request; check that the job has `permissions: id-token: write`"
                .to_owned(),
        );
        return Err(AuthError::Request(Box::new(failure)));
    }

    let value = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|json| json.get("value")?.as_str().map(str::to_owned))
        .filter(|value| !value.is_empty());
    match value {
        Some(value) => {
            let token = Secret::new(value);
            add_mask(&token);
            Ok(token)
        }
        None => {
            let mut failure = context.failure(request_url);
            failure.status = Some(status.as_u16());
            failure.description = Some("the response has no `value` field".to_owned());
            Err(AuthError::Request(Box::new(failure)))
        }
    }
}

/// Reads the workspace's token endpoint from its OAuth authorization server metadata.
async fn discover_token_endpoint(context: &RequestContext, host: &Url) -> Result<Url, AuthError> {
    let url = join(host, "oidc/.well-known/oauth-authorization-server");
    let response = context
        .http
        .get(url.clone())
        .header("Accept", "application/json")
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|error| transport_failure(context, &url, error))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();

    let endpoint = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|json| json.get("token_endpoint")?.as_str().map(str::to_owned))
        .and_then(|endpoint| Url::parse(&endpoint).ok());
    match endpoint {
        // The client secret goes to this endpoint, so it must be on the host the user named.
        Some(endpoint) if status.is_success() && endpoint.origin() != host.origin() => {
            let mut failure = context.failure(&url);
            failure.status = Some(status.as_u16());
            failure.description = Some(format!(
                "the OAuth discovery document names token endpoint `{}` on another host",
                endpoint.origin().ascii_serialization()
            ));
            failure.hint = Some(
                "credentials are sent only to the Databricks host itself; check `DATABRICKS_HOST`"
                    .to_owned(),
            );
            Err(AuthError::Request(Box::new(failure)))
        }
        Some(endpoint) if status.is_success() => Ok(endpoint),
        _ => {
            let mut failure = context.failure(&url);
            failure.status = Some(status.as_u16());
            read_error_fields(&mut failure, &body);
            failure.description.get_or_insert_with(|| {
                "the OAuth discovery document has no valid `token_endpoint`".to_owned()
            });
            failure.hint = Some(
                "check that the host is a Databricks workspace URL, or use an accounts host with an account ID"
                    .to_owned(),
            );
            Err(AuthError::Request(Box::new(failure)))
        }
    }
}

/// Picks the OIDC audience as the SDKs do when `DATABRICKS_TOKEN_AUDIENCE` is unset: the host's
/// `token_federation_default_oidc_audiences[0]`, then the account ID, then the token endpoint.
async fn default_audience(
    context: &RequestContext,
    host: &Url,
    account_id: Option<&str>,
    token_endpoint: &Url,
) -> String {
    let metadata_url = join(host, ".well-known/databricks-config");
    let from_metadata = async {
        let response = context
            .http
            .get(metadata_url.clone())
            .header("Accept", "application/json")
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let json = response.json::<Value>().await.ok()?;
        json.get("token_federation_default_oidc_audiences")?
            .get(0)?
            .as_str()
            .map(str::to_owned)
    };

    // The metadata document is optional, as in the SDKs: without it the fallbacks apply.
    if let Some(audience) = from_metadata.await {
        return audience;
    }
    match account_id {
        Some(account_id) => account_id.to_owned(),
        None => token_endpoint.to_string(),
    }
}

async fn send_token_request(
    context: &RequestContext,
    url: &Url,
    request: reqwest::RequestBuilder,
    claims: Option<&JwtClaims>,
) -> Result<AccessToken, AuthError> {
    let response = request
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|error| transport_failure(context, url, error))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();

    if !status.is_success() {
        let mut failure = context.failure(url);
        failure.status = Some(status.as_u16());
        read_error_fields(&mut failure, &body);
        failure.hint = super::hints::for_rejection(context.method, &failure, claims);
        return Err(AuthError::Request(Box::new(failure)));
    }

    parse_token_response(&body).ok_or_else(|| {
        let mut failure = context.failure(url);
        failure.status = Some(status.as_u16());
        failure.description = Some("the response has no `access_token`".to_owned());
        AuthError::Request(Box::new(failure))
    })
}

/// Reads `access_token` and the expiry: `expires_in` seconds, or else the `expires_on` epoch
/// (Entra ID v1 and the metadata service send both as strings).
fn parse_token_response(body: &str) -> Option<AccessToken> {
    let json = serde_json::from_str::<Value>(body).ok()?;
    let value = json.get("access_token")?.as_str()?;
    if value.is_empty() {
        return None;
    }

    let number = |key: &str| match json.get(key)? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    let lifetime = number("expires_in").or_else(|| number("expires_on").map(|on| on - now_unix));
    let expires_at = lifetime
        .map(|seconds| Instant::now() + Duration::from_secs(u64::try_from(seconds).unwrap_or(0)));

    Some(AccessToken {
        value: Secret::new(value),
        expires_at,
    })
}

/// Copies the OAuth `error` / `error_description` (or Databricks' `error_code` / `message`)
/// from an error body. A body that is not JSON is kept as the description, cut to 300 characters.
fn read_error_fields(failure: &mut RequestFailure, body: &str) {
    match serde_json::from_str::<Value>(body) {
        Ok(json) => {
            let text = |key: &str| match json.get(key)? {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            };
            failure.error = text("error").or_else(|| text("error_code"));
            failure.description = text("error_description").or_else(|| text("message"));
            // Entra ID appends trace and correlation IDs; the first sentence is the message.
            if let Some(description) = &mut failure.description {
                if let Some((message, _)) = description.split_once("\r\nTrace ID") {
                    *description = message.to_owned();
                }
            }
        }
        Err(_) if !body.trim().is_empty() => {
            failure.description = Some(body.trim().chars().take(300).collect());
        }
        Err(_) => {}
    }
}

fn transport_failure(context: &RequestContext, url: &Url, error: reqwest::Error) -> AuthError {
    let mut failure = context.failure(url);
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    failure.description = Some(format!("{kind}: {}", error.without_url()));
    failure.hint = super::hints::for_transport(context.method);
    AuthError::Request(Box::new(failure))
}

fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn imds_url(base: &Url, resource: &str, client_id: Option<&str>) -> Url {
    let mut url = join(base, "metadata/identity/oauth2/token");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("api-version", "2018-02-01");
        query.append_pair("resource", resource);
        if let Some(client_id) = client_id {
            query.append_pair("client_id", client_id);
        }
    }
    url
}

/// Appends `path` to `base`, keeping any path prefix that `base` has.
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let prefix = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/{path}"));
    url
}

/// Formats a URL for messages: scheme, host, port and path, without the query, which may
/// carry values.
pub fn display_url(url: &Url) -> String {
    let mut sanitized = url.clone();
    sanitized.set_query(None);
    sanitized.set_fragment(None);
    let _ = sanitized.set_password(None);
    let _ = sanitized.set_username("");
    sanitized.to_string()
}

/// Like [`display_url`], for text that may not parse as a URL: everything from `?` is dropped.
pub fn display_url_text(text: &str) -> String {
    text.split(['?', '#']).next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_expires_in_number() {
        let token = parse_token_response(r#"{"access_token":"a","expires_in":3600}"#).unwrap();

        let left = token.expires_at.unwrap() - Instant::now();
        assert!(left > Duration::from_secs(3590));
        assert!(left <= Duration::from_secs(3600));
    }

    #[test]
    fn token_response_expires_on_string() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let body = format!(r#"{{"access_token":"a","expires_on":"{}"}}"#, now + 600);

        let token = parse_token_response(&body).unwrap();

        let left = token.expires_at.unwrap() - Instant::now();
        assert!(left > Duration::from_secs(590));
        assert!(left <= Duration::from_secs(600));
    }

    #[test]
    fn token_response_without_token_is_none() {
        assert!(parse_token_response(r#"{"token_type":"Bearer"}"#).is_none());
        assert!(parse_token_response("<html>").is_none());
    }

    #[test]
    fn token_fresh_until_margin() {
        let now = Instant::now();
        let token = |seconds| AccessToken {
            value: Secret::new("a"),
            expires_at: Some(now + Duration::from_secs(seconds)),
        };

        assert!(token(41).is_fresh(now));
        assert!(!token(40).is_fresh(now));
        assert!(!token(30).is_fresh(now));
    }

    #[test]
    fn join_keeps_base_path() {
        let base = Url::parse("http://127.0.0.1:8080/prefix/").unwrap();

        assert_eq!(
            join(&base, "oidc/v1/token").as_str(),
            "http://127.0.0.1:8080/prefix/oidc/v1/token"
        );
    }

    #[test]
    fn jwt_claims_read_subject() {
        // Payload {"sub":"repo:octo/ipsync:environment:prod","aud":"acct"} in base64url.
        let jwt = Secret::new(
            "e30.eyJzdWIiOiJyZXBvOm9jdG8vaXBzeW5jOmVudmlyb25tZW50OnByb2QiLCJhdWQiOiJhY2N0In0.sig",
        );

        let claims = JwtClaims::read(&jwt);

        assert_eq!(
            claims.subject.as_deref(),
            Some("repo:octo/ipsync:environment:prod")
        );
        assert_eq!(claims.audience.as_deref(), Some("acct"));
    }

    #[test]
    fn display_url_drops_query() {
        let url = Url::parse("https://example.test/idtoken?api-version=2.0&sig=abc").unwrap();

        assert_eq!(display_url(&url), "https://example.test/idtoken");
    }
}
