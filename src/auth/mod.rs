//! Databricks unified authentication: turns settings into the headers of each request.

mod hints;
mod mask;
mod methods;
mod profile;
mod report;
mod settings;
mod token;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use url::Url;

use crate::databricks::Scope;
use crate::env::Env;
use crate::secret::Secret;

pub use mask::{add_mask, enable_masking, mask_commands, masking_enabled};
pub use profile::{Profile, config_file_path, load_profile};
pub use report::{AuthReport, IdentityField, describe};
pub use settings::{AuthSettings, AzureCloud, Method, Sourced};
pub use token::REFRESH_MARGIN;

use token::{RequestContext, TokenCache};

/// A boxed future, so that [`Authenticate`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies the authentication headers for Databricks requests.
pub trait Authenticate: Send + Sync {
    /// Returns the headers to add to a request (`Authorization` and any others the method
    /// needs), fetching or refreshing a token when the cached one is missing or near expiry.
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, Secret)>, AuthError>>;

    /// Drops any cached token, so that the next call to `headers` obtains a new one.
    /// The client calls it once after a 401 in the middle of a run.
    fn invalidate(&self);

    /// Names the method in the unified-auth vocabulary, such as `pat` or `oauth-m2m`.
    fn method(&self) -> &'static str;
}

/// Why no credentials could be obtained. Messages name the method, the variables it read and
/// the endpoint that failed, and never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{method} authentication failed: {message}")]
    Failed {
        method: &'static str,
        message: String,
    },

    #[error(
        "unknown authentication method `{name}` in {origin}: expected one of {}",
        valid_method_names()
    )]
    UnknownMethod { name: String, origin: String },

    #[error("no Databricks credentials found: {}", describe_no_method(.skipped))]
    NoMethod {
        /// Methods whose variables were set but that do not apply, with the reason.
        skipped: Vec<String>,
    },

    #[error("{method} authentication needs {}{}", join_names(.missing), format_hint(.hint))]
    Missing {
        method: &'static str,
        missing: Vec<String>,
        hint: Option<String>,
    },

    #[error(
        "the Databricks account API does not accept personal access tokens ({variable} is set)\n  \
         hint: use `oauth-m2m` (DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET of a service \
         principal that is an account admin), `github-oidc` in a GitHub workflow, or an Entra ID \
         service principal (`azure-client-secret`, `github-oidc-azure`) that is an account admin"
    )]
    PatForAccount { variable: String },

    #[error("{0}")]
    Request(Box<RequestFailure>),

    #[error("invalid Databricks configuration file `{path}`: {message}")]
    Profile { path: String, message: String },

    #[error("profile `{name}` not found in `{path}`")]
    ProfileNotFound { name: String, path: String },

    #[error("invalid value `{value}` for {name}: expected {expected}")]
    Invalid {
        name: String,
        value: String,
        expected: String,
    },

    #[error("failed to read the OIDC token file `{path}`: {message}")]
    OidcTokenFile { path: String, message: String },
}

/// A token request that failed: which method, from which variables, which endpoint returned
/// what, and what to do.
#[derive(Debug, Clone)]
pub struct RequestFailure {
    pub method: &'static str,
    pub variables: Vec<String>,
    /// The URL without its query.
    pub endpoint: String,
    pub status: Option<u16>,
    /// The OAuth `error` (or Databricks `error_code`) of the response.
    pub error: Option<String>,
    /// The OAuth `error_description` (or Databricks `message`) of the response.
    pub description: Option<String>,
    pub hint: Option<String>,
}

impl fmt::Display for RequestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} authentication failed: ", self.method)?;
        match self.status {
            Some(status) => write!(f, "`{}` returned HTTP {status}", self.endpoint)?,
            None => write!(f, "request to `{}` failed", self.endpoint)?,
        }
        match (&self.error, &self.description) {
            (Some(error), Some(description)) => write!(f, ": {error}: {description}")?,
            (Some(text), None) | (None, Some(text)) => write!(f, ": {text}")?,
            (None, None) => {}
        }
        if !self.variables.is_empty() {
            write!(f, " (credentials from {})", self.variables.join(", "))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

fn valid_method_names() -> String {
    Method::DEFAULT_ORDER
        .iter()
        .map(|method| method.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn format_hint(hint: &Option<String>) -> String {
    hint.as_ref()
        .map_or_else(String::new, |hint| format!("\n  hint: {hint}"))
}

fn describe_no_method(skipped: &[String]) -> String {
    let mut text = "set DATABRICKS_TOKEN (workspace APIs only), or DATABRICKS_CLIENT_ID and \
                    DATABRICKS_CLIENT_SECRET, or ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID; \
                    in a GitHub workflow set DATABRICKS_CLIENT_ID and grant `permissions: id-token: \
                    write`; or name a profile of ~/.databrickscfg with --profile"
        .to_owned();
    for reason in skipped {
        text.push_str(&format!("\n  skipped {reason}"));
    }
    text
}

/// A fixed bearer token, such as a personal access token.
pub struct StaticToken {
    token: Secret,
    method: &'static str,
}

impl StaticToken {
    pub fn new(token: Secret, method: &'static str) -> Self {
        Self { token, method }
    }
}

impl Authenticate for StaticToken {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, Secret)>, AuthError>> {
        let header = Secret::new(format!("Bearer {}", self.token.expose()));
        Box::pin(async move { Ok(vec![("Authorization".to_owned(), header)]) })
    }

    fn invalidate(&self) {}

    fn method(&self) -> &'static str {
        self.method
    }
}

/// The settings that authentication takes from the rest of the program.
#[derive(Debug, Clone)]
pub struct AuthInputs {
    /// The Databricks host: a workspace URL or an accounts console URL.
    pub host: Url,
    pub scope: Scope,
    /// The profile named by `--profile`; `DATABRICKS_CONFIG_PROFILE` applies when it is `None`.
    pub profile: Option<String>,
    pub endpoints: AuthEndpoints,
    /// True under GitHub Actions: every secret and token is then masked with `::add-mask::`.
    pub github_actions: bool,
}

/// The external endpoints that are not derived from the Databricks host. Tests aim them at
/// loopback servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEndpoints {
    /// Entra ID login base of the public cloud, `https://login.microsoftonline.com/`.
    pub azure_login_public: Url,
    /// Entra ID login base of the US Government cloud, `https://login.microsoftonline.us/`.
    pub azure_login_usgov: Url,
    /// Entra ID login base of the China cloud, `https://login.chinacloudapi.cn/`.
    pub azure_login_china: Url,
    /// Base of the Azure instance metadata service, `http://169.254.169.254`. Only `azure-msi`
    /// sends to it, and only when `ARM_USE_MSI=true`.
    pub azure_metadata: Url,
}

