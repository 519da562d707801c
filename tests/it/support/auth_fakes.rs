//! Local fakes of the endpoints that authentication talks to: Databricks (list endpoint, OAuth
//! discovery, token endpoints), GitHub Actions' OIDC provider, Entra ID and the Azure instance
//! metadata service. Each fake responds only to a request that matches exactly (form fields,
//! headers, audience, Basic credentials); anything else gets wiremock's 404, so a test fails
//! when the request differs.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::json;
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

/// Matches a form body whose fields are exactly `expected`, whatever their order.
pub struct FormIs(pub BTreeMap<String, String>);

impl FormIs {
    pub fn new(fields: &[(&str, &str)]) -> Self {
        Self(
            fields
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }
}

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let mut seen = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(&request.body) {
            if seen.insert(name.into_owned(), value.into_owned()).is_some() {
                return false;
            }
        }
        seen == self.0
    }
}

/// Matches a request whose raw (still encoded) query string is exactly `expected`.
pub struct RawQueryIs(pub String);

impl Match for RawQueryIs {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == Some(self.0.as_str())
    }
}

/// Builds a token endpoint response in the Databricks / Entra shape, with `expires_in` seconds.
pub fn token_response(access_token: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }))
}

/// A fake Databricks host: the IP access list endpoint, OAuth discovery and token endpoints.
pub struct FakeDatabricks {
    pub server: MockServer,
}

impl FakeDatabricks {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    pub fn url(&self) -> Url {
        Url::parse(&self.server.uri()).unwrap()
    }

    /// Returns the workspace token endpoint that [`Self::serve_discovery`] advertises.
    pub fn workspace_token_url(&self) -> String {
        format!("{}/oidc/v1/token", self.server.uri())
    }

    pub fn account_token_path(account_id: &str) -> String {
        format!("/oidc/accounts/{account_id}/v1/token")
    }

    /// Serves `GET {collection_path}` with an empty list for `Authorization: Bearer {token}`
    /// (and every extra header given), and 401 for anything else.
    pub async fn accept_list_with(
        &self,
        collection_path: &str,
        token: &str,
        extra: &[(&str, &str)],
    ) {
        let mut accepted = Mock::given(method("GET"))
            .and(path(collection_path))
            .and(header("authorization", format!("Bearer {token}").as_str()));
        for (name, value) in extra {
            accepted = accepted.and(header(*name, *value));
        }
        accepted
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ip_access_lists": []})))
            .with_priority(1)
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path(collection_path))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "error_code": 401,
                "message": "Unauthorized",
            })))
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    /// Serves `/oidc/.well-known/oauth-authorization-server` pointing at `/oidc/v1/token`.
    pub async fn serve_discovery(&self) {
        Mock::given(method("GET"))
            .and(path("/oidc/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": format!("{}/oidc", self.server.uri()),
                "authorization_endpoint": format!("{}/oidc/v1/authorize", self.server.uri()),
                "token_endpoint": self.workspace_token_url(),
            })))
            .mount(&self.server)
            .await;
    }

    /// Serves `/.well-known/databricks-config` with the given default OIDC audience.
    pub async fn serve_host_metadata(&self, audience: &str) {
        Mock::given(method("GET"))
            .and(path("/.well-known/databricks-config"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "host_type": "WORKSPACE_HOST",
                "token_federation_default_oidc_audiences": [audience],
            })))
            .mount(&self.server)
            .await;
    }

    /// OAuth M2M at `token_path`: `Authorization: {basic_header}` (the literal Basic header),
    /// form `grant_type=client_credentials&scope=all-apis`. Expects `calls` requests.
    pub async fn m2m_token(
        &self,
        token_path: &str,
        basic_header: &str,
        issue: ResponseTemplate,
        calls: u64,
    ) {
        Mock::given(method("POST"))
            .and(path(token_path))
            .and(header("authorization", basic_header))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(FormIs::new(&[
                ("grant_type", "client_credentials"),
                ("scope", "all-apis"),
            ]))
            .respond_with(issue)
            .expect(calls)
            .mount(&self.server)
            .await;
    }

    /// The token exchange of OIDC federation at `token_path`, for `subject_token`; the
    /// `client_id` field is required when given and must be absent otherwise.
    pub async fn token_exchange(
        &self,
        token_path: &str,
        subject_token: &str,
        client_id: Option<&str>,
        issue: ResponseTemplate,
    ) {
        let mut fields = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ("subject_token", subject_token),
            ("scope", "all-apis"),
        ];
        if let Some(client_id) = client_id {
            fields.push(("client_id", client_id));
        }
        Mock::given(method("POST"))
            .and(path(token_path))
            .and(FormIs::new(&fields))
            .respond_with(issue)
            .expect(1)
            .mount(&self.server)
            .await;
    }
}

