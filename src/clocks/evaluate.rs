//! What is due on one unit at an instant: which lights changed and which escalation steps
//! fire, and when to look at the unit next. Pure, so the scheduler's every decision is tested
//! without a store or a broker; the store's writer runs it inside the transaction that
//! records the events.
//!
//! Catching up: a unit looked at late (the gateway was down) gets each threshold it crossed
//! once — yellow and then red, each step once — never one event per missed repeat. The next
//! repeat is counted from the catch-up.
use super::escalation::{Policy, Trigger};
use super::light::{Clock, Counting, Light, Stage};

/// A unit's clocks as the store keeps them (`unit_clocks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// When the holder was given the case (the clocks' start).
    pub started_at: i64,
    /// The sign-for clock; None once signed, or when the rule sets none.
    pub sign: Option<Clock>,
    pub signed: bool,
    /// The completion clock (red at the unit deadline).
    pub complete: Clock,
    /// The lights last sent for each clock.
    pub sign_light: Light,
    pub complete_light: Light,
    /// Returns over the case's life.
    pub returns: u32,
}

/// How often a step has been sent to this holding, and when last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sent {
    pub sends: u32,
    pub last_at: i64,
}

/// A light change to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LightChange {
    pub stage: Stage,
    pub light: Light,
    pub clock: Clock,
    /// The threshold's instant (may be earlier than now when caught up).
    pub crossed_at: i64,
}

/// An escalation step send to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub step: usize,
    /// 1 for the first send.
    pub send: u32,
    /// The instant it was due.
    pub due_at: i64,
}

/// What [`evaluate`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub lights: Vec<LightChange>,
    pub fired: Vec<Fired>,
    /// The lights to keep.
    pub sign_light: Light,
    pub complete_light: Light,
    /// Per step of the policy, after this evaluation.
    pub sent: Vec<Sent>,
    /// When to look again; None when nothing more can happen without an update.
    pub next_at: Option<i64>,
}

/// Everything due on `u` at `now`. `sent` has one entry per step of `policy` (missing entries
/// count as never sent).
pub fn evaluate(
    u: &Unit,
    policy: Option<&Policy>,
    sent: &[Sent],
    k: &Counting<'_>,
    now: i64,
) -> Evaluation {
    let mut lights = Vec::new();
    let sign_light = match u.sign.filter(|_| !u.signed) {
        Some(c) => step_light(Stage::SignFor, c, u.sign_light, now, &mut lights),
        None => u.sign_light,
    };
    let complete_light = step_light(
        Stage::Complete,
        u.complete,
        u.complete_light,
        now,
        &mut lights,
    );
    let mut next: Option<i64> = None;
    let mut soonest = |t: Option<i64>| {
        if let Some(t) = t {
            next = Some(next.map_or(t, |n: i64| n.min(t)));
        }
    };
    if !u.signed {
        soonest(u.sign.and_then(|c| c.next_change(now)));
    }
    soonest(u.complete.next_change(now));
    let mut fired = Vec::new();
    let steps = policy.map_or(&[][..], |p| p.steps.as_slice());
    let mut after = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let mut s = sent.get(i).copied().unwrap_or_default();
        if let Some(due) = step_due(u, step, s, k)
            && due <= now
        {
            s.sends += 1;
            s.last_at = now;
            fired.push(Fired {
                step: i,
                send: s.sends,
                due_at: due,
            });
        }
        soonest(step_due(u, step, s, k));
        after.push(s);
    }
    Evaluation {
        lights,
        fired,
        sign_light,
        complete_light,
        sent: after,
        next_at: next,
    }
}

/// The light of one clock at `now`, recording a change for each threshold crossed upwards
/// since `was`. A light that went down (an approved extension moved the deadline) is kept
/// without an event: nobody is told that a case got greener.
fn step_light(stage: Stage, c: Clock, was: Light, now: i64, out: &mut Vec<LightChange>) -> Light {
    let light = c.light(now);
    for (threshold, at) in [(Light::Yellow, c.yellow_at), (Light::Red, c.red_at)] {
        if was < threshold && light >= threshold {
            out.push(LightChange {
                stage,
                light: threshold,
                clock: c,
                crossed_at: at,
            });
        }
    }
    light
}

/// When step `step` is next due on `u`, given what was sent; None while its trigger does not
/// hold or it has been sent as often as it may.
fn step_due(u: &Unit, step: &super::escalation::Step, s: Sent, k: &Counting<'_>) -> Option<i64> {
    if s.sends >= step.max_sends.max(1) {
        return None;
    }
    let first = match step.trigger {
        Trigger::Unsigned { after_ms } => {
            if u.signed {
                return None;
            }
            add(k, u.started_at, after_ms)
        }
        Trigger::Red { after_days } => {
            let day = if k.around_the_clock {
                86_400_000
            } else {
                k.hours.day_ms()
            };
            add(k, u.complete.red_at, i64::from(after_days) * day)
        }
        Trigger::Returned { times } => {
            if u.returns < times {
                return None;
            }
            u.started_at
        }
    };
    if s.sends == 0 {
        return Some(first);
    }
    // A repeat: only while the trigger still holds, which for a red step means the deadline
    // is still behind (an approved extension can put it ahead again).
    let repeat = step.repeat_ms?;
    if matches!(step.trigger, Trigger::Red { .. }) && s.last_at < u.complete.red_at {
        return Some(first);
    }
    Some(add(k, s.last_at, repeat))
}

/// `amount` of counted time after `from`; beyond the calendar's range, wall time (the deadline
/// itself was then counted Monday to Friday and reported).
fn add(k: &Counting<'_>, from: i64, amount: i64) -> i64 {
    k.add(from, amount)
        .unwrap_or_else(|_| from.saturating_add(amount))
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
