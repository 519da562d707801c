//! Rules for the Databricks host setting and for telling the account API from the workspace API.
//!
//! The host may be a workspace URL (`https://adb-<id>.<n>.azuredatabricks.net`) or an accounts
//! console URL (`https://accounts.azuredatabricks.net`). As in the Databricks SDKs (Go
//! `config.HostType`, Python `Config.is_account_client`), a host that starts with `accounts.` or
//! `accounts-dod.` means the account API unless the scope is given explicitly.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

use super::Scope;

/// The API a run targets, as chosen on the command line (`--scope account|workspace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ScopeKind {
    Account,
    Workspace,
}

impl ScopeKind {
    pub fn name(self) -> &'static str {
        match self {
            ScopeKind::Account => "account",
            ScopeKind::Workspace => "workspace",
        }
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scope name other than `account` or `workspace`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope `{0}`: expected `account` or `workspace`")]
pub struct InvalidScopeKind(pub String);

impl FromStr for ScopeKind {
    type Err = InvalidScopeKind;

    /// Parses `account` or `workspace`, ignoring ASCII case and surrounding whitespace.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "account" => Ok(ScopeKind::Account),
            "workspace" => Ok(ScopeKind::Workspace),
            _ => Err(InvalidScopeKind(text.to_owned())),
        }
    }
}

impl From<&Scope> for ScopeKind {
    fn from(scope: &Scope) -> Self {
        match scope {
            Scope::Account { .. } => ScopeKind::Account,
            Scope::Workspace => ScopeKind::Workspace,
        }
    }
}

/// An invalid host or scope setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("missing Databricks host: set `--host` or `DATABRICKS_HOST`")]
    Missing,

    #[error("invalid Databricks host `{text}`: {reason}")]
    Invalid { text: String, reason: String },

    #[error(
        "invalid Databricks host `{text}`: the URL must start with `https://`, such as `https://{suggestion}`"
    )]
    MissingScheme { text: String, suggestion: String },

    #[error(
        "insecure Databricks host `{host}`: plain `http://` is accepted only for a loopback address such as a local emulator; use `https://`"
    )]
    InsecureScheme { host: String },

    #[error("unsupported scheme `{scheme}` in Databricks host: use `https://`")]
    UnsupportedScheme { scheme: String },

    /// The value itself is left out of this message, because it contains a credential.
    #[error(
        "invalid Databricks host: the URL contains a user name or password; remove it and pass credentials through the authentication variables, such as `DATABRICKS_TOKEN`"
    )]
    Credentials,

    #[error(
        "missing account id for the account API on `{host}`: set `--account-id` or `DATABRICKS_ACCOUNT_ID`, or pass `--scope workspace` for a workspace host"
    )]
    MissingAccountId { host: String },

    #[error(
        "invalid account id `{account_id}`: expected letters, digits and `-`, such as a UUID from the account console"
    )]
    InvalidAccountId { account_id: String },
}

/// Validates the host setting and returns its origin (scheme, host and port) as a URL with the
/// path `/`.
///
/// `https://` is required, except that plain `http://` is accepted for a loopback host
/// (127.0.0.0/8, `::1` or `localhost`), where the local emulator listens. A trailing slash is
/// tolerated. Any other path, query or fragment is dropped with a warning, because the
/// Databricks SDKs keep only the scheme and the host as well (Go `fixHostIfNeeded`), and
/// `https://adb-1.azuredatabricks.net/?o=1` is what the browser shows for a workspace. A user
/// name or password in the URL is an error, so that a credential never sits in a setting
/// that is printed.
pub fn validate_host(text: &str) -> Result<Url, HostError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(HostError::Missing);
    }

    if !trimmed.contains("://") {
        return Err(HostError::MissingScheme {
            text: trimmed.to_owned(),
            suggestion: trimmed.trim_end_matches('/').to_owned(),
        });
    }

    let url = Url::parse(trimmed).map_err(|error| HostError::Invalid {
        text: trimmed.to_owned(),
        reason: error.to_string(),
    })?;

    if !url.username().is_empty() || url.password().is_some() {
        return Err(HostError::Credentials);
    }

    let host = match url.host() {
        Some(host) => host,
        None => {
            return Err(HostError::Invalid {
                text: trimmed.to_owned(),
                reason: "the URL has no host name".to_owned(),
            });
        }
    };

    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(HostError::InsecureScheme {
                host: host.to_string(),
            });
        }
        other => {
            return Err(HostError::UnsupportedScheme {
                scheme: other.to_owned(),
            });
        }
    }

    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);

    let dropped_path = url.path() != "/" && !url.path().is_empty();
    if dropped_path || url.query().is_some() || url.fragment().is_some() {
        tracing::warn!(
            host = %origin,
            ignored = &url[url::Position::BeforePath..],
            "ignoring the path, query and fragment of the Databricks host: the API paths are fixed"
        );
    }

    Ok(origin)
}

