//! Walking the rule tree for one request: the lead department (主办), co-handlers (协办),
//! emergency linkage flags, the inferred category, and — for `routes explain` — every rule
//! tried with each condition's outcome.
use super::calendar::Uncovered;
use super::compile::{Action, Node, Router};
use super::infer::Inference;
use super::rules::{Ctx, Outcome};
use crate::clocks::escalation::Trigger;
use crate::clocks::{Counting, UnitClocks};
use crate::config::routing::{Encoding, Role};
use crate::pb;
use crate::store::RouteDecision;
use crate::time::{CST_OFFSET_SECS, local_day};

/// A department that gets its own dispatch besides the lead (协办).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoHandler {
    pub decision: RouteDecision,
    pub encoding: Encoding,
}

/// A linkage rule that flagged the report as an emergency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkageHit {
    pub rule_id: String,
    /// `110`, `119`, `120` or `122`.
    pub line: String,
    pub reason: String,
}

/// Everything routing decided for one request, by one router version.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The lead department's decision (the case records it).
    pub decision: RouteDecision,
    /// How the lead department wants its dispatches encoded.
    pub encoding: Encoding,
    /// Co-handlers, each with its own dispatch.
    pub co_handlers: Vec<CoHandler>,
    /// Publish priority set by the deciding rule, if any.
    pub priority: Option<u8>,
    /// The category inferred from the text when the request gave none.
    pub inferred: Option<Inference>,
    /// Emergency linkage rules that matched.
    pub linkage: Vec<LinkageHit>,
    /// Why it went where it went, in words (recorded in the audit trail).
    pub reason: String,
    /// Set when a deadline ran past the calendar (see [`Router::route`]).
    pub calendar_gap: Option<Uncovered>,
}

/// One rule tried, for `routes explain`.
#[derive(Debug, Clone)]
pub struct Step {
    /// Nesting depth (0 for top-level rules).
    pub depth: usize,
    pub rule_id: String,
    pub description: String,
    pub matched: bool,
    pub outcomes: Vec<Outcome>,
}

/// `routes explain`: the rules tried and the result.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub steps: Vec<Step>,
    /// Linkage rules tried.
    pub linkage: Vec<Step>,
    pub routed: Routed,
    /// The lead's escalation chain, so the report shows its steps.
    pub escalation: Option<std::sync::Arc<crate::clocks::escalation::Policy>>,
}

impl Router {
    /// Routes a request accepted at `now_ms`. Never fails: a deadline that runs past what any
    /// calendar can count (a year the provisional generator does not cover either) is counted
    /// Monday to Friday and flagged in [`Routed::calendar_gap`] for the caller to log and count.
    pub fn route(&self, req: &pb::Request, now_ms: i64) -> Routed {
        self.run(req, now_ms, &[], None, None)
    }

    /// Routes a returned case again (退单 → 改派): as [`Router::route`], except that a rule
    /// whose department is in `excluded` does not take the request, so the next rule that
    /// matches does (or, when none is left, the fallback, the coordination centre). Only the
    /// lead changes hands, so the result carries no co-handlers and no linkage: those went out
    /// with the case's first dispatch.
    pub fn route_excluding(&self, req: &pb::Request, now_ms: i64, excluded: &[String]) -> Routed {
        let mut routed = self.run(req, now_ms, excluded, None, None);
        routed.co_handlers.clear();
        routed.linkage.clear();
        routed
    }

    /// The decision that hands a case to `department_id` (改派 by the coordination centre,
    /// or the coordination centre itself after too many returns): the level and deadline of
    /// the first rule matching the request that leads to that department, else the
    /// fallback's, counted on the department's own calendar. None for an undeclared
    /// department.
    pub fn route_to(
        &self,
        req: &pb::Request,
        now_ms: i64,
        department_id: &str,
    ) -> Option<(RouteDecision, Encoding)> {
        let dept = self.departments.iter().find(|d| d.id == department_id)?;
        let others: Vec<String> = self
            .departments
            .iter()
            .filter(|d| d.id != department_id)
            .map(|d| d.id.clone())
            .collect();
        let routed = self.run(req, now_ms, &others, None, None);
        if routed.decision.department_id == department_id {
            return Some((routed.decision, routed.encoding));
        }
        let action = Action {
            rule_id: self.fallback.rule_id.clone(),
            department_id: dept.id.clone(),
            routing_key: dept.routing_key(),
            encoding: dept.encoding,
            calendar: self
                .calendars
                .get(&dept.id)
                .cloned()
                .unwrap_or_else(|| self.fallback.calendar.clone()),
            ..self.fallback.clone()
        };
        let mut gap = None;
        Some((self.decision(&action, now_ms, &mut gap), dept.encoding))
    }

