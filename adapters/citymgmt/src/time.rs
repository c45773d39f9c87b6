//! Date-times as city-management platforms and Open311 write them. Platforms send local China
//! time, `2026-11-22 09:15:00` or ISO 8601 (`2026-11-22T09:15:00+08:00`, `…Z`); a time without
//! an offset is China Standard Time (UTC+8, no daylight saving). Open311 answers carry ISO 8601
//! with the `+08:00` offset.
use minhu_adapter::civil::{civil, day_number, digits as num};
use prost_types::Timestamp;

/// China Standard Time, seconds east of UTC.
const CST: i64 = 8 * 3600;

/// Parses `YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|±HH:MM]` (no offset: UTC+8) into a timestamp.
pub fn parse(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let (date, rest) = (s.get(..10)?, s.get(11..)?);
    if !matches!(s.as_bytes().get(10), Some(b' ' | b'T')) {
        return None;
    }
    let mut d = date.split('-');
    let (y, mo, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let (clock, offset) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, o) = rest.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o
            .get(1..)?
            .split_once(':')
            .unwrap_or((o.get(1..3)?, o.get(3..)?));
        // Bounded before any arithmetic: a long digit string must not overflow (found by
        // fuzzing: "+08822222222222222200").
        let (oh, om) = (num(oh)?, num(om)?);
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 3600 + om * 60))
    } else {
        (rest, CST)
    };
    let clock = clock.split('.').next()?;
    let mut t = clock.split(':');
    let (h, mi) = (num(t.next()?)?, num(t.next()?)?);
    let sec = t.next().map_or(Some(0), num)?;
    if h >= 24 || mi >= 60 || sec >= 61 || t.next().is_some() {
        return None;
    }
    let days = day_number(y, u32::try_from(mo).ok()?, u32::try_from(day).ok()?)?;
    let seconds = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(Timestamp { seconds, nanos: 0 })
}

/// ISO 8601 in China Standard Time: `2026-11-22T09:15:00+08:00`; None for a time whose local
/// date lies outside the years -9999..=9999.
pub fn format(ts: &Timestamp) -> Option<String> {
    let local = ts.seconds.checked_add(CST)?;
    let (y, m, d) = civil(local.div_euclid(86_400))?;
    let s = local.rem_euclid(86_400);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        s / 3600,
        s / 60 % 60,
        s % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_offset_forms_agree() {
        let want = 1_795_310_100; // 2026-11-22T01:15:00Z
        for s in [
            "2026-11-22 09:15:00",
            "2026-11-22T09:15:00+08:00",
            "2026-11-22T01:15:00Z",
            "2026-11-22T09:15:00.250+0800",
            "2026-11-22T09:15",
        ] {
            assert_eq!(parse(s).map(|t| t.seconds), Some(want), "{s}");
        }
        assert_eq!(
            format(&Timestamp {
                seconds: want,
                nanos: 0
            })
            .as_deref(),
            Some("2026-11-22T09:15:00+08:00")
        );
    }

    #[test]
    fn times_past_the_year_9999_are_not_formatted() {
        let last = parse("9999-12-31 23:59:59").expect("in range");
        assert_eq!(format(&last).as_deref(), Some("9999-12-31T23:59:59+08:00"));
        for seconds in [last.seconds + 1, i64::MAX] {
            assert_eq!(format(&Timestamp { seconds, nanos: 0 }), None, "{seconds}");
        }
    }

    #[test]
    fn nonsense_is_refused() {
        for s in [
            "",
            "2026-13-01 00:00:00",
            "2026-02-30 10:00:00",
            "22/11/2026",
            "2026-11-22 25:00",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }

    /// Fuzzing regression (citymgmt_event): an offset of many digits overflowed `oh * 3600`
    /// (a panic in debug builds, a silently wrong time in release).
    #[test]
    fn offsets_out_of_range_are_refused_not_overflowed() {
        for s in [
            "2026-11-22T07:40:05+08822222222222222200",
            "2026-11-22T07:40:05+99999999999999999:00",
            "2026-11-22T07:40:05+24:00",
            "2026-11-22T07:40:05-08:60",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
        assert!(parse("2026-11-22T07:40:05+14:00").is_some());
    }
}
