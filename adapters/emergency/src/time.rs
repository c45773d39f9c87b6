//! Times as dispatch centres send them: RFC 3339 (`2026-11-22T14:05:00+08:00`, `…Z`, optional
//! fraction), or `YYYY-MM-DD HH:MM:SS` without an offset, which is China Standard Time
//! (UTC+8, what every 110/119/120/122 system in the country records).
use minhu_adapter::civil::{civil, day_number, digits as num};
use prost_types::Timestamp;

/// Parses a transfer time; None when it is not one of the accepted forms or not a real date.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let s = text.trim();
    if s.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let (date_time, rest) = s.split_at(19);
    let b = date_time.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let (h, mi, se) = (num(&s[11..13])?, num(&s[14..16])?, num(&s[17..19])?);
    if !(1970..=9999).contains(&y) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let days = day_number(y, u32::try_from(mo).ok()?, u32::try_from(d).ok()?)?;
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(f) => {
            let end = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
            if end == 0 || end > 9 {
                return None;
            }
            (&f[..end], &f[end..])
        }
        None => ("", rest),
    };
    let nanos = if fraction.is_empty() {
        0
    } else {
        num(&format!("{fraction:0<9}"))?
    };
    let offset_s = match zone {
        "" => 8 * 3600,
        "Z" | "z" => 0,
        z if z.len() == 6 && z.as_bytes()[3] == b':' => {
            let sign = match z.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (num(&z[1..3])?, num(&z[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let seconds = days * 86_400 + h * 3600 + mi * 60 + se - offset_s;
    Some(Timestamp {
        seconds,
        nanos: i32::try_from(nanos).ok()?,
    })
}

/// A timestamp as RFC 3339 in UTC, to the second: `2026-11-22T06:05:00Z`; None outside the
/// years -9999..=9999.
pub fn format_rfc3339(ts: &Timestamp) -> Option<String> {
    let days = ts.seconds.div_euclid(86_400);
    let secs = ts.seconds.rem_euclid(86_400);
    let (y, m, d) = civil(days)?;
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        // 2026-11-22T06:05:00Z is 1_795_327_500.
        let want = 1_795_327_500;
        for s in [
            "2026-11-22T14:05:00+08:00",
            "2026-11-22T06:05:00Z",
            "2026-11-22 14:05:00",
            "2026-11-22T01:05:00-05:00",
        ] {
            assert_eq!(parse_time(s).map(|t| t.seconds), Some(want), "{s}");
        }
        let t = parse_time("2026-11-22T06:05:00.25Z").unwrap();
        assert_eq!((t.seconds, t.nanos), (want, 250_000_000));
        assert_eq!(format_rfc3339(&t).as_deref(), Some("2026-11-22T06:05:00Z"));
        assert_eq!(
            format_rfc3339(&Timestamp::default()).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
    }

    #[test]
    fn times_past_the_year_9999_are_not_formatted() {
        let last = parse_time("9999-12-31T23:59:59Z").expect("in range");
        assert_eq!(
            format_rfc3339(&last).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        for seconds in [last.seconds + 1, i64::MAX, i64::MIN] {
            assert_eq!(
                format_rfc3339(&Timestamp { seconds, nanos: 0 }),
                None,
                "{seconds}"
            );
        }
    }

    #[test]
    fn refused_forms() {
        for s in [
            "",
            "2026/11/22 14:05:00",
            "2026-11-22",
            "2026-02-30T10:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T14:05:00+0800",
            "2026-11-22T14:05:00.Z",
            "22-11-2026 14:05:00",
            "2026-11-22T14:05:00 CST",
            "２０２６-11-22T14:05:00Z",
            "é026-11-22T14:05:00Z",
            "2026-1é-22T14:05:00Z",
            "2026-11-22T14:05:0é",
            "2026-11-22T14:05:00+0é:0",
            "2026-11-22T14:05:00.1é",
        ] {
            assert_eq!(parse_time(s), None, "{s}");
        }
    }
}
