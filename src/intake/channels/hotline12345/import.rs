//! `minhu import hotline --source <system> FILE.csv`: a call-centre's legacy CSV export (UTF-8,
//! with or without BOM, or GBK) through the source's mapping, submitted over gRPC
//! (`SubmitStream`, one answer per row, in order) to the gateway running at the config's
//! `[grpc] listen` address (or `--grpc`).
//!
//! Every row is reported on stdout by its row number (the header is row 1, as in a
//! spreadsheet): `accepted` / `replay` with the ticket, `rejected` with the field and reason
//! (the mapping or the gateway refused it), `malformed` (not a well-formed CSV record:
//! skipped). Reporter names and phones are never printed.
//!
//! Resumable: `FILE.csv.progress` records the last row up to which every row has been
//! answered (and the file's size, so a changed file is not resumed by mistake). A rerun
//! continues after it; `--restart` sends everything again, and rows already accepted come back
//! as replays, because the order number is the idempotency key.
//!
//! Exit codes: 0 every row accepted or replayed; 1 the import could not run or stopped
//! (config, file, encoding, gateway unreachable or busy — progress is kept, rerun to resume);
//! 2 the import finished but some rows were rejected or malformed.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use minhu_adapter_hotline12345::csv::{Rows, decode};
use minhu_adapter_hotline12345::translate;

use crate::pb;
use crate::pb::gateway_client::GatewayClient;
use crate::pb::submit_stream_response::Result as Answer;

/// Options of `minhu import hotline`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportHotlineArgs {
    /// The source system whose mapping reads the file: a name under
    /// [adapters.hotline12345.sources] (also the requests' source_system).
    #[arg(long)]
    pub source: String,
    /// The CSV export (UTF-8 or GBK; the first row names the fields).
    pub file: PathBuf,
    /// gRPC address of the gateway, e.g. http://127.0.0.1:50051. Default: the config's
    /// [grpc] listen address (127.0.0.1 when it listens on all interfaces).
    #[arg(long)]
    pub grpc: Option<String>,
    /// Ignore FILE.progress and send every row again (accepted rows come back as replays).
    #[arg(long)]
    pub restart: bool,
    /// Seconds to wait for the gateway to connect.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
    /// File whose first line is this host's bearer token, for a gateway with [auth] on.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

/// Finished, every row accepted or replayed.
pub const EXIT_OK: u8 = 0;
/// Could not run, or stopped part-way: rerun to resume.
pub const EXIT_FAILED: u8 = 1;
/// Finished with rejected or malformed rows.
pub const EXIT_ROWS_REJECTED: u8 = 2;

/// The progress file beside `file`.
pub fn progress_path(file: &Path) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(".progress");
    PathBuf::from(p)
}

/// (file size, last row answered) from a progress file.
fn read_progress(path: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('=')?.trim().parse().ok())
    };
    Some((get("file_bytes")?, get("last_row")?))
}

fn write_progress(path: &Path, file_bytes: u64, last_row: u64) -> std::io::Result<()> {
    let tmp = path.with_extension("progress.tmp");
    std::fs::write(
        &tmp,
        format!("# minhu import hotline\nfile_bytes={file_bytes}\nlast_row={last_row}\n"),
    )?;
    std::fs::rename(&tmp, path)
}

/// A row's fate before anything is sent.
enum Row {
    Send(u64, Box<pb::Request>),
    Done(u64, String),
}

#[derive(Default)]
struct Tally {
    accepted: u64,
    replay: u64,
    rejected: u64,
    malformed: u64,
}