/// Overrides every Entra ID login base (all clouds), for tests that run the binary.
pub const AZURE_LOGIN_URL_VARIABLE: &str = "IPSYNC_AZURE_LOGIN_URL";
/// Overrides the instance metadata base, for tests that run the binary.
pub const AZURE_METADATA_URL_VARIABLE: &str = "IPSYNC_AZURE_METADATA_URL";

impl Default for AuthEndpoints {
    fn default() -> Self {
        let parse = |text: &str| Url::parse(text).expect("built-in endpoint URL is valid");
        Self {
            azure_login_public: parse("https://login.microsoftonline.com/"),
            azure_login_usgov: parse("https://login.microsoftonline.us/"),
            azure_login_china: parse("https://login.chinacloudapi.cn/"),
            azure_metadata: parse("http://169.254.169.254"),
        }
    }
}

impl AuthEndpoints {
    /// Returns the defaults with the overrides of `IPSYNC_AZURE_LOGIN_URL` and
    /// `IPSYNC_AZURE_METADATA_URL` applied.
    pub fn from_env(env: &Env) -> Result<Self, AuthError> {
        let mut endpoints = Self::default();
        if let Some(login) = parse_url_variable(env, AZURE_LOGIN_URL_VARIABLE)? {
            endpoints.azure_login_public = login.clone();
            endpoints.azure_login_usgov = login.clone();
            endpoints.azure_login_china = login;
        }
        if let Some(metadata) = parse_url_variable(env, AZURE_METADATA_URL_VARIABLE)? {
            endpoints.azure_metadata = metadata;
        }
        Ok(endpoints)
    }

    pub fn azure_login(&self, cloud: AzureCloud) -> &Url {
        match cloud {
            AzureCloud::Public => &self.azure_login_public,
            AzureCloud::UsGovernment => &self.azure_login_usgov,
            AzureCloud::China => &self.azure_login_china,
        }
    }
}

fn parse_url_variable(env: &Env, name: &str) -> Result<Option<Url>, AuthError> {
    let Some(value) = env.get(name) else {
        return Ok(None);
    };
    Url::parse(value)
        .map(Some)
        .map_err(|error| AuthError::Invalid {
            name: name.to_owned(),
            value: value.to_owned(),
            expected: format!("an absolute URL ({error})"),
        })
}

/// Chooses the method for these settings and returns its authenticator. No request is sent
/// here; the first token is requested by the first call to [`Authenticate::headers`].
///
/// Under GitHub Actions every secret read is masked before anything else is printed.
pub fn resolve(
    env: &Env,
    inputs: &AuthInputs,
    http: reqwest::Client,
) -> Result<Arc<dyn Authenticate>, AuthError> {
    Ok(methods::prepare(env, inputs, http)?.authenticator)
}

/// An authenticator that sends bearer tokens from a [`TokenCache`], plus the Azure management
/// token where the SDKs send it.
pub struct TokenAuthenticator {
    context: RequestContext,
    primary: TokenCache,
    /// The token for `X-Databricks-Azure-SP-Management-Token` (`azure-client-secret`, `azure-msi`).
    management: Option<TokenCache>,
    /// The value of `X-Databricks-Azure-Workspace-Resource-Id`, from `DATABRICKS_AZURE_RESOURCE_ID`.
    workspace_resource_id: Option<String>,
}

impl TokenAuthenticator {
    /// Returns the token endpoint for reports. A workspace endpoint shows its discovery URL
    /// until the first token request.
    pub fn token_endpoint(&self) -> String {
        self.primary.grant.describe_endpoint()
    }

    /// Returns the `sub` claim of the federated JWT last exchanged, for reports.
    pub fn federated_subject(&self) -> Option<String> {
        self.primary.grant.subject()
    }
}

impl Authenticate for TokenAuthenticator {
    fn headers(&self) -> BoxFuture<'_, Result<Vec<(String, Secret)>, AuthError>> {
        Box::pin(async move {
            let token = self.primary.token(&self.context).await?;
            let mut headers = vec![(
                "Authorization".to_owned(),
                Secret::new(format!("Bearer {}", token.expose())),
            )];
            if let Some(management) = &self.management {
                let token = management.token(&self.context).await?;
                headers.push(("X-Databricks-Azure-SP-Management-Token".to_owned(), token));
            }
            if let Some(resource_id) = &self.workspace_resource_id {
                headers.push((
                    "X-Databricks-Azure-Workspace-Resource-Id".to_owned(),
                    Secret::new(resource_id.clone()),
                ));
            }
            Ok(headers)
        })
    }

    fn invalidate(&self) {
        self.primary.invalidate();
        if let Some(management) = &self.management {
            management.invalidate();
        }
    }

    fn method(&self) -> &'static str {
        self.context.method.name()
    }
}
