//! Hot reload of the routing file, on SIGHUP and when a file under the routing file's folder
//! changes (the `notify` crate; events are debounced, since editors write a file in several
//! steps). The new file goes through the same load and validation as `check-config`; a bad
//! one is rejected, logged with every problem and counted
//! (`minhu_config_last_reload_successful 0`), and the old router keeps serving.
//!
//! A new department needs its queue before the first ticket is routed to it, so the reload
//! declares the new router's whole topology on the broker first (idempotent) and swaps only
//! when that worked. Queues of departments that were removed stay on the broker for their
//! consumers to drain.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::history::Outcome;
use super::live::LiveRouter;
use crate::config::service::AmqpConfig;
use crate::dispatch::topology::{self, DepartmentQueue, KnownQueues};
use crate::telemetry::Metrics;

/// How long the folder must be quiet before a change is reloaded.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// Reloads one routing file into one live router.
pub struct Reloader {
    pub routing_file: PathBuf,
    pub live: LiveRouter,
    pub metrics: Arc<Metrics>,
    pub amqp: AmqpConfig,
    /// Queues known to exist: the start-up router's or added by an earlier reload. Shared
    /// with the relay, which declares them all again whenever it reconnects.
    pub declared: KnownQueues,
    /// The store whose provisional deadlines are counted again after each reload (a new
    /// official calendar file arrives as a reload); None in tools that only route.
    pub store: Option<crate::store::Store>,
    /// Every attempt is recorded here, for the console's 路由 page.
    pub history: Arc<super::history::ReloadHistory>,
}

impl Reloader {
    /// Records the router in force at start in the metrics.
    pub fn init_metrics(&self) {
        let m = &self.metrics.routing;
        m.last_reload_successful.store(1, Relaxed);
        m.generation.store(1, Relaxed);
        if let Ok(mut v) = m.version.lock() {
            *v = self.live.current().version().to_owned();
        }
    }

    /// Loads, validates, declares and swaps. Returns the new version, or why not.
    pub async fn reload(&mut self) -> Result<String, String> {
        let result = self.try_reload().await;
        self.history.record(
            crate::time::now_ms(),
            match &result {
                Ok(version) => Outcome::Loaded {
                    version: version.clone(),
                },
                Err(error) => Outcome::Refused {
                    error: error.clone(),
                    kept: self.live.current().version().to_owned(),
                },
            },
        );
        let m = &self.metrics.routing;
        match &result {
            Ok(version) => {
                m.last_reload_successful.store(1, Relaxed);
                m.generation.fetch_add(1, Relaxed);
                m.reloads_ok.fetch_add(1, Relaxed);
                if let Ok(mut v) = m.version.lock() {
                    v.clone_from(version);
                }
                tracing::info!(version = %version, file = %self.routing_file.display(), "routing config reloaded");
            }
            Err(e) => {
                m.last_reload_successful.store(0, Relaxed);
                m.reloads_failed.fetch_add(1, Relaxed);
                tracing::error!(file = %self.routing_file.display(), "routing config reload rejected; the previous config keeps serving: {e}");
            }
        }
        result
    }

    async fn try_reload(&mut self) -> Result<String, String> {
        let router =
            crate::config::load::load_routing(&self.routing_file).map_err(|e| e.to_string())?;
        let wanted = DepartmentQueue::all_for(router.departments());
        let missing = self.declared.missing(&wanted);
        if !missing.is_empty() {
            declare(&self.amqp, &missing).await?;
            self.declared.add(missing);
        }
        let version = router.version().to_owned();
        for p in router.provisional_years(crate::time::now_ms()) {
            tracing::warn!("{p}");
        }
        self.live.swap(router);
        if let Some(store) = &self.store {
            super::recount::recount_logged(store, &self.live.current(), &self.metrics).await;
        }
        Ok(version)
    }

    /// Reloads on SIGHUP and on file changes until `stop`.
    pub async fn run(mut self, stop: CancellationToken) {
        self.init_metrics();
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let _watcher = watch(&self.routing_file, tx.clone());
        let mut hup = hangups();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                Some(()) = rx.recv() => {
                    // Debounce: wait until the folder has been quiet for a while.
                    loop {
                        tokio::select! {
                            () = tokio::time::sleep(DEBOUNCE) => break,
                            Some(()) = rx.recv() => {}
                        }
                    }
                    let _ = self.reload().await;
                }
                Some(()) = recv_hup(&mut hup) => {
                    tracing::info!("SIGHUP: reloading the routing config");
                    let _ = self.reload().await;
                }
            }
        }
    }
}

/// Declares `queues` on a short-lived connection.
async fn declare(cfg: &AmqpConfig, queues: &[DepartmentQueue]) -> Result<(), String> {
    let names: Vec<&str> = queues.iter().map(|q| q.queue.as_str()).collect();
    let conn = tokio::time::timeout(
        Duration::from_secs(10),
        // The same connection settings as the relay's, TLS included.
        crate::protect::amqps::connect(cfg, "minhu-reload"),
    )
    .await
    .map_err(|_| format!("cannot declare new queues {names:?}: broker connection timed out"))?
    .map_err(|e| format!("cannot declare new queues {names:?}: {e}"))?;
    let result = async {
        let channel = conn.create_channel().await.map_err(|e| e.to_string())?;
        topology::declare(&channel, cfg, queues)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let _ = conn.close(200, "declared".into()).await;
    result.map_err(|e| format!("cannot declare new queues {names:?}: {e}"))
}

/// Watches the routing file's folder (recursively: calendars, areas and the taxonomy live
/// there too). Editors often replace a file by renaming a new one over it, so the folder is
/// watched rather than the file. None (logged) when watching is impossible; SIGHUP still works.
fn watch(routing_file: &Path, tx: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    let dir = routing_file
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .to_path_buf();
    let handler = move |event: notify::Result<notify::Event>| {
        if let Ok(e) = event
            && (e.kind.is_modify() || e.kind.is_create() || e.kind.is_remove())
        {
            // A full channel already means "reload pending".
            let _ = tx.try_send(());
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the routing folder; reload with SIGHUP");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::Recursive) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the routing folder; reload with SIGHUP");
        return None;
    }
    Some(watcher)
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangups() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP"))
        .ok()
}

#[cfg(not(unix))]
fn hangups() -> Hangups {
    None
}

#[cfg(unix)]
async fn recv_hup(h: &mut Hangups) -> Option<()> {
    match h {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv_hup(_: &mut Hangups) -> Option<()> {
    std::future::pending().await
}
