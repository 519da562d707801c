//! `ipsync auth`: which method and identity the current settings select, and whether a token
//! can be obtained. The report holds no secret.

use std::fmt::Write as _;

use serde::Serialize;

use crate::env::Env;

use super::AuthInputs;
use super::methods::prepare_with_partial;

/// What authentication would do with the current settings.
#[derive(Debug, Clone, Serialize)]
pub struct AuthReport {
    pub host: String,
    pub scope: String,
    /// The chosen method, or `None` when none could be chosen.
    pub method: Option<String>,
    /// `DATABRICKS_AUTH_TYPE` (or the profile key) when it forced the method.
    pub forced_by: Option<String>,
    /// The variables (or profile keys) the method reads.
    pub variables: Vec<String>,
    /// Non-secret facts about the identity: client ID, tenant, cloud, federated subject.
    pub identity: Vec<IdentityField>,
    pub profile: Option<String>,
    pub token_endpoint: Option<String>,
    pub token_obtained: bool,
    /// Why no token was obtained.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityField {
    pub name: String,
    pub value: String,
}

/// Chooses the method as [`super::resolve`] does and requests one token with it.
pub async fn describe(env: &Env, inputs: &AuthInputs, http: reqwest::Client) -> AuthReport {
    let mut report = AuthReport {
        host: inputs.host.to_string(),
        scope: inputs.scope.name().to_owned(),
        method: None,
        forced_by: None,
        variables: Vec::new(),
        identity: Vec::new(),
        profile: None,
        token_endpoint: None,
        token_obtained: false,
        error: None,
    };

    let prepared = match prepare_with_partial(env, inputs, http) {
        Ok(prepared) => prepared,
        Err((error, partial)) => {
            report.method = partial.method.map(|method| method.name().to_owned());
            report.profile = partial.profile;
            report.error = Some(error.to_string());
            return report;
        }
    };
    report.method = Some(prepared.method.name().to_owned());
    report.forced_by = prepared.forced_by;
    report.variables = prepared.variables;
    report.profile = prepared.profile;
    report.identity = prepared
        .identity
        .into_iter()
        .map(|(name, value)| IdentityField { name, value })
        .collect();

    let outcome = prepared.authenticator.headers().await;
    if let Some(tokens) = &prepared.token_authenticator {
        report.token_endpoint = Some(tokens.token_endpoint());
        if let Some(subject) = tokens.federated_subject() {
            report.identity.push(IdentityField {
                name: "federated subject".to_owned(),
                value: subject,
            });
        }
    }
    match outcome {
        Ok(_) => report.token_obtained = true,
        Err(error) => report.error = Some(error.to_string()),
    }
    report
}

impl AuthReport {
    /// Renders the report for a terminal, one `name: value` line per fact.
    pub fn render_text(&self) -> String {
        let mut text = String::new();
        let mut line = |name: &str, value: &str| {
            let _ = writeln!(text, "{:<16} {value}", format!("{name}:"));
        };

        line("host", &self.host);
        line("scope", &self.scope);
        let method = match (&self.method, &self.forced_by) {
            (Some(method), Some(forced_by)) => format!("{method} (set by {forced_by})"),
            (Some(method), None) => format!("{method} (first configured in the default order)"),
            (None, _) => "none".to_owned(),
        };
        line("method", &method);
        if let Some(profile) = &self.profile {
            line("profile", profile);
        }
        if !self.variables.is_empty() {
            line("from", &self.variables.join(", "));
        }
        for field in &self.identity {
            line(&field.name, &field.value);
        }
        if let Some(endpoint) = &self.token_endpoint {
            line("token endpoint", endpoint);
        }
        let token = if self.token_obtained {
            "obtained"
        } else {
            "not obtained"
        };
        line("token", token);
        if let Some(error) = &self.error {
            line("error", error);
        }
        text
    }
}
