//! The one path every update takes, whichever door it came in by (gRPC `minhu.v1.Handling`
//! or the `minhu.updates` queue): validate → authorize (the caller acts for the department,
//! or has the coordination role) → route a case that changes hands → the store's writer
//! decides and applies it in one transaction. An AMQP update refused before the store still
//! gets its outcome written to the outbox, so every update on the queue is answered durably.
use std::sync::Arc;

use prost::Message;
use sha2::{Digest, Sha256};

use super::error::HandlingError;
use super::machine::{Action, Actor};
use super::metrics::ReturnMetrics;
use super::validate::{self, Parsed};
use crate::config::routing::Encoding;
use crate::config::service::LimitsConfig;
use crate::pb;
use crate::protect::auth::Caller;
use crate::router::Router;
use crate::router::live::LiveRouter;
use crate::store::{CaseQuery, CaseUpdate, Move, Step, Store, Via};

/// Shared by both doors. Clone freely.
#[derive(Clone)]
pub struct Updates {
    store: Store,
    router: LiveRouter,
    limits: LimitsConfig,
    returns: Arc<ReturnMetrics>,
}

/// An applied return, for the metrics: its reason, and whether it reached the coordination
/// centre because the case had been returned `max_returns` times.
type Counted = Option<(pb::ReturnReason, bool)>;

/// Default and largest `ListCases` page.
const PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

impl Updates {
    pub fn new(
        store: Store,
        router: LiveRouter,
        limits: LimitsConfig,
        returns: Arc<ReturnMetrics>,
    ) -> Self {
        Self {
            store,
            router,
            limits,
            returns,
        }
    }

    /// Decides and applies one update from `caller` (None when `[auth]` is off). `Ok` is the
    /// applied outcome; a refusal is an error carrying its status. Over AMQP the outcome, applied
    /// or refused, is in the outbox when this returns (unless the error is retryable or
    /// `Unanswerable`).
    pub async fn apply(
        &self,
        update: pb::CaseUpdate,
        via: Via,
        caller: Option<Arc<Caller>>,
    ) -> Result<pb::UpdateOutcome, HandlingError> {
        let digest: [u8; 32] = Sha256::digest(update.encode_to_vec()).into();
        let router = self.router.current();
        match self.prepare(&update, &router, caller.as_deref()).await {
            Ok((u, exhausted)) => {
                let counted = match &update.update {
                    Some(pb::case_update::Update::Return(r)) => {
                        pb::ReturnReason::try_from(r.reason)
                            .ok()
                            .map(|r| (r, exhausted))
                    }
                    _ => None,
                };
                self.decide(CaseUpdate { digest, via, ..u }, counted).await
            }
            Err(e) if via == Via::Amqp && !e.retryable() => {
                self.answer_refusal(&update, digest, &router, caller.as_deref(), e)
                    .await
            }
            Err(e) => Err(e),
        }
    }

    /// Refuses `update` without looking further (the door found it unacceptable: unknown
    /// sender, wrong message id). Over AMQP the refusal is answered through the outbox.
    pub async fn refuse(
        &self,
        update: &pb::CaseUpdate,
        via: Via,
        e: HandlingError,
    ) -> Result<pb::UpdateOutcome, HandlingError> {
        if via != Via::Amqp || e.retryable() {
            return Err(e);
        }
        let digest: [u8; 32] = Sha256::digest(update.encode_to_vec()).into();
        let router = self.router.current();
        self.answer_refusal(update, digest, &router, None, e).await
    }

    /// Validates, authorizes and routes; the update as the writer takes it (digest and door
    /// filled in by the caller), and whether a return goes to the coordination centre because
    /// the case reached `max_returns`.
    async fn prepare(
        &self,
        update: &pb::CaseUpdate,
        router: &Router,
        caller: Option<&Caller>,
    ) -> Result<(CaseUpdate, bool), HandlingError> {
        let p = validate::parse(update, &self.limits)?;
        authorize(&p, router, caller)?;
        let (step, exhausted) = match p.action {
            Action::RequestExtension => (
                Step::Extension {
                    new_due_at_ms: p.new_due_at_ms.unwrap_or_default(),
                },
                false,
            ),
            Action::DecideExtension => (Step::Decide { approve: p.approve }, false),
            Action::Return | Action::Reassign => self.route_move(&p, router).await?,
            Action::Progress => (
                Step::Progress {
                    waiting_for_citizen: p.waiting_for_citizen,
                },
                false,
            ),
            _ => (Step::Plain, false),
        };
        let u = CaseUpdate {
            header: p.header,
            action: p.action,
            digest: [0; 32],
            detail: p.detail,
            caller: caller.map(|c| c.id.clone()),
            via: Via::Grpc,
            step,
            clocks: Some(crate::store::Lookup(self.router.current())),
            refused: None,
        };
        Ok((u, exhausted))
    }

