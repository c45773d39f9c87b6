//! Clock helpers. China has one time zone and no daylight saving, so Asia/Shanghai is the fixed
//! offset +08:00; dates in ticket numbers and deadlines are local dates.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use minhu_adapter::civil;

/// Seconds east of UTC for Asia/Shanghai.
pub const CST_OFFSET_SECS: i64 = 8 * 3600;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}

/// A protobuf timestamp from milliseconds since the epoch.
pub fn ms_to_timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// Milliseconds since the epoch from a protobuf timestamp (saturating on absurd values).
pub fn timestamp_to_ms(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(ts.nanos) / 1_000_000)
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian). Days outside the
/// years -9999..=9999 are clamped to that range: no clock reading or deadline gets there.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let (first, last) = civil::DAY_RANGE;
    civil::civil(days.clamp(first, last)).unwrap_or((1970, 1, 1))
}

/// The local (Asia/Shanghai) day number since 1970-01-01 of an instant.
pub fn local_day(ms: i64) -> i64 {
    (ms.div_euclid(1000) + CST_OFFSET_SECS).div_euclid(86_400)
}

/// `YYYYMMDD` of an instant in Asia/Shanghai, as used in ticket numbers.
pub fn local_yyyymmdd(ms: i64) -> String {
    let (y, m, d) = civil_from_days(local_day(ms));
    format!("{y:04}{m:02}{d:02}")
}

/// `YYYY-MM-DD HH:MM` of an instant in Asia/Shanghai, as citizens are told times.
pub fn local_minute(ms: i64) -> String {
    let (y, m, d) = civil_from_days(local_day(ms));
    let secs = (ms.div_euclid(1000) + CST_OFFSET_SECS).rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_date_rolls_over_at_shanghai_midnight() {
        // 2026-11-22T15:59:59Z is 23:59:59 in Shanghai; one second later it is the 23rd there.
        let before = 1_795_363_199_000;
        assert_eq!(local_yyyymmdd(before), "20261122");
        assert_eq!(local_yyyymmdd(before + 1000), "20261123");
        assert_eq!(local_minute(before), "2026-11-22 23:59");
        assert_eq!(local_minute(before + 1000), "2026-11-23 00:00");
    }

    #[test]
    fn civil_dates_cover_the_whole_range_and_clamp_beyond_it() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(civil::DAY_RANGE.0), (-9999, 1, 1));
        assert_eq!(civil_from_days(civil::DAY_RANGE.1), (9999, 12, 31));
        assert_eq!(civil_from_days(i64::MAX), (9999, 12, 31));
        assert_eq!(civil_from_days(i64::MIN), (-9999, 1, 1));
    }

    #[test]
    fn timestamp_round_trip() {
        for ms in [0, 1, 999, 1_795_363_199_123, -1] {
            assert_eq!(timestamp_to_ms(&ms_to_timestamp(ms)), ms);
        }
    }
}
