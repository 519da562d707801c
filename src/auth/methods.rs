//! Builds the authenticator of the chosen method from the settings, checking that the method's
//! variables are present.

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use crate::databricks::Scope;
use crate::env::Env;

use super::settings::{AuthSettings, AzureCloud, Method, Sourced};
use super::token::{DatabricksEndpoint, Grant, IdTokenSource, RequestContext, TokenCache, join};
use super::{
    AuthError, AuthInputs, Authenticate, StaticToken, TokenAuthenticator, add_mask, enable_masking,
};

/// An authenticator together with what `ipsync auth` reports about it.
pub struct Prepared {
    pub method: Method,
    /// `DATABRICKS_AUTH_TYPE` (or the profile key) when the method was forced.
    pub forced_by: Option<String>,
    /// The variable or profile key of each value the method uses.
    pub variables: Vec<String>,
    /// Non-secret facts about the identity, such as the client ID and tenant.
    pub identity: Vec<(String, String)>,
    pub profile: Option<String>,
    pub authenticator: Arc<dyn Authenticate>,
    /// The same authenticator when it requests tokens, for the token endpoint and subject.
    pub token_authenticator: Option<Arc<TokenAuthenticator>>,
}

/// The part of the work that can fail before a method is chosen, kept for reports.
pub struct Partial {
    pub method: Option<Method>,
    pub profile: Option<String>,
}

pub fn prepare(
    env: &Env,
    inputs: &AuthInputs,
    http: reqwest::Client,
) -> Result<Prepared, AuthError> {
    prepare_with_partial(env, inputs, http).map_err(|(error, _)| error)
}

pub fn prepare_with_partial(
    env: &Env,
    inputs: &AuthInputs,
    http: reqwest::Client,
) -> Result<Prepared, (AuthError, Partial)> {
    if inputs.github_actions {
        enable_masking();
    }
    let no_partial = |error| {
        (
            error,
            Partial {
                method: None,
                profile: None,
            },
        )
    };

    let settings = AuthSettings::resolve(env, inputs).map_err(no_partial)?;
    for secret in settings.secrets() {
        add_mask(secret);
    }

    let method = settings.choose_method(inputs).map_err(|error| {
        (
            error,
            Partial {
                method: None,
                profile: settings.profile.clone(),
            },
        )
    })?;
    let forced_by = settings
        .auth_type
        .as_ref()
        .map(|found| found.source.clone());
    let builder = Builder {
        settings: &settings,
        inputs,
        http,
        method,
    };
    let prepared = builder.build(forced_by).map_err(|error| {
        (
            error,
            Partial {
                method: Some(method),
                profile: settings.profile.clone(),
            },
        )
    })?;
    tracing::info!(
        method = method.name(),
        chosen_by = prepared.forced_by.as_deref().unwrap_or("the default order"),
        from = %prepared.variables.join(", "),
        "authenticating to Databricks"
    );
    Ok(prepared)
}

struct Builder<'a> {
    settings: &'a AuthSettings,
    inputs: &'a AuthInputs,
    http: reqwest::Client,
    method: Method,
}

