//! One notification to one reporter, as the store keeps it and a sender sends it, and the
//! [`Sender`] trait: the one seam between the ledger (which decides what is due and records
//! what happened) and a channel's I/O (which only tries to deliver).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// How a reporter is reached. One reporter may be reached on more than one route (a hotline
/// caller gets the result by SMS and a 回访 call), but never twice on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// WeChat official account (客服消息, else template message) or mini-program (订阅消息).
    Wechat,
    /// E-mail over SMTP, in the thread of the citizen's message.
    Email,
    /// SMS through the HTTP SMS gateway.
    Sms,
}

impl Route {
    pub const ALL: [Route; 3] = [Route::Wechat, Route::Email, Route::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Wechat => "wechat",
            Route::Email => "email",
            Route::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What the notice tells the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The department completed the case: its result (办理结果).
    Result,
    /// Another reporter said the problem is not solved: the case is back with the department
    /// (二次办理). `Facts::result` says so, with the citizen's words.
    Reopened,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Result => "result",
            NoticeKind::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        match s {
            "result" => Some(NoticeKind::Result),
            "reopened" => Some(NoticeKind::Reopened),
            _ => None,
        }
    }
}

/// Where one reporter is reached: what their own report said about them and about the
/// channel it came by. Personal data: never logged unmasked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// `minhu.v1.Channel` of the reporter's ticket.
    pub channel: i32,
    /// The system that delivered the report, e.g. `wechat:<appid>` (names the WeChat account
    /// to send from) or the mailbox's system id.
    pub source_system: String,
    /// That system's id of the report: the e-mail's Message-ID (the reply threads under it),
    /// the 12345 工单编号, the WeChat MsgId.
    pub source_id: String,
    /// The e-mail's subject, when the report came by e-mail (the reply is `Re:` it).
    pub subject: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub wechat_openid: String,
    /// The report came from a mini-program (subscribe messages) rather than the official
    /// account (customer-service or template messages).
    pub miniprogram: bool,
    /// When the citizen last wrote to the account on this channel, ms since the epoch: WeChat
    /// customer-service messages are allowed only within 48 hours of it.
    pub last_seen_ms: i64,
}

/// What the case came to, as of the commit that planned the notice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    pub case_id: String,
    /// The reporter's own ticket, and the id they were given for it (shown to them).
    pub ticket_id: String,
    /// What the citizen reported: their own title, else the start of their description.
    pub title: String,
    pub category: String,
    /// The department that completed the case: id and display name.
    pub department_id: String,
    pub department_name: String,
    /// The result in the department's words (办理结果).
    pub result: String,
    /// When the case was completed, ms since the epoch.
    pub completed_at_ms: i64,
    /// When the citizen reported it, ms since the epoch.
    pub reported_at_ms: i64,
    /// The follow-up link (回访) to the rating form, filled in when sent (empty when
    /// `[feedback]` is off or the notice asks for no rating).
    pub rate_url: String,
}

impl Facts {
    /// The placeholders a notifier's message template may use (see
    /// [`minhu_adapter::template`]).
    pub const PLACEHOLDERS: &'static [&'static str] = &[
        "case_id",
        "ticket_id",
        "title",
        "category",
        "department",
        "result",
        "completed_at",
        "reported_at",
        "rate_url",
    ];

    /// The values of [`Facts::PLACEHOLDERS`]; times as `YYYY-MM-DD HH:MM` in Beijing time.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let department = if self.department_name.is_empty() {
            self.department_id.clone()
        } else {
            self.department_name.clone()
        };
        vec![
            ("case_id", self.case_id.clone()),
            ("ticket_id", self.ticket_id.clone()),
            ("title", self.title.clone()),
            ("category", self.category.clone()),
            ("department", department),
            ("result", self.result.clone()),
            (
                "completed_at",
                crate::time::local_minute(self.completed_at_ms),
            ),
            (
                "reported_at",
                crate::time::local_minute(self.reported_at_ms),
            ),
            ("rate_url", self.rate_url.clone()),
        ]
    }
}

/// One notice due to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Stable across retries and restarts: senders pass it on wherever the channel has a
    /// place for a message id (the e-mail's Message-ID, the SMS gateway's request id), so a
    /// receiver can drop the copy a crash between sending and recording makes.
    pub notice_id: String,
    pub kind: NoticeKind,
    pub route: Route,
    pub address: Address,
    pub facts: Facts,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What a sender made of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Handed over. `via` says how (e.g. `wechat.custom`, `wechat.template`, `smtp`), `receipt`
    /// what the far side answered (a msgid, the SMTP reply), for the ledger.
    Sent { via: String, receipt: String },
    /// Failed for now (network, busy, a 5xx): tried again after the backoff, or `after` when
    /// the far side said how long to wait.
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// Not to be sent before `until_ms` (quiet hours); not counted as an attempt.
    Held { until_ms: i64, why: String },
    /// Can never be delivered this way (unsubscribed, no such mailbox, no template
    /// configured): recorded and counted, not retried.
    Unreachable { reason: String },
}

/// A channel's sender: tries once to deliver one notice. It never touches the store; the
/// worker records what it answers.
pub trait Sender: Send + Sync + 'static {
    /// Tries to deliver `notice` at `now_ms` (ms since the epoch, from the injected clock).
    fn send<'a>(&'a self, notice: &'a Notice, now_ms: i64) -> BoxFuture<'a, Delivery>;
}

/// The configured senders, by route. A route without a sender leaves its notices recorded as
/// unreachable ("no sender configured"), so they do not pile up as due.
#[derive(Clone, Default)]
pub struct Senders {
    by_route: HashMap<Route, Arc<dyn Sender>>,
}

impl Senders {
    pub fn with(mut self, route: Route, sender: Arc<dyn Sender>) -> Self {
        self.by_route.insert(route, sender);
        self
    }

    pub fn get(&self, route: Route) -> Option<&Arc<dyn Sender>> {
        self.by_route.get(&route)
    }

    pub fn is_empty(&self) -> bool {
        self.by_route.is_empty()
    }
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut routes: Vec<_> = self.by_route.keys().map(|r| r.as_str()).collect();
        routes.sort_unstable();
        f.debug_struct("Senders").field("routes", &routes).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_has_a_value() {
        let vars = Facts::default().vars();
        let names: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, Facts::PLACEHOLDERS);
    }
}
