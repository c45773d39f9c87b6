//! The gateway's one consumer of `minhu.updates`: departments that speak only AMQP publish
//! their updates there as `minhu.v1.CaseUpdate` (`message_id` = the update_id). Each takes the
//! same path as a gRPC call ([`Updates::apply`]); the delivery is acked only after the writer
//! committed the update together with its outcome message, so a crash in between redelivers
//! it, and the ledger answers the redelivery with the first outcome instead of applying it
//! twice.
//!
//! Updates of one case are taken one at a time, in queue order: a department that sends two
//! updates of one case back to back (each naming the version the previous one will produce)
//! has them applied in the order it sent them. Updates of different cases run side by side in
//! [`LANES`] lanes (a case always goes to the same lane), so the writer commits many of them
//! with one fsync instead of one each: taken strictly one at a time, the door was held to one
//! commit per update (0.28× Submit's rate, BENCHMARKS.md).
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::Connection;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::FieldTable;
use prost::Message;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::error::HandlingError;
use super::path::Updates;
use crate::config::service::AmqpConfig;
use crate::dispatch::UPDATES_QUEUE;
use crate::pb;
use crate::protect::auth::Authenticator;
use crate::store::Via;

/// The `type` property updates may carry (absent is accepted too).
pub const MESSAGE_TYPE: &str = "minhu.v1.CaseUpdate";
/// Deliveries the broker may hand over before an ack: enough to hide the round trip.
const PREFETCH: u16 = 64;
/// Lanes of updates applied side by side; each case's updates keep to one lane, in order.
pub const LANES: usize = 16;
/// Pause before a retryable failure is redelivered, so a sick store is not spun on.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Why one connection of the consumer ended (logged; it reconnects).
#[derive(Debug, Error)]
enum ConsumeError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("declaring {UPDATES_QUEUE}: {0}")]
    Declare(#[from] crate::dispatch::relay::RelayError),
    #[error("the consumer was cancelled by the broker")]
    Cancelled,
    #[error("an update lane stopped: its delivery could not be settled")]
    LaneStopped,
}

/// Consumes `minhu.updates` until `shutdown`, reconnecting every `reconnect_delay`.
pub async fn run(
    updates: Updates,
    auth: Arc<Authenticator>,
    cfg: AmqpConfig,
    shutdown: CancellationToken,
) {
    loop {
        match session(&updates, &auth, &cfg, &shutdown).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "update consumer lost its broker connection"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(cfg.reconnect_delay) => {}
        }
    }
}

/// One connection: consume until shutdown (`Ok`) or a broker failure.
async fn session(
    updates: &Updates,
    auth: &Arc<Authenticator>,
    cfg: &AmqpConfig,
    shutdown: &CancellationToken,
) -> Result<(), ConsumeError> {
    let conn = tokio::select! {
        () = shutdown.cancelled() => return Ok(()),
        c = crate::protect::amqps::connect(cfg, "minhu-updates") => c?,
    };
    let result = consume(&conn, updates, auth, cfg, shutdown).await;
    let _ = conn.close(200, "minhu stopping".into()).await;
    result
}

async fn consume(
    conn: &Connection,
    updates: &Updates,
    auth: &Arc<Authenticator>,
    cfg: &AmqpConfig,
    shutdown: &CancellationToken,
) -> Result<(), ConsumeError> {
    let channel = conn.create_channel().await?;
    crate::dispatch::topology::declare_updates(&channel, cfg).await?;
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            UPDATES_QUEUE.into(),
            "minhu-gateway".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = UPDATES_QUEUE, "consuming department updates");
    let mut lanes = Vec::with_capacity(LANES);
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..LANES {
        let (tx, rx) = mpsc::channel(usize::from(PREFETCH));
        lanes.push(tx);
        running.spawn(lane(updates.clone(), auth.clone(), rx));
    }
    let fed = loop {
        let delivery = tokio::select! {
            () = shutdown.cancelled() => break Ok(()),
            next = consumer.next() => match next {
                Some(Ok(d)) => d,
                Some(Err(e)) => break Err(ConsumeError::Broker(e)),
                None => break Err(ConsumeError::Cancelled),
            },
        };
        let i = lane_of(&delivery.data);
        // A lane that stopped lost its channel (an ack failed): start over.
        if lanes[i].send(delivery).await.is_err() {
            break Err(ConsumeError::LaneStopped);
        }
    };
    // Updates already handed to a lane finish and are settled; the rest wait in the queue.
    drop(lanes);
    let mut settled = Ok(());
    while let Some(r) = running.join_next().await {
        if let Ok(Err(e)) = r {
            settled = Err(ConsumeError::Broker(e));
        }
    }
    fed.and(settled)
}

