//! 核查: the 数字城管 grid inspector's verdict on a completed case. A pass closes the case (结案,
//! `COMPLETED → CLOSED`); a fail reopens it to the department that completed it (返工), with the
//! inspector's words as the reason, like a citizen's "not solved". Both are the system's own
//! transitions through the one state machine, applied by the store's writer, and idempotent:
//! the same verdict sent again is a replay of the first answer.
use sha2::{Digest, Sha256};

use super::error::HandlingError;
use super::machine::Action;
use crate::pb;
use crate::router::live::LiveRouter;
use crate::store::{CaseUpdate, Step, Store, StoreError, Via};

/// Tries when the case moves between preparing a reopen and applying it.
const TRIES: usize = 3;

/// An inspector's verdict on the case of one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ticket_id: String,
    pub passed: bool,
    /// What is still wrong (required when failed).
    pub comment: String,
    pub inspector_id: String,
    /// As the platform sent it, for the audit trail.
    pub verified_at: String,
}

/// Shared by the doors. Clone freely.
#[derive(Clone)]
pub struct Verifications {
    store: Store,
    router: LiveRouter,
}

impl Verifications {
    pub fn new(store: Store, router: LiveRouter) -> Self {
        Self { store, router }
    }

    /// Applies `v`: the case's outcome (CLOSED, or OPEN again at its department).
    pub async fn verify(&self, v: &Verdict) -> Result<pb::UpdateOutcome, HandlingError> {
        let digest: [u8; 32] = Sha256::digest(
            format!(
                "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                v.ticket_id, v.passed, v.comment, v.inspector_id, v.verified_at
            )
            .as_bytes(),
        )
        .into();
        let update_id = format!(
            "verify-{}-{}",
            v.ticket_id,
            digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        for _ in 0..TRIES {
            let u = self.prepare(v, &update_id, digest).await?;
            match self.store.update(u).await {
                Ok(d) if d.outcome.applied => return Ok(d.outcome),
                Ok(d) => {
                    return Err(HandlingError::Refused {
                        code: d.outcome.code,
                        message: d.outcome.message,
                    });
                }
                Err(StoreError::Raced(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(HandlingError::Retry(format!(
            "case of ticket {} kept changing; send the verdict again",
            v.ticket_id
        )))
    }

    async fn prepare(
        &self,
        v: &Verdict,
        update_id: &str,
        digest: [u8; 32],
    ) -> Result<CaseUpdate, HandlingError> {
        let not_found = || HandlingError::Refused {
            code: tonic::Code::NotFound as i32,
            message: format!("ticket {} not found", v.ticket_id),
        };
        let t = self
            .store
            .ticket(&v.ticket_id)
            .await?
            .ok_or_else(not_found)?;
        let case = self
            .store
            .case_snapshot(&t.case_id)
            .await?
            .ok_or_else(not_found)?;
        let router = self.router.current();
        let (action, step) = if v.passed {
            (Action::Verify, Step::Plain)
        } else {
            let now = crate::time::now_ms();
            let Some((route, encoding)) = router.route_to(&case.request, now, &case.department_id)
            else {
                return Err(HandlingError::Refused {
                    code: tonic::Code::FailedPrecondition as i32,
                    message: format!(
                        "department {} is no longer in the routing config; the coordination \
                         centre reassigns case {}",
                        case.department_id, case.case_id
                    ),
                });
            };
            let reason = format!(
                "reopened (返工): the inspector's check (核查) of ticket {} failed: {}",
                v.ticket_id,
                v.comment.trim()
            );
            (
                Action::Reopen,
                super::path::move_step(case.clone(), route, encoding, reason),
            )
        };
        Ok(CaseUpdate {
            header: pb::UpdateHeader {
                update_id: update_id.to_owned(),
                case_id: case.case_id.clone(),
                department_id: case.department_id.clone(),
                case_version: case.version,
                operator_id: v.inspector_id.clone(),
            },
            action,
            digest,
            detail: serde_json::json!({
                "ticket_id": v.ticket_id,
                "verification": if v.passed { "passed" } else { "failed" },
                "comment": v.comment,
                "inspector_id": v.inspector_id,
                "verified_at": v.verified_at,
            }),
            caller: None,
            via: Via::Grpc,
            step,
            clocks: Some(crate::store::Lookup(router.clone())),
            refused: None,
        })
    }
}
