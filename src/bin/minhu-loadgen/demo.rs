//! `minhu-loadgen demo`: submit the sample reports one by one, print each answer, then submit the
//! first one again to show that a re-delivery is recognised (`DISPOSITION_REPLAY`).
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use minhu::pb::{self, gateway_client::GatewayClient};
use tonic::transport::{Channel, Endpoint};

use crate::sample::{self, SampleReport};

/// Connects to the gateway's gRPC port.
pub async fn connect(grpc: &str) -> Result<GatewayClient<Channel>> {
    Ok(GatewayClient::new(channel(grpc).await?))
}

/// One HTTP/2 connection to the gateway's gRPC port, for any of the services served there.
pub async fn channel(grpc: &str) -> Result<Channel> {
    Endpoint::from_shared(grpc.to_owned())
        .with_context(|| format!("`{grpc}` is not a valid gRPC address"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot connect to the gateway at {grpc}"))
}

pub async fn run(grpc: &str, reports: &[SampleReport], run_id: Option<String>) -> Result<()> {
    let missing = sample::missing_channels(reports);
    if !missing.is_empty() {
        println!("note: no sample report for {}", missing.join(", "));
    }
    let run_id = run_id.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string()
    });
    let mut client = connect(grpc).await?;
    let now = SystemTime::now();

    println!(
        "{:<24} {:<18} {:<18} {:<20} {:<15} {:<22} {:<10} due",
        "channel", "source_id", "ticket", "case", "disposition", "department", "level"
    );
    let mut failures = 0usize;
    for report in reports {
        let request = report.to_request(&run_id, now);
        let channel_name = pb::Channel::try_from(request.channel)
            .map_or("?", |c| c.as_str_name())
            .trim_start_matches("CHANNEL_");
        match client
            .submit(pb::SubmitRequest {
                request: Some(request.clone()),
            })
            .await
        {
            Ok(resp) => print_answer(channel_name, &report.id, &resp.into_inner()),
            Err(status) => {
                failures += 1;
                println!(
                    "{channel_name:<24} {:<18} REFUSED {:?}: {}",
                    report.id,
                    status.code(),
                    status.message()
                );
            }
        }
    }

    // The same (channel, source_system, source_id) again: a re-delivery, as a channel that did
    // not hear our answer would send it. It must come back as the same ticket.
    let Some(first) = reports.first() else {
        bail!("the traffic file holds no reports");
    };
    let request = first.to_request(&run_id, now);
    println!("\nsubmitting `{}` again (same source_id):", first.id);
    let answer = client
        .submit(pb::SubmitRequest {
            request: Some(request),
        })
        .await
        .context("re-submitting the first report")?
        .into_inner();
    print_answer("(again)", &first.id, &answer);

    if failures > 0 {
        bail!(
            "{failures} of {} sample reports were refused",
            reports.len()
        );
    }
    if answer.disposition != pb::Disposition::Replay as i32 {
        bail!(
            "expected DISPOSITION_REPLAY for the re-submitted report, got {}",
            disposition_name(answer.disposition)
        );
    }
    println!(
        "\nall {} reports accepted; the re-submission was a replay",
        reports.len()
    );
    Ok(())
}

fn print_answer(channel: &str, id: &str, a: &pb::SubmitResponse) {
    let level = pb::Level::try_from(a.level)
        .map_or("?", |l| l.as_str_name())
        .trim_start_matches("LEVEL_");
    let due = a.due_at.map_or_else(|| "-".to_owned(), |t| t.to_string());
    println!(
        "{channel:<24} {id:<18} {:<18} {:<20} {:<15} {:<22} {level:<10} {due}",
        a.ticket_id,
        a.case_id,
        disposition_name(a.disposition),
        a.department_id,
    );
}

fn disposition_name(d: i32) -> &'static str {
    pb::Disposition::try_from(d)
        .map_or("?", |d| d.as_str_name())
        .trim_start_matches("DISPOSITION_")
}
