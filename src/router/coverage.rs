//! How far deadlines reach into the working-day calendars. A rule's deadline counted from today
//! may run into a year that has no official calendar file yet: that is a *warning* (the
//! deadline is provisional, see [`super::calendar`]), printed by `check-config` and `serve`
//! and shown on `/readyz` and `/metrics`, so that someone adds the State Council's notice in
//! November. Only a year the provisional generator cannot compute either is a refusal.
use std::fmt;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use super::calendar::{Calendar, date_string, notice_title};
use super::compile::{Action, Router};
use super::deadline::{Deadline, Due};
use crate::config::problem::Problems;
use crate::time::local_day;

/// The longest working-day deadline counted by one calendar, and the rule that sets it.
#[derive(Debug, Clone)]
pub(super) struct Reach {
    calendar: Arc<Calendar>,
    days: u32,
    key: String,
}

/// A year without an official calendar that deadlines counted from some day reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionalYear {
    /// The year.
    pub year: i64,
    /// The calendar folder its file belongs in.
    pub dir: PathBuf,
    /// The longest deadline that reaches it, in working days, and the rule key that sets it.
    pub days: u32,
    pub key: String,
    /// The local day counted from.
    pub from_day: i64,
}

impl fmt::Display for ProvisionalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let y = self.year;
        write!(
            f,
            "{}: a deadline of {} working days from {} reaches {y}, which has no official calendar yet; \
             deadlines counted into {y} are provisional (weekends and statutory holidays only, no 调休) \
             until {}/{y}.toml or {y}.json is added from the State Council's notice {}",
            self.key,
            self.days,
            date_string(self.from_day),
            self.dir.display(),
            notice_title(y),
        )
    }
}

/// The longest working-day deadline per calendar among `actions`.
pub(super) fn longest(actions: &[(String, Action)]) -> Vec<Reach> {
    let mut out: Vec<Reach> = Vec::new();
    for (key, a) in actions {
        let Deadline::WorkingDays(n) = a.deadline else {
            continue;
        };
        match out
            .iter_mut()
            .find(|r| Arc::ptr_eq(&r.calendar, &a.calendar))
        {
            Some(r) if r.days < n => {
                r.days = n;
                key.clone_into(&mut r.key);
            }
            Some(_) => {}
            None => out.push(Reach {
                calendar: a.calendar.clone(),
                days: n,
                key: key.clone(),
            }),
        }
    }
    out
}

/// Refuses deadlines that, counted from `now_ms`, reach a year no calendar can answer for.
pub(super) fn check(p: &mut Problems, reach: &[Reach], now_ms: i64) {
    for r in reach {
        if let Err(e) = Deadline::WorkingDays(r.days).due(now_ms, &r.calendar) {
            p.add(
                &r.key,
                format!(
                    "a deadline of {} working days from today ({}) cannot be counted: {e}",
                    r.days,
                    date_string(local_day(now_ms)),
                ),
            );
        }
    }
}

impl Router {
    /// The years without an official calendar that this router's longest deadlines, counted
    /// from `now_ms`, reach: one entry per calendar folder and year.
    pub fn provisional_years(&self, now_ms: i64) -> Vec<ProvisionalYear> {
        let mut out: Vec<ProvisionalYear> = Vec::new();
        for r in &self.reach {
            let Some(dir) = r.calendar.dir() else {
                continue;
            };
            let Ok(due) = Deadline::WorkingDays(r.days).due(now_ms, &r.calendar) else {
                continue;
            };
            for year in due.provisional {
                if !out.iter().any(|p| p.year == year && p.dir == dir) {
                    out.push(ProvisionalYear {
                        year,
                        dir: dir.to_path_buf(),
                        days: r.days,
                        key: r.key.clone(),
                        from_day: local_day(now_ms),
                    });
                }
            }
        }
        out.sort_by(|a, b| (a.year, &a.dir).cmp(&(b.year, &b.dir)));
        out
    }

    /// The deadline of `working_days` counted from `from_ms` by `department_id`'s calendar as
    /// this router has it; None for a department it does not route to.
    pub fn recount(
        &self,
        department_id: &str,
        from_ms: i64,
        working_days: u32,
    ) -> Option<Result<Due, super::calendar::Uncovered>> {
        let cal = self.calendars.get(department_id)?;
        Some(Deadline::WorkingDays(working_days).due(from_ms, cal))
    }
}

/// `minhu_calendar_provisional{year}`: 1 for each year that deadlines counted from `now_ms`
/// reach without an official calendar, so monitoring can page someone in November.
pub fn render_metrics(router: &Router, now_ms: i64) -> String {
    let mut out = String::from(
        "# HELP minhu_calendar_provisional 1 for a year that deadlines counted from now reach and that has no official working-day calendar file yet (add the State Council's notice).\n# TYPE minhu_calendar_provisional gauge\n",
    );
    let mut years: Vec<i64> = router
        .provisional_years(now_ms)
        .iter()
        .map(|p| p.year)
        .collect();
    years.dedup();
    for y in years {
        let _ = writeln!(out, "minhu_calendar_provisional{{year=\"{y}\"}} 1");
    }
    out
}
