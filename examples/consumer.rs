//! A department consumer: how a 承办单位's system takes its work off `minhu.dept.<department>`.
//!
//! Run it (with a gateway running, which declares the topology at start-up):
//!
//! ```text
//! cargo run --example consumer -- urban-mgmt
//! cargo run --example consumer -- water --amqp-url amqp://guest:guest@127.0.0.1:5672/%2f
//! ```
//!
//! What it shows:
//! - one queue per department, consumed with a bounded prefetch;
//! - the body is a protobuf `minhu.v1.Dispatch` (`content_type` `application/x-protobuf`,
//!   `type` `minhu.v1.Dispatch`), or its proto3 JSON (`application/json`) for departments
//!   configured with `encoding = "json"`;
//! - Minhu may publish a dispatch more than once (it re-publishes until the broker confirms), so
//!   the consumer drops duplicates by `message_id`, which equals `dispatch_id`;
//! - the message is acknowledged only after it was processed, so a crash before that means the
//!   broker delivers it again rather than losing it;
//! - personal data (phones, names, openids) is not printed.
use std::{collections::HashSet, process::ExitCode};

use anyhow::{Context, Result};
use clap::Parser;
use futures::StreamExt;
use lapin::{
    Connection, ConnectionProperties,
    message::Delivery,
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions},
    types::FieldTable,
};
use minhu::pb;
use prost::Message;

/// Consume one department's Minhu queue and print what arrives.
#[derive(Debug, Parser)]
struct Args {
    /// Department id as in config/routing.toml, e.g. `urban-mgmt`; the queue is
    /// `minhu.dept.<department>`.
    department: String,
    /// Broker URL including the vhost.
    #[arg(
        long,
        env = "MINHU_AMQP__URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// Unacknowledged messages the broker may hand us at once. Bounds memory and lets other
    /// consumers of the same queue share the work.
    #[arg(long, default_value_t = 32)]
    prefetch: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("consumer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let queue = format!("minhu.dept.{}", args.department);

    let conn = Connection::connect(&args.amqp_url, ConnectionProperties::default())
        .await
        .context("cannot connect to RabbitMQ")?;
    let channel = conn.create_channel().await?;
    // Per-consumer prefetch (quorum queues do not support the global flavour).
    channel
        .basic_qos(args.prefetch, BasicQosOptions::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            format!("example-consumer-{}", std::process::id()).into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| {
            format!("cannot consume {queue}: does the department exist, and has the gateway run once to declare the queues?")
        })?;
    println!(
        "consuming {queue} (prefetch {}); Ctrl-C to stop",
        args.prefetch
    );

    // Dispatch ids already processed. In memory here, so a restart forgets them and a
    // re-delivered message would be handled twice. In production keep this set where the work
    // itself is recorded, in the same transaction (e.g. a unique key on dispatch_id in the
    // department's own database), and expire entries after some days.
    let mut seen: HashSet<String> = HashSet::new();

    loop {
        let delivery = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            next = consumer.next() => match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(e)) => return Err(e).context("the broker connection failed"),
                None => break, // consumer cancelled, e.g. the queue was deleted
            },
        };
        handle(delivery, &mut seen).await?;
    }
    conn.close(200, "bye".into()).await.ok();
    Ok(())
}

async fn handle(delivery: Delivery, seen: &mut HashSet<String>) -> Result<()> {
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.as_str().to_owned());

    // Departments configured with `encoding = "json"` get proto3 JSON of the same message.
    let is_json = delivery
        .properties
        .content_type()
        .as_ref()
        .is_some_and(|c| c.as_str() == minhu::json::CONTENT_TYPE);
    let decoded = if is_json {
        minhu::json::dispatch_from_json(&delivery.data).map_err(anyhow::Error::msg)
    } else {
        pb::Dispatch::decode(delivery.data.as_slice()).map_err(anyhow::Error::from)
    };
    let dispatch = match decoded {
        Ok(d) => d,
        Err(e) => {
            // Not a Dispatch: retrying cannot help. Reject without requeue so the broker
            // dead-letters it to `minhu.dead` for a person to look at.
            eprintln!("undecodable message {message_id:?}: {e}; dead-lettering it");
            delivery
                .reject(BasicRejectOptions { requeue: false })
                .await?;
            return Ok(());
        }
    };
    let id = message_id.unwrap_or_else(|| dispatch.dispatch_id.clone());

    if seen.contains(&id) {
        // A re-publish of something we already handled: acknowledge and forget it.
        println!("duplicate {id}, skipped");
        delivery.ack(BasicAckOptions::default()).await?;
        return Ok(());
    }

    // "Processing": a real system would open a work item (工单) here.
    let case_id = dispatch.case.as_ref().map_or("-", |c| c.case_id.as_str());
    let kind = pb::DispatchKind::try_from(dispatch.kind)
        .map_or("?", |k| k.as_str_name())
        .trim_start_matches("DISPATCH_KIND_");
    let level = pb::Level::try_from(dispatch.level)
        .map_or("?", |l| l.as_str_name())
        .trim_start_matches("LEVEL_");
    let due = dispatch
        .due_at
        .map_or_else(|| "-".to_owned(), |t| t.to_string());
    println!(
        "case {case_id} {kind} → {} level {level} due {due}, {} ticket(s) [{id}]",
        dispatch.department_id,
        dispatch.tickets.len()
    );

    // Record the id with the work, then acknowledge. If the ack is lost (connection drop), the
    // broker delivers the message again and the check above skips it.
    seen.insert(id);
    delivery.ack(BasicAckOptions::default()).await?;
    Ok(())
}
