//! How many messages wait in each department's queue, and how many consumers read it: the
//! console's overview and `/metrics` (`minhu_queue_messages`, `minhu_queue_consumers`).
//!
//! A case handed to the broker is Minhu's no longer, but a department whose queue grows with
//! no consumer has stopped working its cases, and the coordination centre should see that
//! before the lights turn red. The numbers come from passive declares on a connection of this
//! poller's own (the broker answers a passive declare with the queue's ready-message and
//! consumer counts), every [`EVERY`]: no management plugin, no credentials beyond the
//! gateway's own, and nothing the relay's publishing waits on. A queue that is not there
//! (deleted by hand) is shown as missing, not as empty.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use tokio_util::sync::CancellationToken;

use super::topology::DepartmentQueue;
use crate::config::service::AmqpConfig;
use crate::router::live::LiveRouter;
use crate::telemetry::Metrics;

/// How often the queues are read.
pub const EVERY: Duration = Duration::from_secs(10);
/// Longest wait for the broker on one read.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One queue as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub department_id: String,
    pub queue: String,
    /// Ready messages (not yet delivered to a consumer); None: the queue is missing.
    pub messages: Option<u32>,
    pub consumers: u32,
}

/// The last reading, shared through [`Metrics`]; written by [`run`] alone.
#[derive(Debug, Default)]
pub struct QueueDepths {
    last: Mutex<Reading>,
}

#[derive(Debug, Default, Clone)]
pub struct Reading {
    /// When it was taken (ms since the epoch); None before the first.
    pub at_ms: Option<i64>,
    /// By department id.
    pub queues: BTreeMap<String, QueueDepth>,
}

impl QueueDepths {
    /// The last reading.
    pub fn reading(&self) -> Reading {
        self.last.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn record(&self, queues: Vec<QueueDepth>, at_ms: i64) {
        if let Ok(mut r) = self.last.lock() {
            r.at_ms = Some(at_ms);
            r.queues = queues
                .into_iter()
                .map(|q| (q.department_id.clone(), q))
                .collect();
        }
    }

    /// Prometheus text: messages and consumers per department queue (missing queues absent).
    pub fn render(&self, out: &mut String) {
        let r = self.reading();
        out.push_str(
            "# HELP minhu_queue_messages Ready messages in a department's queue, as last read.\n",
        );
        out.push_str("# TYPE minhu_queue_messages gauge\n");
        for q in r.queues.values() {
            if let Some(n) = q.messages {
                let _ = writeln!(
                    out,
                    "minhu_queue_messages{{department=\"{}\",queue=\"{}\"}} {n}",
                    q.department_id, q.queue
                );
            }
        }
        out.push_str(
            "# HELP minhu_queue_consumers Consumers reading a department's queue, as last read.\n",
        );
        out.push_str("# TYPE minhu_queue_consumers gauge\n");
        for q in r.queues.values().filter(|q| q.messages.is_some()) {
            let _ = writeln!(
                out,
                "minhu_queue_consumers{{department=\"{}\",queue=\"{}\"}} {}",
                q.department_id, q.queue, q.consumers
            );
        }
    }
}

/// Reads the live router's department queues every [`EVERY`] until `stop`; the first read is
/// at once. A broken connection is opened again on the next round.
pub async fn run(
    cfg: AmqpConfig,
    live: LiveRouter,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) {
    let mut conn: Option<Connection> = None;
    loop {
        // A round may wait on an unanswering broker; stopping does not wait for it.
        tokio::select! {
            () = stop.cancelled() => break,
            () = round(&cfg, &live, &metrics, &mut conn) => {}
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
    live: &LiveRouter,
    metrics: &Metrics,
    conn: &mut Option<Connection>,
) {
    if conn.as_ref().is_none_or(|c| !c.status().connected()) {
        *conn = connect(cfg).await;
    }
    let Some(c) = conn.as_ref() else {
        return;
    };
    let queues = DepartmentQueue::all_for(live.current().departments());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reading_renders_present_queues_and_leaves_missing_ones_out() {
        let d = QueueDepths::default();
        assert!(d.reading().at_ms.is_none());
        d.record(
            vec![
                QueueDepth {
                    department_id: "roads".into(),
                    queue: "minhu.dept.roads".into(),
                    messages: Some(3),
                    consumers: 0,
                },
                QueueDepth {
                    department_id: "water".into(),
                    queue: "minhu.dept.water".into(),
                    messages: None,
                    consumers: 0,
                },
            ],
            42,
        );
        let r = d.reading();
        assert_eq!(r.at_ms, Some(42));
        assert_eq!(r.queues["roads"].messages, Some(3));
        let mut out = String::new();
        d.render(&mut out);
        assert!(
            out.contains(
                "minhu_queue_messages{department=\"roads\",queue=\"minhu.dept.roads\"} 3\n"
            )
        );
        assert!(out.contains(
            "minhu_queue_consumers{department=\"roads\",queue=\"minhu.dept.roads\"} 0\n"
        ));
        assert!(!out.contains("water"), "{out}");
    }
}
