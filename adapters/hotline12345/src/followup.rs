//! 回访 (the follow-up call) both ways, for call-centres that call their callers back
//! themselves instead of Minhu sending them an SMS:
//!
//! - out: [`task`] renders the follow-up task for one caller of a completed case, naming the
//!   order's identifying fields the way the source system named them (the order mapping read
//!   backwards), so the call-centre finds its own order;
//! - in: [`read_result`] reads the call's result, a JSON object in the call-centre's field
//!   names, through `[adapters.hotline12345.sources.<system>.followup.fields]`, into a rating.
//!
//! Pure: the gateway publishes the task through its outbox and records the rating.
use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::Order;
use crate::error::OrderError;
use crate::mapping::{Mapping, Target};
use crate::pb;

/// The `schema` of every follow-up task.
pub const TASK_SCHEMA: &str = "minhu.hotline_followup.v1";
/// The AMQP `type` of a task message.
pub const TASK_TYPE: &str = "minhu.HotlineFollowup";

/// `[adapters.hotline12345.sources.<system>.followup]`, as written in the service config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowupMapping {
    /// The call-centre calls its callers back (回访) itself: when their case is completed Minhu
    /// publishes a follow-up task to the queue `minhu.return.hotline12345.<system>` instead of
    /// sending them an SMS, and takes the call's result at
    /// `POST /v1/hotline/<system>/followups`.
    pub call_back: bool,
    /// Source field of a result → canonical field: `source_id` (the order number, required),
    /// `satisfaction` (required), `solved`, `comment`, `rating_id` (the call's own id; makes a
    /// re-sent result a replay even when other fields changed meanwhile), or `task_id` (the
    /// task's `task_id`, echoed).
    pub fields: BTreeMap<String, String>,
    /// Source value → `satisfied`, `basically_satisfied` or `dissatisfied`. 满意, 基本满意,
    /// 不满意, 1, 2, 3 and the English names are always understood.
    pub satisfaction: BTreeMap<String, String>,
    /// Source value → `yes` or `no`. 是/否, 已解决/未解决, yes/no, true/false, 1/0 are always
    /// understood.
    pub solved: BTreeMap<String, String>,
}

/// What a result field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    SourceId,
    Satisfaction,
    Solved,
    Comment,
    RatingId,
    TaskId,
}

const FIELDS: &[(&str, Field)] = &[
    ("source_id", Field::SourceId),
    ("satisfaction", Field::Satisfaction),
    ("solved", Field::Solved),
    ("comment", Field::Comment),
    ("rating_id", Field::RatingId),
    ("task_id", Field::TaskId),
];

/// A follow-up mapping checked and ready.
#[derive(Debug, Clone, Default)]
pub struct Followup {
    pub call_back: bool,
    fields: Vec<(String, Field)>,
    satisfaction: HashMap<String, pb::Satisfaction>,
    solved: HashMap<String, pb::Solved>,
}

impl FollowupMapping {
    /// Checks the section; every problem as (key relative to the source's section, message).
    pub(crate) fn compile(&self, problems: &mut Vec<(String, String)>) -> Followup {
        let mut bad = |k: String, m: String| problems.push((k, m));
        let mut fields: Vec<(String, Field)> = Vec::new();
        for (src, canon) in &self.fields {
            match FIELDS.iter().find(|(n, _)| n == canon) {
                Some((_, f)) if fields.iter().any(|(_, x)| x == f) => bad(
                    format!("followup.fields.{src}"),
                    format!("{canon} is mapped from two fields"),
                ),
                Some((_, f)) => fields.push((src.clone(), *f)),
                None => bad(
                    format!("followup.fields.{src}"),
                    format!(
                        "unknown field {canon:?} (source_id, satisfaction, solved, comment, rating_id or task_id)"
                    ),
                ),
            }
        }
        if self.call_back {
            for need in ["source_id", "satisfaction"] {
                if !self.fields.values().any(|c| c == need) {
                    bad(
                        "followup.fields".into(),
                        format!("no result field is mapped to {need}"),
                    );
                }
            }
        }
        let mut satisfaction = HashMap::new();
        for (v, s) in &self.satisfaction {
            match satisfaction_word(s) {
                Some(x) => drop(satisfaction.insert(v.clone(), x)),
                None => bad(
                    format!("followup.satisfaction.{v}"),
                    "must be satisfied, basically_satisfied or dissatisfied".into(),
                ),
            }
        }
        let mut solved = HashMap::new();
        for (v, s) in &self.solved {
            match solved_word(s) {
                Some(x) => drop(solved.insert(v.clone(), x)),
                None => bad(format!("followup.solved.{v}"), "must be yes or no".into()),
            }
        }
        Followup {
            call_back: self.call_back,
            fields,
            satisfaction,
            solved,
        }
    }
}

