//! The one door to the database, SQLite or PostgreSQL (`[store] url`). The store and the outbox
//! write their SQL once, in the SQL both engines understand, with SQLite's `?1` parameters, and
//! call it through the handful of methods here (shaped like `rusqlite`'s, which the store was first written on):
//! [`Conn::prepare_cached`], [`Statement::query_row`], [`Statement::query_map`],
//! [`Statement::execute`], [`Tx`] and [`params!`].
//!
//! - `value`: the values that cross (SQLite's storage classes) and how Rust types bind and read.
//! - `translate`: a statement's and a migration's text for PostgreSQL.
//! - `pg`: the PostgreSQL client and its type conversions.
//!
//! Where the two engines cannot share text (the JSON functions), PostgreSQL is given SQLite's
//! functions under their names by the schema (`store::schema`'s `PG_COMPAT`), so statements stay single.
mod pg;
mod statement;
mod translate;
mod value;

pub use statement::{Row, Statement};
pub use translate::ddl as pg_ddl;
pub use value::{FromSql, FromSqlError, Params, ToSql, ValueRef};

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgresql: {0}")]
    Pg(#[from] tokio_postgres::Error),
    /// A statement PostgreSQL would not prepare, with its text (a dialect slip is found at once).
    #[error("postgresql: {source} (in: {sql})")]
    PgPrepare {
        sql: String,
        source: tokio_postgres::Error,
    },
    /// A PostgreSQL connection's thread could not start or ended.
    #[error("postgresql connection: {0}")]
    Io(String),
    /// `query_row` found nothing.
    #[error("query returned no rows")]
    QueryReturnedNoRows,
    /// A column could not be read as the type asked for.
    #[error("column {0}: {1}")]
    FromSql(usize, FromSqlError),
    #[error("column {0}: {1}")]
    Column(usize, String),
    #[error("no column {0}")]
    NoColumn(usize),
    /// A Rust value that has no SQL counterpart (an unsigned number past `i64::MAX`).
    #[error("parameter: {0}")]
    ToSql(String),
    /// The store's own reading of a value failed (sealed data that would not open, say).
    #[error("column {0}: {1}")]
    Conversion(usize, String),
}

impl Error {
    /// Whether this is a uniqueness violation (another writer inserted the same key first).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Error::Pg(e) => e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Statement parameters, as `rusqlite::params!`: `params![a, b]`.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToSql]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::db::ToSql),+] as &[&dyn $crate::db::ToSql]
    };
}
pub(crate) use params;

/// `query_row`'s "no row" as `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One database connection.
pub struct Conn {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Pg(pg::PgConn),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({:?})", self.dialect())
    }
}

impl From<rusqlite::Connection> for Conn {
    fn from(c: rusqlite::Connection) -> Self {
        Conn {
            inner: Inner::Sqlite(c),
        }
    }
}

impl Conn {
    /// A PostgreSQL connection (`postgres://…`, multi-host with `target_session_attrs` too).
    pub fn connect_pg(url: &str) -> Result<Self> {
        Ok(Conn {
            inner: Inner::Pg(pg::PgConn::connect(url)?),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Pg(_) => Dialect::Postgres,
        }
    }

    /// Whether the connection is gone for good (PostgreSQL's server closed it: a restart or a
    /// failover); a new one must be made.
    pub fn is_broken(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(_) => false,
            Inner::Pg(c) => c.client().is_closed(),
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, checkpoints).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Pg(_) => None,
        }
    }

    /// A statement prepared for one use (text built at run time, which caching would only pile
    /// up).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(match &self.inner {
            Inner::Sqlite(c) => Statement::sqlite(c.prepare_cached(sql)?),
            Inner::Pg(c) => Statement::pg(c, c.prepare_once(sql)?),
        })
    }

    /// A statement, prepared once per connection and kept.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(match &self.inner {
            Inner::Sqlite(c) => Statement::sqlite(c.prepare_cached(sql)?),
            Inner::Pg(c) => Statement::pg(c, c.prepare(sql)?),
        })
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Statements with no parameters, separated by `;` (migrations).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Pg(c) => c.batch(sql),
        }
    }

    /// Begins a transaction (SQLite's `DEFERRED`: it takes the write lock at its first write).
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        self.begin("BEGIN")
    }

    /// Begins a transaction that takes the write lock at once (SQLite's `IMMEDIATE`: the writer
    /// waits here for another process rather than failing at its first write).
    pub fn transaction_immediate(&mut self) -> Result<Tx<'_>> {
        self.begin(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })
    }

    /// A read-only transaction on a shared borrow whose reads all see one moment (SQLite's
    /// deferred transaction; PostgreSQL's `REPEATABLE READ`, as its default would let each
    /// statement see newer commits).
    pub fn read_snapshot(&self) -> Result<Tx<'_>> {
        self.begin(match self.dialect() {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })
    }

    fn begin(&self, sql: &str) -> Result<Tx<'_>> {
        self.execute_batch(sql)?;
        Ok(Tx {
            conn: self,
            done: false,
            savepoints: 0,
        })
    }
}

/// An open transaction: rolled back when dropped without [`Tx::commit`].
pub struct Tx<'c> {
    conn: &'c Conn,
    done: bool,
    savepoints: usize,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl<'c> Tx<'c> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")
    }

    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK")
    }

    /// A savepoint: its writes are undone when it is dropped without [`Savepoint::commit`].
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        self.savepoints += 1;
        let name = format!("sp{}", self.savepoints);
        self.conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        Ok(Savepoint {
            conn: self.conn,
            name,
            done: false,
        })
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A savepoint inside a [`Tx`].
pub struct Savepoint<'c> {
    conn: &'c Conn,
    name: String,
    done: bool,
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Savepoint<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch(&format!("RELEASE {}", self.name))
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self
                .conn
                .execute_batch(&format!("ROLLBACK TO {0}; RELEASE {0}", self.name));
        }
    }
}
