//! Several gateways on one PostgreSQL database: who is alive, whose outbox rows are whose, and
//! which gateway runs the timers.
//!
//! - **Heartbeat.** Every gateway has a random id for the life of its process and renews its
//!   row in `gateways` every [`BEAT`] (alive for [`TTL`] from the database's clock, so the
//!   gateways' own clocks never have to agree).
//! - **The outbox.** A row belongs to the gateway whose writer wrote it (`outbox.owner`, from the
//!   writer's session setting `minhu.gateway`), and only its relay publishes it. At each beat a
//!   gateway adopts the rows of gateways that stopped beating, taking them with
//!   `FOR UPDATE SKIP LOCKED` so two survivors never take the same row, and hands them to its
//!   relay. A dead gateway's dispatches are therefore published within `TTL + BEAT`.
//! - **Timers** (lights, escalations, notices, erasure) run where the `timers` lease is held.
//!   The lease is renewed at each beat and taken over by another gateway once it has not been
//!   renewed for `TTL`. The scheduler's pass checks the lease in its own transaction, so a
//!   gateway that lost it writes no event, and its local view of the lease ends a second
//!   before the database's does.
//!
//! On SQLite there is one gateway: it owns every row and always holds the lease.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::{Conn, Dialect, params};

use super::StoreError;
use crate::outbox::OutboxEntry;

/// How often a gateway renews its heartbeat and the lease, and adopts rows.
pub const BEAT: Duration = Duration::from_secs(2);
/// How long a heartbeat or lease lasts without renewal.
pub const TTL: Duration = Duration::from_secs(6);
/// The lease held by the gateway that runs the timers.
const TIMERS: &str = "timers";

/// What one beat found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Beat {
    /// This gateway holds the timers lease.
    pub timers: bool,
    /// Rows adopted from gateways that stopped beating (already handed to the relay).
    pub adopted: Vec<OutboxEntry>,
}

/// This gateway's view of the timers lease.
#[derive(Debug, Clone)]
pub(super) struct Lease {
    /// `None`: not shared (SQLite), always held.
    until: Option<Arc<Mutex<Option<Instant>>>>,
}

impl Lease {
    pub fn new(dialect: Dialect) -> Self {
        Lease {
            until: (dialect == Dialect::Postgres).then(Arc::default),
        }
    }

    pub fn shared(&self) -> bool {
        self.until.is_some()
    }

    /// Whether this gateway may run the timers now.
    pub fn held(&self) -> bool {
        match &self.until {
            None => true,
            Some(u) => u
                .lock()
                .ok()
                .and_then(|u| *u)
                .is_some_and(|until| Instant::now() < until),
        }
    }

    /// A beat that started at `asked` came back: the lease is held until a second before the
    /// database would let another gateway take it, or not at all.
    pub fn renewed(&self, asked: Instant, held: bool) {
        if let Some(u) = &self.until
            && let Ok(mut u) = u.lock()
        {
            *u = held.then(|| asked + TTL - Duration::from_secs(1));
        }
    }
}

/// A fresh id for this gateway process.
pub(super) fn new_id() -> String {
    format!("g{:016x}", rand::random::<u64>())
}

