//! Databricks unified authentication: turns settings into the headers of each request.

use std::future::Future;
use std::pin::Pin;

use crate::secret::Secret;

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

/// Why no credentials could be obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{method} authentication failed: {message}")]
    Failed {
        method: &'static str,
        message: String,
    },
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
