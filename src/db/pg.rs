//! The PostgreSQL side of [`super::Conn`]: a `tokio-postgres` client whose connection (the
//! socket's I/O) runs on a thread of its own, waited on by the store's blocking code; its
//! statement cache; and how [`ValueRef`]s travel to and from columns of PostgreSQL's strict
//! types.
//!
//! The store's SQL runs on its writer thread and in blocking tasks, so calls wait with
//! `futures::executor::block_on`. That works from any thread (a test's async body included),
//! where a runtime's own `block_on` would refuse to run inside another runtime.
//!
//! A parameter is sent as the type PostgreSQL inferred for it (`$1` compared with a `BIGINT`
//! column is sent as an `INT8`; used as a `BOOLEAN` it is sent as one), so the store binds the
//! same Rust values on both engines. Columns read back into SQLite's storage classes: integers,
//! booleans and whole `NUMERIC`s (what `SUM` of a `BIGINT` gives) as `Integer`.
use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use futures::executor::block_on;
use tokio_postgres::types::{FromSql as PgFromSql, IsNull, ToSql as PgToSql, Type, to_sql_checked};

use super::{Error, ValueRef, translate};

type BoxError = Box<dyn StdError + Sync + Send>;

/// Statements cached per connection; past this many the cache starts afresh (statements built
/// with a variable number of parameters would otherwise pile up).
const CACHE: usize = 512;

/// One PostgreSQL session.
pub struct PgConn {
    client: tokio_postgres::Client,
    cache: RefCell<HashMap<String, tokio_postgres::Statement>>,
}

impl PgConn {
    /// Connects, and leaves the connection's I/O running on a thread that ends when the client
    /// is dropped.
    pub fn connect(url: &str) -> Result<Self, Error> {
        let config: tokio_postgres::Config = url.parse()?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("minhu-pg-io".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(Error::Io(e.to_string())));
                        return;
                    }
                };
                rt.block_on(async move {
                    match config.connect(tokio_postgres::NoTls).await {
                        Ok((client, connection)) => {
                            let _ = tx.send(Ok(client));
                            if let Err(e) = connection.await {
                                tracing::warn!(error = %e, "PostgreSQL connection ended");
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.into()));
                        }
                    }
                });
            })
            .map_err(|e| Error::Io(e.to_string()))?;
        let client = rx
            .recv()
            .map_err(|_| Error::Io("the connection thread ended".into()))??;
        Ok(Self {
            client,
            cache: RefCell::default(),
        })
    }

    pub fn client(&self) -> &tokio_postgres::Client {
        &self.client
    }

    /// The prepared statement for `sql` (written for SQLite; see `translate`).
    pub fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement, Error> {
        if let Some(s) = self.cache.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.prepare_once(sql)?;
        let mut cache = self.cache.borrow_mut();
        if cache.len() >= CACHE {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// A statement prepared without keeping it.
    pub fn prepare_once(&self, sql: &str) -> Result<tokio_postgres::Statement, Error> {
        let text = translate::placeholders(sql);
        block_on(self.client.prepare(&text)).map_err(|source| Error::PgPrepare {
            sql: text.split_whitespace().collect::<Vec<_>>().join(" "),
            source,
        })
    }

    pub fn batch(&self, sql: &str) -> Result<(), Error> {
        Ok(block_on(self.client.batch_execute(sql))?)
    }
}

/// A parameter on its way to PostgreSQL.
#[derive(Debug)]
pub struct Param<'a>(pub ValueRef<'a>);