/// Marks the writer's connection with the gateway id its outbox rows are owned by.
pub(super) fn mark_writer(conn: &Conn, gateway: &str) -> Result<(), StoreError> {
    if conn.dialect() == Dialect::Postgres {
        conn.query_row(
            "SELECT set_config('minhu.gateway', ?1, false)",
            params![gateway],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

/// One beat, in the writer's transaction (PostgreSQL only).
pub(super) fn beat(conn: &Conn, gateway: &str) -> Result<Beat, StoreError> {
    let ttl = i64::try_from(TTL.as_millis()).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "INSERT INTO gateways (gateway_id, started_at, alive_until)
         VALUES (?1, minhu_now_ms(), minhu_now_ms() + ?2)
         ON CONFLICT (gateway_id) DO UPDATE SET alive_until = excluded.alive_until",
    )?
    .execute(params![gateway, ttl])?;
    let timers = conn
        .prepare_cached(
            "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, minhu_now_ms() + ?3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
              WHERE leases.holder = excluded.holder OR leases.until < minhu_now_ms()
             RETURNING holder",
        )?
        .exists(params![TIMERS, gateway, ttl])?;
    let adopted = conn
        .prepare_cached(
            "UPDATE outbox SET owner = ?1 WHERE id IN (
                SELECT o.id FROM outbox o
                 WHERE o.owner IS DISTINCT FROM ?1
                   AND NOT EXISTS (SELECT 1 FROM gateways g
                                    WHERE g.gateway_id = o.owner
                                      AND g.alive_until > minhu_now_ms())
                 ORDER BY o.id LIMIT 10000
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, priority",
        )?
        .query_map(params![gateway], |r| {
            Ok(OutboxEntry {
                id: r.get(0)?,
                priority: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if !adopted.is_empty() {
        tracing::info!(
            rows = adopted.len(),
            "adopted outbox rows of a gateway that stopped"
        );
    }
    Ok(Beat { timers, adopted })
}

/// The beat a store opens with, before its writer and relay start: the rows of stopped
/// gateways become this one's (so its relay's first read finds them) and the lease is taken if
/// it is free. `None` on SQLite.
pub(super) fn first_beat(conn: &mut Conn, gateway: &str) -> Result<Option<Beat>, StoreError> {
    if conn.dialect() != Dialect::Postgres {
        return Ok(None);
    }
    let tx = conn.transaction()?;
    let b = beat(&tx, gateway)?;
    tx.commit()?;
    Ok(Some(b))
}

/// A gateway stopping on purpose: its heartbeat ends and the lease is let go now, so another
/// gateway adopts what is left and takes the timers at its next beat, not `TTL` later.
pub(super) fn farewell(conn: &Conn, gateway: &str) -> Result<(), StoreError> {
    if conn.dialect() != Dialect::Postgres {
        return Ok(());
    }
    conn.execute(
        "UPDATE gateways SET alive_until = 0 WHERE gateway_id = ?1",
        params![gateway],
    )?;
    conn.execute("DELETE FROM leases WHERE holder = ?1", params![gateway])?;
    Ok(())
}

/// Whether `gateway` holds the timers lease, read in the transaction about to act on it.
pub(super) fn holds_timers(conn: &Conn, gateway: &str) -> Result<bool, StoreError> {
    if conn.dialect() != Dialect::Postgres {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND until > minhu_now_ms()",
        )?
        .exists(params![TIMERS, gateway])?)
}

impl super::Store {
    /// Whether other gateways may share this store (PostgreSQL): then [`Store::run_heartbeat`]
    /// must run.
    ///
    /// [`Store::run_heartbeat`]: super::Store::run_heartbeat
    pub fn is_shared(&self) -> bool {
        self.lease.shared()
    }

    /// This gateway process's id (`gateways.gateway_id`).
    pub fn gateway_id(&self) -> &str {
        &self.gateway
    }

    /// One heartbeat now: renews this gateway's and the timers lease, and adopts the rows of
    /// gateways that stopped.
    pub async fn heartbeat(&self) -> Result<Beat, StoreError> {
        if !self.lease.shared() {
            return Ok(Beat {
                timers: true,
                adopted: Vec::new(),
            });
        }
        let asked = Instant::now();
        let beat = self.call(super::commands::Command::Beat).await;
        self.lease
            .renewed(asked, beat.as_ref().is_ok_and(|b| b.timers));
        beat
    }

    /// Beats every [`BEAT`] until `stop` (does nothing on SQLite).
    pub async fn run_heartbeat(self, stop: tokio_util::sync::CancellationToken) {
        if !self.is_shared() {
            return;
        }
        let mut held = false;
        loop {
            match self.heartbeat().await {
                Ok(b) if b.timers != held => {
                    held = b.timers;
                    tracing::info!(
                        timers = held,
                        "timers lease {}",
                        if held { "taken" } else { "lost" }
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(BEAT) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}
