//! Routing tests as data (`minhu routes test FILE`): each case is a request and the decision
//! expected for it. Operators run them after every edit of `routing.toml`, as Alertmanager users
//! run `amtool config routes test`.
use std::path::Path;

use serde::Deserialize;

use super::Router;
use crate::dispatch::envelope::level_code;
use crate::pb;

/// A routing test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The cases, in order.
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// One request and what routing must decide for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case checks, shown in the report.
    pub name: String,
    /// The request, in short form.
    pub request: CaseRequest,
    /// The expected decision; only the keys given are checked.
    pub expect: Expect,
}

/// The fields of a request that routing looks at.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CaseRequest {
    /// Channel name without the prefix, e.g. `HOTLINE_12345`.
    pub channel: String,
    /// Taxonomy code.
    pub category: String,
    /// 6-digit district code.
    pub district_code: String,
    /// Title.
    pub title: String,
    /// What the citizen said.
    pub description: String,
}

/// The expected decision.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// Department id.
    pub department: Option<String>,
    /// Level `A`..`D`.
    pub level: Option<String>,
    /// Id of the deciding rule (`fallback` when none matched).
    pub rule: Option<String>,
}

/// The outcome of one case.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// Empty when the case passed; otherwise one line per mismatch.
    pub mismatches: Vec<String>,
}

/// Reads and parses a test file.
pub fn read(path: &Path) -> Result<CaseFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs every case against `router`.
pub fn run(router: &Router, file: &CaseFile) -> Vec<Outcome> {
    file.cases
        .iter()
        .map(|c| {
            let mut mismatches = Vec::new();
            let channel = pb::Channel::from_str_name(&format!("CHANNEL_{}", c.request.channel));
            if channel.is_none() {
                mismatches.push(format!(
                    "request.channel: unknown channel {:?}",
                    c.request.channel
                ));
            }
            let req = pb::Request {
                channel: channel.unwrap_or_default() as i32,
                category: c.request.category.clone(),
                title: c.request.title.clone(),
                description: c.request.description.clone(),
                location: Some(pb::Location {
                    district_code: c.request.district_code.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let d = router.route(&req, 0);
            let mut check = |what: &str, want: &Option<String>, got: &str| {
                if let Some(want) = want
                    && want != got
                {
                    mismatches.push(format!("{what}: want {want:?}, got {got:?}"));
                }
            };
            check("department", &c.expect.department, &d.department_id);
            check("level", &c.expect.level, level_code(d.level));
            check("rule", &c.expect.rule, &d.rule_id);
            Outcome {
                name: c.name.clone(),
                mismatches,
            }
        })
        .collect()
}
