//! Compiling the routing file into a [`Router`], checking everything at once: unknown
//! departments, duplicate ids, bad levels, channels, codes, globs and regexes, missing
//! deadlines, rules shadowed by an earlier catch-all, unreachable departments, and deadlines
//! that no working-day calendar can count (see [`super::coverage`] for years that are only
//! provisional, which are warnings).
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::calendar::Calendar;
use super::deadline::Deadline;
use super::infer::CategoryInferrer;
use super::rules::Matcher;
use crate::clocks::escalation::Policy;
use crate::config::escalation::{self, EscalationPolicy};
use crate::config::problem::{ConfigError, Problem, Problems};
use crate::config::routing::{Department, Encoding, Role, RoutingConfig};
use crate::pb;

mod tree;

use tree::collect_actions;

/// What a matched rule (or the fallback) does.
#[derive(Debug, Clone)]
pub(super) struct Action {
    pub rule_id: String,
    pub department_id: String,
    pub routing_key: String,
    pub encoding: Encoding,
    pub level: pb::Level,
    pub deadline: Deadline,
    pub calendar: Arc<Calendar>,
    pub priority: Option<u8>,
    /// Working hours to sign for (0: no sign-for clock).
    pub sign_for_hours: u32,
    /// The escalation chain's id (the rule's own, else `[clocks] escalation`); None: none.
    pub escalation: Option<String>,
}

/// A compiled node of the rule tree.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub id: String,
    pub description: String,
    pub matcher: Matcher,
    pub action: Option<Action>,
    pub role: Role,
    pub cont: bool,
    pub children: Vec<Node>,
}

/// A compiled emergency linkage rule.
#[derive(Debug, Clone)]
pub(super) struct Linkage {
    pub id: String,
    pub reason: String,
    pub line: String,
    pub matcher: Matcher,
}

/// Compiled, validated routing rules. Immutable: a reload compiles a new one.
#[derive(Debug, Clone)]
pub struct Router {
    pub(super) version: String,
    pub(super) departments: Vec<Department>,
    pub(super) rules: Vec<Node>,
    pub(super) fallback: Action,
    pub(super) linkage: Vec<Linkage>,
    pub(super) inferrer: CategoryInferrer,
    /// The longest working-day deadline per calendar (see [`super::coverage`]).
    pub(super) reach: Vec<super::coverage::Reach>,
    /// Each department's working-day calendar.
    pub(super) calendars: HashMap<String, Arc<Calendar>>,
    /// `[handling]`: returns before the coordination centre takes a case.
    pub(super) handling: crate::config::handling::HandlingConfig,
    /// `[clocks]`: working hours and lights.
    pub(super) clocks: crate::config::clocks::ClocksConfig,
    /// `[[escalation]]`: the chains, by id, compiled with this version of the file.
    pub(super) escalations: crate::config::escalation::Policies,
}

/// Per-department facts actions need.
struct DeptInfo {
    routing_key: String,
    encoding: Encoding,
    calendar: Option<Arc<Calendar>>,
}

/// State shared while compiling one file.
pub(super) struct Compiler<'a> {
    pub(super) p: Problems,
    pub(super) base: &'a Path,
    depts: HashMap<String, DeptInfo>,
    pub(super) ids: HashSet<String>,
    used: HashSet<String>,
    /// `[clocks] sign_for_working_hours`, for rules without their own.
    sign_for_default: u32,
    /// `[clocks] escalation`, for rules without their own.
    escalation_default: Option<&'a str>,
    /// The declared chains, for rules' references.
    escalations: &'a [EscalationPolicy],
}

impl Router {
    /// Validates `cfg` (read from `file`, whose raw `text` versions it when no version is set)
    /// as of now. See [`Router::compile_at`].
    pub fn compile(cfg: &RoutingConfig, file: &Path, text: &str) -> Result<Router, ConfigError> {
        Self::compile_at(cfg, file, text, crate::time::now_ms())
    }