    /// Where a returned or reassigned case goes next, and whether that is the coordination
    /// centre because the case reached `max_returns`. A case the store does not know is left
    /// to the writer, which refuses it as NOT_FOUND.
    async fn route_move(&self, p: &Parsed, router: &Router) -> Result<(Step, bool), HandlingError> {
        let Some(case) = self.store.case_snapshot(&p.header.case_id).await? else {
            return Ok((Step::Plain, false));
        };
        let mut exhausted = false;
        let now = crate::time::now_ms();
        let centre = router.coordination_centre();
        let (route, encoding, reason) = if p.action == Action::Reassign {
            let (route, encoding) = router
                .route_to(&case.request, now, &p.to_department_id)
                .ok_or_else(|| {
                    HandlingError::invalid(
                        "to_department_id",
                        "is not a department in routing.toml",
                    )
                })?;
            let reason = format!(
                "reassigned by the coordination centre from {}",
                case.department_id
            );
            (route, encoding, reason)
        } else {
            let returns = case.returned_by.len() + 1;
            let max = router.handling().max_returns as usize;
            if returns >= max {
                let (route, encoding) = router
                    .route_to(&case.request, now, centre)
                    .ok_or_else(|| HandlingError::Internal("no coordination centre".into()))?;
                let reason = format!(
                    "returned {returns} times (handling.max_returns = {max}): to the coordination centre"
                );
                exhausted = true;
                (route, encoding, reason)
            } else {
                let mut excluded = case.returned_by.clone();
                excluded.push(case.department_id.clone());
                let routed = router.route_excluding(&case.request, now, &excluded);
                let reason = format!(
                    "returned by {} (excluded: {}): {}",
                    case.department_id,
                    excluded.join(", "),
                    routed.reason
                );
                (routed.decision, routed.encoding, reason)
            }
        };
        Ok((move_step(case, route, encoding, reason), exhausted))
    }

    /// Has the writer decide `u`; a return it applied (not a replay of one) is counted.
    async fn decide(
        &self,
        u: CaseUpdate,
        counted: Counted,
    ) -> Result<pb::UpdateOutcome, HandlingError> {
        let action = u.action;
        let decided = self.store.update(u).await?;
        if decided.outcome.applied
            && !decided.replay
            && let Some((reason, exhausted)) = counted
        {
            self.returns.record(reason, exhausted);
        }
        let o = decided.outcome;
        tracing::debug!(
            case_id = %o.case_id,
            department = %o.department_id,
            action = action.as_str(),
            code = o.code,
            replay = decided.replay,
            "update decided"
        );
        if o.applied {
            Ok(o)
        } else {
            Err(HandlingError::Refused {
                code: o.code,
                message: o.message,
            })
        }
    }

    /// An AMQP update refused before the store: its outcome goes through the outbox like any
    /// other, when it can be addressed (a header naming a declared department).
    async fn answer_refusal(
        &self,
        update: &pb::CaseUpdate,
        digest: [u8; 32],
        router: &Router,
        caller: Option<&Caller>,
        e: HandlingError,
    ) -> Result<pb::UpdateOutcome, HandlingError> {
        let Some(header) = validate::header(update)
            .filter(|h| router.has_department(&h.department_id) && !h.update_id.is_empty())
        else {
            return Err(HandlingError::Unanswerable(e.to_string()));
        };
        let status = tonic::Status::from(e);
        let refused = (status.code() as i32, status.message().to_owned());
        let u = CaseUpdate {
            header: header.clone(),
            // Not applied and not in the ledger: the action is not looked at.
            action: Action::SignFor,
            digest,
            detail: serde_json::Value::Null,
            caller: caller.map(|c| c.id.clone()),
            via: Via::Amqp,
            step: Step::Plain,
            clocks: None,
            refused: Some(refused),
        };
        self.decide(u, None).await
    }

