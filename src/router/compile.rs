//! Compiling the routing file into a [`Router`], checking everything at once: unknown
//! departments, duplicate ids, bad levels, channels and district codes, missing deadlines, and
//! rules that can never match because a catch-all stands before them.
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;

use super::deadline::Deadline;
use super::infer::{CategoryInferrer, Inference};
use super::rules::Matcher;
use crate::config::problem::{ConfigError, Problems};
use crate::config::routing::{Department, RouteAction, RoutingConfig};
use crate::dispatch::envelope::level_from_code;
use crate::pb;
use crate::store::RouteDecision;

/// What a matched rule (or the fallback) does.
#[derive(Debug, Clone)]
struct Action {
    rule_id: String,
    department_id: String,
    routing_key: String,
    level: pb::Level,
    deadline: Deadline,
}

/// Compiled, validated routing rules.
#[derive(Debug, Clone)]
pub struct Router {
    version: String,
    departments: Vec<Department>,
    rules: Vec<(Matcher, Action)>,
    fallback: Action,
    inferrer: CategoryInferrer,
}

impl Router {
    /// Validates `cfg` (read from `file`, whose raw `text` versions it when no version is set).
    pub fn compile(cfg: &RoutingConfig, file: &Path, text: &str) -> Result<Router, ConfigError> {
        let mut p = Problems::new(file);
        let mut keys: HashMap<&str, String> = HashMap::new();
        let mut ids = HashSet::new();
        for (i, d) in cfg.departments.iter().enumerate() {
            let key = format!("department[{i}]");
            if d.id.is_empty()
                || !d
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                p.add(
                    format!("{key}.id"),
                    format!("{:?} must be lower-case letters, digits and '-'", d.id),
                );
            }
            if !ids.insert(d.id.as_str()) {
                p.add(
                    format!("{key}.id"),
                    format!("department {:?} is declared twice", d.id),
                );
            }
            if d.name.trim().is_empty() {
                p.add(format!("{key}.name"), "must not be empty");
            }
            keys.insert(d.id.as_str(), d.routing_key());
        }
        if cfg.departments.is_empty() {
            p.add("department", "no departments declared");
        }

        let fallback = action(&mut p, "fallback", "fallback", &cfg.fallback, &keys);
        let mut rules = Vec::new();
        let mut rule_ids = HashSet::new();
        let mut catch_all: Option<String> = None;
        for (i, r) in cfg.rules.iter().enumerate() {
            let key = format!("rule[{i}]");
            if r.id.trim().is_empty() {
                p.add(format!("{key}.id"), "must not be empty");
            } else if !rule_ids.insert(r.id.as_str()) {
                p.add(
                    format!("{key}.id"),
                    format!("rule id {:?} is used twice", r.id),
                );
            }
            if let Some(first) = &catch_all {
                p.add(
                    &key,
                    format!(
                        "rule {:?} can never match: rule {first:?} before it matches everything",
                        r.id
                    ),
                );
            }
            let mut channels = Vec::new();
            for (j, c) in r.channels.iter().enumerate() {
                match pb::Channel::from_str_name(&format!("CHANNEL_{c}")) {
                    Some(ch) if ch != pb::Channel::Unspecified => channels.push(ch),
                    _ => p.add(
                        format!("{key}.channels[{j}]"),
                        format!(
                            "unknown channel {c:?} (e.g. HOTLINE_12345, WECHAT, EMERGENCY_119)"
                        ),
                    ),
                }
            }
            for (j, d) in r.districts.iter().enumerate() {
                if d.len() != 6 || !d.bytes().all(|b| b.is_ascii_digit()) {
                    p.add(
                        format!("{key}.districts[{j}]"),
                        format!("{d:?} is not a 6-digit district code"),
                    );
                }
            }
            for (j, c) in r.categories.iter().enumerate() {
                if c.is_empty() || c.starts_with('.') || c.contains(char::is_whitespace) {
                    p.add(
                        format!("{key}.categories[{j}]"),
                        format!("{c:?} is not a category code or prefix"),
                    );
                }
            }
            for (j, k) in r.keywords.iter().enumerate() {
                if k.trim().is_empty() {
                    p.add(format!("{key}.keywords[{j}]"), "must not be empty");
                }
            }
            let matcher = Matcher {
                channels,
                categories: r.categories.clone(),
                districts: r.districts.clone(),
                keywords: r.keywords.clone(),
            };
            // Judged on the rule as written: a rule whose only condition is invalid is an
            // error, not a catch-all.
            let written_catch_all = r.channels.is_empty()
                && r.categories.is_empty()
                && r.districts.is_empty()
                && r.keywords.is_empty();
            if written_catch_all && catch_all.is_none() {
                catch_all = Some(r.id.clone());
            }
            if let Some(a) = action(&mut p, &key, &r.id, &r.action(), &keys) {
                rules.push((matcher, a));
            }
        }

