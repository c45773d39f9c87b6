//! Deadlines (办理时限): N hours around the clock, or N working days by the department's
//! working-day calendar ([`super::calendar`]) in Asia/Shanghai. A deadline remembers which
//! provisional years it counted days of, so it can be marked and recomputed once the official
//! calendar for those years is in.
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

/// When a deadline falls due, and on what it rests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The instant, ms since the epoch.
    pub at_ms: i64,
    /// Years without an official calendar whose days were counted, ascending; empty when the
    /// deadline rests on official calendars only.
    pub provisional: Vec<i64>,
}

impl Deadline {
    /// The instant (ms since epoch) this deadline falls due for work accepted at `from_ms`.
    /// Fails only when the count runs into a year the calendar cannot answer for at all.
    pub fn due_at(self, from_ms: i64, cal: &Calendar) -> Result<i64, Uncovered> {
        self.due(from_ms, cal).map(|d| d.at_ms)
    }

    /// As [`Deadline::due_at`], with the provisional years it counted.
    pub fn due(self, from_ms: i64, cal: &Calendar) -> Result<Due, Uncovered> {
        let mut provisional: Vec<i64> = Vec::new();
        let mut working = |day: i64| -> Result<bool, Uncovered> {
            let d = cal.day(day)?;
            if d.provisional {
                let year = crate::time::civil_from_days(day).0;
                if provisional.last() != Some(&year) {
                    provisional.push(year);
                }
            }
            Ok(d.working)
        };
        let at_ms = match self {
            Deadline::Hours(h) => from_ms + i64::from(h) * 3_600_000,
            Deadline::WorkingDays(n) => {
                let local_ms = from_ms + CST_OFFSET_SECS * 1000;
                let mut tod = local_ms.rem_euclid(DAY_MS);
                let mut day = local_day(from_ms);
                // Work accepted on a rest day counts as accepted at the start of the next
                // working day, so the department still gets N whole working days.
                if !working(day)? {
                    while !working(day)? {
                        day += 1;
                    }
                    tod = 0;
                }
                let mut left = n;
                while left > 0 {
                    day += 1;
                    if working(day)? {
                        left -= 1;
                    }
                }
                day * DAY_MS + tod - CST_OFFSET_SECS * 1000
            }
        };
        Ok(Due { at_ms, provisional })
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
    fn a_deadline_into_a_year_without_a_file_is_provisional() {
        let cal = official();
        // Thursday 24 December 2026 + 13 working days: 25, 28-31 December (5), then 2027 without
        // a file: 1 January is a statutory holiday, 4-8 and 11-13 January (8) make 13.
        let due = Deadline::WorkingDays(13).due(at(2026, 12, 24, 10), &cal);
        assert_eq!(
            due,
            Ok(Due {
                at_ms: at(2027, 1, 13, 10),
                provisional: vec![2027]
            })
        );
        // Within 2026 it rests on the official file only.
        let due = Deadline::WorkingDays(3)
            .due(at(2026, 12, 1, 10), &cal)
            .unwrap();
        assert!(due.provisional.is_empty());
        // Hours never need the calendar.
        let due = Deadline::Hours(48).due(at(2026, 12, 31, 10), &cal).unwrap();
        assert!(due.provisional.is_empty());
        // Beyond what the generator covers, the calendar cannot answer.
        assert_eq!(
            Deadline::WorkingDays(1).due_at(at(2400, 1, 3, 10), &cal),
            Err(Uncovered { year: 2400 })
        );
    }

    #[test]
    fn every_day_calendars_count_weekends() {
        let due = Deadline::WorkingDays(1).due_at(at(2026, 11, 20, 10), &Calendar::EveryDay);
        assert_eq!(due, Ok(at(2026, 11, 21, 10)));
    }
}