/// Returns whether a host name is a loopback address or `localhost`.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => IpAddr::V6(*address).is_loopback(),
    }
}

/// Chooses the API for a host: the forced scope when one is given, otherwise the account API
/// for a host that starts with `accounts.` or `accounts-dod.` and the workspace API for any
/// other host.
///
/// The account API needs an account id. An account id given with a workspace scope is
/// ignored, because the workspace API has no account in its path.
pub fn infer_scope(
    host: &Url,
    account_id: Option<&str>,
    forced: Option<ScopeKind>,
) -> Result<Scope, HostError> {
    let host_name = host.host_str().unwrap_or_default().to_ascii_lowercase();
    let kind = forced.unwrap_or_else(|| {
        if host_name.starts_with("accounts.") || host_name.starts_with("accounts-dod.") {
            ScopeKind::Account
        } else {
            ScopeKind::Workspace
        }
    });

    match kind {
        ScopeKind::Workspace => Ok(Scope::Workspace),
        ScopeKind::Account => {
            let account_id = account_id.map(str::trim).unwrap_or_default();
            if account_id.is_empty() {
                return Err(HostError::MissingAccountId {
                    host: host.origin().ascii_serialization(),
                });
            }
            validate_account_id(account_id)?;

            Ok(Scope::Account {
                account_id: account_id.to_owned(),
            })
        }
    }
}