        let inferrer = match &cfg.taxonomy {
            None => CategoryInferrer::default(),
            Some(t) => {
                let path = file.parent().unwrap_or_else(|| Path::new(".")).join(t);
                match std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
                    .and_then(|text| {
                        minhu_adapter_citymgmt::taxonomy::Taxonomy::from_toml(&text)
                            .map_err(|e| format!("{}: {e}", path.display()))
                    }) {
                    Ok(taxonomy) => CategoryInferrer::new(&taxonomy),
                    Err(e) => {
                        p.add("taxonomy", e);
                        CategoryInferrer::default()
                    }
                }
            }
        };

        let version = cfg.version.clone().unwrap_or_else(|| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.hash(&mut h);
            format!("sha-{:016x}", h.finish())
        });
        match fallback {
            Some(fallback) if p.list.is_empty() => Ok(Router {
                version,
                departments: cfg.departments.clone(),
                rules,
                fallback,
                inferrer,
            }),
            _ => Err(ConfigError { problems: p.list }),
        }
    }

    /// Routes a request accepted at `now_ms`: the first matching rule, else the fallback.
    pub fn route(&self, req: &pb::Request, now_ms: i64) -> RouteDecision {
        let a = self
            .rules
            .iter()
            .find(|(m, _)| m.matches(req))
            .map(|(_, a)| a)
            .unwrap_or(&self.fallback);
        RouteDecision {
            department_id: a.department_id.clone(),
            routing_key: a.routing_key.clone(),
            level: a.level,
            due_at_ms: a.deadline.due_at(now_ms),
            rule_id: a.rule_id.clone(),
            routing_version: self.version.clone(),
        }
    }

    /// The taxonomy category a text is about, for reports that arrive without one.
    pub fn infer_category(&self, text: &str) -> Option<Inference> {
        self.inferrer.infer(text)
    }

    /// The declared departments (one queue each).
    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    /// The config version label.
    pub fn version(&self) -> &str {
        &self.version
    }
}

fn action(
    p: &mut Problems,
    key: &str,
    rule_id: &str,
    a: &RouteAction,
    keys: &HashMap<&str, String>,
) -> Option<Action> {
    let routing_key = keys.get(a.department.as_str()).cloned();
    if routing_key.is_none() {
        p.add(
            format!("{key}.department"),
            format!(
                "unknown department {:?}: declare it in a [[department]]",
                a.department
            ),
        );
    }
    let level = level_from_code(&a.level);
    if level.is_none() {
        p.add(
            format!("{key}.level"),
            format!(
                "{:?} is not a level: use A (community), B (street), C (district) or D (city)",
                a.level
            ),
        );
    }
    let deadline = match (a.deadline_working_days, a.deadline_hours) {
        (Some(d), None) if d > 0 => Some(Deadline::WorkingDays(d)),
        (None, Some(h)) if h > 0 => Some(Deadline::Hours(h)),
        (Some(_), Some(_)) => {
            p.add(key, "set deadline_working_days or deadline_hours, not both");
            None
        }
        (None, None) => {
            p.add(
                key,
                "missing deadline: set deadline_working_days or deadline_hours",
            );
            None
        }
        _ => {
            p.add(key, "deadline must be at least 1");
            None
        }
    };
    Some(Action {
        rule_id: rule_id.to_owned(),
        department_id: a.department.clone(),
        routing_key: routing_key?,
        level: level?,
        deadline: deadline?,
    })
}
