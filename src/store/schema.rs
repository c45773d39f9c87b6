//! The schema and connection settings. Versioned with `PRAGMA user_version` on SQLite and the
//! `minhu_schema` table on PostgreSQL; each migration runs once, in order, inside a
//! transaction. PostgreSQL runs the same migrations, translated (`db::pg_ddl`), with the few
//! statements that have no common text replaced (`postgres`).
//!
//! The tables are laid out for the whole closed loop, not just intake: a case has a lifecycle
//! (status, level, deadline, the department holding it), many tickets can point at one case
//! (merged reports; every reporter is answered), every dispatch ever made is kept, and `audit`
//! records every state change with its reasons.
use std::path::Path;

use crate::db::{Conn, Dialect};

use super::{Location, StoreError};

mod migrations;
mod postgres;

pub(super) use migrations::MIGRATIONS;
use postgres::{PG_COMPAT, pg_migration};

/// Opens a connection to the store at `at` (creating a SQLite file if there is none).
pub fn connect(at: &Location) -> Result<Conn, StoreError> {
    match at {
        Location::Sqlite(path) => connect_sqlite(path),
        Location::Postgres(url) => Ok(Conn::connect_pg(url)?),
    }
}

/// Opens an existing store to read it beside a running gateway (the CLI's tools): a SQLite file
/// read-only, and an error if there is none.
pub fn open_existing(at: &Location) -> Result<Conn, StoreError> {
    match at {
        Location::Sqlite(path) => {
            if !path.is_file() {
                return Err(StoreError::Corrupt(format!(
                    "no store at {}",
                    path.display()
                )));
            }
            Ok(rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?
            .into())
        }
        Location::Postgres(url) => Ok(Conn::connect_pg(url)?),
    }
}

/// Opens a SQLite connection with the settings every Minhu connection uses.
fn connect_sqlite(path: &Path) -> Result<Conn, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    // WAL lets readers run beside the single writer; FULL syncs the WAL on every commit, so a
    // committed ticket survives power loss, not only a process crash.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Reads through mmap: index pages come from the OS page cache without a pread() per miss.
    // The page cache itself stays at SQLite's default: a large one is scanned whole at the end
    // of every write transaction (pcache1Truncate), which cost the writer 6 %.
    conn.pragma_update(None, "mmap_size", 268_435_456)?;
    // When the writer falls back to a savepoint per command, their sub-journals would
    // otherwise be temp files on disk, written page by page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoints stay with SQLite's auto-checkpoint (every 1000 pages) inside the writer's
    // commit: a PASSIVE checkpoint on another thread never catches up with a writer that never
    // pauses, so the WAL would grow without bound (measured: 1.1 GB in 15 s).
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The writer runs well over a hundred distinct statements (intake, updates, notices,
    // ratings, scores); rusqlite's default cache of 16 re-parsed most of them on every
    // completion (measured: 640–770 µs of gateway CPU per completion → 380–440 µs at 256,
    // scripts/bench-notify.sh, BENCHMARKS.md "Notifications").
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn.into())
}

/// Brings the schema up to date.
pub fn migrate(conn: &mut Conn) -> Result<(), StoreError> {
    let dialect = conn.dialect();
    if dialect == Dialect::Postgres {
        // Two gateways starting at once: one migrates, the other waits here, then finds the
        // schema current (the lock is the transaction's, released at its end).
        let tx = conn.transaction()?;
        tx.execute_batch("SELECT pg_advisory_xact_lock(7242600001)")?;
        tx.execute_batch(PG_COMPAT)?;
        tx.commit()?;
    }
    let current = version(conn)?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this Minhu ({}); refusing to touch it",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        match dialect {
            Dialect::Sqlite => {
                tx.execute_batch(sql)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            }
            Dialect::Postgres => {
                tx.execute_batch("SELECT pg_advisory_xact_lock(7242600001)")?;
                // Another gateway may have gone first while this one waited for the lock.
                if version(&tx)? > i {
                    continue;
                }
                tx.execute_batch(&pg_migration(i + 1, sql))?;
                tx.execute_batch(&format!(
                    "DELETE FROM minhu_schema; INSERT INTO minhu_schema VALUES ({})",
                    i + 1
                ))?;
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// The schema version a database is at (0: empty).
pub fn version(conn: &Conn) -> Result<usize, StoreError> {
    let v: i64 = match conn.dialect() {
        Dialect::Sqlite => conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        Dialect::Postgres => conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM minhu_schema",
            [],
            |r| r.get(0),
        )?,
    };
    Ok(usize::try_from(v).unwrap_or(0))
}
