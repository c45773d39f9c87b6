//! The routing file, `config/routing.toml`: the departments and the ordered rules that decide
//! which department handles a case. The decision itself lives in [`crate::router`].
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
    pub taxonomy: Option<std::path::PathBuf>,
    /// Where a case goes when no rule matches (the coordination centre, 协调中心).
    pub fallback: RouteAction,
    /// Departments that receive dispatches, one queue each.
    #[serde(rename = "department", default)]
    pub departments: Vec<Department>,
    /// Rules in order; the first that matches decides.
    #[serde(rename = "rule", default)]
    pub rules: Vec<Rule>,
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

/// One routing rule: all the given conditions must hold (an absent condition always holds).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id, recorded with every ticket it routes.
    pub id: String,
    /// Channels, by enum name without the prefix (`HOTLINE_12345`, `EMERGENCY_119`, ...).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Category prefixes: `road.` matches `road.pothole`; `road.pothole` matches only itself
    /// and its sub-codes (`road.pothole.deep`).
    #[serde(default)]
    pub categories: Vec<String>,
    /// 6-digit district codes (行政区划代码).
    #[serde(default)]
    pub districts: Vec<String>,
    /// Any of these words in the title or description.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Department id the case goes to (must be declared).
    pub department: String,
    /// Response level: `A` community, `B` street, `C` district, `D` city.
    pub level: String,
    /// Deadline in working days (Monday to Friday), counted from acceptance.
    #[serde(default)]
    pub deadline_working_days: Option<u32>,
    /// Deadline in hours, counted from acceptance (for urgent work).
    #[serde(default)]
    pub deadline_hours: Option<u32>,
}

impl Rule {
    /// What the rule does when it matches. (serde cannot combine `flatten` with
    /// `deny_unknown_fields`, so the action's fields are spelled out on the rule.)
    pub fn action(&self) -> RouteAction {
        RouteAction {
            department: self.department.clone(),
            level: self.level.clone(),
            deadline_working_days: self.deadline_working_days,
            deadline_hours: self.deadline_hours,
        }
    }
}

/// Where a matched case goes and how fast it must be handled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteAction {
    /// Department id (must be declared).
    pub department: String,
    /// Response level: `A` community, `B` street, `C` district, `D` city.
    pub level: String,
    /// Deadline in working days (Monday to Friday), counted from acceptance.
    #[serde(default)]
    pub deadline_working_days: Option<u32>,
    /// Deadline in hours, counted from acceptance (for urgent work).
    #[serde(default)]
    pub deadline_hours: Option<u32>,
}
