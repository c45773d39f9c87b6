//! The command line: `minhu serve`, `minhu check-config`, `minhu routes test FILE`.
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
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Run routing test cases (requests and expected decisions) against the configured rules.
    /// Exits non-zero if any case fails.
    Test {
        /// Test file, e.g. config/routing.test.toml.
        file: PathBuf,
    },
}
