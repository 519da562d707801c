//! The unified-auth attributes, each taken from its environment variable or else from the
//! profile, and the choice of method among them.
//!
//! Variable names, profile keys and the default order of methods follow the Databricks Go SDK
//! (`config/config.go`, `config/auth_default.go`), which the CLI and the Terraform provider use.

use std::fmt;

use crate::databricks::Scope;
use crate::env::Env;
use crate::secret::Secret;

use super::profile::Profile;
use super::{AuthError, AuthInputs};

/// An authentication method, named as in `DATABRICKS_AUTH_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pat,
    OAuthM2m,
    GithubOidc,
    EnvOidc,
    FileOidc,
    GithubOidcAzure,
    AzureMsi,
    AzureClientSecret,
}

impl Method {
    /// The methods in the order the Go SDK tries them when `DATABRICKS_AUTH_TYPE` is unset.
    pub const DEFAULT_ORDER: [Method; 8] = [
        Method::Pat,
        Method::OAuthM2m,
        Method::GithubOidc,
        Method::EnvOidc,
        Method::FileOidc,
        Method::GithubOidcAzure,
        Method::AzureMsi,
        Method::AzureClientSecret,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Pat => "pat",
            Method::OAuthM2m => "oauth-m2m",
            Method::GithubOidc => "github-oidc",
            Method::EnvOidc => "env-oidc",
            Method::FileOidc => "file-oidc",
            Method::GithubOidcAzure => "github-oidc-azure",
            Method::AzureMsi => "azure-msi",
            Method::AzureClientSecret => "azure-client-secret",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Self::DEFAULT_ORDER
            .into_iter()
            .find(|method| method.name() == name)
    }

    pub fn is_azure(self) -> bool {
        matches!(
            self,
            Method::GithubOidcAzure | Method::AzureMsi | Method::AzureClientSecret
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An Azure cloud, chosen by `ARM_ENVIRONMENT` or else by the host's DNS zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AzureCloud {
    Public,
    UsGovernment,
    China,
}

impl AzureCloud {
    /// The Entra ID resource (application) ID of Azure Databricks. Public, US Government and
    /// China share one ID (Go SDK `common/environment/environments.go`).
    pub const DATABRICKS_RESOURCE: &'static str = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d";

    /// Returns the service management resource, whose token goes in `X-Databricks-Azure-SP-Management-Token`.
    pub fn management_resource(self) -> &'static str {
        match self {
            AzureCloud::Public => "https://management.core.windows.net/",
            AzureCloud::UsGovernment => "https://management.core.usgovcloudapi.net/",
            AzureCloud::China => "https://management.core.chinacloudapi.cn/",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AzureCloud::Public => "PUBLIC",
            AzureCloud::UsGovernment => "USGOVERNMENT",
            AzureCloud::China => "CHINA",
        }
    }

    /// Parses `ARM_ENVIRONMENT`, accepting the older `AzurePublicCloud` spellings as the
    /// Python SDK does.
    fn parse(value: &str) -> Option<AzureCloud> {
        let upper = value.to_ascii_uppercase();
        let trimmed = upper.strip_prefix("AZURE").unwrap_or(&upper);
        let trimmed = trimmed.strip_suffix("CLOUD").unwrap_or(trimmed);
        match trimmed {
            "PUBLIC" => Some(AzureCloud::Public),
            "USGOVERNMENT" => Some(AzureCloud::UsGovernment),
            "CHINA" => Some(AzureCloud::China),
            _ => None,
        }
    }

    fn from_host(host: &str) -> Option<AzureCloud> {
        if host.ends_with(".azuredatabricks.net") {
            Some(AzureCloud::Public)
        } else if host.ends_with(".databricks.azure.us") {
            Some(AzureCloud::UsGovernment)
        } else if host.ends_with(".databricks.azure.cn") {
            Some(AzureCloud::China)
        } else {
            None
        }
    }
}

/// A value together with where it came from: a variable name, or a profile key.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub value: T,
    pub source: String,
}

/// The unified-auth attributes for this run. Environment variables win over the profile.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    pub auth_type: Option<Sourced<String>>,
    pub token: Option<Sourced<Secret>>,
    pub client_id: Option<Sourced<String>>,
    pub client_secret: Option<Sourced<Secret>>,
    pub azure_client_id: Option<Sourced<String>>,
    pub azure_client_secret: Option<Sourced<Secret>>,
    pub azure_tenant_id: Option<Sourced<String>>,
    pub azure_use_msi: Option<Sourced<bool>>,
    pub azure_environment: Option<Sourced<String>>,
    pub azure_resource_id: Option<Sourced<String>>,
    pub token_audience: Option<Sourced<String>>,
    pub oidc_token: Option<Sourced<Secret>>,
    pub oidc_token_filepath: Option<Sourced<String>>,
    pub actions_request_url: Option<Sourced<String>>,
    pub actions_request_token: Option<Sourced<Secret>>,
    pub cloud: Option<Sourced<String>>,
    pub profile: Option<String>,
}

