//! Escalation chains (催办/督办), as data: who is told when a unit's case is not signed for,
//! runs red, or keeps bouncing. Like a PagerDuty escalation policy, a chain is a list of steps,
//! each a trigger, a target and a repeat. These are the compiled, validated types the scheduler
//! fires from; `config/routing.toml`'s `[[escalation]]` tables compile into them (see
//! [`crate::config::escalation`]). Escalation adds people: it never takes the case from its
//! holder, so nothing here names a department to hand the case to.
use std::fmt;

/// Who an escalation reaches: the routing key `escalated.<name>` on `minhu.supervision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The holding department's leader (部门负责人).
    Leader,
    /// The district supervision office (区督查室).
    District,
    /// The city supervision office (市督查室).
    City,
}

impl Target {
    /// Every target, in the order an operator reads them (nearest first).
    pub const ALL: [Target; 3] = [Target::Leader, Target::District, Target::City];

    /// The name in config and in the routing key: `leader`, `district` or `city`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Leader => "leader",
            Target::District => "district",
            Target::City => "city",
        }
    }

    /// The target named `s` (as [`Target::name`] writes it), if any.
    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When a step fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Not signed for `after_ms` of working time after the dispatch to the holder.
    Unsigned { after_ms: i64 },
    /// The completion clock red for `after_days` working days (0: as it turns red).
    Red { after_days: u32 },
    /// Returned by departments `times` times (counted over the case's life).
    Returned { times: u32 },
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Trigger::Unsigned { after_ms } => {
                write!(f, "unsigned for {}", WorkingSpan(after_ms))
            }
            Trigger::Red { after_days: 0 } => f.write_str("red"),
            Trigger::Red { after_days: 1 } => f.write_str("red for 1 working day"),
            Trigger::Red { after_days } => write!(f, "red for {after_days} working days"),
            Trigger::Returned { times: 1 } => f.write_str("returned once"),
            Trigger::Returned { times } => write!(f, "returned {times} times"),
        }
    }
}

/// One step of a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What makes it fire.
    pub trigger: Trigger,
    /// Who it reaches.
    pub target: Target,
    /// Sent again every so much working time while the trigger still holds; None: once.
    pub repeat_ms: Option<i64>,
    /// At most this many sends in all (1 when repeat_ms is None).
    pub max_sends: u32,
}

impl fmt::Display for Step {
    /// One line an operator reads, e.g. `unsigned for 2 working hours → leader, again every 4
    /// working hours, at most 3 sends`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.trigger, self.target)?;
        if let Some(every) = self.repeat_ms {
            write!(
                f,
                ", again every {} while it holds, at most {} sends",
                WorkingSpan(every),
                self.max_sends
            )?;
        }
        Ok(())
    }
}

/// A named chain: rules give its id, every unit they route gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The `[[escalation]] id` rules name.
    pub id: String,
    /// The steps, in the order written; each fires on its own trigger.
    pub steps: Vec<Step>,
}

/// Working time written as an operator wrote it: whole hours when it is whole hours (config
/// only gives hours), minutes otherwise.
struct WorkingSpan(i64);

impl fmt::Display for WorkingSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HOUR: i64 = 3_600_000;
        match self.0 {
            HOUR => f.write_str("1 working hour"),
            ms if ms % HOUR == 0 => write!(f, "{} working hours", ms / HOUR),
            ms => write!(f, "{} working minutes", ms / 60_000),
        }
    }
}

impl Policy {
    /// The chain as operators read it (`routes test`, `routes explain`), one numbered step a
    /// line, each line after the first indented by `pad`:
    ///
    /// ```text
    /// escalation standard:
    ///   1. unsigned for 2 working hours → leader, again every 4 working hours while it holds, at most 3 sends
    ///   2. red → district
    /// ```
    pub fn describe(&self, pad: &str) -> String {
        use std::fmt::Write as _;
        let mut s = format!("escalation {}:\n", self.id);
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(s, "{pad}  {}. {step}", i + 1);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_their_own_names_and_nothing_else() {
        for t in Target::ALL {
            assert_eq!(Target::parse(t.name()), Some(t));
        }
        assert_eq!(Target::Leader.name(), "leader");
        assert_eq!(Target::District.name(), "district");
        assert_eq!(Target::City.name(), "city");
        for bad in ["", "Leader", "province", "city "] {
            assert_eq!(Target::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn steps_read_as_a_sentence() {
        let step = Step {
            trigger: Trigger::Unsigned {
                after_ms: 2 * 3_600_000,
            },
            target: Target::Leader,
            repeat_ms: Some(4 * 3_600_000),
            max_sends: 3,
        };
        assert_eq!(
            step.to_string(),
            "unsigned for 2 working hours → leader, again every 4 working hours while it holds, at most 3 sends"
        );
        let red = Step {
            trigger: Trigger::Red { after_days: 2 },
            target: Target::City,
            repeat_ms: None,
            max_sends: 1,
        };
        assert_eq!(red.to_string(), "red for 2 working days → city");
        assert_eq!(
            Trigger::Returned { times: 2 }.to_string(),
            "returned 2 times"
        );
        assert_eq!(Trigger::Red { after_days: 0 }.to_string(), "red");
    }
}
