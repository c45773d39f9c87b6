//! The path every report takes, whatever door it came in by:
//! validate → route → store (idempotency, case, outbox; answered after the commit).
//! Between validation and the store sit the caller's permissions and the rate limits
//! ([`crate::protect`]): validate → authorize → rate limit → route → store. Merging into open
//! cases is decided by the store (see `crate::merge`).
//!
//! Reading tickets back (`GetTicket`, search) is in `lookup`.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::error::IntakeError;
use super::validate::validate;
use crate::config::service::LimitsConfig;
use crate::pb;
use crate::router::live::LiveRouter;
use crate::store::{FollowUp, NewTicket, SplitTicket, Store, TicketView};
use crate::telemetry::Metrics;
use crate::time::ms_to_timestamp;

mod lookup;

/// Shared by every door (gRPC, HTTP adapters). Clone freely.
#[derive(Clone)]
pub struct Intake {
    store: Store,
    router: LiveRouter,
    limits: LimitsConfig,
    metrics: Arc<Metrics>,
    closing: Arc<AtomicBool>,
    /// Whether reports are sketched for merging (`[merge] enabled`), and the lexicon their
    /// spots are read with.
    merge: Option<Arc<crate::merge::Lexicon>>,
    rate_limits: Option<Arc<crate::protect::RateLimits>>,
}

/// Whether a channel is an emergency line's transfer.
pub fn is_emergency(channel: i32) -> bool {
    matches!(
        pb::Channel::try_from(channel),
        Ok(pb::Channel::Emergency110
            | pb::Channel::Emergency119
            | pb::Channel::Emergency120
            | pb::Channel::Emergency122)
    )
}

/// Publish priority (AMQP 0-9): emergency transfers first, then by urgency.
pub fn priority(req: &pb::Request) -> u8 {
    if is_emergency(req.channel) {
        return 9;
    }
    match pb::Urgency::try_from(req.urgency) {
        Ok(pb::Urgency::Critical) => 8,
        Ok(pb::Urgency::Urgent) => 5,
        _ => 0,
    }
}

/// The priority a routed report is published with: the deciding rule's, if it set one, except
/// that emergency transfers always go first.
fn routed_priority(rule: Option<u8>, req: &pb::Request) -> u8 {
    match rule {
        Some(p) if !is_emergency(req.channel) => p,
        _ => priority(req),
    }
}

