//! The gRPC listener's connections, as tonic takes them: a connection is handed over only once
//! its client has sent a first byte (the HTTP/2 preface or a TLS ClientHello) within
//! `[grpc] handshake_timeout`. Connections that open and stay silent — a slowloris client, a
//! port scanner — are closed instead of each holding a task forever. Once established, idle
//! or dead peers are found by HTTP/2 keepalive pings (configured on the server).
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;

/// Connections waiting for their first byte at once; more wait in the kernel's backlog.
const MAX_PENDING: usize = 4096;

/// The accepted connections that spoke in time.
pub fn guarded(
    listener: TcpListener,
    first_byte: Duration,
) -> impl Stream<Item = std::io::Result<TcpStream>> + Send + 'static {
    TcpListenerStream::new(listener)
        .map(move |accepted| async move {
            let s = match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: slow down rather than spin.
                    tracing::warn!(error = %e, "gRPC accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    return None;
                }
            };
            let _ = s.set_nodelay(true);
            let mut one = [0u8; 1];
            match tokio::time::timeout(first_byte, s.peek(&mut one)).await {
                Ok(Ok(n)) if n > 0 => Some(Ok(s)),
                Ok(_) => None,
                Err(_) => {
                    tracing::debug!(timeout = ?first_byte, "gRPC connection silent; closed");
                    None
                }
            }
        })
        .buffer_unordered(MAX_PENDING)
        .filter_map(std::future::ready)
}
