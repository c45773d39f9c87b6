//! The AMQP properties and headers a row is published with (a contract in DESIGN.md):
//! consumers route on `type`, decode by `content_type`, dedupe by `message_id` and can filter on
//! the `x-minhu-*` headers without decoding the body.
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use super::OutboxMessage;
use super::kinds::{DISPATCH_TYPE, PROTOBUF};

/// `delivery_mode` 2: the broker writes the message to disk.
pub const PERSISTENT: u8 = 2;
/// Header with the case id the dispatch belongs to.
pub const HEADER_CASE_ID: &str = "x-minhu-case-id";
/// Header with the channel enum name, e.g. `CHANNEL_WECHAT`.
pub const HEADER_CHANNEL: &str = "x-minhu-channel";
/// Header with the response level, `A` to `D`.
pub const HEADER_LEVEL: &str = "x-minhu-level";
/// Highest AMQP priority Minhu uses (emergency channels).
pub const MAX_PRIORITY: u8 = 9;

/// The properties for publishing `msg`.
///
/// Header values are AMQP long strings: RabbitMQ does not accept the short-string field type
/// in tables. `message_id` is the dispatch id, unchanged across re-publishes, so consumers can
/// drop duplicates.
pub fn properties(msg: &OutboxMessage) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (name, value) in [
        (HEADER_CASE_ID, &msg.case_id),
        (HEADER_CHANNEL, &msg.channel),
        (HEADER_LEVEL, &msg.level),
    ] {
        headers.insert(
            name.into(),
            AMQPValue::LongString(LongString::from(value.as_bytes())),
        );
    }
    let (content_type, message_type) = msg
        .content
        .as_ref()
        .map_or((PROTOBUF, DISPATCH_TYPE), |(c, m)| (c.as_str(), m.as_str()));
    BasicProperties::default()
        .with_content_type(short_lossy(content_type))
        .with_type(short_lossy(message_type))
        .with_delivery_mode(PERSISTENT)
        .with_message_id(short_lossy(&msg.dispatch_id))
        .with_timestamp(timestamp_secs(msg.created_at_ms))
        .with_priority(msg.priority.min(MAX_PRIORITY))
        .with_headers(headers)
}

/// True when `s` fits an AMQP short string (at most 255 bytes). The relay checks the dispatch
/// id and routing key with this before publishing: a row that cannot be published as it is
/// stays in the outbox (and is reported) instead of being cut short.
pub fn fits_short_string(s: &str) -> bool {
    ShortString::try_new(s).is_ok()
}

/// `s` as a short string; never panics (lapin's `From<&str>` does on over-long input).
/// Over-long input is cut at a character boundary, which the relay never lets happen for the
/// fields that matter (see [`fits_short_string`]).
pub fn short_lossy(s: &str) -> ShortString {
    if let Ok(v) = ShortString::try_new(s) {
        return v;
    }
    let mut end = 255;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::try_new(&s[..end]).unwrap_or_default()
}

/// AMQP timestamps are whole seconds since the epoch; times before the epoch become 0.
fn timestamp_secs(ms: i64) -> u64 {
    u64::try_from(ms.div_euclid(1000)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> OutboxMessage {
        OutboxMessage {
            id: 42,
            dispatch_id: "D20261122000042".into(),
            routing_key: "dept.cgj".into(),
            priority: 9,
            case_id: "C20261122000007".into(),
            channel: "CHANNEL_EMERGENCY_119".into(),
            level: "D".into(),
            created_at_ms: 1_795_000_123_456,
            payload: vec![1, 2, 3],
            attempts: 0,
            content: None,
        }
    }

    fn header<'a>(p: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
        p.headers().as_ref()?.inner().get(name)
    }

    #[test]
    fn carries_every_contract_property() {
        let p = properties(&msg());
        assert_eq!(
            p.content_type().as_ref().map(|s| s.as_str()),
            Some(PROTOBUF)
        );
        assert_eq!(p.kind().as_ref().map(|s| s.as_str()), Some(DISPATCH_TYPE));
        assert_eq!(*p.delivery_mode(), Some(2));
        assert_eq!(
            p.message_id().as_ref().map(|s| s.as_str()),
            Some("D20261122000042")
        );
        assert_eq!(*p.timestamp(), Some(1_795_000_123));
        assert_eq!(*p.priority(), Some(9));
    }

    #[test]
    fn headers_are_long_strings() {
        let p = properties(&msg());
        let long = |v: &str| AMQPValue::LongString(LongString::from(v.as_bytes()));
        assert_eq!(header(&p, HEADER_CASE_ID), Some(&long("C20261122000007")));
        assert_eq!(
            header(&p, HEADER_CHANNEL),
            Some(&long("CHANNEL_EMERGENCY_119"))
        );
        assert_eq!(header(&p, HEADER_LEVEL), Some(&long("D")));
        assert_eq!(p.headers().as_ref().map(|h| h.inner().len()), Some(3));
    }

    #[test]
    fn message_id_is_stable_across_attempts() {
        let first = properties(&msg());
        let mut again = msg();
        again.attempts = 7;
        assert_eq!(properties(&again).message_id(), first.message_id());
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let mut m = msg();
        m.priority = 200;
        m.created_at_ms = -5;
        m.dispatch_id = "长".repeat(100); // 300 bytes
        let p = properties(&m);
        assert_eq!(*p.priority(), Some(MAX_PRIORITY));
        assert_eq!(*p.timestamp(), Some(0));
        let id = p.message_id().as_ref().map(|s| s.as_str().len());
        assert_eq!(id, Some(255));
        assert!(!fits_short_string(&m.dispatch_id));
        assert!(fits_short_string("D1"));
    }
}
