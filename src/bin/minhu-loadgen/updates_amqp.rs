//! The AMQP phase of `minhu-loadgen updates`: a department that speaks only AMQP. It publishes
//! each update as a `minhu.v1.CaseUpdate` to `minhu.updates` (publisher confirms, persistent,
//! `mandatory`, `message_id` = the update_id), consumes the gateway's answers from
//! `minhu.dept.<id>.outcomes`, and sends a case's next update only when the previous outcome
//! (with the case's new version) is in. `in_flight` cases are worked on at once.
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, stream::FuturesUnordered};
use lapin::{
    BasicProperties, Confirmation, Connection, ConnectionProperties, PublisherConfirm,
    options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions},
    types::FieldTable,
};
use minhu::pb;
use prost::Message;

use crate::ceiling::mask;
use crate::updates::{Case, Step, case_update};
use crate::updates_report::Outcome;

/// The queue the gateway consumes updates from.
const UPDATES_QUEUE: &str = "minhu.updates";
/// How long to wait for the next outcome before giving up on the phase.
const OUTCOME_TIMEOUT: Duration = Duration::from_secs(60);

/// Takes every case in `cases` through its three updates over AMQP.
pub async fn run(
    amqp_url: &str,
    run_id: &str,
    cases: Vec<Case>,
    in_flight: usize,
) -> Result<Outcome> {
    let conn = Connection::connect(amqp_url, ConnectionProperties::default())
        .await
        .with_context(|| format!("cannot connect to RabbitMQ at {}", mask(amqp_url)))?;
    let result = drive(&conn, run_id, &cases, in_flight).await;
    let _ = conn.close(200, "bench done".into()).await;
    result
}

async fn drive(
    conn: &Connection,
    run_id: &str,
    cases: &[Case],
    in_flight: usize,
) -> Result<Outcome> {
    let publisher = conn.create_channel().await?;
    publisher
        .confirm_select(Default::default())
        .await
        .context("enabling publisher confirms")?;
    let listener = conn.create_channel().await?;
    listener.basic_qos(1000, BasicQosOptions::default()).await?;
    let departments: BTreeSet<&str> = cases.iter().map(|c| c.department_id.as_str()).collect();
    let mut consumers = Vec::new();
    for d in departments {
        let queue = format!("minhu.dept.{d}.outcomes");
        let consumer = listener
            .basic_consume(
                queue.as_str().into(),
                format!("bench-{run_id}-{d}").as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("consuming {queue} (declared by the gateway)"))?;
        consumers.push(consumer);
    }
    let mut outcomes = futures::stream::select_all(consumers);

    let mut out = Outcome::default();
    // update_id → (case index, step index) of the updates awaiting their outcome.
    let mut waiting: HashMap<String, (usize, usize)> = HashMap::new();
    let mut confirms = FuturesUnordered::new();
    let mut next_case = 0;
    let mut finished = 0;
    let start = Instant::now();
    while next_case < cases.len().min(in_flight) {
        let (id, confirm) = publish(&publisher, run_id, cases, next_case, 0, None).await?;
        waiting.insert(id, (next_case, 0));
        confirms.push(confirm);
        next_case += 1;
    }
    while finished < cases.len() {
        let delivery = tokio::select! {
            Some(c) = confirms.next(), if !confirms.is_empty() => {
                confirmed(c)?;
                continue;
            }
            d = tokio::time::timeout(OUTCOME_TIMEOUT, outcomes.next()) => match d {
                Err(_) => bail!(
                    "no outcome for {} s ({finished} of {} cases done)",
                    OUTCOME_TIMEOUT.as_secs(),
                    cases.len()
                ),
                Ok(None) => bail!("the broker cancelled the outcome consumers"),
                Ok(Some(d)) => d?,
            },
        };
        delivery.ack(BasicAckOptions::default()).await?;
        let o = pb::UpdateOutcome::decode(delivery.data.as_slice())
            .context("an outcome that is not a minhu.v1.UpdateOutcome")?;
        let Some((case, step)) = waiting.remove(&o.update_id) else {
            continue; // not this run's
        };
        let next = if o.applied && step + 1 < Step::ALL.len() {
            out.ok += 1;
            Some((case, step + 1, Some(o.case_version)))
        } else {
            if o.applied {
                out.ok += 1;
            } else {
                out.fail(format!("{:?}", tonic::Code::from_i32(o.code)));
            }
            finished += 1;
            (next_case < cases.len()).then(|| {
                next_case += 1;
                (next_case - 1, 0, None)
            })
        };
        if let Some((case, step, version)) = next {
            let (id, confirm) = publish(&publisher, run_id, cases, case, step, version).await?;
            waiting.insert(id, (case, step));
            confirms.push(confirm);
        }
    }
    out.elapsed = start.elapsed();
    while let Some(c) = confirms.next().await {
        confirmed(c)?;
    }
    Ok(out)
}

/// Publishes update `step` of case `i`, based on `version` (the case's own for the first);
/// answers its update_id and the confirm to await.
async fn publish(
    channel: &lapin::Channel,
    run_id: &str,
    cases: &[Case],
    i: usize,
    step: usize,
    version: Option<u64>,
) -> Result<(String, PublisherConfirm)> {
    let case = &cases[i];
    let update = case_update(
        Step::ALL[step],
        run_id,
        case,
        version.unwrap_or(case.version),
    );
    let id = crate::updates::header(&update).update_id.clone();
    let confirm = channel
        .basic_publish(
            "".into(),
            UPDATES_QUEUE.into(),
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            &update.encode_to_vec(),
            BasicProperties::default()
                .with_message_id(id.as_str().into())
                .with_content_type("application/x-protobuf".into())
                .with_type("minhu.v1.CaseUpdate".into())
                .with_delivery_mode(2),
        )
        .await
        .context("publishing to minhu.updates")?;
    Ok((id, confirm))
}

/// A publish the broker did not take is the end of the phase: its outcome would never come.
fn confirmed(c: lapin::Result<Confirmation>) -> Result<()> {
    match c.context("waiting for a publisher confirm")? {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => bail!("minhu.updates returned an update (no such queue?)"),
        other => bail!("the broker did not take an update: {other:?}"),
    }
}
