//! Where a store lives: a SQLite file or a PostgreSQL database, and how it is named in logs.

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database (`postgres://…`).
    Postgres(String),
}

impl std::fmt::Display for Location {
    /// The file, or the URL without its password (this goes to logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => match url.parse::<tokio_postgres::Config>() {
                Ok(c) => {
                    let hosts: Vec<String> = c
                        .get_hosts()
                        .iter()
                        .zip(c.get_ports().iter().chain(std::iter::repeat(&5432)))
                        .map(|(h, p)| match h {
                            tokio_postgres::config::Host::Tcp(h) => format!("{h}:{p}"),
                            tokio_postgres::config::Host::Unix(d) => format!("{}:{p}", d.display()),
                        })
                        .collect();
                    write!(
                        f,
                        "postgres://{}/{}",
                        hosts.join(","),
                        c.get_dbname().unwrap_or("")
                    )
                }
                Err(_) => f.write_str("postgres://(unreadable URL)"),
            },
        }
    }
}
