//! Date-times as city-management platforms and Open311 write them. Platforms send local China
//! time, `2026-11-22 09:15:00` or ISO 8601 (`2026-11-22T09:15:00+08:00`, `…Z`); a time without
//! an offset is China Standard Time (UTC+8, no daylight saving). Open311 answers carry ISO 8601
//! with the `+08:00` offset.
use prost_types::Timestamp;

/// China Standard Time, seconds east of UTC.
const CST: i64 = 8 * 3600;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

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
    let valid = (1..=12).contains(&mo)
        && (1..=31).contains(&day)
        && h < 24
        && mi < 60
        && sec < 61
        && t.next().is_none()
        && civil_from_days(days_from_civil(y, mo, day)) == (y, mo, day);
    if !valid {
        return None;
    }
    let seconds = days_from_civil(y, mo, day) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(Timestamp { seconds, nanos: 0 })
}

/// ISO 8601 in China Standard Time: `2026-11-22T09:15:00+08:00`.
pub fn format(ts: &Timestamp) -> String {
    let local = ts.seconds + CST;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
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
            }),
            "2026-11-22T09:15:00+08:00"
        );
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