    /// Whether `caller` may see `department_id`'s cases: it acts for the department, or
    /// coordinates.
    pub fn may_see(
        &self,
        department_id: &str,
        caller: Option<&Caller>,
    ) -> Result<(), HandlingError> {
        if !self.router.current().has_department(department_id) {
            return Err(HandlingError::invalid(
                "department_id",
                "is not a department in routing.toml",
            ));
        }
        if let Some(c) = caller
            && !c.acts_for(department_id)
            && !c.coordinates()
        {
            return Err(HandlingError::PermissionDenied(format!(
                "caller {} does not act for department {}",
                c.id, department_id
            )));
        }
        Ok(())
    }

    /// `WatchCases`: the department's changes from now on, if the caller may see them.
    pub fn watch(
        &self,
        department_id: &str,
        caller: Option<&Caller>,
    ) -> Result<tokio::sync::broadcast::Receiver<crate::store::CaseChange>, HandlingError> {
        self.may_see(department_id, caller)?;
        Ok(self.store.watch())
    }

    /// `GetDepartmentScores` (see [`super::scores`]).
    pub async fn scores(
        &self,
        req: pb::GetDepartmentScoresRequest,
        caller: Option<&Caller>,
    ) -> Result<pb::GetDepartmentScoresResponse, HandlingError> {
        super::scores::answer(&self.store, &self.router, req, caller).await
    }

    /// `ListCases`: a department's cases, if the caller may see them.
    pub async fn list(
        &self,
        req: pb::ListCasesRequest,
        caller: Option<&Caller>,
    ) -> Result<pb::ListCasesResponse, HandlingError> {
        self.may_see(&req.department_id, caller)?;
        let after_seq = if req.page_token.is_empty() {
            0
        } else {
            req.page_token.parse().map_err(|_| {
                HandlingError::invalid("page_token", "is not a token ListCases gave")
            })?
        };
        let limit = match req.page_size {
            0 => PAGE,
            n => n.min(MAX_PAGE),
        };
        let rows = self
            .store
            .list_cases(CaseQuery {
                department_id: req.department_id,
                statuses: req.statuses,
                due_before_ms: req.due_before.as_ref().map(crate::time::timestamp_to_ms),
                lights: req.lights,
                after_seq,
                limit,
            })
            .await?;
        let next_page_token = match rows.last() {
            Some((seq, _)) if rows.len() == limit as usize => seq.to_string(),
            _ => String::new(),
        };
        Ok(pb::ListCasesResponse {
            cases: rows.into_iter().map(|(_, c)| c).collect(),
            next_page_token,
        })
    }
}

/// Whether `caller` may send `p`: a department update for a department it acts for; a
/// coordination update only with the coordination role, and as the coordination centre.
fn authorize(p: &Parsed, router: &Router, caller: Option<&Caller>) -> Result<(), HandlingError> {
    let dept = &p.header.department_id;
    if !router.has_department(dept) {
        return Err(HandlingError::invalid(
            "header.department_id",
            "is not a department in routing.toml",
        ));
    }
    if p.action.actor() == Actor::Coordination && dept != router.coordination_centre() {
        return Err(HandlingError::invalid(
            "header.department_id",
            format!(
                "{} is for the coordination centre: department_id must be {}",
                p.action.as_str(),
                router.coordination_centre()
            ),
        ));
    }
    let Some(c) = caller else { return Ok(()) };
    if !c.acts_for(dept) {
        return Err(HandlingError::PermissionDenied(format!(
            "caller {} does not act for department {dept}",
            c.id
        )));
    }
    if p.action.actor() == Actor::Coordination && !c.coordinates() {
        return Err(HandlingError::PermissionDenied(format!(
            "{} needs the coordination role; caller {} does not have it",
            p.action.as_str(),
            c.id
        )));
    }
    Ok(())
}

/// The step that hands `case` to the department `route` names (a return, a reassignment, a
/// citizen's reopen), with the case's first report and `reason` in the REDISPATCH.
pub(super) fn move_step(
    case: crate::store::CaseSnapshot,
    route: crate::store::RouteDecision,
    encoding: Encoding,
    reason: String,
) -> Step {
    Step::Move(Box::new(Move {
        base_version: case.version,
        route,
        json: encoding == Encoding::Json,
        priority: crate::intake::pipeline::priority(&case.request),
        reason,
        ticket_id: case.ticket_id,
        accepted_at_ms: case.accepted_at_ms,
        request: case.request,
    }))
}
