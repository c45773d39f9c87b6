//! The handle's calls for the closed loop after the hand-off: deadlines recounted, the
//! scheduler's passes, departments' updates, ratings and scores, and the notices ledger. Each
//! write goes to the writer thread as one command; reads go to the reader pool.
use std::sync::Arc;

use super::commands::Command;
use super::{
    CaseChange, CaseLoop, CaseUpdate, Decided, Fired, KeptScore, Lookup, NewRating, NoticeView,
    PlannedNotices, ProvisionalDeadline, Rated, RatingView, Recorded, Recount, Store, StoreError,
    case_history, case_scores, deadlines, notices, ratings, score_summaries,
};
use crate::pb;

impl Store {
    /// Every provisional deadline of an open case (see `deadlines`).
    pub async fn provisional_deadlines(&self) -> Result<Vec<ProvisionalDeadline>, StoreError> {
        self.reader.with(deadlines::list).await
    }

    /// Applies recounted deadlines in one transaction, with a `CASE_UPDATED` dispatch for each
    /// one that moved. Returns how many dispatches that made.
    pub async fn apply_recounts(&self, recounts: Vec<Recount>) -> Result<usize, StoreError> {
        self.call(|reply| Command::Recount(recounts, reply)).await
    }

    /// The scheduler's pass: evaluates up to `limit` units whose clocks are due at `now` and
    /// writes their light changes and escalations to the outbox.
    pub async fn fire_due(
        &self,
        now: i64,
        lookup: Lookup,
        limit: usize,
    ) -> Result<Fired, StoreError> {
        if !self.lease.held() {
            return Ok(Fired::default());
        }
        let fired = self
            .call(|reply| Command::FireDue(now, lookup, limit, reply))
            .await?;
        for c in &fired.changes {
            self.changes.send(&c.department_id, c.change.clone());
        }
        Ok(fired)
    }

    /// Committed changes of cases from now on (`WatchCases`).
    pub fn watch(&self) -> tokio::sync::broadcast::Receiver<CaseChange> {
        self.changes.subscribe()
    }

    /// The closed loop's side of a case for `GetTicket`: deadlines, light at `now`, history.
    pub async fn case_loop(&self, case_id: &str, now: i64) -> Result<Option<CaseLoop>, StoreError> {
        let case_id = case_id.to_owned();
        self.reader
            .with(move |c| case_history::case_loop(c, &case_id, now))
            .await
    }

