//! Errors of the Databricks REST client, the error bodies the API sends, and hints for the
//! failures a user can fix.
//!
//! Error bodies come in several shapes, which are tried in the order of the Go SDK
//! (`apierr/errors.go`). The standard shape is `{"error_code": "INVALID_STATE", "message": "…"}`,
//! where `error_code` is sometimes a number such as `403`. The others are the legacy
//! `{"error": "…"}`, SCIM's `{"detail": "…", "scimType": "…"}`, plain text `ERROR_CODE: message`,
//! and HTML with the message inside `<pre>…</pre>`.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::host::{HostError, ScopeKind};
use crate::auth::AuthError;

/// Maximum number of characters kept from a response body that is not the expected JSON.
pub const BODY_EXCERPT_CHARS: usize = 500;

/// Response headers that carry the id that Databricks support requests, most specific first.
const REQUEST_ID_HEADERS: [&str; 2] = ["x-databricks-request-id", "x-request-id"];

/// Message text of the 403 that the IP access lists return to an address they do not admit,
/// as in `Source IP address: 203.0.113.7 is blocked by Databricks IP ACL for workspace: 1234`.
const IP_ACL_BLOCK_TEXT: &str = "blocked by databricks ip acl";

/// The request that an error belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    pub method: Method,
    /// Origin of the Databricks host without a trailing slash, such as `https://accounts.azuredatabricks.net`.
    pub host: String,
    /// Path as sent, with the list id percent-encoded.
    pub path: String,
    pub scope: ScopeKind,
    /// The list the request addressed, for get, update, replace and delete.
    pub list_id: Option<String>,
    /// The authentication method whose token the request carried, such as `pat`.
    pub auth_method: &'static str,
}

