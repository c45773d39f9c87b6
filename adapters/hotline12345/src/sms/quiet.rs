//! Quiet hours: a daily window of Beijing time (default 22:00–08:00) in which no SMS goes out,
//! because a result message that wakes a citizen at 2 a.m. is a complaint of its own. The
//! window may wrap midnight; it starts at `start` (inclusive) and ends at `end` (exclusive),
//! so a message due at exactly 08:00 goes out at once and one due at exactly 22:00 waits.
use std::fmt;

/// Asia/Shanghai is UTC+08:00 all year (no daylight saving).
const BEIJING_OFFSET_MS: i64 = 8 * 3600 * 1000;
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// A daily window, as minutes after midnight in Beijing time; `start != end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start_min: i64,
    end_min: i64,
}

impl QuietHours {
    /// The window from `start` to `end` (minutes after midnight, each below 1440, not equal).
    pub fn new(start_min: u32, end_min: u32) -> Option<Self> {
        (start_min < 1440 && end_min < 1440 && start_min != end_min).then_some(Self {
            start_min: i64::from(start_min),
            end_min: i64::from(end_min),
        })
    }

    /// Reads `"22:00-08:00"` (a window) or `"off"` (none). The error says what is expected.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let expected = || format!("{s:?} must be \"HH:MM-HH:MM\" (Beijing time) or \"off\"");
        let (a, b) = s.split_once('-').ok_or_else(expected)?;
        let (start, end) = (hhmm(a).ok_or_else(expected)?, hhmm(b).ok_or_else(expected)?);
        match Self::new(start, end) {
            Some(q) => Ok(Some(q)),
            None => Err(format!(
                "{s:?}: start and end must differ (or write \"off\")"
            )),
        }
    }

    /// When the window holding `now_ms` ends (ms since the epoch), or None when `now_ms` is
    /// outside the window and a message may go out now.
    pub fn until(&self, now_ms: i64) -> Option<i64> {
        let local = now_ms.saturating_add(BEIJING_OFFSET_MS);
        let midnight = local.div_euclid(DAY_MS) * DAY_MS;
        let minute = local.rem_euclid(DAY_MS) / MINUTE_MS;
        let (start, end) = (self.start_min, self.end_min);
        let end_day = if start < end {
            // Within one day, e.g. 12:00-14:00.
            if !(start..end).contains(&minute) {
                return None;
            }
            midnight
        } else if minute >= start {
            // Evening part of a window wrapping midnight: it ends tomorrow.
            midnight + DAY_MS
        } else if minute < end {
            // Morning part: it ends today.
            midnight
        } else {
            return None;
        };
        Some(end_day + end * MINUTE_MS - BEIJING_OFFSET_MS)
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start_min, self.end_min);
        write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

/// `"HH:MM"` as minutes after midnight.
fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let two = |v: &str| -> Option<u32> {
        (v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse().ok())
            .flatten()
    };
    let (h, m) = (two(h)?, two(m)?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// When a message may go out at the earliest: None for now, else the end of the quiet window
/// holding `now_ms`. No window (quiet hours off) is always None.
pub fn quiet_until(now_ms: i64, window: Option<&QuietHours>) -> Option<i64> {
    window.and_then(|w| w.until(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22 00:00 Beijing time, in ms since the epoch (2026-11-21T16:00:00Z).
    const NOV22: i64 = 1_795_276_800_000;

    fn at(h: i64, m: i64) -> i64 {
        NOV22 + (h * 60 + m) * MINUTE_MS
    }

    fn default_window() -> QuietHours {
        QuietHours::parse("22:00-08:00").unwrap().unwrap()
    }

    #[test]
    fn the_fixture_instant_is_beijing_midnight() {
        assert_eq!(NOV22, 1_795_363_199_000 + 1000 - DAY_MS);
    }

    #[test]
    fn a_window_across_midnight_holds_until_the_next_morning() {
        let q = default_window();
        // Evening: held until tomorrow 08:00.
        assert_eq!(q.until(at(23, 30)), Some(at(24 + 8, 0)));
        // After midnight: held until this morning's 08:00.
        assert_eq!(q.until(at(0, 0)), Some(at(8, 0)));
        assert_eq!(q.until(at(3, 17)), Some(at(8, 0)));
        // Daytime: send now.
        assert_eq!(q.until(at(12, 0)), None);
    }

    #[test]
    fn the_edges_start_inclusive_end_exclusive() {
        let q = default_window();
        assert_eq!(q.until(at(22, 0)), Some(at(24 + 8, 0)));
        assert_eq!(q.until(at(22, 0) - 1), None, "21:59:59.999 is still day");
        assert_eq!(q.until(at(8, 0)), None, "08:00:00.000 is day");
        assert_eq!(
            q.until(at(8, 0) - 1),
            Some(at(8, 0)),
            "07:59:59.999 waits 1 ms"
        );
        assert_eq!(q.until(at(24, 0)), Some(at(24 + 8, 0)), "midnight itself");
    }

    #[test]
    fn a_window_within_one_day_and_no_window() {
        let q = QuietHours::parse("12:00-14:30").unwrap().unwrap();
        assert_eq!(q.until(at(11, 59)), None);
        assert_eq!(q.until(at(12, 0)), Some(at(14, 30)));
        assert_eq!(q.until(at(14, 29)), Some(at(14, 30)));
        assert_eq!(q.until(at(14, 30)), None);
        assert_eq!(q.until(at(23, 0)), None);
        assert_eq!(quiet_until(at(23, 0), None), None);
        assert_eq!(
            quiet_until(at(23, 0), Some(&default_window())),
            Some(at(32, 0))
        );
    }

    #[test]
    fn instants_before_the_epoch_and_utc_midnight_use_beijing_days() {
        let q = default_window();
        // 2026-11-21T23:30Z is 07:30 on the 22nd in Beijing: held until 08:00 Beijing.
        assert_eq!(q.until(at(7, 30)), Some(at(8, 0)));
        // 1969-12-31T23:00Z is 07:00 on 1970-01-01 in Beijing, and 1969-12-31T14:00Z is 22:00
        // on the 31st there: both are held until 1970-01-01 08:00 Beijing, the epoch itself.
        assert_eq!(q.until(-3_600_000), Some(0));
        assert_eq!(q.until(-36_000_000), Some(0));
        assert_eq!(q.until(-36_000_001), None);
    }

    #[test]
    fn parses_windows_and_off_and_explains_bad_ones() {
        assert_eq!(QuietHours::parse("off"), Ok(None));
        assert_eq!(QuietHours::parse(" OFF "), Ok(None));
        assert_eq!(default_window().to_string(), "22:00-08:00");
        assert_eq!(
            QuietHours::parse("21:30 - 07:05").map(|q| q.map(|q| q.to_string())),
            Ok(Some("21:30-07:05".into()))
        );
        for bad in [
            "",
            "22-08",
            "22:00",
            "24:00-08:00",
            "22:60-08:00",
            "8:00-9:00",
            "x",
        ] {
            let e = QuietHours::parse(bad).unwrap_err();
            assert!(e.contains("HH:MM-HH:MM"), "{bad}: {e}");
        }
        let e = QuietHours::parse("08:00-08:00").unwrap_err();
        assert!(e.contains("must differ"), "{e}");
    }
}
