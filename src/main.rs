//! The `minhu` binary: parses the command line and hands over to the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use minhu::cli::{
    AuthCommand, Cli, Command, ImportCommand, IngestCommand, PrivacyCommand, RoutesCommand,
    TicketsCommand,
};
use minhu::router::calendar;
use minhu::router::cases;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("minhu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // An MTA acts on sysexits codes, config errors included (75 keeps the mail queued), so
    // `ingest` loads the config itself.
    if let Command::Ingest {
        command: IngestCommand::Mail(args),
    } = &cli.command
    {
        return Ok(ingest_mail(&cli.config, args));
    }
    // `import` loads the config itself too, and reports per row.
    if let Command::Import {
        command: ImportCommand::Hotline(args),
    } = &cli.command
    {
        let code = minhu::intake::channels::hotline12345::import::run(&cli.config, args);
        return Ok(ExitCode::from(code));
    }
    // The calendar tools read only the way to the calendar folder: operators use them to
    // repair a calendar that keeps the config from loading.
    if let Command::Calendar { command } = &cli.command {
        return Ok(calendar::cli::run(&cli.config, command));
    }
    // Hashing a token needs no config.
    if let Command::Auth {
        command: AuthCommand::HashToken,
    } = &cli.command
    {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the token from stdin")?;
        let token = line.trim_end_matches(['\r', '\n']);
        if token.is_empty() {
            eprintln!("minhu: no token on stdin");
            return Ok(ExitCode::FAILURE);
        }
        println!("{}", minhu_adapter_emergency::auth::token_sha256_hex(token));
        return Ok(ExitCode::SUCCESS);
    }
    // Every command goes through the same loading and validation.
    let loaded = match minhu::config::load(&cli.config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    // Years without an official calendar are warnings, never refusals; `serve` logs them.
    if !matches!(cli.command, Command::Serve) {
        for p in loaded.router.provisional_years(minhu::time::now_ms()) {
            eprintln!("warning: {p}");
        }
    }
    match cli.command {
        Command::CheckConfig => {
            // Allowed, but an operator should know (contacts in clear, kept for ever).
            for w in loaded.service.privacy.warnings() {
                eprintln!("warning: {w}");
            }
            println!(
                "ok: {} and {} ({} departments, routing version {})",
                loaded.service_file.display(),
                loaded.routing_file.display(),
                loaded.router.departments().len(),
                loaded.router.version()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Routes {
            command: RoutesCommand::Test { file },
        } => {
            let cases = cases::read(&file).map_err(anyhow::Error::msg)?;
            let outcomes = cases::run(&loaded.router, &cases);
            print!("{}", cases::report(&outcomes));
            Ok(if outcomes.iter().all(|o| o.mismatches.is_empty()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Routes {
            command: RoutesCommand::Explain { file, at },
        } => Ok(minhu::router::explain::run(
            &loaded.router,
            &file,
            at.as_deref(),
        )),
        Command::Ingest {
            command: IngestCommand::Mail(args),
        } => Ok(ingest_mail(&cli.config, &args)),
        Command::Auth { .. } => Ok(ExitCode::SUCCESS),
        Command::Calendar { command } => Ok(calendar::cli::run(&cli.config, &command)),
        Command::Import {
            command: ImportCommand::Hotline(args),
        } => Ok(ExitCode::from(
            minhu::intake::channels::hotline12345::import::run(&cli.config, &args),
        )),
        Command::Tickets {
            command: TicketsCommand::Explain { ticket_id },
        } => match minhu::merge::explain::explain(&loaded.service.store.location(), &ticket_id)? {
            Some(text) => {
                print!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("minhu: ticket {ticket_id} not found");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Privacy {
            command: PrivacyCommand::Status,
        } => privacy_status(&loaded.service),
        Command::Serve => {
            minhu::telemetry::logging::init(&loaded.service.log);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(minhu::server::serve(loaded, minhu::server::signal()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `minhu privacy status`: the keys the store needs against the keys configured.
fn privacy_status(cfg: &minhu::config::service::ServiceConfig) -> anyhow::Result<ExitCode> {
    let state = minhu::store::seal_state_at(&cfg.store.location())?;
    let ring = cfg.privacy.keyring().ok().flatten();
    let configured: Vec<&str> = ring.iter().flat_map(|r| r.ids()).collect();
    println!("store: {}", cfg.store.location());
    match &ring {
        Some(r) => println!(
            "configured keys: {} (active {})",
            configured.join(", "),
            r.active_id()
        ),
        None => println!("configured keys: none (new contacts are stored in clear)"),
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    println!(
        "keys with sealed contacts in the store: {}",
        list(&state.keys)
    );
    println!(
        "contacts in clear may be left: {}",
        if state.clear { "yes" } else { "no" }
    );
    let missing: Vec<String> = state
        .keys
        .iter()
        .filter(|k| !configured.contains(&k.as_str()))
        .cloned()
        .collect();
    let active = ring.as_ref().map(|r| r.active_id());
    let removable: Vec<String> = configured
        .iter()
        .filter(|k| Some(**k) != active && !state.keys.iter().any(|s| s == *k))
        .map(|k| (*k).to_owned())
        .collect();
    if !missing.is_empty() {
        println!(
            "MISSING: configure {} again, or the gateway will not start",
            list(&missing)
        );
        return Ok(ExitCode::FAILURE);
    }
    if !removable.is_empty() {
        println!("no longer needed, may be removed: {}", list(&removable));
    }
    Ok(ExitCode::SUCCESS)
}

fn ingest_mail(
    config: &std::path::Path,
    args: &minhu::intake::channels::mailbox::ingest::IngestMailArgs,
) -> ExitCode {
    ExitCode::from(minhu::intake::channels::mailbox::ingest::run(config, args))
}
