//! The routing file, `config/routing.toml`: the departments, the rule tree that decides which
//! department handles a case, and the emergency linkage rules. The decision itself lives in
//! [`crate::router`].
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole routing file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// An operator-chosen version label recorded with every routing decision; when absent, a
    /// hash of the file's content is used.
    #[serde(default)]
    pub version: Option<String>,
    /// The complaint taxonomy (`taxonomy.toml`) whose keywords infer a category for reports
    /// that arrive without one. Relative paths are relative to this file's folder. Without it,
    /// no category is inferred.
    #[serde(default)]
    pub taxonomy: Option<PathBuf>,
    /// Folder of the official working-day calendar, one `<year>.toml` per year; relative to
    /// this file's folder. Default `calendar`.
    #[serde(default)]
    pub calendar_dir: Option<PathBuf>,
    /// Where a case goes when no rule matches or several departments claim it (the
    /// coordination centre, 协调中心).
    pub fallback: RouteAction,
    /// Departments that receive dispatches, one queue each.
    #[serde(rename = "department", default)]
    pub departments: Vec<Department>,
    /// The rule tree, tried in order; the first that matches decides unless it says `continue`.
    #[serde(rename = "rule", default)]
    pub rules: Vec<Rule>,
    /// Reports that are really emergencies (gas leak, fire, injury): flagged and also sent at
    /// once to the emergency linkage queue, besides normal routing.
    #[serde(rename = "emergency_linkage", default)]
    pub linkage: Vec<LinkageRule>,
    /// What departments' updates may do: how many returns before the coordination centre
    /// takes a case (see [`super::handling`]).
    #[serde(default)]
    pub handling: super::handling::HandlingConfig,
    /// How the closed loop's clocks count: the working day's hours, the default sign-for
    /// time, the yellow share (see [`super::clocks`]).
    #[serde(default)]
    pub clocks: super::clocks::ClocksConfig,
    /// Escalation chains (催办/督办), named by rules' `escalation` and `[clocks] escalation`
    /// (see [`super::escalation`]).
    #[serde(rename = "escalation", default)]
    pub escalation: Vec<super::escalation::EscalationPolicy>,
}

/// The official calendar folder of the routing file at `routing_file` whose `calendar_dir` is
/// `calendar_dir`.
pub fn official_calendar_dir(routing_file: &Path, calendar_dir: Option<&Path>) -> PathBuf {
    routing_file
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(calendar_dir.unwrap_or(Path::new("calendar")))
}

/// How a department's dispatches are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Protobuf `minhu.v1.Dispatch`, `content_type` `application/x-protobuf`.
    #[default]
    Protobuf,
    /// Proto3 JSON of the same message, `content_type` `application/json`, for departments
    /// without protobuf tooling.
    Json,
}

/// A department (承办单位) and its queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Stable id: lower-case letters, digits and `-`; the queue is `minhu.dept.<id>`.
    pub id: String,
    /// Name operators see, e.g. "市城市管理局".
    pub name: String,
    /// Routing key of its binding on `minhu.dispatch`; defaults to `dept.<id>`.
    #[serde(default)]
    pub routing_key: Option<String>,
    /// Message encoding of its dispatches: `protobuf` (default) or `json`.
    #[serde(default)]
    pub encoding: Encoding,
    /// Working-day calendar of its deadlines: `official` (default: the State Council's,
    /// `calendar_dir`), `every-day` (round-the-clock services), or a folder of its own
    /// `<year>.toml` files relative to this file's folder.
    #[serde(default)]
    pub calendar: Option<String>,
}

impl Department {
    /// The routing key its queue is bound with.
    pub fn routing_key(&self) -> String {
        self.routing_key
            .clone()
            .unwrap_or_else(|| format!("dept.{}", self.id))
    }

    /// The queue departments consume.
    pub fn queue_name(&self) -> String {
        format!("minhu.dept.{}", self.id)
    }
}

/// The role a matched rule gives its department.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 主办: handles the case and answers for it.
    #[default]
    Lead,
    /// 协办: gets its own dispatch and helps the lead.
    CoHandler,
}