fn satisfaction_word(v: &str) -> Option<pb::Satisfaction> {
    use pb::Satisfaction as S;
    Some(match v {
        "满意" | "1" | "satisfied" => S::Satisfied,
        "基本满意" | "2" | "basically_satisfied" => S::BasicallySatisfied,
        "不满意" | "3" | "dissatisfied" => S::Dissatisfied,
        _ => return None,
    })
}

fn solved_word(v: &str) -> Option<pb::Solved> {
    use pb::Solved as S;
    Some(match v.to_ascii_lowercase().as_str() {
        "是" | "已解决" | "yes" | "true" | "1" => S::Yes,
        "否" | "未解决" | "no" | "false" | "0" => S::No,
        _ => return None,
    })
}

/// One caller's follow-up task, as the gateway knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Task<'a> {
    /// Stable: the same completion's task is re-published under the same id.
    pub task_id: &'a str,
    pub ticket_id: &'a str,
    pub case_id: &'a str,
    /// The call-centre's order number (the ticket's `source_id`).
    pub source_id: &'a str,
    pub reporter_name: &'a str,
    pub reporter_phone: &'a str,
    pub department_id: &'a str,
    pub result: &'a str,
    /// RFC 3339 in China time.
    pub completed_at: &'a str,
}

/// The task as JSON: Minhu's fields, and under `order` the order's number and the caller's
/// name and phone under the source system's own field names (dotted names nested again).
/// It carries personal data: consumers must not log it.
pub fn task(mapping: &Mapping, t: &Task<'_>) -> Value {
    let mut order = Map::new();
    for (src, target) in &mapping.fields {
        let value = match target {
            Target::SourceId => t.source_id,
            Target::ReporterName => t.reporter_name,
            Target::ReporterPhone => t.reporter_phone,
            _ => continue,
        };
        if !value.is_empty() {
            insert_dotted(&mut order, src, value);
        }
    }
    json!({
        "schema": TASK_SCHEMA,
        "task_id": t.task_id,
        "ticket_id": t.ticket_id,
        "case_id": t.case_id,
        "department_id": t.department_id,
        "result": t.result,
        "completed_at": t.completed_at,
        "order": order,
    })
}

/// Puts `value` at `a.b.c` as nested objects (a plain value already at a prefix wins).
fn insert_dotted(m: &mut Map<String, Value>, path: &str, value: &str) {
    match path.split_once('.') {
        None => drop(m.insert(path.to_owned(), Value::String(value.to_owned()))),
        Some((head, rest)) => {
            let slot = m
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = slot {
                insert_dotted(inner, rest, value);
            }
        }
    }
}

/// A follow-up call's result, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupResult {
    /// The order number the result is about.
    pub source_id: String,
    pub satisfaction: pb::Satisfaction,
    /// `Unspecified` when the result does not say.
    pub solved: pb::Solved,
    pub comment: String,
    /// The call's own id or the echoed task id, when mapped and present.
    pub rating_id: Option<String>,
}

/// Reads one result. Errors name the source field to blame and quote no personal data.
pub fn read_result(f: &Followup, r: &Order) -> Result<FollowupResult, OrderError> {
    let field = |want: Field| f.fields.iter().find(|(_, x)| *x == want).map(|(s, _)| s);
    let value = |want: Field| field(want).and_then(|s| r.get(s));
    let name = |want: Field, canon: &str| field(want).cloned().unwrap_or_else(|| canon.into());
    let source_id = value(Field::SourceId)
        .ok_or_else(|| OrderError::new(&name(Field::SourceId, "source_id"), "is required"))?
        .to_owned();
    let satisfaction = match value(Field::Satisfaction) {
        None => {
            return Err(OrderError::new(
                &name(Field::Satisfaction, "satisfaction"),
                "is required",
            ));
        }
        Some(v) => f
            .satisfaction
            .get(v)
            .copied()
            .or_else(|| satisfaction_word(v))
            .ok_or_else(|| {
                OrderError::new(
                    &name(Field::Satisfaction, "satisfaction"),
                    format!("unknown satisfaction {v:?} (满意, 基本满意, 不满意 or a value in followup.satisfaction)"),
                )
            })?,
    };
    let solved = match value(Field::Solved) {
        None => pb::Solved::Unspecified,
        Some(v) => f
            .solved
            .get(v)
            .copied()
            .or_else(|| solved_word(v))
            .ok_or_else(|| {
                OrderError::new(
                    &name(Field::Solved, "solved"),
                    format!("unknown answer {v:?} (是, 否 or a value in followup.solved)"),
                )
            })?,
    };
    Ok(FollowupResult {
        source_id,
        satisfaction,
        solved,
        comment: value(Field::Comment).unwrap_or_default().to_owned(),
        rating_id: value(Field::RatingId)
            .or_else(|| value(Field::TaskId))
            .map(str::to_owned),
    })
}

#[cfg(test)]
#[path = "followup_tests.rs"]
mod tests;
