//! The store's side of the outbox ([`crate::outbox`]): rows written inside the store's
//! transactions, sealed at rest where they name a citizen, and what the relay asks of the
//! store through [`OutboxSource`]: the rows waiting, their payloads in clear, and settling them
//! (a confirmed dispatch marks its case dispatched in the same transaction that deletes it).
use std::borrow::Cow;

use serde::Serialize;

use super::contacts::Sealer;
use super::seal::Place;
use super::writer::State;
use super::{Store, StoreError, commands::Command};
use crate::db::{Conn, params};
use crate::outbox::envelope::Encoded;
use crate::outbox::{self, NewRow, OutboxEntry, OutboxMessage, OutboxSource, SourceError};
use crate::pb;

/// Encodes a dispatch body as the department asked (protobuf or proto3 JSON).
pub(super) fn encode(body: &pb::Dispatch, as_json: bool) -> Result<Encoded, StoreError> {
    outbox::envelope::encode(body, as_json)
        .map_err(|e| StoreError::Corrupt(format!("JSON dispatch: {e}")))
}

/// Writes a row whose body names no citizen (events, outcomes) and returns it as the relay
/// will publish it.
pub(super) fn write(tx: &Conn, r: NewRow<'_>) -> Result<OutboxMessage, StoreError> {
    Ok(outbox::insert(tx, r, None)?)
}

/// As [`write`] for a message that carries a report and its reporter (a dispatch, a linkage
/// message, a reporting system's answer): stored sealed when keys are configured, kept in
/// clear for the relay.
pub(super) fn write_sealed(
    tx: &Conn,
    seal: &Sealer,
    r: NewRow<'_>,
) -> Result<OutboxMessage, StoreError> {
    let sealed = seal.is_on().then(|| {
        seal.seal(Place::Payload(r.dispatch_id), &r.payload)
            .into_owned()
    });
    Ok(outbox::insert(tx, r, sealed)?)
}

/// The rows with these ids, a payload sealed for the disk opened: the relay publishes it in
/// clear, as the department reads it.
pub(super) fn load_opened(
    conn: &Conn,
    seal: &Sealer,
    ids: &[i64],
) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut rows = outbox::load(conn, ids)?;
    for m in &mut rows {
        if let Some(Cow::Owned(plain)) = seal.open(Place::Payload(&m.dispatch_id), &m.payload)? {
            m.payload = plain;
        }
    }
    Ok(rows)
}

/// Removes confirmed rows and records the hand-off on their dispatches and cases.
pub(super) fn delivered(tx: &Conn, st: &mut State, ids: &[i64]) -> Result<(), StoreError> {
    let now = crate::time::now_ms();
    for id in ids {
        let row = outbox::remove(tx, *id)?;
        // Already gone: a duplicate confirm after a re-publish. Nothing to do.
        let Some((dispatch_id, case_id)) = row else {
            continue;
        };
        st.depth = st.depth.saturating_sub(1);
        let dispatch = tx
            .prepare_cached("UPDATE dispatches SET confirmed_at = ?2 WHERE dispatch_id = ?1")?
            .execute(params![dispatch_id, now])?;
        // An update outcome is no dispatch: the case was not handed to anyone by it.
        if dispatch == 0 {
            continue;
        }
        tx.prepare_cached(
            "UPDATE cases SET status = ?2, dispatched_at = COALESCE(dispatched_at, ?3), updated_at = ?3
              WHERE case_id = ?1 AND status = ?4",
        )?
        .execute(params![case_id, pb::CaseStatus::Dispatched as i32, now, pb::CaseStatus::Open as i32])?;
        let detail = DispatchedDetail {
            dispatch_id: &dispatch_id,
        };
        tx.prepare_cached(
            "INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, 'dispatched', ?3)",
        )?
        .execute(params![now, case_id, super::ops::to_json(&detail)?])?;
    }
    Ok(())
}

/// Counts one failed publish of an outbox row.
pub(super) fn failed(tx: &Conn, id: i64, reason: &str) -> Result<(), StoreError> {
    Ok(outbox::count_failure(tx, id, reason)?)
}

/// The audit entry of a confirmed hand-off.
#[derive(Serialize)]
struct DispatchedDetail<'a> {
    dispatch_id: &'a str,
}

impl From<StoreError> for SourceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed => SourceError::Closed,
            e => SourceError::Failed(Box::new(e)),
        }
    }
}

impl OutboxSource for Store {
    async fn pending(&self) -> Result<Vec<OutboxEntry>, SourceError> {
        let gateway = self.gateway.clone();
        Ok(self
            .reader
            .with(move |c| Ok(outbox::waiting(c, &gateway)?))
            .await?)
    }

    async fn load(&self, ids: Vec<i64>) -> Result<Vec<OutboxMessage>, SourceError> {
        let (mut rows, missing) = self.hot.take(ids);
        if !missing.is_empty() {
            let seal = self.seal.clone();
            let from_disk = self
                .reader
                .with(move |c| load_opened(c, &seal, &missing))
                .await?;
            rows.extend(from_disk);
        }
        Ok(rows)
    }

    async fn delivered(&self, ids: Vec<i64>) -> Result<(), SourceError> {
        self.hot.forget(&ids);
        Ok(self.call(|reply| Command::Delivered(ids, reply)).await?)
    }

    async fn failed(&self, id: i64, reason: String) -> Result<(), SourceError> {
        Ok(self
            .call(|reply| Command::Failed(id, reason, reply))
            .await?)
    }
}
