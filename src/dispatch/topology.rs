//! The broker topology Minhu publishes into (a contract in DESIGN.md), declared at every
//! (re)connect so a fresh or reset broker is usable without an operator step:
//!
//! - `minhu.dispatch`: durable topic exchange every dispatch is published to;
//! - `minhu.dlx`: durable topic dead-letter exchange, with queue `minhu.dead` bound by `#`;
//! - `minhu.dept.<id>`: one durable queue per department, dead-lettering to `minhu.dlx`, bound
//!   to `minhu.dispatch` with the department's routing key;
//! - `minhu.emergency.linkage`: the emergency linkage queue, bound with `emergency.linkage`;
//! - `minhu.updates`: departments' updates (签收, 进展, 退单, ...) for the gateway's consumer
//!   ([`crate::handling::amqp`]), dead-lettering to `minhu.dlx`;
//! - `minhu.dept.<id>.outcomes`: the answer to each of a department's AMQP updates, bound to
//!   `minhu.dispatch` with `outcome.<id>`;
//! - `minhu.return.<system>`: answers returned to the systems that reported (12345 回访
//!   tasks, 数字城管 核查 tasks, emergency centres' results), bound with `return.<system>`;
//! - `minhu.supervision`: durable topic exchange of lights and escalations, with the queues
//!   `minhu.supervision.lights` (`light.#`) and `minhu.supervision.{leader,district,city}`
//!   (`escalated.<target>`).
//!
//! Declaring is idempotent as long as the arguments do not change. RabbitMQ refuses to
//! redeclare a queue with other arguments (`PRECONDITION_FAILED`, closing the channel); that is
//! reported as [`RelayError::Declare`] with the queue's name, and the relay retries on its
//! reconnect schedule rather than publishing into a topology it could not confirm.
use std::sync::{Arc, Mutex};

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use super::relay::RelayError;
use super::{DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, SUPERVISION_QUEUES};
use crate::config::routing::Department;
use crate::config::service::{AmqpConfig, QueueType};
use crate::outbox::properties::{MAX_PRIORITY, short_lossy};
use crate::outbox::{DISPATCH_EXCHANGE, SUPERVISION_EXCHANGE};

/// Every department's queue is named `minhu.dept.<id>`.
const DEPARTMENT_QUEUE_PREFIX: &str = "minhu.dept.";

/// One department's queue and binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DepartmentQueue {
    /// Department id.
    pub id: String,
    /// Queue name, `minhu.dept.<id>`.
    pub queue: String,
    /// Binding key on `minhu.dispatch`.
    pub routing_key: String,
}

impl From<&Department> for DepartmentQueue {
    fn from(d: &Department) -> Self {
        Self {
            id: d.id.clone(),
            queue: d.queue_name(),
            routing_key: d.routing_key(),
        }
    }
}

impl DepartmentQueue {
    /// The emergency linkage queue, declared and bound like a department's.
    pub fn linkage() -> Self {
        Self {
            id: "emergency-linkage".into(),
            queue: super::LINKAGE_QUEUE.into(),
            routing_key: crate::outbox::kinds::LINKAGE_ROUTING_KEY.into(),
        }
    }

    /// A system's return queue (12345 回访 tasks, 数字城管 核查 tasks, emergency results),
    /// bound with `routing_key` (`return.<system>…`).
    pub fn for_return(routing_key: &str) -> Self {
        Self {
            id: format!("return:{routing_key}"),
            queue: crate::notify::systems::queue_for(routing_key),
            routing_key: routing_key.to_owned(),
        }
    }

    /// A department's outcome queue and its binding key (none for the linkage and return
    /// queues, which are not departments').
    pub fn outcomes(&self) -> Option<(String, String)> {
        (self.queue.starts_with(DEPARTMENT_QUEUE_PREFIX)).then(|| {
            (
                format!("{}.outcomes", self.queue),
                crate::outbox::kinds::outcome_routing_key(&self.id),
            )
        })
    }

    /// Every queue a router's config needs: its departments' and the linkage queue.
    pub fn all_for(departments: &[Department]) -> Vec<Self> {
        departments
            .iter()
            .map(Self::from)
            .chain(std::iter::once(Self::linkage()))
            .collect()
    }
}

/// Every department queue this gateway has declared since it started: the start-up router's,
/// plus each one a reload added. The relay declares all of them again on every (re)connect, so
/// after a broker reset a department added by a reload still gets its queue; the reloader adds
/// to it. It never shrinks, because rows routed before a reload removed a department still need
/// that department's queue.
#[derive(Debug, Clone, Default)]
pub struct KnownQueues(Arc<Mutex<Vec<DepartmentQueue>>>);

impl KnownQueues {
    pub fn new(queues: Vec<DepartmentQueue>) -> Self {
        Self(Arc::new(Mutex::new(queues)))
    }

    /// The queues known now.
    pub fn snapshot(&self) -> Vec<DepartmentQueue> {
        self.lock().clone()
    }

    /// Those of `wanted` not known yet.
    pub fn missing(&self, wanted: &[DepartmentQueue]) -> Vec<DepartmentQueue> {
        let known = self.lock();
        wanted
            .iter()
            .filter(|q| !known.contains(q))
            .cloned()
            .collect()
    }