/// One node of the rule tree: all the given conditions must hold (an absent condition always
/// holds). A node with child rules tries them in order when it matches; its own action (if
/// any) applies when none of them matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id (across the whole tree), recorded with every ticket it routes.
    pub id: String,
    /// What the rule is for, shown by `routes explain`.
    #[serde(default)]
    pub description: Option<String>,
    /// Channels, by enum name without the prefix (`HOTLINE_12345`, `EMERGENCY_119`, ...).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Request types without the prefix (`COMPLAINT`, `HELP`, `REPORT`, ...).
    #[serde(default)]
    pub request_types: Vec<String>,
    /// Category patterns: `road.` or `road.*` every code under `road`; `road.pothole` itself
    /// and its sub-codes; globs such as `noise.*_night`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Any of these words in the title or description.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// All of these words in the title or description.
    #[serde(default)]
    pub keywords_all: Vec<String>,
    /// None of these words in the title or description.
    #[serde(default)]
    pub keywords_none: Vec<String>,
    /// A regular expression the title or description must match.
    #[serde(default)]
    pub text_regex: Option<String>,
    /// 6-digit district codes (区县, 行政区划代码).
    #[serde(default)]
    pub districts: Vec<String>,
    /// 9-digit street codes (街道/乡镇).
    #[serde(default)]
    pub streets: Vec<String>,
    /// 12-digit community codes (社区/村).
    #[serde(default)]
    pub communities: Vec<String>,
    /// Grid ids (网格) of the city-management grid.
    #[serde(default)]
    pub grids: Vec<String>,
    /// A GeoJSON file (Polygon / MultiPolygon, WGS-84) the report's coordinates must lie in;
    /// relative to this file's folder.
    #[serde(default)]
    pub area: Option<PathBuf>,
    /// Urgencies without the prefix (`NORMAL`, `URGENT`, `CRITICAL`).
    #[serde(default)]
    pub urgency: Vec<String>,
    /// Local (Asia/Shanghai) time of acceptance, `HH:MM-HH:MM`; may run past midnight
    /// (`22:00-06:00`).
    #[serde(default)]
    pub time_of_day: Option<String>,
    /// Department id the case goes to (must be declared). Omit for a pure grouping node.
    #[serde(default)]
    pub department: Option<String>,
    /// Response level: `A` community, `B` street, `C` district, `D` city.
    #[serde(default)]
    pub level: Option<String>,
    /// Deadline in working days, by the department's calendar, counted from acceptance.
    #[serde(default)]
    pub deadline_working_days: Option<u32>,
    /// Deadline in hours, counted from acceptance (for urgent work).
    #[serde(default)]
    pub deadline_hours: Option<u32>,
    /// Publish priority 0-9 (default: by channel and urgency).
    #[serde(default)]
    pub priority: Option<u8>,
    /// Working hours the department has to sign for (签收) a case this rule sends it; default
    /// `[clocks] sign_for_working_hours`, 0 for no sign-for clock.
    #[serde(default)]
    pub sign_for_working_hours: Option<u32>,
    /// The escalation chain (`[[escalation]] id`) of the units this rule routes; default
    /// `[clocks] escalation`, `""` for none.
    #[serde(default)]
    pub escalation: Option<String>,
    /// `lead` (主办, default) or `co-handler` (协办).
    #[serde(default)]
    pub role: Role,
    /// Keep trying the following rules after this one matched (fan-out to co-handlers).
    #[serde(default, rename = "continue")]
    pub continue_: bool,
    /// Child rules, tried in order when this one matches.
    #[serde(rename = "rule", default)]
    pub children: Vec<Rule>,
}

/// An emergency linkage rule (12345 → 110/119/120 联动).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkageRule {
    /// Unique id (across rules and linkage rules).
    pub id: String,
    /// Why it is an emergency, in words a dispatcher reads (e.g. `燃气泄漏`).
    pub reason: String,
    /// Which line must act: `110`, `119`, `120` or `122`.
    pub line: String,
    /// Channels it applies to (default: all but the emergency lines themselves).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Category patterns, as on rules.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Any of these words.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// All of these words.
    #[serde(default)]
    pub keywords_all: Vec<String>,
    /// None of these words (e.g. `已处理`, `演练`).
    #[serde(default)]
    pub keywords_none: Vec<String>,
}

/// Where a matched case goes and how fast it must be handled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteAction {
    /// Department id (must be declared).
    pub department: String,
    /// Response level: `A` community, `B` street, `C` district, `D` city.
    pub level: String,
    /// Deadline in working days, by the department's calendar, counted from acceptance.
    #[serde(default)]
    pub deadline_working_days: Option<u32>,
    /// Deadline in hours, counted from acceptance (for urgent work).
    #[serde(default)]
    pub deadline_hours: Option<u32>,
    /// Working hours the department has to sign for a case; default `[clocks]
    /// sign_for_working_hours`, 0 for no sign-for clock.
    #[serde(default)]
    pub sign_for_working_hours: Option<u32>,
    /// The escalation chain (`[[escalation]] id`) of the units it routes; default `[clocks]
    /// escalation`, `""` for none.
    #[serde(default)]
    pub escalation: Option<String>,
}
