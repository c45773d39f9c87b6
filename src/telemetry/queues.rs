//! The department queues' depths as last read by the relay's poller (`dispatch::depth`): how
//! many messages wait in each and how many consumers read it, for the console's overview and
//! `/metrics` (`minhu_queue_messages`, `minhu_queue_consumers`).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// One queue as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub department_id: String,
    pub queue: String,
    /// Ready messages (not yet delivered to a consumer); None: the queue is missing.
    pub messages: Option<u32>,
    pub consumers: u32,
}

/// The last reading, shared through [`super::Metrics`]; written by the poller alone.
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

    /// Keeps a round's reading, taken at `at_ms`.
    pub fn record(&self, queues: Vec<QueueDepth>, at_ms: i64) {
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