/// A fake of GitHub Actions' OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`).
pub struct FakeGithubOidc {
    pub server: MockServer,
}

impl FakeGithubOidc {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// Returns the value for `ACTIONS_ID_TOKEN_REQUEST_URL`. Like GitHub's, it already has a query.
    pub fn request_url(&self) -> String {
        format!("{}/idtoken?api-version=2.0", self.server.uri())
    }

    /// Issues `jwt` for `Authorization: Bearer {request_token}` when the raw query is
    /// `api-version=2.0&audience={encoded_audience}` (the audience URL-encoded by the caller).
    pub async fn issue(&self, request_token: &str, encoded_audience: &str, jwt: &str) {
        self.issue_times(request_token, encoded_audience, jwt, 1)
            .await;
    }

    /// Like [`Self::issue`], for a caller that must request the JWT `calls` times, such as
    /// once more after Databricks rejects the first token.
    pub async fn issue_times(
        &self,
        request_token: &str,
        encoded_audience: &str,
        jwt: &str,
        calls: u64,
    ) {
        Mock::given(method("GET"))
            .and(path("/idtoken"))
            .and(header(
                "authorization",
                format!("Bearer {request_token}").as_str(),
            ))
            .and(RawQueryIs(format!(
                "api-version=2.0&audience={encoded_audience}"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "count": jwt.len(),
                "value": jwt,
            })))
            .expect(calls)
            .mount(&self.server)
            .await;
    }
}

/// A fake Entra ID login endpoint (v1 `/{tenant}/oauth2/token`).
pub struct FakeEntra {
    pub server: MockServer,
}

impl FakeEntra {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// Returns the login base, with a trailing slash as the real ones have.
    pub fn login_url(&self) -> Url {
        Url::parse(&format!("{}/", self.server.uri())).unwrap()
    }

    /// Client credentials with a secret, in form fields, for `resource`.
    pub async fn client_secret(
        &self,
        tenant: &str,
        client_id: &str,
        client_secret: &str,
        resource: &str,
        issue: ResponseTemplate,
    ) {
        Mock::given(method("POST"))
            .and(path(format!("/{tenant}/oauth2/token")))
            .and(FormIs::new(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("resource", resource),
            ]))
            .respond_with(issue)
            .mount(&self.server)
            .await;
    }

    /// Client credentials with a GitHub JWT as the client assertion.
    pub async fn client_assertion(
        &self,
        tenant: &str,
        client_id: &str,
        assertion: &str,
        resource: &str,
        issue: ResponseTemplate,
    ) {
        Mock::given(method("POST"))
            .and(path(format!("/{tenant}/oauth2/token")))
            .and(FormIs::new(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("resource", resource),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
            ]))
            .respond_with(issue)
            .mount(&self.server)
            .await;
    }
}

/// A fake Azure instance metadata service.
pub struct FakeMetadata {
    pub server: MockServer,
}

impl FakeMetadata {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    pub fn url(&self) -> Url {
        Url::parse(&self.server.uri()).unwrap()
    }

    /// Issues `access_token` for `Metadata: true` and the exact raw query given.
    pub async fn identity_token(&self, raw_query: &str, access_token: &str) {
        Mock::given(method("GET"))
            .and(path("/metadata/identity/oauth2/token"))
            .and(header("metadata", "true"))
            .and(RawQueryIs(raw_query.to_owned()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access_token,
                "expires_in": "3599",
                "expires_on": "4102444800",
                "resource": "ignored",
                "token_type": "Bearer",
            })))
            .mount(&self.server)
            .await;
    }
}
