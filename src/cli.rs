//! The command line: `minhu serve`, `minhu check-config`, `minhu routes test FILE`,
//! `minhu ingest mail`, `minhu import hotline`, `minhu tickets explain`, `minhu calendar`,
//! `minhu privacy status`.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Minhu (民呼): the gateway between citizens' channels and city departments.
#[derive(Debug, Parser)]
#[command(name = "minhu", version, about)]
pub struct Cli {
    /// Service config file; the routing file is found from it. Keys can be overridden with
    /// MINHU_<SECTION>__<KEY> environment variables (e.g. MINHU_AMQP__URL).
    #[arg(long, short, global = true, default_value = "config/minhu.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway until SIGINT or SIGTERM, then shut down without losing anything.
    Serve,
    /// Validate the service and routing config (the same checks `serve` makes) and report every
    /// problem with its file and key. Exits non-zero if there is any.
    CheckConfig,
    /// Routing rules tooling.
    Routes {
        #[command(subcommand)]
        command: RoutesCommand,
    },
    /// Feed reports in from other systems on this host.
    Ingest {
        #[command(subcommand)]
        command: IngestCommand,
    },
    /// Caller authentication tooling.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// Bulk imports of legacy exports.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Look into tickets in the configured store (read-only; works while `serve` runs).
    Tickets {
        #[command(subcommand)]
        command: TicketsCommand,
    },
    /// Working-day calendars (holidays and 调休): look at a year, import a notice.
    ///
    /// Reads only the routing file's `calendar_dir`, so it works while the rest of the config
    /// does not validate.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Reporters' contacts at rest: sealing keys and their rotation.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Which keys the store still has contacts sealed with, and whether contacts written in
    /// clear are left: a key may be removed from [privacy] keys once it is no longer listed.
    /// Read-only; works while `serve` runs (which re-seals old rows under the active key).
    Status,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Print a year's holidays and make-up working days (调休), official or provisional.
    ///
    /// Lists them in date order and says where they come from: the year's official file, or,
    /// until its notice is imported, the statutory holidays alone (provisional). Exits 1 for a
    /// year that is neither, or a calendar folder with problems.
    Show {
        /// The year, e.g. 2027.
        year: i64,
    },
    /// Check a holiday-cn JSON notice and turn it into <year>.toml.
    ///
    /// A holiday-cn JSON file has one entry per date of the notice (`isOffDay` false for a
    /// make-up working day). It is checked as the gateway checks a calendar file, and a warning
    /// names each statutory holiday it leaves out. Prints the TOML, or writes it with --write.
    /// Exits 1 on any problem, having written nothing.
    Import(CalendarImportArgs),
}

/// Options of `minhu calendar import`.
#[derive(Debug, Clone, clap::Args)]
pub struct CalendarImportArgs {
    /// The holiday-cn JSON file, e.g. 2027.json.
    pub file: PathBuf,
    /// Write <calendar_dir>/<year>.toml instead of printing it; a running gateway reloads it.
    #[arg(long)]
    pub write: bool,
    /// With --write: replace an existing <year>.toml.
    #[arg(long, requires = "write")]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum TicketsCommand {
    /// Why a ticket is in its case: the open cases it was compared with, each signal's score,
    /// the threshold, and any split since. Exits non-zero for an unknown ticket.
    Explain {
        /// Ticket number, e.g. T20261122000042.
        ticket_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Print the SHA-256 (hex) of a bearer token for `[[auth.callers]] token_sha256`. Reads the
    /// token from the first line of stdin, so it stays out of shell history and `ps`.
    HashToken,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Submit a 12345 call-centre CSV export (UTF-8 or GBK) to the gateway running on this
    /// host, through the source system's field mapping; reports every row, resumes from
    /// FILE.progress. Exit codes: 0 all rows accepted or replayed, 1 could not run or stopped
    /// (rerun to resume), 2 finished with rejected or malformed rows.
    Hotline(crate::intake::channels::hotline12345::import::ImportHotlineArgs),
}

#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Read one e-mail from stdin, as an MTA pipe delivers it, and submit it to the gateway
    /// running on this host. Exit codes (sysexits): 0 accepted or ignored (auto-reply, bounce,
    /// list mail), 65 unusable message (the MTA bounces it), 75 try again later (gateway
    /// unreachable; the MTA keeps the mail queued).
    Mail(crate::intake::channels::mailbox::ingest::IngestMailArgs),
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Run routing test cases (requests and expected decisions) against the configured rules.
    /// Exits non-zero if any case fails.
    Test {
        /// Test file, e.g. config/routing.test.toml.
        file: PathBuf,
    },
    /// Show which rules a request matches and why (each condition's outcome).
    Explain {
        /// The request as proto3 JSON (`minhu.v1.Request`), e.g. {"channel":"CHANNEL_WECHAT",
        /// "description":"..."}.
        file: PathBuf,
        /// When it is accepted, e.g. 2026-11-23T10:00:00+08:00 (default now).
        #[arg(long)]
        at: Option<String>,
    },
}