impl Builder<'_> {
    fn build(&self, forced_by: Option<String>) -> Result<Prepared, AuthError> {
        let settings = self.settings;
        let mut prepared = match self.method {
            Method::Pat => self.pat()?,
            Method::OAuthM2m => self.oauth_m2m()?,
            Method::GithubOidc => self.github_oidc()?,
            Method::EnvOidc => {
                let token = self.require(&settings.oidc_token, self.oidc_token_variable(), None)?;
                let source = IdTokenSource::Variable {
                    token: token.value.clone(),
                };
                self.databricks_federation(source, vec![token.source.clone()])?
            }
            Method::FileOidc => {
                let path = self.require(
                    &settings.oidc_token_filepath,
                    "DATABRICKS_OIDC_TOKEN_FILEPATH",
                    None,
                )?;
                let source = IdTokenSource::File {
                    path: PathBuf::from(&path.value),
                };
                let mut prepared = self.databricks_federation(source, vec![path.source.clone()])?;
                prepared
                    .identity
                    .push(("token file".to_owned(), path.value.clone()));
                prepared
            }
            Method::GithubOidcAzure => self.github_oidc_azure()?,
            Method::AzureMsi => self.azure_msi()?,
            Method::AzureClientSecret => self.azure_client_secret()?,
        };
        prepared.forced_by = forced_by;
        prepared.profile = settings.profile.clone();
        Ok(prepared)
    }

    fn pat(&self) -> Result<Prepared, AuthError> {
        let token = self.require(&self.settings.token, "DATABRICKS_TOKEN", None)?;
        if matches!(self.inputs.scope, Scope::Account { .. }) {
            return Err(AuthError::PatForAccount {
                variable: token.source.clone(),
            });
        }

        let authenticator = Arc::new(StaticToken::new(token.value.clone(), "pat"));
        Ok(self.prepared(
            authenticator,
            None,
            vec![token.source.clone()],
            vec![("token".to_owned(), "personal access token".to_owned())],
        ))
    }

    fn oauth_m2m(&self) -> Result<Prepared, AuthError> {
        let client_id = self.require(&self.settings.client_id, "DATABRICKS_CLIENT_ID", None)?;
        let client_secret = self.require(
            &self.settings.client_secret,
            "DATABRICKS_CLIENT_SECRET",
            None,
        )?;

        let grant = Grant::ClientCredentials {
            endpoint: self.databricks_endpoint(),
            client_id: client_id.value.clone(),
            client_secret: client_secret.value.clone(),
        };
        let variables = vec![client_id.source.clone(), client_secret.source.clone()];
        let identity = vec![("client id".to_owned(), client_id.value.clone())];
        Ok(self.with_tokens(grant, None, variables, identity))
    }

    fn github_oidc(&self) -> Result<Prepared, AuthError> {
        let (request_url, request_token, variables) = self.github_request()?;
        let source = IdTokenSource::Github {
            request_url,
            request_token,
        };
        self.databricks_federation(source, variables)
    }

    /// Builds the token exchange at the Databricks token endpoint. A client ID selects
    /// workload identity federation; without one, the exchange is account-wide federation.
    fn databricks_federation(
        &self,
        source: IdTokenSource,
        mut variables: Vec<String>,
    ) -> Result<Prepared, AuthError> {
        let settings = self.settings;
        let mut identity = Vec::new();
        match &settings.client_id {
            Some(client_id) => {
                variables.push(client_id.source.clone());
                identity.push(("client id".to_owned(), client_id.value.clone()));
            }
            None => identity.push((
                "federation".to_owned(),
                "account-wide (no DATABRICKS_CLIENT_ID)".to_owned(),
            )),
        }
        if let Some(audience) = &settings.token_audience {
            variables.push(audience.source.clone());
            identity.push(("audience".to_owned(), audience.value.clone()));
        }

        let grant = Grant::TokenExchange {
            endpoint: self.databricks_endpoint(),
            host: self.inputs.host.clone(),
            client_id: settings.client_id.as_ref().map(|found| found.value.clone()),
            audience: settings
                .token_audience
                .as_ref()
                .map(|found| found.value.clone()),
            account_id: self.account_id().map(str::to_owned),
            source,
            subject: Default::default(),
        };
        Ok(self.with_tokens(grant, None, variables, identity))
    }

    fn github_oidc_azure(&self) -> Result<Prepared, AuthError> {
        let settings = self.settings;
        let client_id = self.require(&settings.azure_client_id, "ARM_CLIENT_ID", None)?;
        let tenant_id = self.require(&settings.azure_tenant_id, "ARM_TENANT_ID", None)?;
        let (request_url, request_token, mut variables) = self.github_request()?;
        let cloud = settings.azure_cloud(self.inputs)?;

        let grant = Grant::EntraAssertion {
            token_url: self.entra_token_url(cloud, &tenant_id.value),
            client_id: client_id.value.clone(),
            resource: AzureCloud::DATABRICKS_RESOURCE.to_owned(),
            request_url,
            request_token,
            subject: Default::default(),
        };
        variables.extend([client_id.source.clone(), tenant_id.source.clone()]);
        let identity = self.azure_identity(cloud, Some(client_id), Some(tenant_id));
        Ok(self.with_tokens(grant, None, variables, identity))
    }

    fn azure_msi(&self) -> Result<Prepared, AuthError> {
        let settings = self.settings;
        let use_msi = settings
            .azure_use_msi
            .as_ref()
            .filter(|found| found.value)
            .ok_or_else(|| self.missing("ARM_USE_MSI=true", None))?;
        let cloud = settings.azure_cloud(self.inputs)?;
        let client_id = settings.azure_client_id.as_ref();

        let metadata = |resource: &str| Grant::InstanceMetadata {
            metadata_url: self.inputs.endpoints.azure_metadata.clone(),
            client_id: client_id.map(|found| found.value.clone()),
            resource: resource.to_owned(),
        };
        let mut variables = vec![use_msi.source.clone()];
        variables.extend(client_id.map(|found| found.source.clone()));
        let mut identity = self.azure_identity(cloud, client_id, None);
        if client_id.is_none() {
            identity.push(("managed identity".to_owned(), "system-assigned".to_owned()));
        }
        Ok(self.with_tokens(
            metadata(AzureCloud::DATABRICKS_RESOURCE),
            Some(metadata(cloud.management_resource())),
            variables,
            identity,
        ))
    }

    fn azure_client_secret(&self) -> Result<Prepared, AuthError> {
        let settings = self.settings;
        let client_id = self.require(&settings.azure_client_id, "ARM_CLIENT_ID", None)?;
        let client_secret =
            self.require(&settings.azure_client_secret, "ARM_CLIENT_SECRET", None)?;
        let tenant_id = self.require(&settings.azure_tenant_id, "ARM_TENANT_ID", None)?;
        let cloud = settings.azure_cloud(self.inputs)?;

        let token_url = self.entra_token_url(cloud, &tenant_id.value);
        let grant = |resource: &str| Grant::EntraSecret {
            token_url: token_url.clone(),
            client_id: client_id.value.clone(),
            client_secret: client_secret.value.clone(),
            resource: resource.to_owned(),
        };
        let variables = vec![
            client_id.source.clone(),
            client_secret.source.clone(),
            tenant_id.source.clone(),
        ];
        let identity = self.azure_identity(cloud, Some(client_id), Some(tenant_id));
        Ok(self.with_tokens(
            grant(AzureCloud::DATABRICKS_RESOURCE),
            Some(grant(cloud.management_resource())),
            variables,
            identity,
        ))
    }

    /// Reads the GitHub Actions OIDC request variables, which exist only in a job with
    /// `permissions: id-token: write`.
    fn github_request(&self) -> Result<(Url, crate::secret::Secret, Vec<String>), AuthError> {
        let hint = Some(
            "GitHub sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN only in a \
             job with `permissions: id-token: write`; add it to the workflow or the job"
                .to_owned(),
        );
        let settings = self.settings;
        let missing: Vec<String> = [
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                settings.actions_request_url.is_none(),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                settings.actions_request_token.is_none(),
            ),
        ]
        .into_iter()
        .filter(|(_, absent)| *absent)
        .map(|(name, _)| name.to_owned())
        .collect();
        let (Some(url), Some(token)) = (
            &settings.actions_request_url,
            &settings.actions_request_token,
        ) else {
            return Err(AuthError::Missing {
                method: self.method.name(),
                missing,
                hint,
            });
        };

        let request_url = Url::parse(&url.value).map_err(|error| AuthError::Invalid {
            name: url.source.clone(),
            value: super::token::display_url_text(&url.value),
            expected: format!("an absolute URL ({error})"),
        })?;
        Ok((
            request_url,
            token.value.clone(),
            vec![url.source.clone(), token.source.clone()],
        ))
    }

    fn azure_identity(
        &self,
        cloud: AzureCloud,
        client_id: Option<&Sourced<String>>,
        tenant_id: Option<&Sourced<String>>,
    ) -> Vec<(String, String)> {
        let mut identity = Vec::new();
        if let Some(client_id) = client_id {
            identity.push(("client id".to_owned(), client_id.value.clone()));
        }
        if let Some(tenant_id) = tenant_id {
            identity.push(("tenant".to_owned(), tenant_id.value.clone()));
        }
        identity.push(("azure cloud".to_owned(), cloud.name().to_owned()));
        identity
    }

    fn entra_token_url(&self, cloud: AzureCloud, tenant_id: &str) -> Url {
        join(
            self.inputs.endpoints.azure_login(cloud),
            &format!("{tenant_id}/oauth2/token"),
        )
    }

    fn account_id(&self) -> Option<&str> {
        self.inputs.scope.account_id()
    }

    fn databricks_endpoint(&self) -> DatabricksEndpoint {
        DatabricksEndpoint::for_target(&self.inputs.host, self.account_id())
    }

    fn oidc_token_variable(&self) -> &str {
        self.settings
            .oidc_token
            .as_ref()
            .map_or("DATABRICKS_OIDC_TOKEN", |found| found.source.as_str())
    }

    fn require<'s, T>(
        &self,
        value: &'s Option<Sourced<T>>,
        variable: &str,
        hint: Option<String>,
    ) -> Result<&'s Sourced<T>, AuthError> {
        value.as_ref().ok_or_else(|| self.missing(variable, hint))
    }

    fn missing(&self, variable: &str, hint: Option<String>) -> AuthError {
        AuthError::Missing {
            method: self.method.name(),
            missing: vec![variable.to_owned()],
            hint,
        }
    }

    fn with_tokens(
        &self,
        grant: Grant,
        management: Option<Grant>,
        mut variables: Vec<String>,
        identity: Vec<(String, String)>,
    ) -> Prepared {
        let workspace_resource_id = match (&self.settings.azure_resource_id, self.method) {
            (Some(found), Method::AzureMsi | Method::AzureClientSecret) => {
                variables.push(found.source.clone());
                Some(found.value.clone())
            }
            _ => None,
        };
        let authenticator = Arc::new(TokenAuthenticator {
            context: RequestContext {
                method: self.method,
                variables: variables.clone(),
                http: self.http.clone(),
            },
            primary: TokenCache::new(grant),
            management: management.map(TokenCache::new),
            workspace_resource_id,
        });
        let mut prepared = self.prepared(authenticator.clone(), None, variables, identity);
        prepared.token_authenticator = Some(authenticator);
        prepared
    }

    fn prepared(
        &self,
        authenticator: Arc<dyn Authenticate>,
        token_authenticator: Option<Arc<TokenAuthenticator>>,
        variables: Vec<String>,
        identity: Vec<(String, String)>,
    ) -> Prepared {
        Prepared {
            method: self.method,
            forced_by: None,
            variables,
            identity,
            profile: None,
            authenticator,
            token_authenticator,
        }
    }
}
