//! 总览 Overview: intake per channel over the last hour (per minute), new cases and merged
//! reports, replays, the outbox, the broker and the calendar. The numbers come from the store
//! (tickets by time, on a read connection) and the process's metrics; the page keeps them
//! current over server-sent events (`/console/events`), which end with the session.
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use maud::{Markup, html};

use super::ConsoleState;
use super::error::ConsoleError;
use super::layout::{self, Nav};
use super::session::Operator;
use crate::pb;

/// How often the live numbers are sent.
const TICK: Duration = Duration::from_secs(2);
const MINUTES: i64 = 60;

/// What the overview shows at one instant.
#[derive(Debug, Default)]
struct Snapshot {
    /// Per channel name: tickets per minute, oldest first ([`MINUTES`] of them).
    per_minute: BTreeMap<String, Vec<u32>>,
    new_cases: u32,
    merged: u32,
    replayed: u64,
    outbox: i64,
    broker: bool,
    provisional: Vec<String>,
    /// How long the outbox has waited for a broker confirm (a stalled relay shows here, as
    /// on `/readyz` and in `minhu_relay_last_confirm_age_seconds`).
    relay: Option<crate::telemetry::confirms::RelayHealth>,
    /// The department queues the operator may see, as last read from the broker.
    queues: Vec<crate::telemetry::queues::QueueDepth>,
    /// When they were read.
    queues_at: Option<i64>,
}

impl Snapshot {
    async fn read(s: &ConsoleState, op: &Operator) -> Result<Self, ConsoleError> {
        let now = crate::time::now_ms();
        let first_minute = now / 60_000 - (MINUTES - 1);
        let counts = s
            .store
            .console_intake(first_minute * 60_000, op.departments())
            .await?;
        let mut snap = Snapshot::default();
        for c in counts {
            let series = snap
                .per_minute
                .entry(layout::channel(c.channel))
                .or_insert_with(|| vec![0; MINUTES as usize]);
            if let Some(slot) = usize::try_from(c.minute - first_minute)
                .ok()
                .and_then(|i| series.get_mut(i))
            {
                *slot += c.count;
            }
            if c.disposition == pb::Disposition::Merged as i32 {
                snap.merged += c.count;
            } else {
                snap.new_cases += c.count;
            }
        }
        snap.replayed = s.metrics.tickets_replayed.load(Relaxed);
        snap.outbox = s.metrics.outbox_depth.load(Relaxed);
        snap.broker = s.metrics.broker_connected.load(Relaxed) == 1;
        snap.relay = Some(s.metrics.relay.health());
        let reading = s.metrics.queues.reading();
        snap.queues_at = reading.at_ms;
        snap.queues = reading
            .queues
            .into_values()
            .filter(|q| op.may_see(&q.department_id))
            .collect();
        snap.provisional = s
            .router
            .current()
            .provisional_years(now)
            .iter()
            .map(|p| p.year.to_string())
            .collect();
        Ok(snap)
    }

    /// The cards' live values, keyed as their `data-live` attributes (the tables' cells come
    /// with their tables, in [`Self::live_html`]).
    fn live(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("new".into(), self.new_cases.to_string());
        m.insert("merged".into(), self.merged.to_string());
        m.insert("replayed".into(), self.replayed.to_string());
        m.insert("outbox".into(), self.outbox.to_string());
        m.insert("broker".into(), self.broker_label().into());
        m.insert("calendar".into(), self.calendar_label());
        m.insert("relay".into(), relay_label(self.relay));
        m
    }

    /// The parts of the page sent as server-rendered HTML, keyed as their `data-live-html`
    /// attributes (escaped by the template, like the page itself).
    fn live_html(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("intake", intake_table(self).into_string()),
            ("queues", queue_table(self).into_string()),
        ])
    }

    fn broker_label(&self) -> &'static str {
        if self.broker {
            "已连接 connected"
        } else {
            "未连接 disconnected"
        }
    }

    fn calendar_label(&self) -> String {
        if self.provisional.is_empty() {
            "正式 official".into()
        } else {
            format!("临时 provisional: {}", self.provisional.join(", "))
        }
    }
}

/// The relay's state in words: confirms flowing, rows waiting, or stalled past
/// `[amqp] confirm_stall_after`.
fn relay_label(h: Option<crate::telemetry::confirms::RelayHealth>) -> String {
    match h {
        None => "正常 ok".into(),
        Some(h) if h.waiting.is_zero() => "正常 ok".into(),
        Some(h) if h.stalled() => format!(
            "停滞 stalled: {} s 无确认 without a confirm",
            h.waiting.as_secs()
        ),
        Some(h) => format!("等待确认 waiting {} s", h.waiting.as_secs()),
    }
}

/// A queue's ready messages, or that it is missing.
fn queued(q: &crate::telemetry::queues::QueueDepth) -> String {
    q.messages
        .map_or_else(|| "缺失 missing".into(), |n| n.to_string())
}

/// A bar per minute, drawn on the server (attributes only: the CSP allows no inline style).
fn sparkline(series: &[u32]) -> Markup {
    let max = series.iter().copied().max().unwrap_or(0).max(1);
    html! {
        svg.spark width="240" height="32" viewBox="0 0 240 32" role="img" aria-label="per minute" {
            @for (i, v) in series.iter().enumerate() {
                @let h = (*v as f64 / max as f64 * 30.0).ceil();
                rect x=(i * 4) y=(32.0 - h) width="3" height=(h) {}
            }
        }
    }
}

