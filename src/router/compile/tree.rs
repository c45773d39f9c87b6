//! The tree-and-actions half of compiling, as `router/conditions.rs` is the conditions half:
//! each rule becomes a node with its action (a declared department, level, priority, deadline,
//! sign-for hours, escalation), and a rule after a written catch-all is reported as never
//! matching.
use super::{Action, Compiler, Node};
use crate::config::escalation;
use crate::config::routing::{RouteAction, Rule};
use crate::outbox::envelope::level_from_code;
use crate::router::deadline::Deadline;

impl Compiler<'_> {
    pub(super) fn nodes(&mut self, prefix: &str, rules: &[Rule]) -> Vec<Node> {
        let mut out = Vec::new();
        let mut catch_all: Option<String> = None;
        for (i, r) in rules.iter().enumerate() {
            let key = format!("{prefix}[{i}]");
            self.id(&key, &r.id);
            if let Some(first) = &catch_all {
                self.p.add(
                    &key,
                    format!(
                        "rule {:?} can never match: rule {first:?} before it matches everything",
                        r.id
                    ),
                );
            }
            let matcher = self.matcher(&key, r);
            let action = match (&r.department, &r.level) {
                (Some(department), Some(level)) => self.action(
                    &key,
                    &r.id,
                    &RouteAction {
                        department: department.clone(),
                        level: level.clone(),
                        deadline_working_days: r.deadline_working_days,
                        deadline_hours: r.deadline_hours,
                        sign_for_working_hours: r.sign_for_working_hours,
                        escalation: r.escalation.clone(),
                    },
                    r.priority,
                ),
                (Some(_), None) => {
                    self.p
                        .add(format!("{key}.level"), "missing: set a level A, B, C or D");
                    None
                }
                (None, _)
                    if r.level.is_some()
                        || r.deadline_hours.is_some()
                        || r.deadline_working_days.is_some()
                        || r.sign_for_working_hours.is_some()
                        || r.escalation.is_some()
                        || r.priority.is_some() =>
                {
                    self.p.add(
                        format!("{key}.department"),
                        "missing: a rule with a level, deadline or escalation needs a department",
                    );
                    None
                }
                (None, _) => {
                    if r.children.is_empty() {
                        self.p.add(
                            &key,
                            "rule does nothing: give it a department or child rules",
                        );
                    }
                    None
                }
            };
            let children = self.nodes(&format!("{key}.rule"), &r.children);
            // Judged on the rule as written: a rule whose only condition is invalid is an
            // error, not a catch-all. One that says `continue` lets later rules run anyway.
            if matcher.is_catch_all()
                && r.department.is_some()
                && !r.continue_
                && catch_all.is_none()
                && written_catch_all(r)
            {
                catch_all = Some(r.id.clone());
            }
            out.push(Node {
                id: r.id.clone(),
                description: r.description.clone().unwrap_or_default(),
                matcher,
                action,
                role: r.role,
                cont: r.continue_,
                children,
            });
        }
        out
    }

    pub(super) fn action(
        &mut self,
        key: &str,
        rule_id: &str,
        a: &RouteAction,
        priority: Option<u8>,
    ) -> Option<Action> {
        self.used.insert(a.department.clone());
        let info = self.depts.get(&a.department);
        if info.is_none() {
            self.p.add(
                format!("{key}.department"),
                format!(
                    "unknown department {:?}: declare it in a [[department]]",
                    a.department
                ),
            );
        }
        let level = level_from_code(&a.level);
        if level.is_none() {
            self.p.add(
                format!("{key}.level"),
                format!(
                    "{:?} is not a level: use A (community), B (street), C (district) or D (city)",
                    a.level
                ),
            );
        }
        if let Some(p) = priority.filter(|p| *p > 9) {
            self.p.add(
                format!("{key}.priority"),
                format!("{p} is not a priority: use 0 (lowest) to 9 (highest)"),
            );
        }
        let deadline = match (a.deadline_working_days, a.deadline_hours) {
            (Some(d), None) if d > 0 => Some(Deadline::WorkingDays(d)),
            (None, Some(h)) if h > 0 => Some(Deadline::Hours(h)),
            (Some(_), Some(_)) => {
                self.p
                    .add(key, "set deadline_working_days or deadline_hours, not both");
                None
            }
            (None, None) => {
                self.p.add(
                    key,
                    "missing deadline: set deadline_working_days or deadline_hours",
                );
                None
            }
            _ => {
                self.p.add(key, "deadline must be at least 1");
                None
            }
        };
        let escalation = escalation::resolve(
            &format!("{key}.escalation"),
            a.escalation.as_deref(),
            self.escalation_default,
            self.escalations,
            &mut self.p,
        );
        let info = info?;
        Some(Action {
            rule_id: rule_id.to_owned(),
            department_id: a.department.clone(),
            routing_key: info.routing_key.clone(),
            encoding: info.encoding,
            level: level?,
            deadline: deadline?,
            // A department whose calendar failed to load has its problems reported already.
            calendar: info.calendar.clone()?,
            priority: priority.filter(|p| *p <= 9),
            sign_for_hours: a.sign_for_working_hours.unwrap_or(self.sign_for_default),
            escalation,
        })
    }
}

/// True when the rule as written has no condition at all.
fn written_catch_all(r: &Rule) -> bool {
    r.channels.is_empty()
        && r.request_types.is_empty()
        && r.categories.is_empty()
        && r.keywords.is_empty()
        && r.keywords_all.is_empty()
        && r.keywords_none.is_empty()
        && r.text_regex.is_none()
        && r.districts.is_empty()
        && r.streets.is_empty()
        && r.communities.is_empty()
        && r.grids.is_empty()
        && r.area.is_none()
        && r.urgency.is_empty()
        && r.time_of_day.is_none()
}

pub(super) fn collect_actions(prefix: &str, nodes: &[Node], out: &mut Vec<(String, Action)>) {
    for (i, n) in nodes.iter().enumerate() {
        let key = format!("{prefix}[{i}]");
        if let Some(a) = &n.action {
            out.push((key.clone(), a.clone()));
        }
        collect_actions(&format!("{key}.rule"), &n.children, out);
    }
}
