//! Prepared statements and the rows they return, over either engine.
use futures::executor::block_on;

use super::pg::{self, PgConn};
use super::{Error, FromSql, Params, Result, ValueRef};

/// A prepared statement (cached by its connection).
pub struct Statement<'c> {
    inner: Inner<'c>,
}

enum Inner<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Pg(&'c PgConn, tokio_postgres::Statement),
}

/// A parameter on its way to SQLite.
struct SqliteParam<'a>(ValueRef<'a>);

impl rusqlite::ToSql for SqliteParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef as V;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => V::Null,
            ValueRef::Integer(i) => V::Integer(i),
            ValueRef::Real(f) => V::Real(f),
            ValueRef::Text(s) => V::Text(s.as_bytes()),
            ValueRef::Blob(b) => V::Blob(b),
        }))
    }
}

impl<'c> Statement<'c> {
    pub(super) fn sqlite(s: rusqlite::CachedStatement<'c>) -> Self {
        Statement {
            inner: Inner::Sqlite(s),
        }
    }

    pub(super) fn pg(c: &'c PgConn, s: tokio_postgres::Statement) -> Self {
        Statement {
            inner: Inner::Pg(c, s),
        }
    }

    /// Runs it; the number of rows changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values()?;
        match &mut self.inner {
            Inner::Sqlite(s) => Ok(s.execute(sqlite_params(&values))?),
            Inner::Pg(c, s) => {
                let params = pg_params(&values);
                let n = block_on(c.client().execute(&*s, &params.refs()))?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// The first row, read by `f`; [`Error::QueryReturnedNoRows`] when there is none.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(Error::QueryReturnedNoRows),
        }
    }

    /// Every row, each read by `f`.
    pub fn query_map<T, P, F>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(f(&row));
        }
        Ok(out.into_iter())
    }

    /// Whether it returns any row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }

    /// The rows, one at a time ([`Rows::next`]).
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values()?;
        Ok(Rows {
            inner: match &mut self.inner {
                Inner::Sqlite(s) => RowsInner::Sqlite(s.query(sqlite_params(&values))?),
                Inner::Pg(c, s) => {
                    let params = pg_params(&values);
                    RowsInner::Pg(
                        block_on(c.client().query(&*s, &params.refs()))?.into_iter(),
                        None,
                    )
                }
            },
        })
    }
}

fn sqlite_params<'a>(
    values: &'a [ValueRef<'a>],
) -> rusqlite::ParamsFromIter<impl Iterator<Item = SqliteParam<'a>>> {
    rusqlite::params_from_iter(values.iter().map(|v| SqliteParam(*v)))
}

/// Parameters for the PostgreSQL client, which wants them as trait objects.
struct PgParams<'a>(Vec<pg::Param<'a>>);

fn pg_params<'a>(values: &[ValueRef<'a>]) -> PgParams<'a> {
    PgParams(values.iter().map(|v| pg::Param(*v)).collect())
}

impl PgParams<'_> {
    fn refs(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect()
    }
}

/// The rows of a query, read one at a time.
pub struct Rows<'s> {
    inner: RowsInner<'s>,
}

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    /// PostgreSQL's rows come all at once; the one last handed out is kept here.
    Pg(
        std::vec::IntoIter<tokio_postgres::Row>,
        Option<tokio_postgres::Row>,
    ),
}

impl Rows<'_> {
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.inner {
            RowsInner::Sqlite(rows) => Ok(rows.next()?.map(|r| Row {
                inner: RowInner::Sqlite(r),
            })),
            RowsInner::Pg(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(|r| Row {
                    inner: RowInner::Pg(r),
                }))
            }
        }
    }
}

/// One row of a result.
pub struct Row<'r> {
    inner: RowInner<'r>,
}

enum RowInner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Pg(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `idx` read as `T`.
    pub fn get<T: FromSql>(&self, idx: usize) -> Result<T> {
        T::column_result(self.get_ref(idx)?).map_err(|e| Error::FromSql(idx, e))
    }

    /// Column `idx` as it is stored.
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        match &self.inner {
            RowInner::Sqlite(r) => {
                use rusqlite::types::ValueRef as V;
                Ok(match r.get_ref(idx)? {
                    V::Null => ValueRef::Null,
                    V::Integer(i) => ValueRef::Integer(i),
                    V::Real(f) => ValueRef::Real(f),
                    V::Text(t) => ValueRef::Text(
                        std::str::from_utf8(t).map_err(|e| Error::Column(idx, e.to_string()))?,
                    ),
                    V::Blob(b) => ValueRef::Blob(b),
                })
            }
            RowInner::Pg(r) => pg::column(r, idx),
        }
    }
}