impl PgToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                Type::FLOAT4 => (i as f32).to_sql(ty, out),
                Type::NUMERIC => {
                    numeric_from_i64(i, out);
                    Ok(IsNull::No)
                }
                _ if is_text(ty) => i.to_string().as_str().to_sql(ty, out),
                _ => Err(mismatch("an integer", ty)),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (f as f32).to_sql(ty, out),
                _ if is_text(ty) => f.to_string().as_str().to_sql(ty, out),
                _ => Err(mismatch("a real", ty)),
            },
            ValueRef::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSON => {
                    out.put_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                _ if is_text(ty) => s.to_sql(ty, out),
                _ => Err(mismatch("a text", ty)),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(mismatch("a blob", ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

fn mismatch(what: &str, ty: &Type) -> BoxError {
    format!("{what} parameter cannot be sent as {ty}").into()
}

/// Column `idx` of `row` as one of SQLite's storage classes.
pub fn column(row: &tokio_postgres::Row, idx: usize) -> Result<ValueRef<'_>, Error> {
    let ty = row
        .columns()
        .get(idx)
        .ok_or(Error::NoColumn(idx))?
        .type_()
        .clone();
    let get_err = |e: tokio_postgres::Error| Error::Column(idx, e.to_string());
    Ok(match ty {
        Type::INT8 => opt(
            row.try_get::<_, Option<i64>>(idx).map_err(get_err)?,
            ValueRef::Integer,
        ),
        Type::INT4 => opt(row.try_get::<_, Option<i32>>(idx).map_err(get_err)?, |v| {
            ValueRef::Integer(v.into())
        }),
        Type::INT2 => opt(row.try_get::<_, Option<i16>>(idx).map_err(get_err)?, |v| {
            ValueRef::Integer(v.into())
        }),
        Type::BOOL => opt(row.try_get::<_, Option<bool>>(idx).map_err(get_err)?, |v| {
            ValueRef::Integer(v.into())
        }),
        Type::FLOAT8 => opt(
            row.try_get::<_, Option<f64>>(idx).map_err(get_err)?,
            ValueRef::Real,
        ),
        Type::FLOAT4 => opt(row.try_get::<_, Option<f32>>(idx).map_err(get_err)?, |v| {
            ValueRef::Real(v.into())
        }),
        Type::NUMERIC => match row.try_get::<_, Option<Numeric>>(idx).map_err(get_err)? {
            None => ValueRef::Null,
            Some(Numeric::Whole(i)) => ValueRef::Integer(i),
            Some(Numeric::Fraction(f)) => ValueRef::Real(f),
        },
        Type::BYTEA => opt(
            row.try_get::<_, Option<&[u8]>>(idx).map_err(get_err)?,
            ValueRef::Blob,
        ),
        Type::JSON | Type::JSONB => opt(
            row.try_get::<_, Option<JsonText<'_>>>(idx)
                .map_err(get_err)?,
            |j| ValueRef::Text(j.0),
        ),
        ref t if is_text(t) => opt(
            row.try_get::<_, Option<&str>>(idx).map_err(get_err)?,
            ValueRef::Text,
        ),
        other => {
            return Err(Error::Column(
                idx,
                format!("unsupported column type {other}"),
            ));
        }
    })
}

fn opt<'a, T>(v: Option<T>, f: impl FnOnce(T) -> ValueRef<'a>) -> ValueRef<'a> {
    v.map_or(ValueRef::Null, f)
}

/// A `NUMERIC` read back: whole numbers (what `SUM` over integers gives) stay exact.
enum Numeric {
    Whole(i64),
    Fraction(f64),
}

impl<'a> PgFromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let word = |i: usize| -> Result<u16, BoxError> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "short NUMERIC".into())
        };
        let ndigits = word(0)? as usize;
        let weight = word(1)? as i16 as i32;
        let sign = word(2)?;
        let dscale = word(3)?;
        if sign == 0xC000 {
            return Ok(Numeric::Fraction(f64::NAN));
        }
        let negative = sign == 0x4000;
        let mut whole: i128 = 0;
        let mut real = 0f64;
        for i in 0..ndigits {
            let d = word(4 + i)?;
            let power = weight - i as i32;
            real += f64::from(d) * 10000f64.powi(power);
            if power >= 0 {
                whole = 10000i128
                    .checked_pow(power as u32)
                    .and_then(|p| whole.checked_add(i128::from(d) * p))
                    .ok_or("NUMERIC too large")?;
            }
        }
        if negative {
            whole = -whole;
            real = -real;
        }
        if dscale == 0 {
            Ok(Numeric::Whole(i64::try_from(whole)?))
        } else {
            Ok(Numeric::Fraction(real))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// An integer as a binary `NUMERIC` (base-10000 digits, most significant first).
fn numeric_from_i64(i: i64, out: &mut BytesMut) {
    let mut n = i.unsigned_abs();
    let mut digits = Vec::new();
    while n > 0 {
        digits.push((n % 10000) as u16);
        n /= 10000;
    }
    digits.reverse();
    let weight = digits.len() as i16 - 1;
    out.put_u16(digits.len() as u16);
    out.put_i16(weight.max(0));
    out.put_u16(if i < 0 { 0x4000 } else { 0 });
    out.put_u16(0);
    for d in digits {
        out.put_u16(d);
    }
}

/// A `JSON` or `JSONB` column's text.
struct JsonText<'a>(&'a str);

impl<'a> PgFromSql<'a> for JsonText<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let text = if *ty == Type::JSONB {
            raw.strip_prefix(&[1u8]).ok_or("unknown JSONB version")?
        } else {
            raw
        };
        Ok(JsonText(std::str::from_utf8(text)?))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}
