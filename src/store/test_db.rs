//! Where the store's tests keep their store, so that one set of tests covers both backends: a
//! SQLite file in the test's folder, or, when `STORE_TESTS_PG_URL` names a PostgreSQL database
//! (`scripts/test.sh` runs the store tests a second time so), a schema of the test's own in it.
//! The schema's name is kept in the test's folder, so every connection of one test meets the
//! same store.

use super::Location;
use crate::config::service::StoreConfig;
use crate::db::Conn;

/// The environment variable that turns the store tests to PostgreSQL.
pub const PG_URL: &str = "STORE_TESTS_PG_URL";

/// Whether the tests run on PostgreSQL.
pub fn is_pg() -> bool {
    std::env::var_os(PG_URL).is_some_and(|v| !v.is_empty())
}

/// The store of the test working in `dir`.
pub fn location(dir: &tempfile::TempDir) -> Location {
    let dir = dir.path();
    let Some(base) = std::env::var(PG_URL).ok().filter(|v| !v.is_empty()) else {
        return Location::Sqlite(dir.join("minhu.db"));
    };
    let marker = dir.join("pg-schema");
    let schema = match std::fs::read_to_string(&marker) {
        Ok(s) => s,
        Err(_) => {
            let schema = format!("t{:016x}", rand::random::<u64>());
            Conn::connect_pg(&base)
                .expect("connect to STORE_TESTS_PG_URL")
                .execute_batch(&format!("CREATE SCHEMA {schema}"))
                .expect("create the test's schema");
            std::fs::write(&marker, &schema).expect("remember the test's schema");
            schema
        }
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    Location::Postgres(format!("{base}{sep}options=-csearch_path%3D{schema}"))
}

/// The test's store settings: the defaults, at [`location`].
pub fn config(dir: &tempfile::TempDir) -> StoreConfig {
    let mut cfg = StoreConfig::default();
    match location(dir) {
        Location::Sqlite(p) => cfg.path = p,
        Location::Postgres(url) => cfg.url = Some(url),
    }
    cfg
}

/// A connection of the test's own to its store, beside the store's (to look at rows or to
/// change them behind its back). The store must have been opened first (it creates the tables).
pub fn side(dir: &tempfile::TempDir) -> Conn {
    super::schema::connect(&location(dir)).expect("connect to the test's store")
}
