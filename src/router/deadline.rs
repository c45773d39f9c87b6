//! Deadlines (办理时限). Working days here are Monday to Friday in Asia/Shanghai; the official
//! holiday calendar with its make-up working days (调休) arrives with the routing issue and
//! will replace [`is_working_day`].
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

/// Monday to Friday.
pub fn is_working_day(day: i64) -> bool {
    // 1970-01-01 was a Thursday; 0 = Monday.
    (day + 3).rem_euclid(7) < 5
}

impl Deadline {
    /// The instant (ms since epoch) this deadline falls due for work accepted at `from_ms`.
    pub fn due_at(self, from_ms: i64) -> i64 {
        match self {
            Deadline::Hours(h) => from_ms + i64::from(h) * 3_600_000,
            Deadline::WorkingDays(n) => {
                let local_ms = from_ms + CST_OFFSET_SECS * 1000;
                let time_of_day = local_ms.rem_euclid(DAY_MS);
                let mut day = local_day(from_ms);
                // Work accepted on a rest day counts as accepted at the start of the next
                // working day, so the department still gets N whole working days.
                let mut tod = time_of_day;
                if !is_working_day(day) {
                    while !is_working_day(day) {
                        day += 1;
                    }
                    tod = 0;
                }
                let mut left = n;
                while left > 0 {
                    day += 1;
                    if is_working_day(day) {
                        left -= 1;
                    }
                }
                day * DAY_MS + tod - CST_OFFSET_SECS * 1000
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-20 is a Friday. 10:00 Shanghai = 02:00 UTC.
    const FRI_10AM: i64 = 1_795_140_000_000; // 2026-11-20T02:00:00Z

    #[test]
    fn working_days_skip_the_weekend() {
        // Friday + 1 working day = Monday, same time.
        assert_eq!(
            Deadline::WorkingDays(1).due_at(FRI_10AM),
            FRI_10AM + 3 * DAY_MS
        );
        // Friday + 3 working days = Wednesday.
        assert_eq!(
            Deadline::WorkingDays(3).due_at(FRI_10AM),
            FRI_10AM + 5 * DAY_MS
        );
    }

    #[test]
    fn saturday_counts_from_monday_start() {
        let sat_10am = FRI_10AM + DAY_MS;
        let due = Deadline::WorkingDays(1).due_at(sat_10am);
        // Monday 00:00 Shanghai is Sunday 16:00 UTC; 1 working day later is Tuesday 00:00.
        let monday_midnight_local = FRI_10AM + 3 * DAY_MS - 10 * 3_600_000;
        assert_eq!(due, monday_midnight_local + DAY_MS);
    }

    #[test]
    fn hours_run_around_the_clock() {
        assert_eq!(
            Deadline::Hours(4).due_at(FRI_10AM),
            FRI_10AM + 4 * 3_600_000
        );
    }

    #[test]
    fn weekday_anchor() {
        assert!(is_working_day(local_day(FRI_10AM)));
        assert!(!is_working_day(local_day(FRI_10AM + DAY_MS)));
        assert!(!is_working_day(local_day(FRI_10AM + 2 * DAY_MS)));
        assert!(is_working_day(local_day(FRI_10AM + 3 * DAY_MS)));
    }
}
