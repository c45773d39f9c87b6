//! 核查 (on-site verification) both ways with the 数字城管 platform:
//!
//! - out: [`task`] is the verification task for a completed case that began as one of the
//!   platform's events, so a grid inspector (网格员) goes and looks;
//! - in: [`read_result`] reads the inspector's verdict, `POST /v1/citymgmt/verifications`:
//!
//! ```json
//! {"case_number": "AJ20261122000017", "passed": false, "comment": "井盖仍未安装",
//!  "inspector": {"id": "W0231", "name": "张建国"}, "verified_at": "2026-11-23 10:02:00"}
//! ```
//!
//! `passed` is a boolean, or `result` one of 通过 / 不通过 (pass / fail). A failed check needs
//! a `comment` saying what is still wrong: it reopens the case.
//!
//! Pure: the gateway publishes the task through its outbox and applies the verdict.
use serde_json::{Value, json};

use crate::error::Invalid;

/// The `schema` of every verification task.
pub const TASK_SCHEMA: &str = "minhu.citymgmt_verification.v1";
/// The AMQP `type` of a task message.
pub const TASK_TYPE: &str = "minhu.CitymgmtVerification";
/// Longest `comment`, in characters.
pub const MAX_COMMENT: usize = 2000;

/// A completed case's verification task, as the gateway knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Task<'a> {
    /// Stable: the same completion's task is re-published under the same id.
    pub task_id: &'a str,
    /// The platform's 案卷号 (the ticket's `source_id`).
    pub case_number: &'a str,
    pub ticket_id: &'a str,
    pub case_id: &'a str,
    pub department_id: &'a str,
    pub result: &'a str,
    /// RFC 3339 in China time.
    pub completed_at: &'a str,
    /// Minhu closes the case (结案) only on the inspector's verdict.
    pub closure_waits: bool,
}

/// The task as JSON.
pub fn task(t: &Task<'_>) -> Value {
    json!({
        "schema": TASK_SCHEMA,
        "task_id": t.task_id,
        "case_number": t.case_number,
        "ticket_id": t.ticket_id,
        "case_id": t.case_id,
        "department_id": t.department_id,
        "result": t.result,
        "completed_at": t.completed_at,
        "closure_waits": t.closure_waits,
    })
}

/// An inspector's verdict, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub case_number: String,
    pub passed: bool,
    pub comment: String,
    /// The inspector's id (工号), when given.
    pub inspector_id: String,
    /// As sent, when given (kept in the audit trail).
    pub verified_at: String,
}

/// Reads one verdict. Errors name the field.
pub fn read_result(v: &Value) -> Result<Verdict, Invalid> {
    let Value::Object(m) = v else {
        return Err(Invalid::new("body", "must be a JSON object"));
    };
    let text = |k: &str| -> Result<String, Invalid> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(Invalid::new(k, "must be a string")),
        }
    };
    let case_number = text("case_number")?;
    if case_number.is_empty() {
        return Err(Invalid::new("case_number", "is required"));
    }
    let passed = match (m.get("passed"), text("result")?.as_str()) {
        (Some(Value::Bool(b)), _) => *b,
        (Some(_), _) => return Err(Invalid::new("passed", "must be true or false")),
        (None, "通过" | "pass" | "passed") => true,
        (None, "不通过" | "fail" | "failed") => false,
        (None, "") => {
            return Err(Invalid::new(
                "passed",
                "is required (or result: 通过/不通过)",
            ));
        }
        (None, other) => {
            return Err(Invalid::new(
                "result",
                format!("must be 通过 or 不通过, not {other:?}"),
            ));
        }
    };
    let comment = text("comment")?;
    if !passed && comment.is_empty() {
        return Err(Invalid::new(
            "comment",
            "a failed check must say what is still wrong (it reopens the case)",
        ));
    }
    if comment.chars().count() > MAX_COMMENT {
        return Err(Invalid::new(
            "comment",
            format!("at most {MAX_COMMENT} characters"),
        ));
    }
    let inspector_id = match m.get("inspector") {
        Some(Value::Object(i)) => match i.get("id") {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    Ok(Verdict {
        case_number,
        passed,
        comment,
        inspector_id,
        verified_at: text("verified_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_from_passed_or_the_chinese_result_word() {
        let v = read_result(&json!({"case_number": "AJ1", "passed": true})).unwrap();
        assert!(v.passed);
        let v = read_result(
            &json!({"case_number": "AJ1", "result": "不通过", "comment": "井盖仍未安装",
                                    "inspector": {"id": "W0231", "name": "张建国"}}),
        )
        .unwrap();
        assert!(!v.passed);
        assert_eq!(
            (v.comment.as_str(), v.inspector_id.as_str()),
            ("井盖仍未安装", "W0231")
        );
    }

    #[test]
    fn bad_verdicts_name_the_field() {
        let field = |v: Value| read_result(&v).unwrap_err().field;
        assert_eq!(field(json!([1])), "body");
        assert_eq!(field(json!({"passed": true})), "case_number");
        assert_eq!(field(json!({"case_number": "AJ1"})), "passed");
        assert_eq!(
            field(json!({"case_number": "AJ1", "passed": "yes"})),
            "passed"
        );
        assert_eq!(
            field(json!({"case_number": "AJ1", "result": "还行"})),
            "result"
        );
        assert_eq!(
            field(json!({"case_number": "AJ1", "passed": false})),
            "comment"
        );
        assert_eq!(
            field(json!({"case_number": {"x": 1}, "passed": true})),
            "case_number"
        );
    }

    #[test]
    fn the_task_carries_the_case_number_and_whether_closure_waits() {
        let t = task(&Task {
            task_id: "C1/3/result/0",
            case_number: "AJ1",
            ticket_id: "T1",
            case_id: "C1",
            department_id: "roads",
            result: "已补装井盖",
            completed_at: "2026-12-06T10:00:00+08:00",
            closure_waits: true,
        });
        assert_eq!(t["schema"], TASK_SCHEMA);
        assert_eq!(t["case_number"], "AJ1");
        assert_eq!(t["closure_waits"], true);
    }
}