impl fmt::Display for RequestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}` on `{}`", self.method, self.path, self.host)
    }
}

/// An HTTP error response, decoded from whichever body shape the API used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub status: StatusCode,
    /// `error_code` as sent: a name such as `INVALID_STATE`, or a number such as `403` written as text.
    pub error_code: Option<String>,
    /// The server's message, or the status text when the body was empty.
    pub message: String,
    pub request_id: Option<String>,
    /// The first [`BODY_EXCERPT_CHARS`] characters of a body that was not JSON.
    pub body: Option<String>,
    /// The wait that a `Retry-After` header requested, before any cap.
    pub retry_after: Option<Duration>,
}

impl ErrorResponse {
    /// Decodes a status, its headers and its body. `retry_after` is the parsed `Retry-After`.
    pub fn new(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let parsed = parse_error_body(status, &text);
        let request_id =
            request_id_from_headers(headers).or_else(|| request_id_from_message(&parsed.message));

        Self {
            status,
            error_code: parsed.error_code,
            message: parsed.message,
            request_id,
            body: parsed.body,
            retry_after,
        }
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status.as_u16())?;

        match &self.error_code {
            Some(code) if *code != self.status.as_u16().to_string() => write!(f, " {code}")?,
            _ => {
                if let Some(reason) = self.status.canonical_reason() {
                    write!(f, " {reason}")?;
                }
            }
        }

        let status_text = self.status.canonical_reason().unwrap_or_default();
        if !self.message.is_empty() && self.message != status_text {
            write!(f, ": {}", self.message)?;
        }

        if let Some(request_id) = &self.request_id {
            write!(f, " (request id `{request_id}`)")?;
        }
        Ok(())
    }
}

/// A failed call to the IP access list API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server returned a status other than 2xx.
    #[error("{request} failed: {response}")]
    Status {
        request: Box<RequestSummary>,
        response: Box<ErrorResponse>,
    },

    /// The request could not be sent, or the response could not be read.
    #[error("{request} failed: connection error")]
    Transport {
        request: Box<RequestSummary>,
        #[source]
        source: reqwest::Error,
    },

    /// A response body over [`MAX_RESPONSE_BYTES`](super::MAX_RESPONSE_BYTES); the rest is not read.
    #[error(
        "{request} returned a body over {limit} bytes, far more than any list holds; stopped reading it"
    )]
    BodyTooLarge {
        request: Box<RequestSummary>,
        limit: usize,
    },

    #[error("{request} timed out after {} s", after.as_secs_f64())]
    Timeout {
        request: Box<RequestSummary>,
        after: Duration,
    },

    /// A 2xx response whose body is not the JSON the API documents.
    #[error(
        "{request} returned {status} with a body that is not the expected JSON: {error}; body: `{body}`"
    )]
    Decode {
        request: Box<RequestSummary>,
        status: StatusCode,
        error: serde_json::Error,
        body: String,
    },

    #[error("{request} failed: no credentials")]
    Auth {
        request: Box<RequestSummary>,
        #[source]
        source: AuthError,
    },

    #[error(transparent)]
    Host(#[from] HostError),

    #[error("could not build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl ApiError {
    /// Returns the HTTP status of an error response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { response, .. } => Some(response.status),
            _ => None,
        }
    }

    /// Returns the `error_code` of an error response, such as `INVALID_STATE` or `403`.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            ApiError::Status { response, .. } => response.error_code.as_deref(),
            _ => None,
        }
    }

    pub fn message(&self) -> Option<&str> {
        match self {
            ApiError::Status { response, .. } => Some(&response.message),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Status { response, .. } => response.request_id.as_deref(),
            _ => None,
        }
    }

    /// Returns the request the error belongs to, unless the client could not be built.
    pub fn request(&self) -> Option<&RequestSummary> {
        match self {
            ApiError::Status { request, .. }
            | ApiError::Transport { request, .. }
            | ApiError::Timeout { request, .. }
            | ApiError::Decode { request, .. }
            | ApiError::BodyTooLarge { request, .. }
            | ApiError::Auth { request, .. } => Some(request),
            ApiError::Host(_) | ApiError::HttpClient(_) => None,
        }
    }

    /// Returns whether trying the same request again may succeed: a 429, a 503, a connection
    /// failure or a timeout. A 500 is not retried, as in the Databricks SDKs.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Status { response, .. } => matches!(
                response.status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ),
            ApiError::Transport { source, .. } => {
                source.is_connect() || source.is_request() || source.is_body()
            }
            ApiError::Timeout { .. } => true,
            ApiError::Decode { .. }
            | ApiError::BodyTooLarge { .. }
            | ApiError::Auth { .. }
            | ApiError::Host(_)
            | ApiError::HttpClient(_) => false,
        }
    }

    /// Explains a failure that the user can fix, and how.
    pub fn hint(&self) -> Option<String> {
        let ApiError::Status { request, response } = self else {
            return None;
        };
        let code = response.error_code.as_deref().unwrap_or_default();
        let scope_noun = request.scope.name();

        match response.status {
            StatusCode::FORBIDDEN
                if response
                    .message
                    .to_ascii_lowercase()
                    .contains(IP_ACL_BLOCK_TEXT) =>
            {
                Some(format!(
                    "the IP access lists of this {scope_noun} do not admit the address this request \
                     came from, so this runner is locked out: run ipsync from a runner with a fixed \
                     egress address that the list admits, and keep that address in the list with `--include`"
                ))
            }
            StatusCode::BAD_REQUEST if code == "INVALID_STATE" => Some(
                "the new list would lock out the address this request came from, and Databricks \
                 rejects a change that locks out its caller: add this runner's egress address, \
                 which the message usually names, with `--include`"
                    .to_owned(),
            ),
            StatusCode::BAD_REQUEST if code == "QUOTA_EXCEEDED" => Some(format!(
                "all IP access lists of a {scope_noun} together hold at most 1,000 values, where \
                 each address or CIDR counts as one: aggregate the prefixes, select fewer `--tag` \
                 values, or remove entries from the other lists"
            )),
            StatusCode::UNAUTHORIZED => {
                let mut hint = format!(
                    "the token that `{}` authentication sent is invalid or expired: check \
                     the authentication variables, such as `DATABRICKS_TOKEN`, or \
                     `DATABRICKS_CLIENT_ID` with its secret or OIDC federation policy",
                    request.auth_method
                );
                if request.scope == ScopeKind::Account {
                    hint.push_str(
                        "; account APIs do not accept personal access tokens, so use OAuth or an \
                         Entra ID token of an account admin",
                    );
                }
                Some(hint)
            }
            StatusCode::FORBIDDEN => Some(match request.scope {
                ScopeKind::Workspace => "the identity lacks admin rights: managing workspace IP \
                                         access lists needs a workspace admin"
                    .to_owned(),
                ScopeKind::Account => "the identity lacks admin rights: managing account IP \
                                       access lists needs an account admin"
                    .to_owned(),
            }),
            StatusCode::NOT_FOUND => request.list_id.as_ref().map(|list_id| {
                format!(
                    "IP access list `{list_id}` does not exist in this {scope_noun}: check \
                     `--list-id`, or select the list by `--list-label` with `--create-if-missing`"
                )
            }),
            _ => None,
        }
    }
}

/// The parts of an error body that the client keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedErrorBody {
    pub error_code: Option<String>,
    pub message: String,
    pub body: Option<String>,
}

/// Decodes an error body in any of the shapes the API uses.
pub(crate) fn parse_error_body(status: StatusCode, text: &str) -> ParsedErrorBody {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return ParsedErrorBody {
            error_code: None,
            message: status.canonical_reason().unwrap_or_default().to_owned(),
            body: None,
        };
    }

    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(trimmed) {
        if let Some(parsed) = parse_json_error(&fields) {
            return parsed;
        }
        return ParsedErrorBody {
            error_code: None,
            message: cut(trimmed, BODY_EXCERPT_CHARS),
            body: None,
        };
    }

    let body = Some(cut(trimmed, BODY_EXCERPT_CHARS));

    static PLAIN_TEXT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?s)([A-Z][A-Z0-9_]+): (.+)$").unwrap());
    if let Some(captures) = PLAIN_TEXT.captures(trimmed) {
        return ParsedErrorBody {
            error_code: Some(captures[1].to_owned()),
            message: cut(captures[2].trim(), BODY_EXCERPT_CHARS),
            body,
        };
    }

    static HTML_PRE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)<pre>(.*?)</pre>").unwrap());
    if let Some(captures) = HTML_PRE.captures(trimmed) {
        return ParsedErrorBody {
            error_code: None,
            message: cut(&unescape_html(captures[1].trim()), BODY_EXCERPT_CHARS),
            body,
        };
    }

    ParsedErrorBody {
        error_code: None,
        message: cut(trimmed, BODY_EXCERPT_CHARS),
        body,
    }
}

/// Reads the standard, legacy and SCIM JSON shapes, and returns `None` for an object that has
/// none of their fields.
fn parse_json_error(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Option<ParsedErrorBody> {
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };

    let error_code = match fields.get("error_code") {
        Some(serde_json::Value::String(code)) if !code.is_empty() => Some(code.clone()),
        Some(serde_json::Value::Number(code)) => Some(code.to_string()),
        _ => None,
    };
    let message = text("message");
    if error_code.is_some() || message.is_some() {
        return Some(ParsedErrorBody {
            error_code,
            message: message.unwrap_or_default(),
            body: None,
        });
    }

    if let Some(legacy) = text("error") {
        return Some(ParsedErrorBody {
            error_code: None,
            message: legacy,
            body: None,
        });
    }

    text("detail").map(|detail| ParsedErrorBody {
        error_code: text("scimType"),
        message: detail,
        body: None,
    })
}

fn request_id_from_headers(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    })
}

/// Finds the `[ReqId: …]` suffix that some Databricks messages carry instead of a header.
fn request_id_from_message(message: &str) -> Option<String> {
    static REQ_ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[ReqId: ([A-Za-z0-9._:-]+)\]").unwrap());
    REQ_ID
        .captures(message)
        .map(|captures| captures[1].to_owned())
}

/// Keeps at most `max_chars` characters, ending a cut text with `…`.
pub(crate) fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut head: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    head.push('…');
    head
}

/// Replaces the entities that an HTML error page puts in a `<pre>` block.
fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn summary(scope: ScopeKind, list_id: Option<&str>) -> RequestSummary {
        let path = match list_id {
            Some(id) => format!("/api/2.0/ip-access-lists/{id}"),
            None => "/api/2.0/ip-access-lists".to_owned(),
        };
        RequestSummary {
            method: Method::PATCH,
            host: "https://adb-1.2.azuredatabricks.net".to_owned(),
            path,
            scope,
            list_id: list_id.map(str::to_owned),
            auth_method: "pat",
        }
    }

    fn status_error(status: u16, body: &str, scope: ScopeKind, list_id: Option<&str>) -> ApiError {
        let status = StatusCode::from_u16(status).unwrap();
        ApiError::Status {
            request: Box::new(summary(scope, list_id)),
            response: Box::new(ErrorResponse::new(
                status,
                &HeaderMap::new(),
                body.as_bytes(),
                None,
            )),
        }
    }

    #[test]
    fn parse_standard_string_code() {
        let parsed = parse_error_body(
            StatusCode::BAD_REQUEST,
            r#"{"error_code":"INVALID_STATE","message":"Your current IP 203.0.113.7 will not be allowed to access the workspace under current configuration","details":[]}"#,
        );

        assert_eq!(parsed.error_code.as_deref(), Some("INVALID_STATE"));
        assert_eq!(
            parsed.message,
            "Your current IP 203.0.113.7 will not be allowed to access the workspace under current configuration"
        );
        assert_eq!(parsed.body, None);
    }

    #[test]
    fn parse_numeric_code() {
        let parsed = parse_error_body(
            StatusCode::FORBIDDEN,
            r#"{"error_code":403,"message":"Unauthorized access to Org: 1234"}"#,
        );

        assert_eq!(parsed.error_code.as_deref(), Some("403"));
        assert_eq!(parsed.message, "Unauthorized access to Org: 1234");
    }

    #[test]
    fn parse_legacy_error_field() {
        let parsed = parse_error_body(StatusCode::BAD_REQUEST, r#"{"error":"Invalid list type"}"#);

        assert_eq!(parsed.error_code, None);
        assert_eq!(parsed.message, "Invalid list type");
    }

    #[test]
    fn parse_scim_detail() {
        let parsed = parse_error_body(
            StatusCode::CONFLICT,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User already exists","scimType":"uniqueness","status":"409"}"#,
        );

        assert_eq!(parsed.error_code.as_deref(), Some("uniqueness"));
        assert_eq!(parsed.message, "User already exists");
    }

    #[test]
    fn parse_plain_text_code() {
        let parsed = parse_error_body(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE: Invalid IP address: 300.1.1.1\n",
        );

        assert_eq!(
            parsed.error_code.as_deref(),
            Some("INVALID_PARAMETER_VALUE")
        );
        assert_eq!(parsed.message, "Invalid IP address: 300.1.1.1");
        assert_eq!(
            parsed.body.as_deref(),
            Some("INVALID_PARAMETER_VALUE: Invalid IP address: 300.1.1.1")
        );
    }

    #[test]
    fn parse_html_pre() {
        let parsed = parse_error_body(
            StatusCode::BAD_GATEWAY,
            "<html><head><title>Error 502</title></head><body><h2>HTTP ERROR 502</h2>\n<pre>Bad gateway: upstream &lt;workspace&gt; unavailable</pre></body></html>",
        );

        assert_eq!(parsed.error_code, None);
        assert_eq!(
            parsed.message,
            "Bad gateway: upstream <workspace> unavailable"
        );
        assert!(parsed.body.unwrap().starts_with("<html>"));
    }

    #[test]
    fn parse_empty_body_uses_status_text() {
        let parsed = parse_error_body(StatusCode::SERVICE_UNAVAILABLE, "  ");

        assert_eq!(parsed.error_code, None);
        assert_eq!(parsed.message, "Service Unavailable");
        assert_eq!(parsed.body, None);
    }

    #[test]
    fn parse_unknown_text_is_cut() {
        let long = "x".repeat(2000);
        let parsed = parse_error_body(StatusCode::BAD_GATEWAY, &long);

        let body = parsed.body.unwrap();
        assert_eq!(body.chars().count(), 500);
        assert!(body.ends_with('…'));
        assert_eq!(parsed.message.chars().count(), 500);
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("ééé", 3), "ééé");
        assert_eq!(cut("éééé", 3), "éé…");
    }

    #[test]
    fn request_id_prefers_databricks_header() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("generic-1"));
        headers.insert(
            "x-databricks-request-id",
            HeaderValue::from_static("databricks-2"),
        );

        assert_eq!(
            request_id_from_headers(&headers).as_deref(),
            Some("databricks-2")
        );
    }

    #[test]
    fn request_id_from_req_id_suffix() {
        let response = ErrorResponse::new(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            br#"{"error_code":403,"message":"Source IP address: 203.0.113.7 is blocked by Databricks IP ACL for workspace: 1234 [ReqId: 8a1c-77f0]"}"#,
            None,
        );

        assert_eq!(response.request_id.as_deref(), Some("8a1c-77f0"));
    }

    #[test]
    fn display_names_request_code_message() {
        let error = status_error(
            400,
            r#"{"error_code":"INVALID_STATE","message":"Your current IP 203.0.113.7 will not be allowed"}"#,
            ScopeKind::Workspace,
            Some("abc"),
        );

        assert_eq!(
            error.to_string(),
            "PATCH `/api/2.0/ip-access-lists/abc` on `https://adb-1.2.azuredatabricks.net` failed: \
             400 INVALID_STATE: Your current IP 203.0.113.7 will not be allowed"
        );
    }

    #[test]
    fn display_numeric_code_shows_status_text() {
        let error = status_error(
            403,
            r#"{"error_code":403,"message":"Unauthorized access to Org: 1234"}"#,
            ScopeKind::Workspace,
            None,
        );

        assert_eq!(
            error.to_string(),
            "PATCH `/api/2.0/ip-access-lists` on `https://adb-1.2.azuredatabricks.net` failed: \
             403 Forbidden: Unauthorized access to Org: 1234"
        );
    }

    #[test]
    fn display_empty_body() {
        let error = status_error(503, "", ScopeKind::Workspace, None);

        assert_eq!(
            error.to_string(),
            "PATCH `/api/2.0/ip-access-lists` on `https://adb-1.2.azuredatabricks.net` failed: \
             503 Service Unavailable"
        );
    }

    #[test]
    fn display_request_id() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-databricks-request-id",
            HeaderValue::from_static("5f2e-11aa"),
        );
        let error = ApiError::Status {
            request: Box::new(summary(ScopeKind::Workspace, None)),
            response: Box::new(ErrorResponse::new(
                StatusCode::TOO_MANY_REQUESTS,
                &headers,
                br#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"Too many requests"}"#,
                None,
            )),
        };

        assert!(
            error.to_string().ends_with(
                "429 REQUEST_LIMIT_EXCEEDED: Too many requests (request id `5f2e-11aa`)"
            )
        );
    }

    #[test]
    fn hint_ip_acl_block() {
        let error = status_error(
            403,
            r#"{"error_code":403,"message":"Source IP address: 203.0.113.7 is blocked by Databricks IP ACL for workspace: 1234"}"#,
            ScopeKind::Workspace,
            None,
        );

        let hint = error.hint().unwrap();
        assert!(hint.contains("fixed egress address"), "{hint}");
        assert!(hint.contains("`--include`"), "{hint}");
        assert!(!hint.contains("admin"), "{hint}");
    }

    #[test]
    fn hint_invalid_state() {
        let error = status_error(
            400,
            r#"{"error_code":"INVALID_STATE","message":"Your current IP 203.0.113.7 will not be allowed"}"#,
            ScopeKind::Account,
            Some("abc"),
        );

        let hint = error.hint().unwrap();
        assert!(hint.contains("lock out"), "{hint}");
        assert!(hint.contains("`--include`"), "{hint}");
    }

    #[test]
    fn hint_quota_exceeded() {
        let error = status_error(
            400,
            r#"{"error_code":"QUOTA_EXCEEDED","message":"Too many IP addresses"}"#,
            ScopeKind::Workspace,
            Some("abc"),
        );

        let hint = error.hint().unwrap();
        assert!(hint.contains("1,000 values"), "{hint}");
        assert!(hint.contains("aggregate"), "{hint}");
        assert!(hint.contains("`--tag`"), "{hint}");
    }

    #[test]
    fn hint_unauthorized() {
        let workspace = status_error(401, "", ScopeKind::Workspace, None)
            .hint()
            .unwrap();
        let account = status_error(401, "", ScopeKind::Account, None)
            .hint()
            .unwrap();

        assert!(workspace.contains("invalid or expired"), "{workspace}");
        assert!(
            workspace.contains("the token that `pat` authentication sent"),
            "{workspace}"
        );
        assert!(workspace.contains("`DATABRICKS_TOKEN`"), "{workspace}");
        assert!(!workspace.contains("personal access tokens"), "{workspace}");
        assert!(account.contains("personal access tokens"), "{account}");
    }

    #[test]
    fn hint_forbidden_names_admin_role() {
        let body = r#"{"error_code":"PERMISSION_DENIED","message":"Only admins can manage IP access lists"}"#;
        let workspace = status_error(403, body, ScopeKind::Workspace, None)
            .hint()
            .unwrap();
        let account = status_error(403, body, ScopeKind::Account, None)
            .hint()
            .unwrap();

        assert!(workspace.contains("workspace admin"), "{workspace}");
        assert!(account.contains("account admin"), "{account}");
    }

    #[test]
    fn hint_not_found_needs_list_id() {
        let body = r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Can't find an IP access list with id: abc."}"#;
        let with_id = status_error(404, body, ScopeKind::Workspace, Some("abc"))
            .hint()
            .unwrap();

        assert!(with_id.contains("`abc` does not exist"), "{with_id}");
        assert!(with_id.contains("`--list-id`"), "{with_id}");
        assert!(with_id.contains("`--create-if-missing`"), "{with_id}");
        assert_eq!(
            status_error(404, body, ScopeKind::Workspace, None).hint(),
            None
        );
    }

    #[test]
    fn hint_absent_for_server_error() {
        assert_eq!(
            status_error(500, "", ScopeKind::Workspace, None).hint(),
            None
        );
        assert_eq!(
            status_error(
                400,
                r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}"#,
                ScopeKind::Workspace,
                None
            )
            .hint(),
            None
        );
    }

    #[test]
    fn retryable_statuses() {
        for (status, retryable) in [
            (429, true),
            (503, true),
            (500, false),
            (502, false),
            (400, false),
        ] {
            assert_eq!(
                status_error(status, "", ScopeKind::Workspace, None).is_retryable(),
                retryable,
                "{status}"
            );
        }
    }
}