/// Takes a lane's deliveries one at a time, in the order they came.
async fn lane(
    updates: Updates,
    auth: Arc<Authenticator>,
    mut rx: mpsc::Receiver<Delivery>,
) -> Result<(), lapin::Error> {
    while let Some(d) = rx.recv().await {
        handle(&updates, &auth, d).await?;
    }
    Ok(())
}

/// The lane of a delivery: by its case, so one case's updates stay in order. A message that
/// does not decode goes to lane 0, where it is answered or rejected like any other.
fn lane_of(body: &[u8]) -> usize {
    use std::hash::{Hash, Hasher};
    let case = pb::CaseUpdate::decode(body)
        .ok()
        .and_then(|u| super::validate::header(&u).map(|h| h.case_id.clone()));
    let Some(case) = case else {
        return 0;
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    case.hash(&mut h);
    (h.finish() % LANES as u64) as usize
}

/// Applies one delivery and settles it: ack once the outcome is committed, reject (to
/// `minhu.dead`) what cannot be answered, requeue what may succeed later.
async fn handle(
    updates: &Updates,
    auth: &Authenticator,
    delivery: Delivery,
) -> Result<(), lapin::Error> {
    let result = apply(updates, auth, &delivery).await;
    // lapin answers whether the broker still knew the delivery; either way it is settled.
    let settled = match result {
        Ok(()) => delivery.ack(BasicAckOptions::default()).await,
        Err(e) if e.retryable() => {
            tracing::warn!(error = %e, "update not applied; it will be delivered again");
            tokio::time::sleep(RETRY_PAUSE).await;
            delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                })
                .await
        }
        Err(e) => {
            tracing::warn!(error = %e, "update message dead-lettered to minhu.dead");
            delivery.reject(BasicRejectOptions { requeue: false }).await
        }
    };
    settled.map(drop)
}

/// `Ok` when the update's outcome (applied or refused) is committed; an error only when the
/// delivery must be requeued or dead-lettered.
async fn apply(
    updates: &Updates,
    auth: &Authenticator,
    delivery: &Delivery,
) -> Result<(), HandlingError> {
    let props = &delivery.properties;
    if let Some(t) = props.kind().as_ref()
        && t.as_str() != MESSAGE_TYPE
    {
        return Err(HandlingError::Unanswerable(format!(
            "type {:?} is not {MESSAGE_TYPE}",
            t.as_str()
        )));
    }
    let update = pb::CaseUpdate::decode(delivery.data.as_slice())
        .map_err(|e| HandlingError::Unanswerable(format!("not a minhu.v1.CaseUpdate: {e}")))?;
    let user = props.user_id().as_ref().map(|u| u.as_str().to_owned());
    let message_id = props.message_id().as_ref().map(|m| m.as_str().to_owned());
    let refusal = match auth.authenticate_amqp(user.as_deref()) {
        Err(e) => Err(HandlingError::from(e)),
        Ok(caller) => {
            let update_id = super::validate::header(&update).map(|h| h.update_id.as_str());
            if message_id.is_some() && message_id.as_deref() != update_id {
                Err(HandlingError::invalid(
                    "message_id",
                    "must be the update's header.update_id",
                ))
            } else {
                Ok(caller)
            }
        }
    };
    let result = match refusal {
        Ok(caller) => updates.apply(update, Via::Amqp, caller).await,
        Err(e) => updates.refuse(&update, Via::Amqp, e).await,
    };
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.retryable() || matches!(e, HandlingError::Unanswerable(_)) => Err(e),
        // Refused, with its outcome committed.
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::case_update::Update;

    fn body(case_id: &str, update_id: &str) -> Vec<u8> {
        pb::CaseUpdate {
            update: Some(Update::SignFor(pb::SignForRequest {
                header: Some(pb::UpdateHeader {
                    case_id: case_id.into(),
                    update_id: update_id.into(),
                    ..Default::default()
                }),
                note: String::new(),
            })),
        }
        .encode_to_vec()
    }

    #[test]
    fn one_cases_updates_keep_to_one_lane_and_cases_spread_over_lanes() {
        assert_eq!(lane_of(&body("C1", "a")), lane_of(&body("C1", "b")));
        let used: std::collections::HashSet<usize> = (0..200)
            .map(|i| lane_of(&body(&format!("C{i}"), "a")))
            .collect();
        assert!(used.len() > LANES / 2, "{used:?}");
        assert!(used.iter().all(|l| *l < LANES));
        assert_eq!(lane_of(b"not protobuf \xff"), 0);
    }
}