/// Checks that an account id can sit in a URL path as it is. Databricks account ids are UUIDs.
pub fn validate_account_id(account_id: &str) -> Result<(), HostError> {
    let valid = !account_id.is_empty()
        && account_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(HostError::InvalidAccountId {
            account_id: account_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT_ID: &str = "0d26daa6-5e44-4c97-a497-ef015f91254a";

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn validate_host_accepts_https() {
        let host = validate_host("https://adb-1234567890123456.7.azuredatabricks.net").unwrap();

        assert_eq!(
            host.as_str(),
            "https://adb-1234567890123456.7.azuredatabricks.net/"
        );
    }

    #[test]
    fn validate_host_tolerates_trailing_slash_and_spaces() {
        let host = validate_host("  https://accounts.azuredatabricks.net/ \n").unwrap();

        assert_eq!(host.as_str(), "https://accounts.azuredatabricks.net/");
    }

    #[test]
    fn validate_host_drops_path_query_fragment() {
        let host =
            validate_host("https://adb-1.2.azuredatabricks.net/browse/folders?o=1#x").unwrap();

        assert_eq!(host.as_str(), "https://adb-1.2.azuredatabricks.net/");
    }

    #[test]
    fn validate_host_keeps_port() {
        let host = validate_host("https://example.cloud.databricks.com:8443").unwrap();

        assert_eq!(host.as_str(), "https://example.cloud.databricks.com:8443/");
    }

    #[test]
    fn validate_host_accepts_http_on_loopback() {
        for text in [
            "http://127.0.0.1:8080",
            "http://127.10.20.30:1/",
            "http://[::1]:9000",
            "http://localhost:3000",
            "http://LOCALHOST",
        ] {
            assert!(validate_host(text).is_ok(), "{text} should be accepted");
        }
    }

    #[test]
    fn validate_host_rejects_http_elsewhere() {
        for text in [
            "http://adb-1.2.azuredatabricks.net",
            "http://10.0.0.1:8080",
            "http://128.0.0.1",
            "http://[::2]",
            "http://localhost.example.com",
        ] {
            assert!(
                matches!(validate_host(text), Err(HostError::InsecureScheme { .. })),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn validate_host_requires_scheme() {
        let error = validate_host("adb-1.2.azuredatabricks.net/").unwrap_err();

        assert_eq!(
            error,
            HostError::MissingScheme {
                text: "adb-1.2.azuredatabricks.net/".to_owned(),
                suggestion: "adb-1.2.azuredatabricks.net".to_owned(),
            }
        );
        assert!(
            error
                .to_string()
                .contains("such as `https://adb-1.2.azuredatabricks.net`")
        );
    }

    #[test]
    fn validate_host_rejects_other_schemes() {
        assert_eq!(
            validate_host("ftp://adb-1.2.azuredatabricks.net").unwrap_err(),
            HostError::UnsupportedScheme {
                scheme: "ftp".to_owned()
            }
        );
    }

    #[test]
    fn validate_host_rejects_empty() {
        assert_eq!(validate_host("  ").unwrap_err(), HostError::Missing);
    }

    #[test]
    fn validate_host_rejects_credentials_without_echo() {
        for text in [
            "https://token:dapi-secret@adb-1.2.azuredatabricks.net",
            "https://dapi-secret@adb-1.2.azuredatabricks.net",
        ] {
            let error = validate_host(text).unwrap_err();

            assert_eq!(error, HostError::Credentials);
            assert!(!error.to_string().contains("dapi-secret"));
        }
    }

    #[test]
    fn validate_host_rejects_garbage() {
        assert!(matches!(
            validate_host("https://"),
            Err(HostError::Invalid { .. })
        ));
    }

    #[test]
    fn scope_kind_parses_names() {
        assert_eq!("account".parse::<ScopeKind>(), Ok(ScopeKind::Account));
        assert_eq!("Workspace".parse::<ScopeKind>(), Ok(ScopeKind::Workspace));
        assert_eq!(
            "both".parse::<ScopeKind>(),
            Err(InvalidScopeKind("both".to_owned()))
        );
    }

    #[test]
    fn infer_scope_accounts_host() {
        for host in [
            "https://accounts.azuredatabricks.net/",
            "https://accounts.cloud.databricks.com/",
            "https://accounts-dod.cloud.databricks.mil/",
            "https://ACCOUNTS.gcp.databricks.com/",
        ] {
            assert_eq!(
                infer_scope(&url(host), Some(ACCOUNT_ID), None),
                Ok(Scope::Account {
                    account_id: ACCOUNT_ID.to_owned()
                }),
                "{host}"
            );
        }
    }

    #[test]
    fn infer_scope_workspace_host() {
        for host in [
            "https://adb-1234567890123456.7.azuredatabricks.net/",
            "https://my-accounts.cloud.databricks.com/",
            "https://accountsx.cloud.databricks.com/",
            "http://127.0.0.1:8080/",
        ] {
            assert_eq!(
                infer_scope(&url(host), Some(ACCOUNT_ID), None),
                Ok(Scope::Workspace),
                "{host}"
            );
        }
    }

    #[test]
    fn infer_scope_account_needs_id() {
        for account_id in [None, Some(""), Some("  ")] {
            let error = infer_scope(
                &url("https://accounts.azuredatabricks.net"),
                account_id,
                None,
            )
            .unwrap_err();

            assert!(matches!(error, HostError::MissingAccountId { .. }));
            let message = error.to_string();
            assert!(message.contains("`--account-id`"), "{message}");
            assert!(message.contains("`DATABRICKS_ACCOUNT_ID`"), "{message}");
        }
    }

    #[test]
    fn infer_scope_forced_account() {
        let scope = infer_scope(
            &url("http://127.0.0.1:8080"),
            Some(ACCOUNT_ID),
            Some(ScopeKind::Account),
        );

        assert_eq!(
            scope,
            Ok(Scope::Account {
                account_id: ACCOUNT_ID.to_owned()
            })
        );
    }

    #[test]
    fn infer_scope_forced_workspace() {
        let scope = infer_scope(
            &url("https://accounts.azuredatabricks.net"),
            None,
            Some(ScopeKind::Workspace),
        );

        assert_eq!(scope, Ok(Scope::Workspace));
    }

    #[test]
    fn infer_scope_rejects_path_in_account_id() {
        let error = infer_scope(
            &url("https://accounts.azuredatabricks.net"),
            Some("../workspace"),
            None,
        )
        .unwrap_err();

        assert_eq!(
            error,
            HostError::InvalidAccountId {
                account_id: "../workspace".to_owned()
            }
        );
    }
}