/// Intake per channel: a row per channel seen in the last hour, with its count and a bar per
/// minute. Sent whole over the live feed too, so a new channel's row and every sparkline
/// move without a reload.
fn intake_table(snap: &Snapshot) -> Markup {
    html! {
        @if snap.per_minute.is_empty() {
            p.empty { "最近一小时无受理 No reports in the last hour" }
        } @else {
            table #intake {
                thead { tr { th { "渠道 Channel" } th { "数量 Count" } th { "每分钟 Per minute" } } }
                tbody {
                    @for (ch, series) in &snap.per_minute {
                        tr {
                            td { (ch) }
                            td.num data-cell=(format!("ch-{ch}")) { (series.iter().sum::<u32>()) }
                            td { (sparkline(series)) }
                        }
                    }
                }
            }
        }
    }
}

/// The department queues as last read from the broker (sent whole over the live feed, so
/// the table appears with the first reading).
fn queue_table(snap: &Snapshot) -> Markup {
    html! {
        @if snap.queues.is_empty() {
            p.empty { "尚未读取 Not read from the broker yet" }
        } @else {
            table #queues {
                thead { tr { th { "部门 Department" } th { "队列 Queue" } th { "待取 Waiting" } th { "消费者 Consumers" } } }
                tbody {
                    @for q in &snap.queues {
                        tr class=[(q.consumers == 0).then_some("idle")] {
                            td { (q.department_id) }
                            td { code { (q.queue) } }
                            td.num data-cell=(format!("q-{}", q.department_id)) { (queued(q)) }
                            td.num data-cell=(format!("qc-{}", q.department_id)) { (q.consumers) }
                        }
                    }
                }
            }
            p.note { "读取于 Read at " span data-cell="queues-at" { (snap.queues_at.map(layout::when).unwrap_or_default()) } " (每 10 秒 every 10 s)" }
        }
    }
}

fn card(key: &str, zh: &str, en: &str, value: &str) -> Markup {
    html! {
        div.card {
            div.label { (zh) " " small { (en) } }
            div.value data-live=(key) { (value) }
        }
    }
}

pub async fn page(
    State(s): State<ConsoleState>,
    op: Operator,
) -> Result<Html<String>, ConsoleError> {
    let snap = Snapshot::read(&s, &op).await?;
    let body = html! {
        section.cards data-events="/console/events" {
            (card("new", "新案件", "new cases, last hour", &snap.new_cases.to_string()))
            (card("merged", "合并", "merged, last hour", &snap.merged.to_string()))
            (card("replayed", "重复提交", "replayed since start", &snap.replayed.to_string()))
            (card("outbox", "待发送", "outbox depth", &snap.outbox.to_string()))
            (card("broker", "消息队列", "broker", snap.broker_label()))
            (card("relay", "发送确认", "broker confirms", &relay_label(snap.relay)))
            (card("calendar", "工作日历", "calendar", &snap.calendar_label()))
        }
        h2 { "各渠道受理 " small { "intake per channel, last hour, per minute" } }
        div data-live-html="intake" { (intake_table(&snap)) }
        h2 { "部门队列 " small { "department queues: messages waiting, consumers reading" } }
        div data-live-html="queues" { (queue_table(&snap)) }
        p.note { "实时更新 Live: " span #live-state { "连接中 connecting" } }
    };
    Ok(layout::page("Overview", Nav::Overview, &op, body))
}

/// Server-sent events: one JSON object every [`TICK`] until the session ends (logout or
/// expiry) or the page goes away. `text` holds the values for `data-live` elements, `html`
/// the server-rendered tables for `data-live-html` elements.
pub async fn events(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    _op: Operator,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold((s, headers, true), |(s, headers, first)| async move {
        if !first {
            tokio::time::sleep(TICK).await;
        }
        // Each tick re-checks the session, so a logout also ends an open page's feed.
        let op = s.sessions.operator(&headers)?;
        let event = match Snapshot::read(&s, &op).await {
            Ok(snap) => Event::default()
                .event("overview")
                .json_data(serde_json::json!({ "text": snap.live(), "html": snap.live_html() }))
                .unwrap_or_else(|_| Event::default().comment("unencodable")),
            Err(e) => {
                tracing::warn!(error = %e, "console: overview read failed");
                Event::default().comment("read failed")
            }
        };
        Some((Ok(event), (s, headers, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::relay_label;
    use crate::telemetry::confirms::RelayHealth;

    #[test]
    fn the_relay_reads_ok_waiting_or_stalled() {
        let h = |waiting| {
            Some(RelayHealth {
                waiting: Duration::from_secs(waiting),
                stall_after: Duration::from_secs(60),
            })
        };
        assert_eq!(relay_label(h(0)), "正常 ok");
        assert_eq!(relay_label(h(5)), "等待确认 waiting 5 s");
        assert_eq!(
            relay_label(h(75)),
            "停滞 stalled: 75 s 无确认 without a confirm"
        );
    }
}
