//! Routing tests as data (`minhu routes test FILE`): each case is a request and the decision
//! expected for it. Operators run them after every edit of `routing.toml`, as Alertmanager users
//! run `amtool config routes test`.
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::Router;
use crate::clocks::escalation::Policy;
use crate::outbox::envelope::level_code;
use crate::pb;

/// A routing test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// When the cases are routed, unless a case says otherwise (deadlines and `time_of_day`
    /// depend on it). A TOML date-time with offset, e.g. `2026-11-23T10:00:00+08:00`; default
    /// now.
    #[serde(default)]
    pub at: Option<toml::value::Datetime>,
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
    /// When it is routed (overrides the file's `at`).
    #[serde(default)]
    pub at: Option<toml::value::Datetime>,
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
    /// Request type without the prefix, e.g. `COMPLAINT`.
    pub request_type: String,
    /// Taxonomy code (empty: inferred from the text).
    pub category: String,
    /// Urgency without the prefix, e.g. `URGENT`.
    pub urgency: String,
    /// 6-digit district code.
    pub district_code: String,
    /// 9-digit street code.
    pub street_code: String,
    /// 12-digit community code.
    pub community_code: String,
    /// Grid id.
    pub grid_id: String,
    /// WGS-84 latitude (set both or neither).
    pub lat: Option<f64>,
    /// WGS-84 longitude.
    pub lng: Option<f64>,
    /// Title.
    pub title: String,
    /// What the citizen said.
    pub description: String,
}

/// The expected decision.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// Lead department id (主办).
    pub department: Option<String>,
    /// Level `A`..`D`.
    pub level: Option<String>,
    /// Id of the deciding rule (`fallback` when none matched or it was ambiguous).
    pub rule: Option<String>,
    /// When it falls due, e.g. `2026-11-26T10:00:00+08:00`.
    pub due: Option<toml::value::Datetime>,
    /// Co-handler departments (协办), in order; `[]` for none.
    pub co_handlers: Option<Vec<String>>,
    /// The inferred category; `""` for "not inferred".
    pub inferred_category: Option<String>,
    /// Emergency lines the report is linked to; `[]` for none.
    pub linkage: Option<Vec<String>>,
    /// Words the routing reason must contain (e.g. `ambiguous`).
    pub reason_contains: Option<String>,
    /// The lead's escalation chain (`[[escalation]] id`); `""` for none. The report shows
    /// the chain's steps under the case.
    pub escalation: Option<String>,
}

/// The outcome of one case.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// Empty when the case passed; otherwise `(what, want, got)` per mismatch.
    pub mismatches: Vec<(String, String, String)>,
    /// The decided escalation chain, when the case expects one: chains are tested as data,
    /// so the report shows what the case pinned down.
    pub chain: Option<Arc<Policy>>,
}

/// Reads and parses a test file.
pub fn read(path: &Path) -> Result<CaseFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Milliseconds since the epoch of a TOML offset date-time.
pub fn datetime_ms(dt: &toml::value::Datetime) -> Result<i64, String> {
    let (Some(d), Some(t), Some(offset)) = (dt.date, dt.time, dt.offset) else {
        return Err(format!(
            "{dt} needs a date, a time and an offset (e.g. +08:00)"
        ));
    };
    let offset_min = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    let day =
        minhu_adapter::civil::day_number(i64::from(d.year), u32::from(d.month), u32::from(d.day))
            .ok_or_else(|| format!("{dt} is not a real date"))?;
    let secs =
        day * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second)
            - offset_min * 60;
    Ok(secs * 1000 + i64::from(t.nanosecond / 1_000_000))
}

