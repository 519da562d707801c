//! What to do next, for the token request failures that have a known cause.

use super::RequestFailure;
use super::settings::Method;
use super::token::JwtClaims;

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Returns a hint for a token request that the server rejected.
pub fn for_rejection(
    method: Method,
    failure: &RequestFailure,
    claims: Option<&JwtClaims>,
) -> Option<String> {
    let text = format!(
        "{} {}",
        failure.error.as_deref().unwrap_or_default(),
        failure.description.as_deref().unwrap_or_default()
    );
    let lower = text.to_ascii_lowercase();

    match method {
        Method::GithubOidcAzure
            if text.contains("AADSTS70021") || lower.contains("no matching federated identity") =>
        {
            Some(format!(
                "no federated credential of the Entra application (ARM_CLIENT_ID) matches the \
                 GitHub token; the credential must have issuer `{GITHUB_ISSUER}`, audience \
                 `api://AzureADTokenExchange` and subject {}",
                expected_subject(claims)
            ))
        }
        _ if text.contains("AADSTS700016") => Some(
            "the application was not found in the tenant: check ARM_CLIENT_ID (the application \
             ID, not the object ID) and ARM_TENANT_ID"
                .to_owned(),
        ),
        _ if text.contains("AADSTS7000215") => Some(
            "the client secret is invalid: ARM_CLIENT_SECRET must be the secret's value, not its \
             ID, and the secret must not have expired"
                .to_owned(),
        ),
        _ if text.contains("AADSTS90002") || text.contains("AADSTS900023") => Some(
            "the tenant was not found: check ARM_TENANT_ID and, for a sovereign cloud, ARM_ENVIRONMENT"
                .to_owned(),
        ),
        Method::GithubOidc | Method::EnvOidc | Method::FileOidc => Some(format!(
            "Databricks found no federation policy that accepts this token; the service \
             principal's federation policy (or the account's, without DATABRICKS_CLIENT_ID) must \
             list the token's issuer `{}`, audience `{}` and subject {}, and \
             DATABRICKS_CLIENT_ID must be the service principal's application ID",
            claims
                .and_then(|claims| claims.issuer.as_deref())
                .unwrap_or(GITHUB_ISSUER),
            claims
                .and_then(|claims| claims.audience.as_deref())
                .unwrap_or("(unknown)"),
            expected_subject(claims)
        )),
        Method::OAuthM2m if matches!(failure.status, Some(400 | 401 | 403)) => Some(
            "check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET: the secret must belong to \
             this service principal and not be expired, and with an accounts host the service \
             principal must exist in the account DATABRICKS_ACCOUNT_ID names"
                .to_owned(),
        ),
        Method::AzureMsi if lower.contains("identity not found") => Some(
            "this machine has no managed identity with that client ID: assign one to the VM, or \
             unset ARM_CLIENT_ID to use the system-assigned identity"
                .to_owned(),
        ),
        _ => None,
    }
}

/// Returns a hint for a token request that got no HTTP response.
pub fn for_transport(method: Method) -> Option<String> {
    match method {
        Method::AzureMsi => Some(
            "the Azure instance metadata service is reachable only from Azure VMs and other Azure \
             compute; GitHub-hosted runners have no managed identity, so use `github-oidc` or \
             `github-oidc-azure` there"
                .to_owned(),
        ),
        _ => None,
    }
}

fn expected_subject(claims: Option<&JwtClaims>) -> String {
    let hint = "`repo:<owner>/<repo>:environment:<environment>` for a job that runs in a GitHub \
                environment";
    match claims.and_then(|claims| claims.subject.as_deref()) {
        Some(subject) => format!("`{subject}` (this workflow's token; the usual form is {hint})"),
        None => hint.to_owned(),
    }
}