impl Intake {
    pub fn new(
        store: Store,
        router: impl Into<LiveRouter>,
        limits: LimitsConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            router: router.into(),
            limits,
            metrics,
            closing: Arc::new(AtomicBool::new(false)),
            merge: None,
            rate_limits: None,
        }
    }

    /// Sketches every report for merging into open cases when `cfg.enabled` (the store
    /// decides).
    pub fn with_merge(mut self, cfg: &crate::merge::MergeConfig) -> Self {
        self.merge = cfg
            .enabled
            .then(|| Arc::new(crate::merge::Lexicon::new(&cfg.spots)));
        self
    }

    /// Applies `limits` to every Submit from now on (None: no limits).
    pub fn with_rate_limits(mut self, limits: Option<Arc<crate::protect::RateLimits>>) -> Self {
        self.rate_limits = limits;
        self
    }

    /// From now on, new Submits are refused with UNAVAILABLE (graceful shutdown).
    pub fn close(&self) {
        self.closing.store(true, Relaxed);
    }

    /// Accepts one report. Returns only after it is on disk (or found to be a replay).
    pub async fn submit(
        &self,
        req: Option<pb::Request>,
    ) -> Result<pb::SubmitResponse, IntakeError> {
        self.accept(req, None).await
    }

    /// Accepts a report that may continue a conversation: if the same reporter (`reporter_key`,
    /// e.g. `wechat:<appid>:<openid>`) had a ticket accepted within `window` whose case is still
    /// open, the report joins that case (`DISPOSITION_MERGED`; the department gets a
    /// case-updated dispatch); otherwise it opens a new case like [`Intake::submit`]. Decided
    /// inside the store's transaction, so concurrent pushes from one citizen cannot split.
    pub async fn submit_follow_up(
        &self,
        req: Option<pb::Request>,
        reporter_key: String,
        window: std::time::Duration,
    ) -> Result<pb::SubmitResponse, IntakeError> {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self.accept(
            req,
            Some(FollowUp {
                reporter_key,
                window_ms,
            }),
        )
        .await
    }

    async fn accept(
        &self,
        req: Option<pb::Request>,
        follow_up: Option<FollowUp>,
    ) -> Result<pb::SubmitResponse, IntakeError> {
        if self.closing.load(Relaxed) {
            return Err(IntakeError::ShuttingDown);
        }
        let Some(req) = req else {
            self.metrics.tickets_invalid.fetch_add(1, Relaxed);
            return Err(IntakeError::Invalid(super::validate::Invalid {
                field: "request".into(),
                message: "is required".into(),
            }));
        };
        if let Err(e) = validate(&req, &self.limits) {
            self.metrics.tickets_invalid.fetch_add(1, Relaxed);
            tracing::debug!(field = %e.field, channel = req.channel, "request refused as invalid");
            return Err(IntakeError::Invalid(e));
        }
        let caller = crate::protect::auth::current();
        if let Some(c) = &caller
            && let Err(e) = c.authorize(&req)
        {
            tracing::info!(caller = %c.id, error = %e, "request refused: not allowed for the caller");
            return Err(e);
        }
        if let Some(limits) = &self.rate_limits
            && let Err(l) = limits.check(&req, caller.as_deref().map(|c| c.id.as_str()))
        {
            tracing::info!(scope = l.scope.as_str(), channel = req.channel, retry_after = ?l.retry_after, "request refused by a rate limit");
            return Err(IntakeError::RateLimited(l));
        }
        let now = crate::time::now_ms();
        // One snapshot of the routing config routes the whole ticket (hot reload swaps it).
        let routed = self.router.current().route(&req, now);
        // Merging compares by the category routing inferred, before `note` writes it into the
        // request, so the probe knows it was inferred rather than given.
        let merge = self.merge.as_deref().map(|lex| {
            crate::merge::probe(
                &req,
                lex,
                &|_| routed.inferred.as_ref().map(|i| i.code.clone()),
                now,
            )
        });
        let mut req = req;
        crate::router::live::note(&routed, &mut req, &self.metrics);
        let ticket = NewTicket {
            merge,
            fan_out: crate::router::live::fan_out(&routed),
            priority: routed_priority(routed.priority, &req),
            emergency: is_emergency(req.channel),
            route: routed.decision,
            request: req,
            follow_up,
        };
        let channel = ticket.request.channel;
        let accepted = self.store.accept(ticket).await.inspect_err(|e| {
            if matches!(e, crate::store::StoreError::OutboxFull { .. }) {
                self.metrics
                    .tickets_refused_outbox_full
                    .fetch_add(1, Relaxed);
            }
        })?;
        if accepted.disposition == pb::Disposition::Replay {
            self.metrics.tickets_replayed.fetch_add(1, Relaxed);
        } else {
            self.metrics.tickets_accepted.fetch_add(1, Relaxed);
        }
        self.metrics.intake.record(channel, accepted.disposition);
        Ok(pb::SubmitResponse {
            ticket_id: accepted.ticket_id,
            case_id: accepted.case_id,
            disposition: accepted.disposition as i32,
            department_id: accepted.department_id,
            level: accepted.level as i32,
            due_at: Some(ms_to_timestamp(accepted.due_at_ms)),
            due_at_provisional: accepted.due_provisional,
        })
    }

    /// Moves a wrongly merged ticket into a new case of its own, routed and dispatched afresh.
    /// The caller (gRPC) must be one that could have submitted the ticket.
    pub async fn split(
        &self,
        ticket_id: &str,
        reason: &str,
    ) -> Result<pb::SplitTicketResponse, IntakeError> {
        self.check_split(ticket_id, reason)?;
        let v = self.visible_ticket(ticket_id).await?;
        let by = crate::protect::auth::current().map(|c| c.id.clone());
        self.split_view(v, reason, by, None).await
    }

    /// The console's split of a report shown on case `case_id`'s page: the operator `by` was
    /// checked against the case's department by the console, not against the system that
    /// submitted the ticket. A ticket that is not (or no longer) in that case is refused, not
    /// split from a page that did not show it.
    pub async fn split_by_operator(
        &self,
        case_id: &str,
        ticket_id: &str,
        reason: &str,
        by: &str,
    ) -> Result<pb::SplitTicketResponse, IntakeError> {
        self.check_split(ticket_id, reason)?;
        let elsewhere = || {
            IntakeError::Invalid(super::validate::Invalid {
                field: "ticket_id".into(),
                message: format!("is not (or no longer) in case {case_id}: reload the page"),
            })
        };
        let v = self
            .store
            .ticket(ticket_id)
            .await?
            .filter(|v| v.case_id == case_id)
            .ok_or_else(elsewhere)?;
        self.split_view(v, reason, Some(by.to_owned()), Some("console"))
            .await
    }

    fn check_split(&self, ticket_id: &str, reason: &str) -> Result<(), IntakeError> {
        check_ticket_id(ticket_id)?;
        if reason.chars().count() > self.limits.max_field_chars {
            return Err(IntakeError::Invalid(super::validate::Invalid {
                field: "reason".into(),
                message: format!("is longer than {} characters", self.limits.max_field_chars),
            }));
        }
        Ok(())
    }

    async fn split_view(
        &self,
        v: TicketView,
        reason: &str,
        by: Option<String>,
        via: Option<&'static str>,
    ) -> Result<pb::SplitTicketResponse, IntakeError> {
        let ticket_id = v.ticket_id.clone();
        let now = crate::time::now_ms();
        let req = v.request;
        let router = self.router.current();
        let routed = router.route(&req, now);
        let merge = self.merge.as_deref().map(|lex| {
            crate::merge::probe(
                &req,
                lex,
                &|t| router.infer_category(t).map(|i| i.code),
                now,
            )
        });
        let done = self
            .store
            .split(SplitTicket {
                ticket_id,
                json: routed.encoding == crate::config::routing::Encoding::Json,
                priority: routed_priority(routed.priority, &req),
                route: routed.decision,
                reason: reason.to_owned(),
                caller: by,
                via,
                merge,
            })
            .await?;
        Ok(pb::SplitTicketResponse {
            ticket_id: done.ticket_id,
            case_id: done.case_id,
            from_case_id: done.from_case_id,
            department_id: done.department_id,
            level: done.level as i32,
            due_at: Some(ms_to_timestamp(done.due_at_ms)),
        })
    }
}

/// A ticket number as callers may send it: non-empty and of sane length.
fn check_ticket_id(ticket_id: &str) -> Result<(), IntakeError> {
    if ticket_id.trim().is_empty() || ticket_id.len() > 64 {
        return Err(IntakeError::Invalid(super::validate::Invalid {
            field: "ticket_id".into(),
            message: "must be a ticket number such as T20261122000042".into(),
        }));
    }
    Ok(())
}