    /// The earliest instant any unit's clocks are due (None: none pending). One probe of the
    /// partial index, so the scheduler can ask every tick.
    pub async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        self.reader
            .with(|c| {
                Ok(c.prepare_cached(
                    "SELECT MIN(next_at) FROM unit_clocks WHERE next_at IS NOT NULL",
                )?
                .query_row([], |r| r.get::<Option<i64>>(0))?)
            })
            .await
    }

    /// Decides a department's update and applies it with its audit entry, ledger row and
    /// messages in one transaction (see `updates`).
    pub async fn update(&self, u: CaseUpdate) -> Result<Decided, StoreError> {
        let action = u.action;
        let d = self
            .call(|reply| Command::Update(Box::new(u), reply))
            .await?;
        if d.outcome.applied && !d.replay && self.changes.watched() {
            self.tell_watchers(action, &d);
        }
        self.planned(&d.notices);
        Ok(d)
    }

    /// Records a reporter's rating; a "not solved" reopens the case or sends it to
    /// supervision in the same transaction (see `ratings`).
    pub async fn rate(&self, r: NewRating) -> Result<Rated, StoreError> {
        let rated = self.call(|reply| Command::Rate(Box::new(r), reply)).await?;
        self.planned(&rated.notices);
        Ok(rated)
    }

    /// Every rating of a case, oldest first.
    pub async fn ratings_of_case(&self, case_id: &str) -> Result<Vec<RatingView>, StoreError> {
        let id = case_id.to_owned();
        self.reader.with(move |c| ratings::of_case(c, &id)).await
    }

    /// The kept 谁呼谁评 scores counted in `period` (with `department_id`, only that
    /// department's), and every department's returns in it (see `case_scores`).
    pub async fn scores_in(
        &self,
        period: crate::scores::Period,
        department_id: Option<String>,
    ) -> Result<(Vec<KeptScore>, Vec<(String, u32)>), StoreError> {
        self.reader
            .with(move |c| {
                Ok((
                    case_scores::in_period(c, period, department_id.as_deref())?,
                    case_scores::returns_in(c, period)?,
                ))
            })
            .await
    }

    /// One department's kept scores counted in `period`, whole (facts and parts), for its
    /// per-case detail.
    pub async fn department_scores_in(
        &self,
        period: crate::scores::Period,
        department_id: String,
    ) -> Result<Vec<KeptScore>, StoreError> {
        self.reader
            .with(move |c| case_scores::in_period(c, period, Some(&department_id)))
            .await
    }

    /// What the 谁呼谁评 ranking of `period` counts: every score in it, without its parts
    /// (read from the summary columns alone), and every department's returns in it.
    pub async fn ranking_in(
        &self,
        period: crate::scores::Period,
    ) -> Result<(Vec<crate::scores::CaseScore>, Vec<(String, u32)>), StoreError> {
        self.reader
            .with(move |c| {
                Ok((
                    score_summaries::ranking_in(c, period)?,
                    case_scores::returns_in(c, period)?,
                ))
            })
            .await
    }

    /// Counts committed notices and wakes the notifier for them.
    fn planned(&self, p: &PlannedNotices) {
        let notify = &self.metrics.notify;
        for route in &p.routes {
            notify.planned(*route);
        }
        for skip in &p.skipped {
            notify.skipped(*skip);
        }
        for system in &p.returned {
            notify.returned(system);
        }
        if !p.routes.is_empty() {
            self.notices_ready.notify_one();
        }
    }

    /// Up to `limit` notices to citizens due at `now`, earliest first.
    pub async fn due_notices(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<crate::notify::Notice>, StoreError> {
        // Sent by the gateway that runs the timers (see `gateways`).
        if !self.lease.held() {
            return Ok(Vec::new());
        }
        let seal = self.seal.clone();
        self.reader
            .with(move |c| notices::due(c, &seal, now, limit))
            .await
    }

    /// The earliest instant a notice is due (None: none pending).
    pub async fn next_notice_due(&self) -> Result<Option<i64>, StoreError> {
        self.reader.with(notices::next_due).await
    }

    /// Records the outcomes of the notifier's attempts at `now`; returns how many were still
    /// pending.
    pub async fn record_notices(
        &self,
        records: Vec<(String, Recorded)>,
        now: i64,
    ) -> Result<usize, StoreError> {
        self.call(|reply| Command::RecordNotices(records, now, reply))
            .await
    }

    /// Every notice of a case, skipped reporters included, in planning order.
    pub async fn notices_of_case(&self, case_id: &str) -> Result<Vec<NoticeView>, StoreError> {
        let id = case_id.to_owned();
        self.reader.with(move |c| notices::of_case(c, &id)).await
    }

    /// Woken whenever a commit planned notices.
    pub fn notices_ready(&self) -> Arc<tokio::sync::Notify> {
        self.notices_ready.clone()
    }

    /// An applied update, to the holder (and to the department the case left).
    fn tell_watchers(&self, action: crate::handling::machine::Action, d: &Decided) {
        use pb::case_change::Kind;
        let o = &d.outcome;
        let change = |department_id: &str, kind: Kind| pb::CaseChange {
            case_id: o.case_id.clone(),
            department_id: department_id.to_owned(),
            kind: kind as i32,
            status: o.status,
            version: o.case_version,
            action: action.as_str().to_owned(),
            at: o.decided_at,
            ..Default::default()
        };
        let holder = &o.holder_department_id;
        if let Some(left) = &d.left {
            self.changes.send(left, change(left, Kind::Left));
            self.changes.send(holder, change(holder, Kind::Assigned));
        } else {
            self.changes.send(holder, change(holder, Kind::Updated));
        }
    }
}
