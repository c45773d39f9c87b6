//! The notifier: sends due notices through the channels' senders and records what became of
//! each attempt in the sent-ledger.
//!
//! It wakes when a completion commits notices ([`Store::notices_ready`]) and once a tick
//! (retries and holds fall due by the clock; a restart finds what was pending). Each look
//! probes the ledger's partial index for the earliest due time, so an idle notifier costs one
//! index probe a tick. Outcomes are recorded in small groups as attempts finish, not at the
//! end of a pass, so a crash re-sends as little as possible: a notice is sent at least once
//! and recorded once, and every sender passes the stable `notice_id` on wherever its channel
//! has room for a message id, so a receiver can drop the copy a crash makes.
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::metrics::Counted;
use super::notice::{Delivery, Notice, NoticeKind, Senders};
use crate::clocks::SharedClock;
use crate::config::notify::NotifyConfig;
use crate::router::live::LiveRouter;
use crate::store::{Recorded, Store};

/// How often the notifier looks for retries that fell due.
pub const TICK: Duration = Duration::from_secs(1);

/// The retry policy, from `[notify]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub concurrency: usize,
}

impl From<&NotifyConfig> for RetryPolicy {
    fn from(c: &NotifyConfig) -> Self {
        Self {
            max_attempts: c.max_attempts.max(1),
            backoff: c.backoff,
            max_backoff: c.max_backoff,
            concurrency: c.concurrency.max(1),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt: `backoff`, doubling, capped.
    pub fn wait(&self, attempts: u32) -> Duration {
        let doubled = self
            .backoff
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        doubled.min(self.max_backoff)
    }

    /// What the ledger records of `delivery`, the outcome of an attempt at `notice` made at
    /// `now`, and how it is counted.
    pub fn decide(&self, notice: &Notice, delivery: Delivery, now: i64) -> (Recorded, Counted) {
        match delivery {
            Delivery::Sent { via, receipt } => (Recorded::Sent { via, receipt }, Counted::Sent),
            Delivery::Unreachable { reason } => {
                (Recorded::Unreachable { reason }, Counted::Unreachable)
            }
            Delivery::Held { until_ms, why } => (
                Recorded::Again {
                    next_at: until_ms.max(now + 1),
                    error: why,
                    attempted: false,
                },
                Counted::Held,
            ),
            Delivery::Retry { error, after } => {
                let made = notice.attempts + 1;
                if made >= self.max_attempts {
                    let error = format!("{made} attempts failed; the last: {error}");
                    return (Recorded::Dead { error }, Counted::Dead);
                }
                let wait = after.unwrap_or_else(|| self.wait(made));
                let next_at = now.saturating_add(wait.as_millis().min(i64::MAX as u128) as i64);
                (
                    Recorded::Again {
                        next_at,
                        error,
                        attempted: true,
                    },
                    Counted::Retried,
                )
            }
        }
    }
}

/// Follow-up links (回访) put into result notices: `<public_url>/v1/feedback/<token>`.
#[derive(Debug, Clone)]
pub struct FollowUpLinks {
    pub links: crate::handling::followup_link::Links,
    /// `[feedback] public_url`, without a trailing `/`.
    pub public_url: String,
    /// How long a link stays valid after the completion.
    pub ttl: Duration,
}

impl FollowUpLinks {
    /// From `[feedback]`; None when it is off (or its key cannot be read: `check` says why).
    pub fn from_config(cfg: &crate::config::feedback::FeedbackConfig) -> Option<Self> {
        if !cfg.enabled() {
            return None;
        }
        let key = cfg.signing_key().ok()?;
        Some(Self {
            links: crate::handling::followup_link::Links::new(key.as_bytes()),
            public_url: cfg.public_url.trim_end_matches('/').to_owned(),
            ttl: cfg.link_ttl,
        })
    }

    /// The link for a notice about `facts`.
    pub fn url(&self, facts: &super::Facts) -> String {
        let expires = facts
            .completed_at_ms
            .saturating_add(self.ttl.as_millis().min(i64::MAX as u128) as i64);
        format!(
            "{}/v1/feedback/{}",
            self.public_url,
            self.links.token(&facts.ticket_id, expires)
        )
    }
}

/// Everything the notifier needs.
pub struct Notifier {
    pub store: Store,
    pub senders: Senders,
    pub router: LiveRouter,
    pub clock: SharedClock,
    pub policy: RetryPolicy,
    pub tick: Duration,
    pub metrics: Arc<crate::telemetry::Metrics>,
    /// Follow-up links for result notices (None: `[feedback]` is off).
    pub follow_up: Option<FollowUpLinks>,
}

impl Notifier {
    /// Runs until `stop`. A look under way when `stop` comes finishes (its sends complete and
    /// are recorded); the caller bounds the wait.
    pub async fn run(self, stop: CancellationToken) {
        let ready = self.store.notices_ready();
        let mut interval = tokio::time::interval(self.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = ready.notified() => {}
                _ = interval.tick() => {}
            }
            self.look(&stop).await;
        }
    }

    /// Sends everything due now, batch after batch.
    pub async fn look(&self, stop: &CancellationToken) {
        let now = self.clock.now_ms();
        match self.store.next_notice_due().await {
            Ok(Some(at)) if at <= now => {}
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "notifier: cannot read due notices");
                return;
            }
        }
        let batch = self.policy.concurrency * 4;
        // Bounded: a notice the senders leave due (a hold until now) must not spin.
        for _ in 0..1000 {
            if stop.is_cancelled() {
                return;
            }
            let due = match self.store.due_notices(now, batch).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier: cannot read due notices");
                    return;
                }
            };
            let full = due.len() == batch;
            if due.is_empty() {
                return;
            }
            self.send_all(due, now).await;
            if !full {
                return;
            }
        }
    }

    /// Sends `due` with the configured concurrency, recording outcomes as they come in.
    ///
    /// Sending and recording run side by side: while one group of outcomes is committed, the
    /// sends go on, and what finishes meanwhile forms the next group. Recording inside the
    /// sending loop stopped every send for each commit (queued behind the completions' in the
    /// one writer), at most `concurrency` outcomes per commit (BENCHMARKS.md, issue 15). All
    /// are recorded before this returns, so the next look reads the ledger as it is.
    async fn send_all(&self, due: Vec<Notice>, now: i64) {
        let router = self.router.current();
        let (finished, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
        let sending = async move {
            let attempts = futures::stream::iter(due.into_iter().map(|mut n| {
                if let Some(d) = router
                    .departments()
                    .iter()
                    .find(|d| d.id == n.facts.department_id)
                {
                    n.facts.department_name.clone_from(&d.name);
                }
                if let Some(f) = self
                    .follow_up
                    .as_ref()
                    .filter(|_| n.kind == NoticeKind::Result)
                {
                    n.facts.rate_url = f.url(&n.facts);
                }
                async move {
                    let delivery = match self.senders.get(n.route) {
                        Some(s) => s.send(&n, self.clock.now_ms()).await,
                        None => Delivery::Unreachable {
                            reason: format!(
                                "no {} sender configured ([notify.{}] enabled = false)",
                                n.route.as_str(),
                                n.route.as_str()
                            ),
                        },
                    };
                    (n, delivery)
                }
            }))
            .buffer_unordered(self.policy.concurrency);
            tokio::pin!(attempts);
            while let Some(done) = attempts.next().await {
                // Cannot fail: the receiver is read until this sender is dropped, below.
                let _ = finished.send(done);
            }
        };
        let recording = async {
            let mut done = Vec::new();
            let most = self.policy.concurrency * 4;
            while outcomes.recv_many(&mut done, most).await > 0 {
                self.record(std::mem::take(&mut done), now).await;
            }
        };
        tokio::join!(sending, recording);
    }

    /// Records one group of finished attempts in one commit, and counts them once it holds.
    async fn record(&self, done: Vec<(Notice, Delivery)>, now: i64) {
        let at = self.clock.now_ms().max(now);
        let mut records = Vec::with_capacity(done.len());
        let mut counts = Vec::with_capacity(done.len());
        for (n, delivery) in done {
            let (r, counted) = self.policy.decide(&n, delivery, at);
            if let Recorded::Again { error, .. } | Recorded::Dead { error } = &r {
                tracing::info!(notice_id = %n.notice_id, route = n.route.as_str(),
                               attempts = n.attempts + 1, error = %error,
                               "notice not delivered yet");
            }
            counts.push((n.route, counted));
            records.push((n.notice_id, r));
        }
        match self.store.record_notices(records, at).await {
            Ok(_) => {
                for (route, counted) in counts {
                    self.metrics.notify.attempt(route, counted);
                }
            }
            // Not recorded: the notices stay due and go out again (at least once).
            Err(e) => tracing::warn!(error = %e, "notifier: cannot record outcomes"),
        }
    }
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod store_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{NoticeKind, Route};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(100),
            concurrency: 4,
        }
    }

    fn notice(attempts: u32) -> Notice {
        Notice {
            notice_id: "C/1/result/0".into(),
            kind: NoticeKind::Result,
            route: Route::Sms,
            address: Default::default(),
            facts: Default::default(),
            attempts,
        }
    }

    fn retry() -> Delivery {
        Delivery::Retry {
            error: "busy".into(),
            after: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_dead_letters() {
        let p = policy();
        assert_eq!(p.wait(1), Duration::from_secs(30));
        assert_eq!(p.wait(2), Duration::from_secs(60));
        assert_eq!(p.wait(3), Duration::from_secs(100));
        assert_eq!(p.wait(40), Duration::from_secs(100));
        let (r, c) = p.decide(&notice(0), retry(), 1_000);
        assert_eq!(c, Counted::Retried);
        assert_eq!(
            r,
            Recorded::Again {
                next_at: 31_000,
                error: "busy".into(),
                attempted: true
            }
        );
        let (r, c) = p.decide(&notice(1), retry(), 1_000);
        assert_eq!(
            (c, &r),
            (
                Counted::Retried,
                &Recorded::Again {
                    next_at: 61_000,
                    error: "busy".into(),
                    attempted: true
                }
            )
        );
        let (r, c) = p.decide(&notice(2), retry(), 1_000);
        assert_eq!(c, Counted::Dead);
        assert_eq!(
            r,
            Recorded::Dead {
                error: "3 attempts failed; the last: busy".into()
            }
        );
    }

    #[test]
    fn a_follow_up_link_names_the_ticket_until_the_ttl_after_completion() {
        let cfg = crate::config::feedback::FeedbackConfig {
            public_url: "https://minhu.example.gov.cn/".into(),
            key: "k".repeat(32),
            link_ttl: Duration::from_secs(3600),
            ..Default::default()
        };
        let f = FollowUpLinks::from_config(&cfg).expect("on");
        let facts = crate::notify::Facts {
            ticket_id: "T20261206000001".into(),
            completed_at_ms: 1_000_000,
            ..Default::default()
        };
        let url = f.url(&facts);
        let token = url
            .strip_prefix("https://minhu.example.gov.cn/v1/feedback/")
            .expect("under the public URL, without a double slash");
        let links = crate::handling::followup_link::Links::new(cfg.key.as_bytes());
        assert_eq!(
            links.verify(token, 1_000_000 + 3_599_999).as_deref(),
            Ok("T20261206000001")
        );
        assert!(links.verify(token, 1_000_000 + 3_600_000).is_err());
        // Off without a public URL.
        let off = crate::config::feedback::FeedbackConfig::default();
        assert!(FollowUpLinks::from_config(&off).is_none());
    }

    #[test]
    fn a_hold_is_not_an_attempt_and_a_told_wait_wins() {
        let p = policy();
        let (r, c) = p.decide(
            &notice(2),
            Delivery::Held {
                until_ms: 5_000,
                why: "quiet hours".into(),
            },
            1_000,
        );
        assert_eq!(c, Counted::Held);
        assert_eq!(
            r,
            Recorded::Again {
                next_at: 5_000,
                error: "quiet hours".into(),
                attempted: false
            }
        );
        let (r, _) = p.decide(
            &notice(0),
            Delivery::Retry {
                error: "45009".into(),
                after: Some(Duration::from_secs(2)),
            },
            1_000,
        );
        assert!(matches!(r, Recorded::Again { next_at: 3_000, .. }));
    }
}
