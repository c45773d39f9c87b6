//! `[[escalation]]` in `config/routing.toml`: escalation chains (催办/督办) as operators write
//! them, their checks, and their compilation into [`crate::clocks::escalation::Policy`]. Routing
//! owns them because a rule (or `[clocks] escalation`, the default) names the chain each unit
//! it routes gets, so a chain changes with the routing file on reload like everything else.
//!
//! ```toml
//! [[escalation]]
//! id = "standard"
//!   [[escalation.step]]
//!   trigger = "unsigned"           # unsigned | red | returned
//!   after_working_hours = 2        # unsigned: required, at least 1
//!   target = "leader"              # leader | district | city
//!   repeat_working_hours = 4       # optional, not for returned
//!   max_sends = 3                  # optional: 1, or 3 with a repeat
//! ```
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use super::problem::Problems;
use crate::clocks::escalation::{Policy, Step, Target, Trigger};

/// Working hours are counted in ms of working time; the scheduler lays them on the calendar.
const HOUR_MS: i64 = 3_600_000;

/// How many sends a repeating step makes when it does not say (PagerDuty's default of
/// repeating a policy 3 times is the model; more is noise for a supervision office).
const DEFAULT_REPEATED_SENDS: u32 = 3;

/// One escalation chain, like a PagerDuty escalation policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    /// The id rules, `[fallback]` and `[clocks] escalation` name it by.
    pub id: String,
    /// What the chain is for, for people reading the file.
    #[serde(default)]
    pub description: Option<String>,
    /// The steps (`[[escalation.step]]`); each fires on its own trigger.
    #[serde(rename = "step", default)]
    pub steps: Vec<EscalationStep>,
}

/// One step as written. Trigger and target are plain strings (not enums) so that a wrong one
/// is reported with its key alongside every other problem, instead of stopping the parse.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// `unsigned` (not signed for in time), `red` (the completion clock is red) or `returned`
    /// (the case was returned so many times).
    #[serde(default)]
    pub trigger: String,
    /// Who is told: `leader` (the holding department's leader), `district` or `city` (the
    /// district or city supervision office).
    #[serde(default)]
    pub target: String,
    /// `unsigned` only, required: working hours after the dispatch without a sign-for.
    #[serde(default)]
    pub after_working_hours: Option<u32>,
    /// `red` only: working days the light has been red (default 0: as it turns red).
    #[serde(default)]
    pub after_working_days: Option<u32>,
    /// `returned` only, required: returns over the case's life (at least 1).
    #[serde(default)]
    pub times: Option<u32>,
    /// Send again every so many working hours while the trigger still holds (not for
    /// `returned`: a return is an event, not a state). Default: once.
    #[serde(default)]
    pub repeat_working_hours: Option<u32>,
    /// At most this many sends in all: default 1, or 3 with `repeat_working_hours`; more than
    /// 1 needs a repeat.
    #[serde(default)]
    pub max_sends: Option<u32>,
}

/// The compiled chains, by id.
pub type Policies = HashMap<String, Arc<Policy>>;

/// Checks every chain, recording each problem under `escalation[i]`, and compiles those
/// without problems (a file with any problem is refused as a whole anyway).
pub fn compile(list: &[EscalationPolicy], p: &mut Problems) -> Policies {
    let mut out = Policies::new();
    let mut seen = HashSet::new();
    for (i, e) in list.iter().enumerate() {
        let key = format!("escalation[{i}]");
        if e.id.trim().is_empty() {
            p.add(format!("{key}.id"), "must not be empty");
        } else if !seen.insert(e.id.as_str()) {
            p.add(
                format!("{key}.id"),
                format!("escalation {:?} is declared twice", e.id),
            );
        }
        if e.steps.is_empty() {
            p.add(
                format!("{key}.step"),
                "no steps: give the chain at least one [[escalation.step]]",
            );
        }
        let before = p.list.len();
        // With each step's index, to name the first of two that say the same.
        let mut steps: Vec<(usize, Step)> = Vec::new();
        for (j, s) in e.steps.iter().enumerate() {
            let key = format!("{key}.step[{j}]");
            let Some(step) = step(&key, s, p) else {
                continue;
            };
            // Two equal triggers to the same target would tell the same people twice.
            if let Some((k, _)) = steps
                .iter()
                .find(|(_, o)| o.trigger == step.trigger && o.target == step.target)
            {
                p.add(
                    key,
                    format!("the same trigger and target as step[{k}]: merge the two steps"),
                );
            }
            steps.push((j, step));
        }
        if p.list.len() == before && !steps.is_empty() {
            out.insert(
                e.id.clone(),
                Arc::new(Policy {
                    id: e.id.clone(),
                    steps: steps.into_iter().map(|(_, s)| s).collect(),
                }),
            );
        }
    }
    out
}

