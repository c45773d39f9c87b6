//! Lights (亮灯): how far a unit's current clock has run. Green while less than the yellow share
//! of its working time has passed, yellow from then, red once the clock's deadline has passed.
//! A clock is two instants fixed when it starts (and moved together by a pause), so deciding a
//! light needs no calendar: the scheduler only compares instants.
use super::working_time::WorkingHours;
use crate::router::calendar::{Calendar, Uncovered};

/// A unit's light, as stored (`cases.light`) and as `minhu.v1.Light` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Light {
    Green = 1,
    Yellow = 2,
    Red = 3,
}

impl Light {
    pub fn from_i32(v: i32) -> Option<Light> {
        match v {
            1 => Some(Light::Green),
            2 => Some(Light::Yellow),
            3 => Some(Light::Red),
            _ => None,
        }
    }

    /// `yellow` or `red`, as in the routing key `light.<name>.<dept>`.
    pub fn name(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
}

/// Which stage a unit's clock is timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// 签收: from dispatch until the department signs for the case.
    SignFor = 1,
    /// 办结: until the department completes it (the unit deadline, `unit_due_at`).
    Complete = 2,
}

impl Stage {
    pub fn from_i32(v: i32) -> Option<Stage> {
        match v {
            1 => Some(Stage::SignFor),
            2 => Some(Stage::Complete),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::SignFor => "sign_for",
            Stage::Complete => "complete",
        }
    }
}

/// The two instants of a running clock, ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub yellow_at: i64,
    pub red_at: i64,
}

impl Clock {
    /// The light at `now`.
    pub fn light(self, now: i64) -> Light {
        if now >= self.red_at {
            Light::Red
        } else if now >= self.yellow_at {
            Light::Yellow
        } else {
            Light::Green
        }
    }

    /// When the light next changes after `now`; None once it is red.
    pub fn next_change(self, now: i64) -> Option<i64> {
        if now < self.yellow_at {
            Some(self.yellow_at)
        } else if now < self.red_at {
            Some(self.red_at)
        } else {
            None
        }
    }
}

/// A unit's clocks as routing sets them when a department is given a case: the sign-for clock
/// (None when the rule gives none) and the completion clock, which runs to the unit deadline.
/// Both start at the dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitClocks {
    pub sign_for: Option<Clock>,
    pub complete: Clock,
    /// Counted in wall time (a deadline in hours, or an `every-day` calendar): a pause then
    /// holds wall time too.
    pub around_the_clock: bool,
    /// The earliest instant a step of the unit's escalation chain can fire on it (its
    /// `unsigned` steps; `red` ones come after the red light, which is looked at anyway), so
    /// the scheduler first looks at a new unit when something can happen, not at once.
    pub first_escalation_at: Option<i64>,
}

/// How a department's clocks are counted: its calendar and the working day's hours, or around
/// the clock (deadlines in hours, `every-day` calendars).
#[derive(Debug, Clone, Copy)]
pub struct Counting<'a> {
    pub calendar: &'a Calendar,
    pub hours: WorkingHours,
    /// Wall time instead of working time.
    pub around_the_clock: bool,
}

impl Counting<'_> {
    /// `amount_ms` of counted time after `from`.
    pub fn add(&self, from: i64, amount_ms: i64) -> Result<i64, Uncovered> {
        if self.around_the_clock {
            Ok(from.saturating_add(amount_ms.max(0)))
        } else {
            self.hours.add(from, amount_ms, self.calendar)
        }
    }

    /// Counted time in `[from, to)`.
    pub fn between(&self, from: i64, to: i64) -> Result<i64, Uncovered> {
        if self.around_the_clock {
            Ok((to - from).max(0))
        } else {
            self.hours.between(from, to, self.calendar)
        }
    }

    /// The clock from `from` to the deadline `due`: yellow once `yellow_share` of the counted
    /// time between them has passed.
    pub fn clock(&self, from: i64, due: i64, yellow_share: f64) -> Result<Clock, Uncovered> {
        let total = self.between(from, due)?;
        // The share is checked to lie in (0, 1) when the config is loaded; the product of a
        // share and a span of at most centuries in ms fits an i64.
        let part = (total as f64 * yellow_share).round() as i64;
        let yellow_at = self.add(from, part)?.min(due);
        Ok(Clock {
            yellow_at,
            red_at: due,
        })
    }

    /// A clock moved on by a pause of `paused_ms` counted time: both instants move by exactly
    /// the counted time the pause held.
    pub fn shifted(&self, c: Clock, paused_ms: i64) -> Result<Clock, Uncovered> {
        Ok(Clock {
            yellow_at: self.add(c.yellow_at, paused_ms)?,
            red_at: self.add(c.red_at, paused_ms)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::calendar::days_from_civil;
    use crate::time::CST_OFFSET_SECS;
    use std::path::Path;

    const HOUR: i64 = 3_600_000;

    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        (days_from_civil(y, m, d) * 24 + hour) * HOUR - CST_OFFSET_SECS * 1000
    }

    #[test]
    fn thresholds_are_inclusive_and_red_is_final() {
        let c = Clock {
            yellow_at: 100,
            red_at: 200,
        };
        assert_eq!(c.light(99), Light::Green);
        assert_eq!(c.light(100), Light::Yellow);
        assert_eq!(c.light(199), Light::Yellow);
        assert_eq!(c.light(200), Light::Red);
        assert_eq!(c.next_change(0), Some(100));
        assert_eq!(c.next_change(100), Some(200));
        assert_eq!(c.next_change(200), None);
    }

    #[test]
    fn yellow_at_half_of_the_working_time_not_the_wall_time() {
        let cal =
            Calendar::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/calendar"))
                .unwrap();
        let k = Counting {
            calendar: &cal,
            hours: WorkingHours::parse("09:00-17:00").unwrap(),
            around_the_clock: false,
        };
        // Friday 20 November 2026 13:00 to Monday 13:00: 8 working hours, half is Friday 17:00
        // — the end of Friday's window, not Saturday noon.
        let c = k
            .clock(at(2026, 11, 20, 13), at(2026, 11, 23, 13), 0.5)
            .unwrap();
        assert_eq!(c.yellow_at, at(2026, 11, 20, 17));
        // A share of 0.75: 6 of the 8 hours, Monday 11:00.
        let c = k
            .clock(at(2026, 11, 20, 13), at(2026, 11, 23, 13), 0.75)
            .unwrap();
        assert_eq!(c.yellow_at, at(2026, 11, 23, 11));
        // A pause of 2 working hours moves both instants by 2 working hours.
        let s = k.shifted(c, 2 * HOUR).unwrap();
        assert_eq!(s.yellow_at, at(2026, 11, 23, 13));
        assert_eq!(s.red_at, at(2026, 11, 23, 15));
        // Around the clock: half the wall time.
        let w = Counting {
            around_the_clock: true,
            ..k
        };
        let c = w
            .clock(at(2026, 11, 21, 0), at(2026, 11, 22, 0), 0.5)
            .unwrap();
        assert_eq!(c.yellow_at, at(2026, 11, 21, 12));
    }
}
