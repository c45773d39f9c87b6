//! Values crossing the store's SQL boundary, the same on both backends: what a parameter binds
//! as ([`ToSql`]) and what a column reads into ([`FromSql`]). SQLite's five storage classes are
//! the common ground; the PostgreSQL side converts to and from the column's declared type
//! (`pg`), so the store's code binds an `i64` or a `bool` the same way on either.
use super::Error;

/// One SQL value, borrowed from the parameter or the row it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The bytes of a BLOB.
    pub fn as_blob(&self) -> Result<&'a [u8], FromSqlError> {
        match *self {
            ValueRef::Blob(b) => Ok(b),
            _ => Err(FromSqlError::InvalidType(self.kind())),
        }
    }

    /// The text of a TEXT.
    pub fn as_str(&self) -> Result<&'a str, FromSqlError> {
        match *self {
            ValueRef::Text(s) => Ok(s),
            _ => Err(FromSqlError::InvalidType(self.kind())),
        }
    }

    /// The storage class's name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "INTEGER",
            ValueRef::Real(_) => "REAL",
            ValueRef::Text(_) => "TEXT",
            ValueRef::Blob(_) => "BLOB",
        }
    }
}

/// Why a column could not be read as the Rust type asked for.
#[derive(Debug, thiserror::Error)]
pub enum FromSqlError {
    #[error("unexpected {0} value")]
    InvalidType(&'static str),
    #[error("value {0} out of range")]
    OutOfRange(i64),
}

/// A Rust value that binds as a statement parameter.
pub trait ToSql {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error>;
}

/// A Rust value a column reads into.
pub trait FromSql: Sized {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError>;
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
                i64::try_from(*self)
                    .map(ValueRef::Integer)
                    .map_err(|_| Error::ToSql(format!("{} does not fit a 64-bit integer", self)))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
                match value {
                    ValueRef::Integer(i) => <$t>::try_from(i).map_err(|_| FromSqlError::OutOfRange(i)),
                    other => Err(FromSqlError::InvalidType(other.kind())),
                }
            }
        }
    )*};
}
integers!(i8, i16, i32, i64, u8, u16, u32, u64, usize);

impl ToSql for bool {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Integer(i64::from(*self)))
    }
}
impl FromSql for bool {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Integer(i) => Ok(i != 0),
            other => Err(FromSqlError::InvalidType(other.kind())),
        }
    }
}

impl ToSql for f64 {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Real(*self))
    }
}
impl FromSql for f64 {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Real(f) => Ok(f),
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(FromSqlError::InvalidType(other.kind())),
        }
    }
}

impl ToSql for str {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Text(self))
    }
}
impl ToSql for String {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Text(self))
    }
}
impl FromSql for String {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        value.as_str().map(str::to_owned)
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Blob(self))
    }
}
impl ToSql for Vec<u8> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Blob(self))
    }
}
impl<const N: usize> ToSql for [u8; N] {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Blob(self))
    }
}
impl FromSql for Vec<u8> {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        value.as_blob().map(<[u8]>::to_vec)
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        match self {
            Some(v) => v.to_sql(),
            None => Ok(ValueRef::Null),
        }
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Null => Ok(None),
            v => T::column_result(v).map(Some),
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        (**self).to_sql()
    }
}
impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        (**self).to_sql()
    }
}
impl ToSql for std::borrow::Cow<'_, str> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Text(self))
    }
}
impl ToSql for std::sync::Arc<str> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Text(self))
    }
}

/// Statement parameters: `[]`, or the slice [`params!`](super::params) makes.
pub trait Params {
    fn values(&self) -> Result<Vec<ValueRef<'_>>, Error>;
}

impl<const N: usize> Params for [&dyn ToSql; N] {
    fn values(&self) -> Result<Vec<ValueRef<'_>>, Error> {
        self.iter().map(|p| p.to_sql()).collect()
    }
}
impl Params for &[&dyn ToSql] {
    fn values(&self) -> Result<Vec<ValueRef<'_>>, Error> {
        self.iter().map(|p| p.to_sql()).collect()
    }
}
impl<T: ToSql> Params for Vec<T> {
    fn values(&self) -> Result<Vec<ValueRef<'_>>, Error> {
        self.iter().map(ToSql::to_sql).collect()
    }
}
