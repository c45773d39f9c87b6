//! Opening a store: the database created or migrated, the writer's state loaded (numbers,
//! keys, the merge index of open cases), and the writer thread started.
use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::changes::Changes;
use super::reader::Reader;
use super::writer::{State, Writer};
use super::{
    Location, OutboxFeed, Store, StoreError, WRITER_QUEUE, WriterThread, contacts, gateways, ids,
    merge_rows, merge_shared, schema, seal,
};
use crate::config::service::StoreConfig;
use crate::db;
use crate::merge::{Index, MergeConfig};
use crate::telemetry::Metrics;

impl Store {
    /// Opens (creating if needed) the database, migrates it and starts the writer thread, with
    /// merging off.
    pub fn open(
        cfg: &StoreConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open_with_merge(cfg, &MergeConfig::default(), metrics)
    }

    /// As [`Store::open`], merging reports into open cases as `merge` says (the index of open
    /// cases is rebuilt from the database first).
    pub fn open_with_merge(
        cfg: &StoreConfig,
        merge: &MergeConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open_sealed(cfg, merge, None, metrics)
    }

    /// As [`Store::open_with_merge`], sealing reporters' contacts with `keys` (None: in
    /// clear). Fails if the store holds contacts sealed with a key `keys` lacks.
    pub fn open_sealed(
        cfg: &StoreConfig,
        merge: &MergeConfig,
        keys: Option<seal::Keyring>,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open_scored(cfg, merge, keys, crate::scores::Rules::default(), metrics)
    }

    /// As [`Store::open_sealed`], scoring cases (谁呼谁评) with `rules` (`[scores]`).
    pub fn open_scored(
        cfg: &StoreConfig,
        merge: &MergeConfig,
        keys: Option<seal::Keyring>,
        rules: crate::scores::Rules,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        let location = cfg.location();
        if let Location::Sqlite(path) = &location
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
        let gateway: Arc<str> = gateways::new_id().into();
        // On a thread of its own: PostgreSQL's blocking client may not run inside the async
        // task that often opens the store.
        let (conn, prepared, seq, merge_seen, depth, merge, (asked, first_beat)) =
            std::thread::scope(|s| {
                s.spawn(|| -> Result<_, StoreError> {
                    let mut conn = schema::connect(&location)?;
                    schema::migrate(&mut conn)?;
                    gateways::mark_writer(&conn, &gateway)?;
                    let asked = std::time::Instant::now();
                    let first_beat = gateways::first_beat(&mut conn, &gateway)?;
                    let prepared = contacts::prepare(&mut conn, keys)?;
                    let seq = ids::Sequences::load(&conn)?;
                    let merge_seen = merge_shared::Seen::load(&conn)?;
                    let depth = crate::outbox::count(&conn)?;
                    let merge = if merge.enabled {
                        let started = std::time::Instant::now();
                        let index = Self::merge_index(&conn, merge)?;
                        tracing::info!(
                            open_cases = index.len(),
                            took_ms = started.elapsed().as_millis() as u64,
                            "merge index rebuilt"
                        );
                        Some(index)
                    } else {
                        None
                    };
                    Ok((
                        conn,
                        prepared,
                        seq,
                        merge_seen,
                        depth,
                        merge,
                        (asked, first_beat),
                    ))
                })
                .join()
                .map_err(|_| StoreError::Corrupt("opening the store panicked".into()))?
            })?;
        metrics
            .outbox_depth
            .store(depth as i64, std::sync::atomic::Ordering::Relaxed);

        let lease = gateways::Lease::new(conn.dialect());
        lease.renewed(asked, first_beat.is_some_and(|b| b.timers));
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        let (feed_tx, feed_rx) = mpsc::unbounded_channel();
        let hot = Arc::new(crate::outbox::HotOutbox::default());
        let systems = crate::notify::systems::SharedSystems::default();
        let writer = Writer {
            conn,
            location: location.clone(),
            rx,
            feed: feed_tx,
            hot: hot.clone(),
            metrics: metrics.clone(),
            max_batch: cfg.max_batch.max(1),
            state: State {
                seq,
                gateway: gateway.clone(),
                merge_seen,
                depth,
                budget: cfg.outbox_budget,
                seal: prepared.sealer.clone(),
                systems: systems.clone(),
                rules: Arc::new(rules),
            },
            merge,
        };
        // Weak, so that dropping every `Store` still ends the writer (tools and tests).
        let weak = tx.downgrade();
        let handle = std::thread::Builder::new()
            .name("minhu-store-writer".into())
            .spawn(move || writer.run())?;
        Ok((
            Store {
                tx,
                lease,
                reader: Reader::new(location),
                hot,
                changes: Changes::default(),
                metrics,
                notices_ready: Arc::default(),
                seal: prepared.sealer,
                rekey: prepared.rekey,
                systems,
                gateway,
            },
            feed_rx,
            WriterThread { handle, tx: weak },
        ))
    }

    /// The merge index of the open cases in a store, as start-up rebuilds it (also used by the
    /// benchmark).
    pub fn merge_index(conn: &db::Conn, cfg: &MergeConfig) -> Result<Index, StoreError> {
        let mut index = Index::new(cfg.clone());
        merge_rows::load_merge_index(conn, &mut index)?;
        Ok(index)
    }

    /// Path-only convenience for tools and tests.
    pub fn open_path(
        path: &Path,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open(
            &StoreConfig {
                path: path.to_path_buf(),
                ..StoreConfig::default()
            },
            metrics,
        )
    }
}
