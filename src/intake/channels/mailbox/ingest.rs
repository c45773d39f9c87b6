//! `minhu ingest mail`: one e-mail on stdin, as an MTA's pipe delivers it (Postfix `pipe(8)` or
//! an alias `|minhu ingest mail`), submitted over gRPC to the gateway running on this host (the
//! config's `[grpc] listen`, or `--grpc`). Attachments are stored in the content-addressed store
//! first, so the ticket never names a missing file.
//!
//! Exit codes follow sendmail's `sysexits.h`, which MTAs act on:
//! - 0: accepted (or a replay of a mail already accepted), or ignored (auto-reply, bounce,
//!   list mail: no ticket, and no bounce either);
//! - 65 `EX_DATAERR`: not a usable e-mail (not a message, broken MIME, no text, too large, or
//!   refused as invalid by the gateway) — the MTA bounces it with the message printed here;
//! - 75 `EX_TEMPFAIL`: the gateway is unreachable, shutting down or full, the config cannot be
//!   read, the channel is disabled, or attachments cannot be stored — the MTA keeps the mail
//!   queued and retries (the retry is an idempotent replay if the first attempt got through).
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use minhu_adapter_mailbox::IgnoreReason;

use super::{Prepared, prepare, record_ignored};
use crate::pb;
use crate::pb::gateway_client::GatewayClient;

/// Success (or ignored).
pub const EX_OK: u8 = 0;
/// The input data was incorrect: the MTA bounces the mail.
pub const EX_DATAERR: u8 = 65;
/// Temporary failure: the MTA retries later.
pub const EX_TEMPFAIL: u8 = 75;

/// Options of `minhu ingest mail`.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestMailArgs {
    /// gRPC address of the gateway, e.g. http://127.0.0.1:50051. Default: the config's
    /// [grpc] listen address (127.0.0.1 when it listens on all interfaces).
    #[arg(long)]
    pub grpc: Option<String>,
    /// Seconds to wait for the gateway to connect and to answer.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
    /// File whose first line is this host's bearer token, for a gateway with [auth] on.
    #[arg(long)]
    pub token_file: Option<std::path::PathBuf>,
}

/// Runs the command; returns the exit code. Messages go to stderr (the MTA puts them in the
/// bounce or its log), the outcome to stdout.
pub fn run(config: &Path, args: &IngestMailArgs) -> u8 {
    let loaded = match crate::config::load(config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("minhu ingest mail: config: {e}");
            return EX_TEMPFAIL;
        }
    };
    let cfg = &loaded.service.adapters.mailbox;
    if !cfg.enabled {
        eprintln!("minhu ingest mail: [adapters.mailbox] enabled is false; mail stays queued");
        return EX_TEMPFAIL;
    }
    let limit = cfg.max_message_bytes;
    let mut raw = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(limit as u64 + 1)
        .read_to_end(&mut raw);
    if let Err(e) = read {
        eprintln!("minhu ingest mail: cannot read the message from stdin: {e}");
        return EX_TEMPFAIL;
    }
    if raw.len() > limit {
        eprintln!("minhu ingest mail: message larger than {limit} bytes (max_message_bytes)");
        return EX_DATAERR;
    }
    let request = match prepare(&raw, &cfg.options(), &cfg.attachments_dir) {
        Prepared::Ticket(r, _) => *r,
        Prepared::Ignored(i) => {
            record_ignored(&i);
            println!("ignored: {} ({})", reason_text(i.reason), i.detail);
            return EX_OK;
        }
        Prepared::Refused(e) => {
            eprintln!("minhu ingest mail: {e}");
            return EX_DATAERR;
        }
        Prepared::StoreFailed(e) => {
            eprintln!(
                "minhu ingest mail: cannot store attachments in {}: {e}",
                cfg.attachments_dir.display()
            );
            return EX_TEMPFAIL;
        }
    };
    let url = args.grpc.clone().unwrap_or_else(|| {
        let mut addr = loaded.service.grpc.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    });
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let bearer = match crate::protect::auth::Bearer::from_file(args.token_file.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("minhu ingest mail: {e}");
            return EX_TEMPFAIL;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("minhu ingest mail: cannot start the async runtime: {e}");
            return EX_TEMPFAIL;
        }
    };
    match runtime.block_on(submit(&url, timeout, bearer, request)) {
        Ok(r) => {
            let disposition = pb::Disposition::try_from(r.disposition)
                .map_or("DISPOSITION_UNSPECIFIED", |d| d.as_str_name());
            println!(
                "accepted: ticket {} case {} department {} ({disposition})",
                r.ticket_id, r.case_id, r.department_id
            );
            EX_OK
        }
        Err(SubmitError::Connect(e)) => {
            eprintln!("minhu ingest mail: gateway at {url} unreachable ({e}); try again later");
            EX_TEMPFAIL
        }
        Err(SubmitError::Status(s)) => {
            eprintln!("minhu ingest mail: gateway refused: {}", s.message());
            match s.code() {
                tonic::Code::InvalidArgument
                | tonic::Code::FailedPrecondition
                | tonic::Code::OutOfRange => EX_DATAERR,
                _ => EX_TEMPFAIL,
            }
        }
    }
}

fn reason_text(r: IgnoreReason) -> &'static str {
    match r {
        IgnoreReason::DeliveryReport => "delivery or read report",
        IgnoreReason::MailerDaemon => "bounce from a mailer daemon",
        IgnoreReason::AutoSubmitted => "auto-reply",
        IgnoreReason::Precedence => "bulk mail",
        IgnoreReason::MailingList => "mailing-list mail",
    }
}

enum SubmitError {
    Connect(String),
    Status(tonic::Status),
}

async fn submit(
    url: &str,
    timeout: Duration,
    bearer: crate::protect::auth::Bearer,
    request: pb::Request,
) -> Result<pb::SubmitResponse, SubmitError> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| SubmitError::Connect(e.to_string()))?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect()
        .await
        .map_err(|e| SubmitError::Connect(e.to_string()))?;
    GatewayClient::with_interceptor(channel, bearer)
        .submit(pb::SubmitRequest {
            request: Some(request),
        })
        .await
        .map(tonic::Response::into_inner)
        .map_err(SubmitError::Status)
}