    /// Validates `cfg` as if loaded at `now_ms`.
    ///
    /// Calendar coverage is checked here, so at every start, `check-config`, `routes test` and
    /// reload: each department's calendar must be able to count today plus its longest
    /// deadline in working days. A year without an official file is counted provisionally and
    /// only warned about ([`Router::provisional_years`]): a gateway never refuses citizens
    /// because the State Council's notice is late.
    pub fn compile_at(
        cfg: &RoutingConfig,
        file: &Path,
        text: &str,
        now_ms: i64,
    ) -> Result<Router, ConfigError> {
        let base = file.parent().unwrap_or_else(|| Path::new("."));
        let mut c = Compiler {
            p: Problems::new(file),
            base,
            depts: HashMap::new(),
            ids: HashSet::new(),
            used: HashSet::new(),
            sign_for_default: cfg.clocks.sign_for_working_hours,
            escalation_default: cfg.clocks.default_escalation(),
            escalations: &cfg.escalation,
        };
        let mut extra: Vec<Problem> = Vec::new();
        let official_dir =
            crate::config::routing::official_calendar_dir(file, cfg.calendar_dir.as_deref());
        let mut calendars: HashMap<PathBuf, Option<Arc<Calendar>>> = HashMap::new();
        let every_day = Arc::new(Calendar::EveryDay);
        for (i, d) in cfg.departments.iter().enumerate() {
            let key = format!("department[{i}]");
            if d.id.is_empty()
                || !d
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                c.p.add(
                    format!("{key}.id"),
                    format!("{:?} must be lower-case letters, digits and '-'", d.id),
                );
            }
            if c.depts.contains_key(&d.id) {
                c.p.add(
                    format!("{key}.id"),
                    format!("department {:?} is declared twice", d.id),
                );
            }
            if d.name.trim().is_empty() {
                c.p.add(format!("{key}.name"), "must not be empty");
            }
            let calendar = match d.calendar.as_deref() {
                Some("every-day") => Some(every_day.clone()),
                other => {
                    let dir = match other {
                        None | Some("official") => official_dir.clone(),
                        Some(folder) => base.join(folder),
                    };
                    calendars
                        .entry(dir.clone())
                        .or_insert_with(|| match Calendar::load_dir(&dir) {
                            Ok(cal) => Some(Arc::new(cal)),
                            Err(problems) => {
                                extra.extend(problems);
                                None
                            }
                        })
                        .clone()
                }
            };
            c.depts.insert(
                d.id.clone(),
                DeptInfo {
                    routing_key: d.routing_key(),
                    encoding: d.encoding,
                    calendar,
                },
            );
        }
        if cfg.departments.is_empty() {
            c.p.add("department", "no departments declared");
        }
        cfg.handling.check(&mut c.p);
        cfg.clocks.check(&mut c.p);
        let escalations = escalation::compile(&cfg.escalation, &mut c.p);
        escalation::check_ref(
            "clocks.escalation",
            &cfg.clocks.escalation,
            &cfg.escalation,
            &mut c.p,
        );

        let fallback = c.action("fallback", "fallback", &cfg.fallback, None);
        let rules = c.nodes("rule", &cfg.rules);
        let linkage: Vec<Linkage> = cfg
            .linkage
            .iter()
            .enumerate()
            .map(|(i, l)| c.linkage(&format!("emergency_linkage[{i}]"), l))
            .collect();

        for (i, d) in cfg.departments.iter().enumerate() {
            if !c.used.contains(&d.id) && cfg.fallback.department != d.id {
                c.p.add(
                    format!("department[{i}]"),
                    format!(
                        "department {:?} is unreachable: no rule or fallback routes to it",
                        d.id
                    ),
                );
            }
        }
        let reach = match &fallback {
            Some(fb) => {
                let mut all = vec![("fallback".to_owned(), fb.clone())];
                collect_actions("rule", &rules, &mut all);
                let reach = super::coverage::longest(&all);
                super::coverage::check(&mut c.p, &reach, now_ms);
                reach
            }
            None => Vec::new(),
        };
        // Each department's calendar, for recounting its deadlines and its clocks later.
        let calendars: HashMap<String, Arc<Calendar>> = c
            .depts
            .iter()
            .filter_map(|(id, d)| Some((id.clone(), d.calendar.clone()?)))
            .collect();

        let inferrer = match &cfg.taxonomy {
            None => CategoryInferrer::default(),
            Some(t) => {
                let path = base.join(t);
                match std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
                    .and_then(|text| {
                        minhu_adapter_citymgmt::taxonomy::Taxonomy::from_toml(&text)
                            .map_err(|e| format!("{}: {e}", path.display()))
                    }) {
                    Ok(taxonomy) => CategoryInferrer::new(&taxonomy),
                    Err(e) => {
                        c.p.add("taxonomy", e);
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
        let mut problems = c.p.list;
        problems.extend(extra);
        match fallback {
            Some(fallback) if problems.is_empty() => Ok(Router {
                version,
                departments: cfg.departments.clone(),
                rules,
                fallback,
                linkage,
                inferrer,
                reach,
                calendars,
                handling: cfg.handling.clone(),
                clocks: cfg.clocks.clone(),
                escalations,
            }),
            _ => Err(ConfigError { problems }),
        }
    }

    /// The declared departments (one queue each).
    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    /// The config version label.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `[handling]`: what departments' updates may do.
    pub fn handling(&self) -> &crate::config::handling::HandlingConfig {
        &self.handling
    }

    /// The fallback department: the coordination centre (协调中心), which takes what no rule
    /// decides and what bounced too often, and whose callers decide extensions and reassign.
    pub fn coordination_centre(&self) -> &str {
        &self.fallback.department_id
    }

    /// The escalation chain `id` (a [`RouteDecision`](crate::store::RouteDecision)'s
    /// `escalation`) as this version of the routing file declares it; None when it does not
    /// (a reload removed it).
    pub fn escalation(&self, id: &str) -> Option<Arc<Policy>> {
        self.escalations.get(id).cloned()
    }

    /// Whether `id` is a declared department.
    pub fn has_department(&self, id: &str) -> bool {
        self.departments.iter().any(|d| d.id == id)
    }
}

impl Compiler<'_> {
    pub(super) fn id(&mut self, key: &str, id: &str) {
        if id.trim().is_empty() {
            self.p.add(format!("{key}.id"), "must not be empty");
        } else if !self.ids.insert(id.to_owned()) {
            self.p
                .add(format!("{key}.id"), format!("rule id {id:?} is used twice"));
        }
    }
}