    /// One action's decision at `now_ms`; a deadline past every calendar is counted Monday to
    /// Friday and reported in `gap`.
    fn decision(&self, a: &Action, now_ms: i64, gap: &mut Option<Uncovered>) -> RouteDecision {
        let due = a.deadline.due(now_ms, &a.calendar).unwrap_or_else(|e| {
            *gap = Some(e);
            a.deadline
                .due(now_ms, &super::calendar::Calendar::weekdays())
                .unwrap_or(super::deadline::Due {
                    at_ms: now_ms,
                    provisional: Vec::new(),
                })
        });
        RouteDecision {
            department_id: a.department_id.clone(),
            routing_key: a.routing_key.clone(),
            level: a.level,
            due_at_ms: due.at_ms,
            working_days: match a.deadline {
                super::deadline::Deadline::WorkingDays(n) => Some(n),
                super::deadline::Deadline::Hours(_) => None,
            },
            counted_from_ms: now_ms,
            provisional_years: due.provisional,
            rule_id: a.rule_id.clone(),
            routing_version: self.version.clone(),
            clocks: self.unit_clocks(a, now_ms, due.at_ms),
            escalation: a.escalation.clone(),
        }
    }

    /// The sign-for and completion clocks of a unit given a case by `a` at `now_ms` with the
    /// deadline `due_ms`. None when the calendar cannot count them (the deadline itself was
    /// then counted Monday to Friday and reported).
    fn unit_clocks(&self, a: &Action, now_ms: i64, due_ms: i64) -> Option<UnitClocks> {
        let around_the_clock = matches!(a.deadline, super::deadline::Deadline::Hours(_))
            || matches!(*a.calendar, super::calendar::Calendar::EveryDay);
        let k = Counting {
            calendar: &a.calendar,
            hours: self.clocks.hours(),
            around_the_clock,
        };
        let share = self.clocks.yellow_share;
        let sign_for = match a.sign_for_hours {
            0 => None,
            h => {
                let due = k.add(now_ms, i64::from(h) * 3_600_000).ok()?;
                Some(k.clock(now_ms, due, share).ok()?)
            }
        };
        let first_escalation_at = a
            .escalation
            .as_deref()
            .and_then(|id| self.escalation(id))
            .and_then(|p| {
                p.steps
                    .iter()
                    .filter_map(|s| match s.trigger {
                        Trigger::Unsigned { after_ms } => k.add(now_ms, after_ms).ok(),
                        _ => None,
                    })
                    .min()
            });
        Some(UnitClocks {
            sign_for,
            complete: k.clock(now_ms, due_ms, share).ok()?,
            around_the_clock,
            first_escalation_at,
        })
    }

    /// How the clocks of cases held by `department_id` count, for pauses (see
    /// [`crate::store::ClockRules`]); the fallback's calendar for an unknown department.
    pub fn clock_rules(&self, department_id: &str) -> crate::store::ClockRules {
        crate::store::ClockRules {
            calendar: self
                .calendars
                .get(department_id)
                .cloned()
                .unwrap_or_else(|| self.fallback.calendar.clone()),
            hours: self.clocks.hours(),
            yellow_share: self.clocks.yellow_share,
        }
    }
}

/// The writer asks the router in force how a department's clocks count and which escalation
/// policies exist.
impl crate::store::ClockLookup for Router {
    fn rules(&self, department_id: &str) -> crate::store::ClockRules {
        self.clock_rules(department_id)
    }

    fn policy(&self, id: &str) -> Option<std::sync::Arc<crate::clocks::escalation::Policy>> {
        self.escalation(id)
    }
}

impl Router {
    /// Routes like [`Router::route`] and records every rule tried.
    pub fn explain(&self, req: &pb::Request, now_ms: i64) -> Explanation {
        let mut steps = Vec::new();
        let mut linkage = Vec::new();
        let routed = self.run(req, now_ms, &[], Some(&mut steps), Some(&mut linkage));
        let escalation = routed
            .decision
            .escalation
            .as_deref()
            .and_then(|id| self.escalation(id));
        Explanation {
            steps,
            linkage,
            routed,
            escalation,
        }
    }

    /// The taxonomy category a text is about, for reports that arrive without one.
    pub fn infer_category(&self, text: &str) -> Option<Inference> {
        self.inferrer.infer(text)
    }

