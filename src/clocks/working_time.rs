//! Working time (工作时间): the hours of a working day in which a unit's clock runs, and the
//! arithmetic on it — an instant plus so much working time, and the working time between two
//! instants — on a department's working-day calendar in Asia/Shanghai.
//!
//! A working day's hours are one window, `[clocks] working_hours = "09:00-17:30"` by default
//! (no lunch break: the seeds count hours, not minutes, and a break would only shift every
//! clock by the same amount). On an `every-day` calendar (round-the-clock services) every
//! instant is working time, so their clocks run like wall clocks.
use crate::router::calendar::{Calendar, Uncovered};
use crate::time::{CST_OFFSET_SECS, local_day};

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// The hours of a working day, local time: `[start, end)` in minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    pub start_min: u32,
    pub end_min: u32,
}

impl Default for WorkingHours {
    /// 09:00 to 17:30, the office hours most city departments publish.
    fn default() -> Self {
        Self {
            start_min: 9 * 60,
            end_min: 17 * 60 + 30,
        }
    }
}

/// A malformed `HH:MM-HH:MM` range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected HH:MM-HH:MM with the start before the end, e.g. \"09:00-17:30\"; got {0:?}")]
pub struct BadHours(pub String);

impl WorkingHours {
    /// Parses `HH:MM-HH:MM` (the window may not cross midnight).
    pub fn parse(s: &str) -> Result<Self, BadHours> {
        let bad = || BadHours(s.to_owned());
        let minutes = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
        };
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (start_min, end_min) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
        if start_min >= end_min {
            return Err(bad());
        }
        Ok(Self { start_min, end_min })
    }

    /// Working time in one working day, ms.
    pub fn day_ms(self) -> i64 {
        i64::from(self.end_min - self.start_min) * MINUTE_MS
    }

    /// The window of local day `day` as instants (ms since the epoch).
    fn window(self, day: i64) -> (i64, i64) {
        let midnight = day * DAY_MS - CST_OFFSET_SECS * 1000;
        (
            midnight + i64::from(self.start_min) * MINUTE_MS,
            midnight + i64::from(self.end_min) * MINUTE_MS,
        )
    }

    /// The instant `amount_ms` of working time after `from_ms`. An amount of zero is `from_ms`
    /// itself; otherwise the answer always lies inside a working window (work that starts
    /// after hours starts at the next window's opening).
    pub fn add(self, from_ms: i64, amount_ms: i64, cal: &Calendar) -> Result<i64, Uncovered> {
        if amount_ms <= 0 {
            return Ok(from_ms);
        }
        if matches!(cal, Calendar::EveryDay) {
            return Ok(from_ms.saturating_add(amount_ms));
        }
        let mut left = amount_ms;
        let mut day = local_day(from_ms);
        loop {
            if cal.is_working_day(day)? {
                let (open, close) = self.window(day);
                let start = from_ms.max(open);
                if start < close {
                    if start + left <= close {
                        return Ok(start + left);
                    }
                    left -= close - start;
                }
            }
            day += 1;
        }
    }

    /// Working time in `[from_ms, to_ms)`, ms (0 when `to_ms <= from_ms`).
    pub fn between(self, from_ms: i64, to_ms: i64, cal: &Calendar) -> Result<i64, Uncovered> {
        if to_ms <= from_ms {
            return Ok(0);
        }
        if matches!(cal, Calendar::EveryDay) {
            return Ok(to_ms - from_ms);
        }
        let mut total = 0;
        for day in local_day(from_ms)..=local_day(to_ms) {
            if cal.is_working_day(day)? {
                let (open, close) = self.window(day);
                total += (close.min(to_ms) - open.max(from_ms)).max(0);
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::calendar::days_from_civil;
    use std::path::Path;

    fn official() -> Calendar {
        Calendar::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/calendar")).unwrap()
    }

    /// Local (Shanghai) time as ms since the epoch.
    fn at(y: i64, m: u32, d: u32, hour: i64, min: i64) -> i64 {
        (days_from_civil(y, m, d) * 24 * 60 + hour * 60 + min) * MINUTE_MS - CST_OFFSET_SECS * 1000
    }

    const HOUR: i64 = 3_600_000;

    #[test]
    fn parses_and_refuses_hours() {
        assert_eq!(
            WorkingHours::parse("09:00-17:30"),
            Ok(WorkingHours::default())
        );
        assert_eq!(WorkingHours::default().day_ms(), 8 * HOUR + 30 * MINUTE_MS);
        for bad in [
            "",
            "9-17",
            "17:30-09:00",
            "09:00-09:00",
            "09:60-10:00",
            "25:00-26:00",
        ] {
            assert!(WorkingHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hours_run_only_inside_the_window_and_skip_the_weekend() {
        let (h, cal) = (WorkingHours::default(), official());
        // Friday 20 November 2026 16:00 + 4 working hours: 1.5 h on Friday, 2.5 h on Monday.
        let fri = at(2026, 11, 20, 16, 0);
        assert_eq!(h.add(fri, 4 * HOUR, &cal), Ok(at(2026, 11, 23, 11, 30)));
        assert_eq!(h.between(fri, at(2026, 11, 23, 11, 30), &cal), Ok(4 * HOUR));
        // Accepted Saturday night: the clock starts on Monday at 09:00.
        let sat = at(2026, 11, 21, 22, 0);
        assert_eq!(h.add(sat, HOUR, &cal), Ok(at(2026, 11, 23, 10, 0)));
        assert_eq!(h.between(sat, at(2026, 11, 23, 9, 0), &cal), Ok(0));
        // Before opening: counts from 09:00.
        assert_eq!(
            h.add(at(2026, 11, 23, 7, 0), 30 * MINUTE_MS, &cal),
            Ok(at(2026, 11, 23, 9, 30))
        );
        // Exactly a working day ends at the close, not the next morning.
        let mon = at(2026, 11, 23, 9, 0);
        assert_eq!(h.add(mon, h.day_ms(), &cal), Ok(at(2026, 11, 23, 17, 30)));
        assert_eq!(h.add(mon, 0, &cal), Ok(mon));
    }

    #[test]
    fn holidays_and_make_up_days_follow_the_calendar() {
        let (h, cal) = (WorkingHours::default(), official());
        // Friday 13 Feb 2026 17:00 + 1 h: Saturday 14 Feb is a make-up working day.
        assert_eq!(
            h.add(at(2026, 2, 13, 17, 0), HOUR, &cal),
            Ok(at(2026, 2, 14, 9, 30))
        );
        // Saturday 14 Feb 17:00 + 1 h: 15..23 Feb are the Spring Festival.
        assert_eq!(
            h.add(at(2026, 2, 14, 17, 0), HOUR, &cal),
            Ok(at(2026, 2, 24, 9, 30))
        );
        // A pause over the whole holiday holds only the hours worked around it.
        assert_eq!(
            h.between(at(2026, 2, 14, 17, 0), at(2026, 2, 24, 9, 30), &cal),
            Ok(HOUR)
        );
        // A provisional year counts too (4 January 2027 is a Monday, 1 January a holiday).
        assert_eq!(
            h.add(at(2026, 12, 31, 17, 0), HOUR, &cal),
            Ok(at(2027, 1, 4, 9, 30))
        );
    }

    #[test]
    fn every_day_calendars_run_around_the_clock() {
        let h = WorkingHours::default();
        let sat = at(2026, 11, 21, 22, 0);
        assert_eq!(h.add(sat, HOUR, &Calendar::EveryDay), Ok(sat + HOUR));
        assert_eq!(h.between(sat, sat + HOUR, &Calendar::EveryDay), Ok(HOUR));
    }
}