/// `YYYY-MM-DDTHH:MM:SS+08:00` of an instant.
pub fn shanghai(ms: i64) -> String {
    let local = ms + crate::time::CST_OFFSET_SECS * 1000;
    let day = local.div_euclid(86_400_000);
    let s = local.rem_euclid(86_400_000) / 1000;
    format!(
        "{}T{:02}:{:02}:{:02}+08:00",
        super::calendar::date_string(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

impl CaseRequest {
    /// The canonical request, or what is wrong with the short form.
    pub fn to_request(&self) -> Result<pb::Request, String> {
        let enum_of =
            |prefix: &str, v: &str, parse: &dyn Fn(&str) -> Option<i32>| -> Result<i32, String> {
                if v.is_empty() {
                    return Ok(0);
                }
                parse(&format!("{prefix}{v}")).ok_or_else(|| {
                    format!(
                        "unknown {} {v:?}",
                        prefix.trim_end_matches('_').to_lowercase()
                    )
                })
            };
        let channel = enum_of("CHANNEL_", &self.channel, &|s| {
            pb::Channel::from_str_name(s).map(|c| c as i32)
        })?;
        let request_type = enum_of("REQUEST_TYPE_", &self.request_type, &|s| {
            pb::RequestType::from_str_name(s).map(|c| c as i32)
        })?;
        let urgency = enum_of("URGENCY_", &self.urgency, &|s| {
            pb::Urgency::from_str_name(s).map(|c| c as i32)
        })?;
        Ok(pb::Request {
            channel,
            request_type,
            urgency,
            category: self.category.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            location: Some(pb::Location {
                district_code: self.district_code.clone(),
                street_code: self.street_code.clone(),
                community_code: self.community_code.clone(),
                grid_id: self.grid_id.clone(),
                lat: self.lat.unwrap_or_default(),
                lng: self.lng.unwrap_or_default(),
                has_coordinates: self.lat.is_some() && self.lng.is_some(),
                coordinate_system: pb::CoordinateSystem::Wgs84 as i32,
                ..Default::default()
            }),
            ..Default::default()
        })
    }
}

/// Runs every case against `router`.
pub fn run(router: &Router, file: &CaseFile) -> Vec<Outcome> {
    let default_at = file.at.as_ref().map(datetime_ms);
    file.cases
        .iter()
        .map(|c| {
            let mut mismatches = Vec::new();
            let at = match c.at.as_ref().map(datetime_ms).or(default_at.clone()) {
                Some(Ok(ms)) => ms,
                Some(Err(e)) => {
                    mismatches.push(("at".into(), "a date-time".into(), e));
                    0
                }
                None => crate::time::now_ms(),
            };
            let req = match c.request.to_request() {
                Ok(r) => r,
                Err(e) => {
                    mismatches.push(("request".into(), "a valid request".into(), e));
                    return Outcome {
                        name: c.name.clone(),
                        mismatches,
                        chain: None,
                    };
                }
            };
            let r = router.route(&req, at);
            let d = &r.decision;
            let mut check = |what: &str, want: Option<String>, got: String| {
                if let Some(want) = want
                    && want != got
                {
                    mismatches.push((what.to_owned(), want, got));
                }
            };
            check(
                "department",
                c.expect.department.clone(),
                d.department_id.clone(),
            );
            check(
                "level",
                c.expect.level.clone(),
                level_code(d.level).to_owned(),
            );
            check("rule", c.expect.rule.clone(), d.rule_id.clone());
            if let Some(due) = &c.expect.due {
                let want = datetime_ms(due).map(shanghai).unwrap_or_else(|e| e);
                check("due", Some(want), shanghai(d.due_at_ms));
            }
            let list = |v: Vec<String>| format!("[{}]", v.join(", "));
            check(
                "co_handlers",
                c.expect.co_handlers.clone().map(list),
                list(
                    r.co_handlers
                        .iter()
                        .map(|h| h.decision.department_id.clone())
                        .collect(),
                ),
            );
            check(
                "inferred_category",
                c.expect.inferred_category.clone(),
                r.inferred
                    .as_ref()
                    .map(|i| i.code.clone())
                    .unwrap_or_default(),
            );
            check(
                "linkage",
                c.expect.linkage.clone().map(list),
                list(r.linkage.iter().map(|l| l.line.clone()).collect()),
            );
            check(
                "escalation",
                c.expect.escalation.clone(),
                d.escalation.clone().unwrap_or_default(),
            );
            let chain = c
                .expect
                .escalation
                .as_ref()
                .and(d.escalation.as_deref())
                .and_then(|id| router.escalation(id));
            if let Some(words) = &c.expect.reason_contains
                && !r.reason.contains(words.as_str())
            {
                mismatches.push(("reason".into(), format!("…{words}…"), r.reason.clone()));
            }
            if let Some(gap) = r.calendar_gap {
                mismatches.push(("calendar".into(), "covered".into(), gap.to_string()));
            }
            Outcome {
                name: c.name.clone(),
                mismatches,
                chain,
            }
        })
        .collect()
}

/// The human report: one line per passing case, a want/got table per failing one.
pub fn report(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        if o.mismatches.is_empty() {
            s.push_str(&format!("ok    {}\n", o.name));
        } else {
            s.push_str(&format!("FAIL  {}\n", o.name));
            for (what, want, got) in &o.mismatches {
                s.push_str(&format!(
                    "        {what:<18} want {want}\n        {:<18} got  {got}\n",
                    ""
                ));
            }
        }
        if let Some(policy) = &o.chain {
            s.push_str("        ");
            s.push_str(&policy.describe("        "));
        }
    }
    let failed = outcomes.iter().filter(|o| !o.mismatches.is_empty()).count();
    s.push_str(&format!(
        "{} passed, {failed} failed\n",
        outcomes.len() - failed
    ));
    s
}
