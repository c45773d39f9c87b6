//! Deadlines (办理时限): N hours around the clock, or N working days by the department's
//! working-day calendar ([`super::calendar`]) in Asia/Shanghai.
use super::calendar::{Calendar, Uncovered};
use crate::time::{CST_OFFSET_SECS, local_day};

const DAY_MS: i64 = 86_400_000;

/// How long a department has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// N working days: the same local time of day, N working days later.
    WorkingDays(u32),
    /// N hours from acceptance, around the clock (emergencies do not wait for Monday).
    Hours(u32),
}

impl Deadline {
    /// The instant (ms since epoch) this deadline falls due for work accepted at `from_ms`.
    /// Fails when the count runs into a year the calendar has no file for.
    pub fn due_at(self, from_ms: i64, cal: &Calendar) -> Result<i64, Uncovered> {
        match self {
            Deadline::Hours(h) => Ok(from_ms + i64::from(h) * 3_600_000),
            Deadline::WorkingDays(n) => {
                let local_ms = from_ms + CST_OFFSET_SECS * 1000;
                let mut tod = local_ms.rem_euclid(DAY_MS);
                let mut day = local_day(from_ms);
                // Work accepted on a rest day counts as accepted at the start of the next
                // working day, so the department still gets N whole working days.
                if !cal.is_working_day(day)? {
                    while !cal.is_working_day(day)? {
                        day += 1;
                    }
                    tod = 0;
                }
                let mut left = n;
                while left > 0 {
                    day += 1;
                    if cal.is_working_day(day)? {
                        left -= 1;
                    }
                }
                Ok(day * DAY_MS + tod - CST_OFFSET_SECS * 1000)
            }
        }
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
    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        (days_from_civil(y, m, d) * 24 + hour) * 3_600_000 - CST_OFFSET_SECS * 1000
    }

    #[test]
    fn working_days_skip_the_weekend() {
        let cal = official();
        // Friday 2026-11-20 10:00 + 1 working day = Monday 10:00; + 3 = Wednesday.
        let fri = at(2026, 11, 20, 10);
        assert_eq!(
            Deadline::WorkingDays(1).due_at(fri, &cal),
            Ok(at(2026, 11, 23, 10))
        );
        assert_eq!(
            Deadline::WorkingDays(3).due_at(fri, &cal),
            Ok(at(2026, 11, 25, 10))
        );
    }

    #[test]
    fn saturday_counts_from_monday_start() {
        let due = Deadline::WorkingDays(1).due_at(at(2026, 11, 21, 10), &official());
        // Accepted Saturday: counts from Monday 00:00, due Tuesday 00:00.
        assert_eq!(due, Ok(at(2026, 11, 24, 0)));
    }

    #[test]
    fn spring_festival_and_make_up_saturdays_count_right() {
        let cal = official();
        // Friday 13 Feb 2026 10:00 + 1 working day: Saturday 14 Feb is a make-up working day.
        let fri = at(2026, 2, 13, 10);
        assert_eq!(
            Deadline::WorkingDays(1).due_at(fri, &cal),
            Ok(at(2026, 2, 14, 10))
        );
        // + 2: the holiday runs 15..23 Feb, so the next working day is Tuesday 24 Feb.
        assert_eq!(
            Deadline::WorkingDays(2).due_at(fri, &cal),
            Ok(at(2026, 2, 24, 10))
        );
        // Accepted during the holiday: counts from the first working day after it.
        assert_eq!(
            Deadline::WorkingDays(1).due_at(at(2026, 2, 18, 9), &cal),
            Ok(at(2026, 2, 25, 0))
        );
        // National Day: 30 Sep + 1 working day skips 1..7 Oct (8 Oct is a Thursday).
        assert_eq!(
            Deadline::WorkingDays(1).due_at(at(2026, 9, 30, 15), &cal),
            Ok(at(2026, 10, 8, 15))
        );
    }

    #[test]
    fn a_deadline_into_an_unknown_year_is_an_error() {
        let due = Deadline::WorkingDays(13).due_at(at(2026, 12, 24, 10), &official());
        assert_eq!(due, Err(Uncovered { year: 2027 }));
        // Hours never need the calendar.
        assert!(
            Deadline::Hours(48)
                .due_at(at(2026, 12, 31, 10), &official())
                .is_ok()
        );
    }

    #[test]
    fn every_day_calendars_count_weekends() {
        let due = Deadline::WorkingDays(1).due_at(at(2026, 11, 20, 10), &Calendar::EveryDay);
        assert_eq!(due, Ok(at(2026, 11, 21, 10)));
    }
}