/// Auth variables that, when any is set, keep the fallback `[DEFAULT]` profile out of the
/// auth settings, as in the Go SDK's config-file loader.
const AUTH_VARIABLES: [&str; 11] = [
    "DATABRICKS_TOKEN",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "ARM_CLIENT_ID",
    "ARM_CLIENT_SECRET",
    "ARM_TENANT_ID",
    "ARM_USE_MSI",
    "DATABRICKS_AZURE_RESOURCE_ID",
    "DATABRICKS_OIDC_TOKEN_ENV",
    "DATABRICKS_OIDC_TOKEN_FILEPATH",
    "DATABRICKS_OIDC_TOKEN",
];

impl AuthSettings {
    /// Merges the environment over the profile. A fallback profile is skipped when the
    /// environment already configures authentication or when its host is another one.
    pub fn resolve(env: &Env, inputs: &AuthInputs) -> Result<AuthSettings, AuthError> {
        let profile = super::profile::load_profile(env, inputs.profile.as_deref())?
            .filter(|profile| keep_profile(profile, env, inputs));
        let profile = profile.as_ref();

        let text = |variable: &str, keys: &[&str]| pick(env, profile, variable, keys);
        let secret = |variable: &str, keys: &[&str]| {
            pick(env, profile, variable, keys).map(|found| Sourced {
                value: Secret::new(found.value),
                source: found.source,
            })
        };

        let azure_use_msi = match text("ARM_USE_MSI", &["azure_use_msi"]) {
            None => None,
            Some(found) => Some(Sourced {
                value: parse_bool(&found)?,
                source: found.source,
            }),
        };

        let oidc_token_env = text("DATABRICKS_OIDC_TOKEN_ENV", &["oidc_token_env"]);
        let oidc_variable = oidc_token_env
            .as_ref()
            .map_or("DATABRICKS_OIDC_TOKEN", |found| found.value.as_str());
        let oidc_token = env.get(oidc_variable).map(|value| Sourced {
            value: Secret::new(value),
            source: oidc_variable.to_owned(),
        });

        let oidc_token_filepath = text(
            "DATABRICKS_OIDC_TOKEN_FILEPATH",
            &["databricks_id_token_filepath", "oidc_token_filepath"],
        )
        .or_else(|| text("DATABRICKS_OIDC_TOKEN_FILE", &[]));

        Ok(AuthSettings {
            auth_type: text("DATABRICKS_AUTH_TYPE", &["auth_type"]),
            token: secret("DATABRICKS_TOKEN", &["token"]),
            client_id: text("DATABRICKS_CLIENT_ID", &["client_id"]),
            client_secret: secret("DATABRICKS_CLIENT_SECRET", &["client_secret"]),
            azure_client_id: text("ARM_CLIENT_ID", &["azure_client_id"]),
            azure_client_secret: secret("ARM_CLIENT_SECRET", &["azure_client_secret"]),
            azure_tenant_id: text("ARM_TENANT_ID", &["azure_tenant_id"]),
            azure_use_msi,
            azure_environment: text("ARM_ENVIRONMENT", &["azure_environment"]),
            azure_resource_id: text(
                "DATABRICKS_AZURE_RESOURCE_ID",
                &["azure_workspace_resource_id"],
            ),
            token_audience: text("DATABRICKS_TOKEN_AUDIENCE", &["audience", "token_audience"]),
            oidc_token,
            oidc_token_filepath,
            actions_request_url: text("ACTIONS_ID_TOKEN_REQUEST_URL", &[]),
            actions_request_token: secret("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &[]),
            cloud: text("DATABRICKS_CLOUD", &["cloud"]),
            profile: profile.map(Profile::describe),
        })
    }

    /// Returns every secret value read, so that the caller can mask each one.
    pub fn secrets(&self) -> Vec<&Secret> {
        [
            &self.token,
            &self.client_secret,
            &self.azure_client_secret,
            &self.oidc_token,
            &self.actions_request_token,
        ]
        .into_iter()
        .flatten()
        .map(|found| &found.value)
        .collect()
    }

    /// Chooses the method: `DATABRICKS_AUTH_TYPE` when set, else the first in the default order
    /// whose variables are set.
    pub fn choose_method(&self, inputs: &AuthInputs) -> Result<Method, AuthError> {
        if let Some(forced) = &self.auth_type {
            return Method::from_name(&forced.value).ok_or_else(|| AuthError::UnknownMethod {
                name: forced.value.clone(),
                origin: forced.source.clone(),
            });
        }

        let mut skipped = Vec::new();
        for method in Method::DEFAULT_ORDER {
            if !self.has_variables(method) {
                continue;
            }
            if method == Method::Pat && matches!(inputs.scope, Scope::Account { .. }) {
                tracing::warn!(
                    "skipping `pat`: the account API does not accept personal access tokens"
                );
                skipped.push(format!(
                    "`pat` ({} is set, but the account API does not accept personal access tokens)",
                    self.token
                        .as_ref()
                        .map_or("", |found| found.source.as_str())
                ));
                continue;
            }
            if method.is_azure() && !self.is_azure(inputs) {
                skipped.push(format!(
                    "`{method}` (its variables are set, but `{}` is not an Azure Databricks host; \
                     set DATABRICKS_CLOUD=azure or DATABRICKS_AUTH_TYPE={method})",
                    inputs.host.host_str().unwrap_or_default()
                ));
                continue;
            }
            return Ok(method);
        }

        if skipped.len() == 1 && skipped[0].starts_with("`pat`") {
            return Err(AuthError::PatForAccount {
                variable: self
                    .token
                    .as_ref()
                    .map_or_else(String::new, |found| found.source.clone()),
            });
        }
        Err(AuthError::NoMethod { skipped })
    }

    /// Tells whether the variables that select `method` in the default order are set.
    fn has_variables(&self, method: Method) -> bool {
        let in_actions = self.actions_request_url.is_some() && self.actions_request_token.is_some();
        match method {
            Method::Pat => self.token.is_some(),
            Method::OAuthM2m => self.client_id.is_some() && self.client_secret.is_some(),
            // Without a client ID this would be account-wide federation, which only a forced
            // `github-oidc` selects, so that an Entra setup with ARM_CLIENT_ID is not taken
            // for it.
            Method::GithubOidc => in_actions && self.client_id.is_some(),
            Method::EnvOidc => self.oidc_token.is_some(),
            Method::FileOidc => self.oidc_token_filepath.is_some(),
            Method::GithubOidcAzure => {
                in_actions && self.azure_client_id.is_some() && self.azure_tenant_id.is_some()
            }
            Method::AzureMsi => self.azure_use_msi.as_ref().is_some_and(|found| found.value),
            Method::AzureClientSecret => {
                self.azure_client_id.is_some()
                    && self.azure_client_secret.is_some()
                    && self.azure_tenant_id.is_some()
            }
        }
    }

    /// Tells whether the target is Azure Databricks, as the SDKs decide it: a workspace
    /// resource ID, `DATABRICKS_CLOUD=azure`, or an Azure DNS zone in the host.
    pub fn is_azure(&self, inputs: &AuthInputs) -> bool {
        if self.azure_resource_id.is_some() {
            return true;
        }
        if let Some(cloud) = &self.cloud {
            return cloud.value.eq_ignore_ascii_case("azure");
        }
        AzureCloud::from_host(inputs.host.host_str().unwrap_or_default()).is_some()
    }

    /// Returns the Azure cloud: `ARM_ENVIRONMENT` when set, else the host's DNS zone, else public.
    pub fn azure_cloud(&self, inputs: &AuthInputs) -> Result<AzureCloud, AuthError> {
        if let Some(found) = &self.azure_environment {
            return AzureCloud::parse(&found.value).ok_or_else(|| AuthError::Invalid {
                name: found.source.clone(),
                value: found.value.clone(),
                expected: "`PUBLIC`, `USGOVERNMENT` or `CHINA`".to_owned(),
            });
        }
        Ok(
            AzureCloud::from_host(inputs.host.host_str().unwrap_or_default())
                .unwrap_or(AzureCloud::Public),
        )
    }
}

fn keep_profile(profile: &Profile, env: &Env, inputs: &AuthInputs) -> bool {
    if !profile.is_fallback {
        return true;
    }
    if let Some(variable) = AUTH_VARIABLES
        .iter()
        .find(|variable| env.get(variable).is_some())
    {
        tracing::debug!(
            variable,
            "{variable} is set, so the default profile is not read"
        );
        return false;
    }
    if let Some(host) = profile.host() {
        let same = url::Url::parse(host)
            .or_else(|_| url::Url::parse(&format!("https://{host}")))
            .is_ok_and(|url| url.host_str() == inputs.host.host_str());
        if !same {
            tracing::debug!(
                profile = %profile.describe(),
                "the default profile is for another host, so it is not read"
            );
            return false;
        }
    }
    true
}

fn pick(
    env: &Env,
    profile: Option<&Profile>,
    variable: &str,
    keys: &[&str],
) -> Option<Sourced<String>> {
    if let Some(value) = env.get(variable) {
        return Some(Sourced {
            value: value.to_owned(),
            source: variable.to_owned(),
        });
    }
    let profile = profile?;
    keys.iter().find_map(|key| {
        profile.get(key).map(|value| Sourced {
            value: value.to_owned(),
            source: format!("`{key}` in {}", profile.describe()),
        })
    })
}

fn parse_bool(found: &Sourced<String>) -> Result<bool, AuthError> {
    match found.value.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AuthError::Invalid {
            name: found.source.clone(),
            value: found.value.clone(),
            expected: "`true` or `false`".to_owned(),
        }),
    }
}
