//! Error bodies in the shapes the Databricks REST API returns them.
//!
//! Most errors read `{"error_code": "INVALID_STATE", "message": "…"}`. The IP access list
//! block is the exception: the service returns it with a numeric `error_code` (`403`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The `error_code` field: usually a name, sometimes the HTTP status as a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    Named(&'static str),
    Numeric(u16),
}

/// An error response of the emulated API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds for a `Retry-After` header, on 429 and 503.
    pub retry_after_seconds: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: ErrorCode::Named(code),
            message: message.into(),
            retry_after_seconds: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::bad_request("INVALID_PARAMETER_VALUE", message)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::bad_request("MALFORMED_REQUEST", message)
    }

    pub fn list_not_found(list_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            format!("Can't find an IP access list with id: {list_id}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }

    /// The 403 the service returns for any request from an address its lists block.
    pub fn blocked_by_acl(message: String) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: ErrorCode::Numeric(403),
            message,
            retry_after_seconds: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match self.code {
            ErrorCode::Named(name) => json!(name),
            ErrorCode::Numeric(number) => json!(number),
        };
        let body = Json(json!({ "error_code": code, "message": self.message }));

        let mut response = (self.status, body).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
