//! Escalation chains (督办), like PagerDuty's escalation policies: each step has a trigger, a
//! target and a repeat. These are the compiled types the scheduler evaluates; the config that
//! fills them is `[[escalation]]` in `config/routing.toml`.

/// Who an escalation reaches: the routing key `escalated.<name>` on `minhu.supervision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Leader,
    District,
    City,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Leader => "leader",
            Target::District => "district",
            Target::City => "city",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        match s {
            "leader" => Some(Target::Leader),
            "district" => Some(Target::District),
            "city" => Some(Target::City),
            _ => None,
        }
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

/// One step of a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub trigger: Trigger,
    pub target: Target,
    /// Sent again every so much working time while the trigger still holds; None: once.
    pub repeat_ms: Option<i64>,
    /// At most this many sends in all (1 when repeat_ms is None).
    pub max_sends: u32,
}

/// A named chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: String,
    pub steps: Vec<Step>,
}
