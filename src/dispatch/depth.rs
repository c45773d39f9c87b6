//! Reads how many messages wait in each department's queue, and how many consumers read it,
//! into [`crate::telemetry::queues`] for the console's overview and `/metrics`
//! (`minhu_queue_messages`, `minhu_queue_consumers`).
//!
//! A case handed to the broker is Minhu's no longer, but a department whose queue grows with
//! no consumer has stopped working its cases, and the coordination centre should see that
//! before the lights turn red. The numbers come from passive declares on a connection of this
//! poller's own (the broker answers a passive declare with the queue's ready-message and
//! consumer counts), every [`EVERY`]: no management plugin, no credentials beyond the
//! gateway's own, and nothing the relay's publishing waits on. A queue that is not there
//! (deleted by hand) is shown as missing, not as empty.
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use tokio_util::sync::CancellationToken;

use super::topology::DepartmentQueue;
use crate::config::service::AmqpConfig;
use crate::telemetry::Metrics;
use crate::telemetry::queues::QueueDepth;

/// The department queues to read, asked afresh each round (routing reloads change them).
pub type Wanted = Arc<dyn Fn() -> Vec<DepartmentQueue> + Send + Sync>;

/// How often the queues are read.
pub const EVERY: Duration = Duration::from_secs(10);
/// How often the first read looks whether the relay has declared the topology yet.
const FIRST_WAIT: Duration = Duration::from_millis(250);
/// Longest wait for the broker on one read.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the `wanted` queues every [`EVERY`] until `stop`. A broken connection is opened
/// again on the next round.
///
/// The first read waits for the relay's first connection, which declares the topology:
/// read earlier, at a gateway's first start every queue would show as missing for a round.
pub async fn run(cfg: AmqpConfig, wanted: Wanted, metrics: Arc<Metrics>, stop: CancellationToken) {
    while metrics.broker_connected.load(Relaxed) == 0 {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(FIRST_WAIT) => {}
        }
    }
    let mut conn: Option<Connection> = None;
    loop {
        // A round may wait on an unanswering broker; stopping does not wait for it.
        tokio::select! {
            () = stop.cancelled() => break,
            () = round(&cfg, &wanted, &metrics, &mut conn) => {}
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
    if let Some(c) = conn {
        let _ = c.close(200, "stopping".into()).await;
    }
}

async fn round(
    cfg: &AmqpConfig,
    wanted: &Wanted,
    metrics: &Metrics,
    conn: &mut Option<Connection>,
) {
    if conn.as_ref().is_none_or(|c| !c.status().connected()) {
        *conn = connect(cfg).await;
    }
    let Some(c) = conn.as_ref() else {
        return;
    };
    let queues = wanted();
    match read(c, &queues).await {
        Ok(read) => metrics.queues.record(read, crate::time::now_ms()),
        Err(e) => {
            tracing::debug!(error = %e, "queue depths: read failed; trying again later");
            *conn = None;
        }
    }
}

async fn connect(cfg: &AmqpConfig) -> Option<Connection> {
    match tokio::time::timeout(
        TIMEOUT,
        crate::protect::amqps::connect(cfg, "minhu-queue-depths"),
    )
    .await
    {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "queue depths: cannot connect to the broker");
            None
        }
        Err(_) => None,
    }
}

/// One passive declare per queue. A missing queue closes its channel (404), so the next
/// queue gets a new one.
async fn read(conn: &Connection, queues: &[DepartmentQueue]) -> Result<Vec<QueueDepth>, String> {
    let mut out = Vec::with_capacity(queues.len());
    let mut channel: Option<Channel> = None;
    for q in queues {
        let ch = match channel.take().filter(|c| c.status().connected()) {
            Some(c) => c,
            None => tokio::time::timeout(TIMEOUT, conn.create_channel())
                .await
                .map_err(|_| "opening a channel timed out".to_owned())?
                .map_err(|e| e.to_string())?,
        };
        let declared = tokio::time::timeout(
            TIMEOUT,
            ch.queue_declare(
                q.queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await
        .map_err(|_| format!("reading {} timed out", q.queue))?;
        let (messages, consumers) = match declared {
            Ok(d) => {
                channel = Some(ch);
                (Some(d.message_count()), d.consumer_count())
            }
            // The connection itself broke: this round ends.
            Err(e) if !conn.status().connected() => return Err(e.to_string()),
            Err(_) => (None, 0),
        };
        out.push(QueueDepth {
            department_id: q.id.clone(),
            queue: q.queue.clone(),
            messages,
            consumers,
        });
    }
    if let Some(c) = channel {
        let _ = c.close(200, "read".into()).await;
    }
    Ok(out)
}
