//! The raw broker ceiling: how fast plain lapin can publish Dispatch-sized messages to one
//! quorum queue with publisher confirms, `mandatory` and persistence — the work the gateway's
//! outbox relay does, minus everything else the gateway does. The gateway's delivered rate is
//! reported as a share of this number.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use futures::{StreamExt, stream::FuturesUnordered};
use lapin::{
    BasicProperties, Confirmation, Connection, ConnectionProperties,
    options::{
        BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
        QueuePurgeOptions,
    },
    types::{AMQPValue, FieldTable},
};

use crate::CeilingArgs;

/// When a measurement stops.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Count(u64),
    Duration(Duration),
}

/// What the ceiling run measured.
#[derive(Debug, Default)]
pub struct CeilingResult {
    pub published: u64,
    pub confirmed: u64,
    pub nacked: u64,
    pub returned: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

impl CeilingResult {
    pub fn rate(&self) -> f64 {
        per_second(self.confirmed, self.elapsed)
    }
}

pub fn per_second(n: u64, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// Declares the ceiling queue, publishes to it until `limit`, and deletes it again (also when
/// publishing failed).
pub async fn run(args: &CeilingArgs, message_bytes: usize, limit: Limit) -> Result<CeilingResult> {
    let conn = Connection::connect(&args.amqp_url, ConnectionProperties::default())
        .await
        .with_context(|| format!("cannot connect to RabbitMQ at {}", mask(&args.amqp_url)))?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .context("enabling publisher confirms")?;
    let mut queue_args = FieldTable::default();
    queue_args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(
            args.ceiling_queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            queue_args,
        )
        .await
        .with_context(|| format!("declaring quorum queue {}", args.ceiling_queue))?;
    channel
        .queue_purge(
            args.ceiling_queue.as_str().into(),
            QueuePurgeOptions::default(),
        )
        .await?;

    let result = publish(&channel, args, message_bytes, limit).await;

    if let Err(e) = channel
        .queue_delete(
            args.ceiling_queue.as_str().into(),
            QueueDeleteOptions::default(),
        )
        .await
    {
        eprintln!(
            "warning: could not delete {}: {e}; delete it by hand",
            args.ceiling_queue
        );
    }
    let _ = conn.close(200, "bench done".into()).await;
    result
}

async fn publish(
    channel: &lapin::Channel,
    args: &CeilingArgs,
    message_bytes: usize,
    limit: Limit,
) -> Result<CeilingResult> {
    let window = args.confirm_window.max(1);
    // Protobuf bytes are not compressible text; a repeating pattern is as good as any.
    let body: Vec<u8> = (0..message_bytes).map(|i| (i % 251) as u8).collect();
    let mut result = CeilingResult::default();
    let mut pending = FuturesUnordered::new();
    let start = Instant::now();
    let now_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());

    loop {
        let more = match limit {
            Limit::Count(n) => result.published < n,
            Limit::Duration(d) => start.elapsed() < d,
        };
        if !more {
            break;
        }
        while pending.len() >= window {
            if let Some(outcome) = pending.next().await {
                tally(&mut result, outcome);
            }
        }
        let mut headers = FieldTable::default();
        headers.insert(
            "x-minhu-case-id".into(),
            AMQPValue::LongString(format!("C-bench-{}", result.published).into()),
        );
        headers.insert(
            "x-minhu-channel".into(),
            AMQPValue::LongString("CHANNEL_HOTLINE_12345".into()),
        );
        headers.insert("x-minhu-level".into(), AMQPValue::LongString("B".into()));
        // The same properties the gateway sets on every dispatch (DESIGN.md).
        let properties = BasicProperties::default()
            .with_content_type("application/x-protobuf".into())
            .with_type("minhu.v1.Dispatch".into())
            .with_delivery_mode(2)
            .with_message_id(format!("bench-{}", result.published).into())
            .with_timestamp(now_secs)
            .with_priority(0)
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                "".into(),
                args.ceiling_queue.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &body,
                properties,
            )
            .await
            .context("publishing to the ceiling queue")?;
        result.published += 1;
        pending.push(confirm);
    }
    while let Some(outcome) = pending.next().await {
        tally(&mut result, outcome);
    }
    result.elapsed = start.elapsed();
    Ok(result)
}

fn tally(result: &mut CeilingResult, outcome: lapin::Result<Confirmation>) {
    match outcome {
        // A returned message is a failure even though the broker acks it.
        Ok(Confirmation::Ack(Some(_))) => result.returned += 1,
        Ok(Confirmation::Ack(None)) => result.confirmed += 1,
        Ok(Confirmation::Nack(_)) => result.nacked += 1,
        Ok(Confirmation::NotRequested) | Err(_) => result.failed += 1,
    }
}

/// The URL with its password replaced, for messages.
pub fn mask(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_password() {
        assert_eq!(
            mask("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(mask("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }
}