    /// Records queues that have just been declared.
    pub fn add(&self, queues: Vec<DepartmentQueue>) {
        let mut known = self.lock();
        for q in queues {
            if !known.contains(&q) {
                known.push(q);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<DepartmentQueue>> {
        // A panic elsewhere while holding the lock leaves a list that is still valid.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Declares the whole topology on `channel`. Safe to call any number of times.
pub async fn declare(
    channel: &Channel,
    cfg: &AmqpConfig,
    departments: &[DepartmentQueue],
) -> Result<(), RelayError> {
    let durable_exchange = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    for exchange in [
        DISPATCH_EXCHANGE,
        DEAD_LETTER_EXCHANGE,
        SUPERVISION_EXCHANGE,
    ] {
        channel
            .exchange_declare(
                exchange.into(),
                ExchangeKind::Topic,
                durable_exchange,
                FieldTable::default(),
            )
            .await
            .map_err(|source| declare_error(format!("exchange {exchange}"), source))?;
    }

    // The dead-letter queue gets no dead-letter exchange of its own: it is the end of the line.
    declare_queue(channel, DEAD_LETTER_QUEUE, queue_arguments(cfg, false)).await?;
    bind(channel, DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE, "#").await?;

    for dept in departments {
        declare_queue(channel, &dept.queue, queue_arguments(cfg, true)).await?;
        bind(channel, &dept.queue, DISPATCH_EXCHANGE, &dept.routing_key).await?;
        if let Some((queue, key)) = dept.outcomes() {
            declare_queue(channel, &queue, queue_arguments(cfg, true)).await?;
            bind(channel, &queue, DISPATCH_EXCHANGE, &key).await?;
        }
    }
    // Supervision events are published `mandatory` like everything else: each routing key has
    // a queue, so none comes back unroutable and stalls the outbox.
    for (queue, key) in SUPERVISION_QUEUES {
        declare_queue(channel, queue, queue_arguments(cfg, true)).await?;
        bind(channel, queue, SUPERVISION_EXCHANGE, key).await?;
    }
    declare_updates(channel, cfg).await
}

/// Declares `minhu.updates`, the queue departments send updates to. The update consumer
/// declares it too, so it can start consuming whether or not the relay got there first.
pub async fn declare_updates(channel: &Channel, cfg: &AmqpConfig) -> Result<(), RelayError> {
    declare_queue(channel, super::UPDATES_QUEUE, queue_arguments(cfg, true)).await
}

/// The `x-` arguments of a Minhu queue.
///
/// Quorum queues (the default) are replicated and fsync'd before they confirm, and
/// `x-delivery-limit` stops a message a consumer keeps rejecting from looping forever: past
/// the limit it is dead-lettered to `minhu.dead`. Classic queues get `x-max-priority` so the
/// broker, not just the relay, hands emergency dispatches to consumers first (quorum queues on
/// RabbitMQ 4 prioritise without an argument; on 3.x they keep publish order, which the relay
/// already makes emergency-first).
///
/// No `x-quorum-initial-group-size` is set, so on a cluster a quorum queue gets a member on
/// every node that is in the cluster when the queue is first declared (the three nodes of
/// `scripts/broker.sh cluster`, whichever node the declaring connection went to); any majority
/// of them keeps it available. Nodes that join later get members only by
/// `rabbitmq-queues grow`.
pub fn queue_arguments(cfg: &AmqpConfig, dead_letter: bool) -> FieldTable {
    let mut args = FieldTable::default();
    match cfg.queue_type {
        QueueType::Quorum => {
            args.insert("x-queue-type".into(), long("quorum"));
            args.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(cfg.delivery_limit)),
            );
        }
        QueueType::Classic => {
            args.insert("x-queue-type".into(), long("classic"));
            args.insert(
                "x-max-priority".into(),
                AMQPValue::ShortShortUInt(MAX_PRIORITY),
            );
        }
    }
    if dead_letter {
        args.insert("x-dead-letter-exchange".into(), long(DEAD_LETTER_EXCHANGE));
    }
    args
}

fn long(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes()))
}

async fn declare_queue(channel: &Channel, queue: &str, args: FieldTable) -> Result<(), RelayError> {
    channel
        .queue_declare(
            short_lossy(queue),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await
        .map(drop)
        .map_err(|source| declare_error(format!("queue {queue}"), source))
}

async fn bind(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    routing_key: &str,
) -> Result<(), RelayError> {
    channel
        .queue_bind(
            short_lossy(queue),
            exchange.into(),
            short_lossy(routing_key),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|source| {
            declare_error(
                format!("binding {exchange} -> {queue} ({routing_key})"),
                source,
            )
        })
}

fn declare_error(what: String, source: lapin::Error) -> RelayError {
    RelayError::Declare { what, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn department_queue_from_config() {
        let d = Department {
            id: "cgj".into(),
            name: "市城市管理局".into(),
            routing_key: None,
            encoding: Default::default(),
            calendar: None,
        };
        assert_eq!(
            DepartmentQueue::from(&d),
            DepartmentQueue {
                id: "cgj".into(),
                queue: "minhu.dept.cgj".into(),
                routing_key: "dept.cgj".into(),
            }
        );
    }

    #[test]
    fn quorum_arguments() {
        let cfg = AmqpConfig::default();
        let args = queue_arguments(&cfg, true);
        let m = args.inner();
        assert_eq!(m.get("x-queue-type"), Some(&long("quorum")));
        assert_eq!(m.get("x-delivery-limit"), Some(&AMQPValue::LongLongInt(20)));
        assert_eq!(m.get("x-dead-letter-exchange"), Some(&long("minhu.dlx")));
        assert!(!queue_arguments(&cfg, false).contains_key("x-dead-letter-exchange"));
    }

    #[test]
    fn classic_arguments() {
        let cfg = AmqpConfig {
            queue_type: QueueType::Classic,
            ..AmqpConfig::default()
        };
        let args = queue_arguments(&cfg, true);
        assert_eq!(args.inner().get("x-queue-type"), Some(&long("classic")));
        assert!(!args.contains_key("x-delivery-limit"));
        assert!(args.contains_key("x-max-priority"));
    }
}