/// The chain a rule's unit gets: the rule's own `escalation` when it gives one (`""`: none),
/// else `default` (`[clocks] escalation`, already checked). Records a problem at `key` when it
/// names a chain `list` does not declare.
pub fn resolve(
    key: &str,
    own: Option<&str>,
    default: Option<&str>,
    list: &[EscalationPolicy],
    p: &mut Problems,
) -> Option<String> {
    match own {
        None => default.map(str::to_owned),
        Some("") => None,
        Some(id) => {
            check_ref(key, id, list, p);
            Some(id.to_owned())
        }
    }
}

/// Records a problem at `key` when `id` is not `""` and names no declared chain.
pub fn check_ref(key: &str, id: &str, list: &[EscalationPolicy], p: &mut Problems) {
    if !id.is_empty() && !list.iter().any(|e| e.id == id) {
        let mut known: Vec<&str> = Vec::new();
        for e in list {
            if !e.id.is_empty() && !known.contains(&e.id.as_str()) {
                known.push(&e.id);
            }
        }
        p.add(
            key,
            format!(
                "unknown escalation {id:?}: declare it in an [[escalation]] (declared: {}), or use \"\" for none",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
    }
}

/// One step, or None when it has a problem (each recorded under `key`).
fn step(key: &str, s: &EscalationStep, p: &mut Problems) -> Option<Step> {
    let target = Target::parse(&s.target);
    if target.is_none() {
        p.add(
            format!("{key}.target"),
            if s.target.is_empty() {
                "missing: use leader, district or city".to_owned()
            } else {
                format!(
                    "{:?} is not a target: use leader, district or city",
                    s.target
                )
            },
        );
    }
    // Keys that belong to other triggers are mistakes, not things to ignore: an operator who
    // wrote `times` on an `unsigned` step meant something the step will not do.
    let not_here = |name: &str, given: bool, p: &mut Problems| {
        if given {
            p.add(
                format!("{key}.{name}"),
                format!("not for a {:?} step", s.trigger),
            );
        }
    };
    let positive = |name: &str, v: Option<u32>, what: &str, p: &mut Problems| match v {
        None => {
            p.add(format!("{key}.{name}"), format!("missing: {what}"));
            None
        }
        Some(0) => {
            p.add(format!("{key}.{name}"), "must be at least 1");
            None
        }
        Some(n) => Some(n),
    };
    let trigger = match s.trigger.as_str() {
        "unsigned" => {
            not_here("after_working_days", s.after_working_days.is_some(), p);
            not_here("times", s.times.is_some(), p);
            positive(
                "after_working_hours",
                s.after_working_hours,
                "working hours after the dispatch without a sign-for",
                p,
            )
            .map(|h| Trigger::Unsigned {
                after_ms: i64::from(h) * HOUR_MS,
            })
        }
        "red" => {
            not_here("after_working_hours", s.after_working_hours.is_some(), p);
            not_here("times", s.times.is_some(), p);
            Some(Trigger::Red {
                after_days: s.after_working_days.unwrap_or(0),
            })
        }
        "returned" => {
            not_here("after_working_hours", s.after_working_hours.is_some(), p);
            not_here("after_working_days", s.after_working_days.is_some(), p);
            if s.repeat_working_hours.is_some() {
                p.add(
                    format!("{key}.repeat_working_hours"),
                    "not for a \"returned\" step: a return is an event, sent once",
                );
            }
            positive("times", s.times, "returns over the case's life", p)
                .map(|times| Trigger::Returned { times })
        }
        "" => {
            p.add(
                format!("{key}.trigger"),
                "missing: use unsigned, red or returned",
            );
            None
        }
        other => {
            p.add(
                format!("{key}.trigger"),
                format!("{other:?} is not a trigger: use unsigned, red or returned"),
            );
            None
        }
    };
    let repeat_ms = match s.repeat_working_hours {
        Some(0) => {
            p.add(
                format!("{key}.repeat_working_hours"),
                "must be at least 1 (leave it out to send once)",
            );
            None
        }
        h => h.map(|h| i64::from(h) * HOUR_MS),
    };
    let max_sends = match (s.max_sends, s.repeat_working_hours) {
        (Some(0), _) => {
            p.add(format!("{key}.max_sends"), "must be at least 1");
            None
        }
        (Some(n), None) if n > 1 => {
            p.add(
                format!("{key}.max_sends"),
                format!(
                    "{n} sends need repeat_working_hours: without a repeat a step is sent once"
                ),
            );
            None
        }
        (Some(n), _) => Some(n),
        (None, Some(_)) => Some(DEFAULT_REPEATED_SENDS),
        (None, None) => Some(1),
    };
    Some(Step {
        trigger: trigger?,
        target: target?,
        repeat_ms,
        max_sends: max_sends?,
    })
}
