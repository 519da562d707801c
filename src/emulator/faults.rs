//! Injected failures: rate limiting, unavailability, slow responses and dropped connections.
//!
//! A dropped connection needs the socket itself, which axum does not hand to handlers. So the
//! emulator listens through [`SeverableListener`], whose streams share a flag with the
//! request's [`Connection`] info. Once a handler sets the flag, writes on that stream fail,
//! hyper closes the connection, and the client sees it end without a response.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::http::Method;
use axum::serve::{IncomingStream, Listener};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The effect of an injected fault on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Responds with 429 `REQUEST_LIMIT_EXCEEDED` with `Retry-After: <retry_after_seconds>`.
    TooManyRequests { retry_after_seconds: u64 },
    /// Responds with 503 `TEMPORARILY_UNAVAILABLE`, with `Retry-After` when seconds are given.
    Unavailable {
        #[serde(default)]
        retry_after_seconds: Option<u64>,
    },
    /// Waits, then handles the request normally.
    Delay { millis: u64 },
    /// Closes the connection without handling the request or sending a response.
    DropConnection,
    /// Handles the request, then closes the connection instead of sending the response, as
    /// when a response is lost after the service made the change.
    DropResponse,
}

/// A failure for the next `count` requests that match `method` and `path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching requests the fault applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// Matches only this HTTP method (such as `PATCH`) when set.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches only paths that start with this text when set.
    #[serde(default)]
    pub path_prefix: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn too_many_requests(retry_after: Duration) -> Self {
        Self::new(FaultKind::TooManyRequests {
            retry_after_seconds: retry_after.as_secs(),
        })
    }

    pub fn unavailable() -> Self {
        Self::new(FaultKind::Unavailable {
            retry_after_seconds: None,
        })
    }

    pub fn delay(delay: Duration) -> Self {
        Self::new(FaultKind::Delay {
            millis: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        })
    }

    pub fn drop_connection() -> Self {
        Self::new(FaultKind::DropConnection)
    }

    pub fn drop_response() -> Self {
        Self::new(FaultKind::DropResponse)
    }

    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            count: 1,
            method: None,
            path_prefix: None,
        }
    }

    /// Applies the fault to the next `count` matching requests instead of one.
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Restricts the fault to one method and to paths that start with `path_prefix`.
    pub fn matching(mut self, method: Method, path_prefix: impl Into<String>) -> Self {
        self.method = Some(method.as_str().to_owned());
        self.path_prefix = Some(path_prefix.into());
        self
    }

    pub(crate) fn matches(&self, method: &Method, path: &str) -> bool {
        let method_matches = self
            .method
            .as_deref()
            .is_none_or(|expected| expected.eq_ignore_ascii_case(method.as_str()));
        let path_matches = self
            .path_prefix
            .as_deref()
            .is_none_or(|prefix| path.starts_with(prefix));
        method_matches && path_matches
    }
}

/// Takes one use of the first pending fault that matches the request.
pub(crate) fn take_matching(
    faults: &mut Vec<Fault>,
    method: &Method,
    path: &str,
) -> Option<FaultKind> {
    let index = faults
        .iter()
        .position(|fault| fault.count > 0 && fault.matches(method, path))?;
    let fault = &mut faults[index];
    fault.count -= 1;
    let kind = fault.kind.clone();
    if fault.count == 0 {
        faults.remove(index);
    }
    Some(kind)
}

/// A TCP listener whose connections a handler can cut.
pub(crate) struct SeverableListener(pub TcpListener);

impl Listener for SeverableListener {
    type Io = SeverableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, remote)) => {
                    let stream = SeverableStream {
                        inner: stream,
                        severed: Arc::new(AtomicBool::new(false)),
                    };
                    return (stream, remote);
                }
                Err(error) => {
                    // Errors such as running out of file descriptors pass with time; a
                    // pause keeps the loop from spinning meanwhile.
                    tracing::warn!(%error, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A TCP stream that fails every read and write once severed.
pub(crate) struct SeverableStream {
    inner: TcpStream,
    severed: Arc<AtomicBool>,
}

impl SeverableStream {
    fn check(&self) -> io::Result<()> {
        if self.severed.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection dropped by an injected fault",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for SeverableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

impl AsyncWrite for SeverableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

/// Per-connection information for handlers: the switch that cuts the connection.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    severed: Arc<AtomicBool>,
}

impl Connection {
    pub fn sever(&self) {
        self.severed.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, SeverableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, SeverableListener>) -> Self {
        Self {
            severed: stream.io().severed.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_matching_counts_down() {
        let mut faults = vec![Fault::unavailable().times(2)];

        assert!(take_matching(&mut faults, &Method::GET, "/a").is_some());
        assert!(take_matching(&mut faults, &Method::GET, "/a").is_some());
        assert!(take_matching(&mut faults, &Method::GET, "/a").is_none());
        assert!(faults.is_empty());
    }

    #[test]
    fn take_matching_skips_other_method() {
        let mut faults = vec![Fault::unavailable().matching(Method::PATCH, "/api/2.0/")];

        assert!(take_matching(&mut faults, &Method::GET, "/api/2.0/ip-access-lists").is_none());
        assert!(take_matching(&mut faults, &Method::PATCH, "/oidc/v1/token").is_none());
        assert!(take_matching(&mut faults, &Method::PATCH, "/api/2.0/ip-access-lists").is_some());
    }

    #[test]
    fn fault_json_is_flat() {
        let fault: Fault = serde_json::from_str(
            r#"{"kind": "too_many_requests", "retry_after_seconds": 3, "count": 2}"#,
        )
        .unwrap();
        assert_eq!(
            fault,
            Fault::too_many_requests(Duration::from_secs(3)).times(2)
        );
    }
}