    fn run(
        &self,
        req: &pb::Request,
        now_ms: i64,
        excluded: &[String],
        mut trace: Option<&mut Vec<Step>>,
        link_trace: Option<&mut Vec<Step>>,
    ) -> Routed {
        let inferred = if req.category.is_empty() {
            self.infer_category(&format!("{}\n{}", req.title, req.description))
        } else {
            None
        };
        let category = inferred
            .as_ref()
            .map_or(req.category.as_str(), |i| i.code.as_str());
        let local_ms = now_ms + CST_OFFSET_SECS * 1000;
        let ctx = Ctx {
            category,
            minute_of_day: u32::try_from(local_ms.rem_euclid(86_400_000) / 60_000).unwrap_or(0),
        };
        let mut hits: Vec<(&Action, Role)> = Vec::new();
        walk(&self.rules, req, ctx, excluded, &mut hits, &mut trace, 0);

        let mut gap = None;
        let mut decision = |a: &Action| self.decision(a, now_ms, &mut gap);

        let leads: Vec<&Action> = hits
            .iter()
            .filter(|(_, r)| *r == Role::Lead)
            .map(|(a, _)| *a)
            .collect();
        let mut lead_departments: Vec<&str> =
            leads.iter().map(|a| a.department_id.as_str()).collect();
        lead_departments.dedup();
        let (lead, reason) = match (hits.is_empty(), lead_departments.len()) {
            (true, _) => (&self.fallback, "no rule matched".to_owned()),
            (false, 0) => (
                &self.fallback,
                format!(
                    "ambiguous: only co-handler rules matched ({}), none leads",
                    hits.iter()
                        .map(|(a, _)| a.rule_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            (false, 1) => (leads[0], format!("rule {}", leads[0].rule_id)),
            (false, _) => (
                &self.fallback,
                format!(
                    "ambiguous: several departments claim it ({})",
                    leads
                        .iter()
                        .map(|a| format!("{} by rule {}", a.department_id, a.rule_id))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        };
        let lead_decision = decision(lead);
        let mut co_handlers: Vec<CoHandler> = Vec::new();
        if !std::ptr::eq(lead, &self.fallback) {
            for (a, _) in &hits {
                if a.department_id != lead.department_id
                    && !co_handlers
                        .iter()
                        .any(|c| c.decision.department_id == a.department_id)
                {
                    co_handlers.push(CoHandler {
                        decision: decision(a),
                        encoding: a.encoding,
                    });
                }
            }
        }

        let mut linkage = Vec::new();
        let mut link_trace = link_trace;
        for l in &self.linkage {
            let ok = match link_trace.as_deref_mut() {
                Some(t) => {
                    let (ok, outcomes) = l.matcher.explain(req, ctx);
                    t.push(Step {
                        depth: 0,
                        rule_id: l.id.clone(),
                        description: format!("{} → {}", l.reason, l.line),
                        matched: ok,
                        outcomes,
                    });
                    ok
                }
                None => l.matcher.matches(req, ctx),
            };
            if ok {
                linkage.push(LinkageHit {
                    rule_id: l.id.clone(),
                    line: l.line.clone(),
                    reason: l.reason.clone(),
                });
            }
        }
        Routed {
            decision: lead_decision,
            encoding: lead.encoding,
            co_handlers,
            priority: lead.priority,
            inferred,
            linkage,
            reason,
            calendar_gap: gap,
        }
    }
}

/// Tries `nodes` in order; returns whether any took the request. A node takes it when it
/// matches and one of its children does, or (no child does and) it has an action. The walk
/// stops at the first node that takes it unless that node says `continue`. A node whose
/// department is `excluded` (it returned the case) does not take it.
fn walk<'r>(
    nodes: &'r [Node],
    req: &pb::Request,
    ctx: Ctx<'_>,
    excluded: &[String],
    hits: &mut Vec<(&'r Action, Role)>,
    trace: &mut Option<&mut Vec<Step>>,
    depth: usize,
) -> bool {
    let mut any = false;
    for n in nodes {
        let ok = match trace.as_deref_mut() {
            Some(t) => {
                let (ok, outcomes) = n.matcher.explain(req, ctx);
                t.push(Step {
                    depth,
                    rule_id: n.id.clone(),
                    description: n.description.clone(),
                    matched: ok,
                    outcomes,
                });
                ok
            }
            None => n.matcher.matches(req, ctx),
        };
        if !ok {
            continue;
        }
        let took = if walk(&n.children, req, ctx, excluded, hits, trace, depth + 1) {
            true
        } else if let Some(a) = n
            .action
            .as_ref()
            .filter(|a| !excluded.contains(&a.department_id))
        {
            hits.push((a, n.role));
            true
        } else {
            false
        };
        if took {
            any = true;
            if !n.cont {
                return true;
            }
        }
    }
    any
}

/// The local day of an instant (re-exported for explain output).
pub fn local_date(ms: i64) -> String {
    super::calendar::date_string(local_day(ms))
}