/// Runs the command; returns the exit code.
pub fn run(config: &Path, args: &ImportHotlineArgs) -> u8 {
    let fail = |m: String| {
        eprintln!("minhu import hotline: {m}");
        EXIT_FAILED
    };
    let loaded = match crate::config::load(config) {
        Ok(l) => l,
        Err(e) => return fail(format!("config: {e}")),
    };
    let Some(source) = loaded
        .service
        .adapters
        .hotline12345
        .sources
        .get(&args.source)
    else {
        return fail(format!(
            "no source system {:?} in [adapters.hotline12345.sources]",
            args.source
        ));
    };
    let mapping = match source.compile() {
        Ok(m) => m,
        Err(problems) => {
            let list: Vec<_> = problems.iter().map(|(k, m)| format!("{k}: {m}")).collect();
            return fail(format!("mapping of {}: {}", args.source, list.join("; ")));
        }
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", args.file.display())),
    };
    let text = match decode(&bytes) {
        Ok(t) => t,
        Err(e) => return fail(format!("{}: {e}", args.file.display())),
    };
    let rows = match Rows::new(&text) {
        Ok(r) => r,
        Err(e) => return fail(format!("{}: {e}", args.file.display())),
    };
    let progress = progress_path(&args.file);
    let size = bytes.len() as u64;
    let mut after = 0;
    if !args.restart
        && let Some((was, last)) = read_progress(&progress)
    {
        if was != size {
            return fail(format!(
                "{} changed since {} was written; use --restart to send every row again (rows already accepted come back as replays)",
                args.file.display(),
                progress.display()
            ));
        }
        after = last;
        println!("resuming after row {last} ({})", progress.display());
    }
    let mut list = Vec::new();
    let mut skipped = 0u64;
    for (line, row) in rows {
        if line <= after {
            skipped += 1;
            continue;
        }
        list.push(match row {
            Err(e) => Row::Done(line, format!("malformed: {}", e.message)),
            Ok(order) => match translate(&order, &args.source, &mapping) {
                Ok(r) => Row::Send(line, Box::new(r)),
                Err(e) => Row::Done(line, format!("rejected: {}: {}", e.field, e.message)),
            },
        });
    }
    let url = args.grpc.clone().unwrap_or_else(|| {
        let mut addr = loaded.service.grpc.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let bearer = match crate::protect::auth::Bearer::from_file(args.token_file.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let mut tally = Tally::default();
    let mut last = after;
    let outcome = runtime.block_on(send(
        &url,
        bearer,
        timeout,
        list,
        &mut tally,
        &mut last,
        |l| {
            if let Err(e) = write_progress(&progress, size, l) {
                eprintln!(
                    "minhu import hotline: cannot write {}: {e}",
                    progress.display()
                );
            }
        },
    ));
    if let Err(e) = write_progress(&progress, size, last) {
        eprintln!(
            "minhu import hotline: cannot write {}: {e}",
            progress.display()
        );
    }
    println!(
        "{} accepted, {} replay, {} rejected, {} malformed, {} skipped (done before); progress in {}",
        tally.accepted,
        tally.replay,
        tally.rejected,
        tally.malformed,
        skipped,
        progress.display()
    );
    match outcome {
        Err(e) => fail(format!("{e}; stopped after row {last}: rerun to resume")),
        Ok(()) if tally.rejected + tally.malformed > 0 => EXIT_ROWS_REJECTED,
        Ok(()) => EXIT_OK,
    }
}

/// Sends the rows to be sent over one `SubmitStream` and reports every row in file order.
/// `last` is the last row answered; `save` is called with it now and then.
async fn send(
    url: &str,
    bearer: crate::protect::auth::Bearer,
    timeout: Duration,
    rows: Vec<Row>,
    tally: &mut Tally,
    last: &mut u64,
    save: impl Fn(u64),
) -> Result<(), String> {
    let requests: Vec<pb::SubmitRequest> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Send(_, req) => Some(pb::SubmitRequest {
                request: Some((**req).clone()),
            }),
            Row::Done(..) => None,
        })
        .collect();
    let mut answers = None;
    if !requests.is_empty() {
        let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
            .map_err(|e| format!("bad gateway address {url}: {e}"))?
            .connect_timeout(timeout)
            .connect()
            .await
            .map_err(|e| format!("gateway at {url} unreachable ({e})"))?;
        let stream = GatewayClient::with_interceptor(channel, bearer)
            .submit_stream(futures::stream::iter(requests))
            .await
            .map_err(|s| format!("gateway refused the stream: {}", s.message()))?
            .into_inner();
        answers = Some(stream);
    }
    let mut saved = Instant::now();
    for row in rows {
        let line = match row {
            Row::Done(line, message) => {
                if message.starts_with("malformed") {
                    tally.malformed += 1;
                } else {
                    tally.rejected += 1;
                }
                println!("row {line}: {message}");
                line
            }
            Row::Send(line, _) => {
                let next = match answers.as_mut() {
                    Some(s) => s.next().await,
                    None => None,
                };
                let answer = match next {
                    Some(Ok(a)) => a.result,
                    Some(Err(s)) => return Err(format!("gateway: {}", s.message())),
                    None => return Err("the gateway closed the stream".into()),
                };
                match answer {
                    Some(Answer::Accepted(r)) => {
                        let replay = r.disposition == pb::Disposition::Replay as i32;
                        let word = if replay { "replay" } else { "accepted" };
                        if replay {
                            tally.replay += 1;
                        } else {
                            tally.accepted += 1;
                        }
                        println!(
                            "row {line}: {word} {} (case {}, {})",
                            r.ticket_id, r.case_id, r.department_id
                        );
                    }
                    Some(Answer::Error(e)) if e.code == tonic::Code::InvalidArgument as i32 => {
                        tally.rejected += 1;
                        println!("row {line}: rejected: {}", e.message);
                    }
                    Some(Answer::Error(e)) => {
                        return Err(format!("row {line} not accepted: {}", e.message));
                    }
                    None => return Err(format!("row {line}: empty answer")),
                }
                line
            }
        };
        *last = line;
        if saved.elapsed() > Duration::from_secs(1) {
            save(line);
            saved = Instant::now();
        }
    }
    Ok(())
}
