//! The graceful shutdown of `minhu serve`, in the order that loses nothing:
//!
//! 1. stop accepting: readiness and gRPC health go NOT_SERVING, new Submits get UNAVAILABLE,
//!    listeners stop taking connections;
//! 2. drain: requests already inside finish (their tickets are committed and answered); the
//!    consumer of departments' updates (`minhu.updates`) stops after the one it is applying;
//! 3. flush: the relay keeps publishing until the outbox is empty or the grace period ends;
//! 4. confirms: the relay waits for outstanding confirms, then closes the broker connection;
//! 5. the store writer commits its last batch and checkpoints the WAL.
//!
//! Whatever is still in the outbox after that is published by the next start.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic_health::server::HealthReporter;

use super::ServeError;
use super::task::Task;
use super::workers::Workers;
use crate::config::service::ShutdownConfig;
use crate::intake::Intake;
use crate::store::WriterThread;
use crate::telemetry::Metrics;

/// Everything `serve` started that has to be stopped: each part's stop token and task, handed
/// over in one piece so the order they are stopped in is written down in one place.
pub(super) struct Running {
    /// Steps 1 and 2: the routing reloader, the doors (readiness, new Submits, gRPC health)
    /// and both listeners, then the rate limits' sweeper.
    pub(super) reload: Task<()>,
    pub(super) closing: Arc<AtomicBool>,
    pub(super) intake: Intake,
    pub(super) health: HealthReporter,
    pub(super) stop: CancellationToken,
    pub(super) grpc_task: JoinHandle<Result<(), tonic::transport::Error>>,
    pub(super) http_task: JoinHandle<std::io::Result<()>>,
    pub(super) sweeper: Option<Task<()>>,
    /// Still step 2: the updates consumer and the other background workers, all stopped
    /// before the relay's last flush; then steps 3 and 4, the relay, and the heartbeat.
    pub(super) workers: Workers,
    /// Step 5: the store's writer.
    pub(super) writer: WriterThread,
    pub(super) metrics: Arc<Metrics>,
}

impl Running {
    /// Stops everything in the order above; the error is a listener's that failed meanwhile.
    pub(super) async fn shut_down(self, cfg: &ShutdownConfig) -> Result<(), ServeError> {
        tracing::info!("shutting down: no longer accepting reports");
        let _ = self.reload.stop().await;
        self.closing.store(true, Relaxed);
        self.intake.close();
        super::grpc::set_serving(&self.health, false).await;
        self.stop.cancel();
        let grpc_result = drain(self.grpc_task, cfg.drain_timeout, "gRPC").await;
        let http_result = drain(self.http_task, cfg.drain_timeout, "HTTP").await;
        drop(self.intake);
        if let Some(s) = self.sweeper {
            let _ = s.stop().await;
        }

        let w = self.workers;
        // An update being applied finishes and is acked; the rest wait in minhu.updates.
        let _ = w.consumer.stop().await;
        let _ = w.scheduler.stop().await;
        let _ = w.depth.stop().await;
        let _ = w.eraser.stop().await;
        // Sends under way finish and are recorded (within the drain time); the rest stay due in
        // the ledger for the next start.
        if w.notifier.stop_within(cfg.drain_timeout).await.is_none() {
            tracing::warn!(
                "notifier: sends still under way at shutdown; they are sent again at the next start"
            );
        }

        flush_outbox(&self.metrics, cfg.flush_timeout).await;
        match w.relay.stop().await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "relay stopped with an error; the outbox keeps the rest")
            }
            Err(e) => tracing::error!(error = %e, "relay task failed; the outbox keeps the rest"),
        }
        // Beats stop last: what the relay could not flush is adopted by another gateway once this
        // one's heartbeat runs out.
        let _ = w.heartbeat.stop().await;
        self.writer.join().await;
        tracing::info!(
            outbox_depth = self.metrics.outbox_depth.load(Relaxed),
            "minhu stopped"
        );

        if let Some(r) = grpc_result {
            r?;
        }
        if let Some(r) = http_result {
            r.map_err(ServeError::Http)?;
        }
        Ok(())
    }
}

/// Waits up to `timeout` for a server task to finish its in-flight requests, then aborts it.
/// None when it had to be aborted or panicked (already logged).
async fn drain<T>(
    mut task: tokio::task::JoinHandle<T>,
    timeout: Duration,
    what: &str,
) -> Option<T> {
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(r)) => Some(r),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "{what} server task failed");
            None
        }
        Err(_) => {
            tracing::warn!(
                ?timeout,
                "{what} connections still open after the drain timeout; closing them"
            );
            task.abort();
            None
        }
    }
}

/// Gives the relay up to `grace` to empty the outbox while the broker is reachable.
async fn flush_outbox(metrics: &Metrics, grace: Duration) {
    let deadline = tokio::time::Instant::now() + grace;
    while metrics.outbox_depth.load(Relaxed) > 0
        && metrics.broker_connected.load(Relaxed) == 1
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops Minhu");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
