//! The gateway's background workers, started together once the store is open: the relay that
//! hands the outbox to the broker, the queue-depth poller, the lights-and-escalations
//! scheduler, the notifier that answers citizens, the eraser, the consumer of departments'
//! updates over AMQP, and the heartbeat that gateways sharing a PostgreSQL store keep.
//! Each is a [`Task`]; `shutdown` stops them in the order that loses nothing.
use std::sync::Arc;

use crate::config::service::ServiceConfig;
use crate::dispatch::relay::{self, RelayError};
use crate::dispatch::topology::{DepartmentQueue, KnownQueues};
use crate::handling::Updates;
use crate::notify::Senders;
use crate::notify::worker::FollowUpLinks;
use crate::protect::auth::Authenticator;
use crate::router::live::LiveRouter;
use crate::store::{OutboxFeed, Store};
use crate::telemetry::Metrics;

use super::task::Task;

/// What the workers are built from; all of it is `serve`'s.
pub(super) struct Inputs<'a> {
    pub(super) cfg: &'a ServiceConfig,
    pub(super) store: &'a Store,
    /// Rows committed to the outbox, for the relay.
    pub(super) feed: OutboxFeed,
    /// The queues the relay declares before it publishes.
    pub(super) departments: KnownQueues,
    pub(super) live: &'a LiveRouter,
    pub(super) metrics: &'a Arc<Metrics>,
    pub(super) senders: Senders,
    pub(super) follow_up: Option<FollowUpLinks>,
    pub(super) updates: &'a Updates,
    pub(super) auth: &'a Arc<Authenticator>,
}

/// The running workers.
pub(super) struct Workers {
    /// Departments' updates from `minhu.updates`.
    pub(super) consumer: Task<()>,
    pub(super) scheduler: Task<()>,
    pub(super) depth: Task<()>,
    pub(super) eraser: Task<()>,
    pub(super) notifier: Task<()>,
    pub(super) relay: Task<Result<(), RelayError>>,
    pub(super) heartbeat: Task<()>,
}

impl Workers {
    pub(super) fn start(i: Inputs<'_>) -> Self {
        let clock = || Arc::new(crate::clocks::SystemClock);
        // Gateways sharing a PostgreSQL store: heartbeats, the timers lease, and the rows of
        // stopped gateways adopted (the store's opening took the first beat).
        let heartbeat = Task::spawn(|stop| i.store.clone().run_heartbeat(stop));
        let (store, amqp, metrics) = (i.store.clone(), i.cfg.amqp.clone(), i.metrics.clone());
        let relay =
            Task::spawn(|stop| relay::run(store, i.feed, amqp, i.departments, metrics, stop));
        // Department queues' depths for the console and /metrics, on a connection of their own.
        let wanted = i.live.clone();
        let (amqp, metrics) = (i.cfg.amqp.clone(), i.metrics.clone());
        let depth = Task::spawn(|stop| {
            crate::dispatch::depth::run(
                amqp,
                Arc::new(move || DepartmentQueue::all_for(wanted.current().departments())),
                metrics,
                stop,
            )
        });
        // Lights and escalations: the first look is at once, so a restart catches up.
        let scheduler = crate::scheduler::Scheduler {
            store: i.store.clone(),
            router: i.live.clone(),
            clock: clock(),
            tick: crate::scheduler::TICK,
            metrics: i.metrics.clone(),
        };
        let scheduler = Task::spawn(|stop| scheduler.run(stop));
        // Answers to citizens: the first look is at once, so a restart sends what was pending.
        let notifier = crate::notify::worker::Notifier {
            store: i.store.clone(),
            senders: i.senders,
            router: i.live.clone(),
            clock: clock(),
            policy: (&i.cfg.notify).into(),
            tick: crate::notify::worker::TICK,
            metrics: i.metrics.clone(),
            follow_up: i.follow_up,
        };
        let notifier = Task::spawn(|stop| notifier.run(stop));
        // Contacts of long-closed cases erased, old rows re-sealed after a key rotation.
        let eraser = crate::store::Eraser {
            store: i.store.clone(),
            clock: clock(),
            erase_after: i.cfg.privacy.erase_after,
            tick: crate::store::ERASE_TICK,
        };
        let eraser = Task::spawn(|stop| eraser.run(stop));
        let (updates, auth, amqp) = (i.updates.clone(), i.auth.clone(), i.cfg.amqp.clone());
        let consumer = Task::spawn(|stop| crate::handling::amqp::run(updates, auth, amqp, stop));
        Workers {
            consumer,
            scheduler,
            depth,
            eraser,
            notifier,
            relay,
            heartbeat,
        }
    }
}
