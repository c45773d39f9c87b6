//! A background part of the gateway as `serve` holds it: the task and the token that asks it
//! to stop. Every worker runs until its token is cancelled, so stopping one is always the same
//! two steps, and the shutdown sequence reads as a list of parts in order.
use std::future::Future;

use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

pub(super) struct Task<T> {
    stop: CancellationToken,
    handle: JoinHandle<T>,
}

impl<T: Send + 'static> Task<T> {
    /// Spawns `start(stop)`, giving it the token that will stop it.
    pub(super) fn spawn<F>(start: impl FnOnce(CancellationToken) -> F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let handle = tokio::spawn(start(stop.clone()));
        Task { stop, handle }
    }

    /// Asks the task to stop and waits until it has.
    pub(super) async fn stop(self) -> Result<T, JoinError> {
        self.stop.cancel();
        self.handle.await
    }

    /// Asks the task to stop and waits at most `limit`; `None` when it was still running.
    pub(super) async fn stop_within(
        self,
        limit: std::time::Duration,
    ) -> Option<Result<T, JoinError>> {
        self.stop.cancel();
        tokio::time::timeout(limit, self.handle).await.ok()
    }
}
