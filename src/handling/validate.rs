//! The update contract: what every `minhu.v1.CaseUpdate` must carry, with the field to blame,
//! and what the audit trail keeps of each action. Runs before anything is read or written.
use serde_json::{Value, json};

use super::error::HandlingError;
use super::machine::Action;
use crate::config::service::LimitsConfig;
use crate::pb;
use crate::pb::case_update::Update;

/// Longest update_id a caller may choose.
pub const MAX_UPDATE_ID: usize = 128;
/// Longest case, department and operator id.
const MAX_ID: usize = 64;
/// Most tickets a Complete may name as already answered by the department.
const MAX_ANSWERED: usize = 1000;

/// What the handling path needs of a valid update.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub header: pb::UpdateHeader,
    pub action: Action,
    /// Kept in the audit entry.
    pub detail: Value,
    /// `RequestExtension`: the deadline asked for.
    pub new_due_at_ms: Option<i64>,
    /// `DecideExtension`: approved?
    pub approve: bool,
    /// `Reassign`: where to; `Return`: the department suggested (recorded only).
    pub to_department_id: String,
    /// `ReportProgress`: the department waits for the citizen (补办件); the clocks stand.
    pub waiting_for_citizen: bool,
}

/// The header of an update, if it has one (to address a refusal's outcome).
pub fn header(u: &pb::CaseUpdate) -> Option<&pb::UpdateHeader> {
    match u.update.as_ref()? {
        Update::SignFor(r) => r.header.as_ref(),
        Update::ReportProgress(r) => r.header.as_ref(),
        Update::Return(r) => r.header.as_ref(),
        Update::RequestExtension(r) => r.header.as_ref(),
        Update::DecideExtension(r) => r.header.as_ref(),
        Update::Complete(r) => r.header.as_ref(),
        Update::Reassign(r) => r.header.as_ref(),
    }
}

/// Checks `u` and extracts what the path needs.
pub fn parse(u: &pb::CaseUpdate, limits: &LimitsConfig) -> Result<Parsed, HandlingError> {
    let Some(update) = &u.update else {
        return Err(HandlingError::invalid(
            "update",
            "is required: one of sign_for, report_progress, return, request_extension, \
             decide_extension, complete, reassign",
        ));
    };
    let header = check_header(header(u))?;
    let text =
        |field: &str, value: &str, required: bool| check_text(field, value, required, limits);
    let mut p = Parsed {
        header,
        action: Action::SignFor,
        detail: Value::Null,
        new_due_at_ms: None,
        approve: false,
        to_department_id: String::new(),
        waiting_for_citizen: false,
    };
    match update {
        Update::SignFor(r) => {
            text("note", &r.note, false)?;
            p.detail = json!({ "note": r.note });
        }
        Update::ReportProgress(r) => {
            p.action = Action::Progress;
            text("note", &r.note, r.attachments.is_empty())?;
            attachments(&r.attachments, limits)?;
            p.detail = json!({
                "note": r.note,
                "attachments": urls(&r.attachments),
                "planned_completion_ms": r.planned_completion.as_ref().map(crate::time::timestamp_to_ms),
                "waiting_for_citizen": r.waiting_for_citizen,
            });
            p.waiting_for_citizen = r.waiting_for_citizen;
        }
        Update::Return(r) => {
            p.action = Action::Return;
            let reason = pb::ReturnReason::try_from(r.reason)
                .ok()
                .filter(|r| *r != pb::ReturnReason::Unspecified)
                .ok_or_else(|| {
                    HandlingError::invalid(
                        "reason",
                        "must be a ReturnReason (NOT_OURS, WRONG_PLACE, …)",
                    )
                })?;
            text("text", &r.text, reason == pb::ReturnReason::Other)?;
            check_id("suggested_department_id", &r.suggested_department_id, false)?;
            p.to_department_id.clone_from(&r.suggested_department_id);
            p.detail = json!({
                "reason": reason.as_str_name(),
                "text": r.text,
                "suggested_department_id": r.suggested_department_id,
            });
        }
        Update::RequestExtension(r) => {
            p.action = Action::RequestExtension;
            let due = r
                .new_due_at
                .as_ref()
                .ok_or_else(|| HandlingError::invalid("new_due_at", "is required"))?;
            text("reason", &r.reason, true)?;
            let ms = crate::time::timestamp_to_ms(due);
            p.new_due_at_ms = Some(ms);
            p.detail = json!({ "new_due_at_ms": ms, "reason": r.reason });
        }
        Update::DecideExtension(r) => {
            p.action = Action::DecideExtension;
            text("reason", &r.reason, !r.approve)?;
            p.approve = r.approve;
            p.detail = json!({ "approve": r.approve, "reason": r.reason });
        }
        Update::Complete(r) => {
            p.action = Action::Complete;
            text("result", &r.result, true)?;
            attachments(&r.attachments, limits)?;
            let kind = pb::HandlingType::try_from(r.handling_type)
                .ok()
                .filter(|t| *t != pb::HandlingType::Unspecified)
                .ok_or_else(|| {
                    HandlingError::invalid(
                        "handling_type",
                        "must be a HandlingType (IMMEDIATE 即办件, PROMISED 承诺件, …)",
                    )
                })?;
            if r.answered_ticket_ids.len() > MAX_ANSWERED {
                return Err(HandlingError::invalid(
                    "answered_ticket_ids",
                    format!("has more than {MAX_ANSWERED} ticket ids"),
                ));
            }
            for id in &r.answered_ticket_ids {
                check_id("answered_ticket_ids", id, true)?;
            }
            p.detail = json!({
                "result": r.result,
                "handling_type": kind.as_str_name(),
                "attachments": urls(&r.attachments),
                "answered_ticket_ids": r.answered_ticket_ids,
            });
        }
        Update::Reassign(r) => {
            p.action = Action::Reassign;
            check_id("to_department_id", &r.to_department_id, true)?;
            text("reason", &r.reason, true)?;
            p.to_department_id.clone_from(&r.to_department_id);
            p.detail = json!({ "to_department_id": r.to_department_id, "reason": r.reason });
        }
    }
    Ok(p)
}

fn check_header(h: Option<&pb::UpdateHeader>) -> Result<pb::UpdateHeader, HandlingError> {
    let h = h.ok_or_else(|| HandlingError::invalid("header", "is required"))?;
    check_id("header.update_id", &h.update_id, true)?;
    if h.update_id.chars().count() > MAX_UPDATE_ID {
        return Err(HandlingError::invalid(
            "header.update_id",
            format!("is longer than {MAX_UPDATE_ID} characters"),
        ));
    }
    check_id("header.case_id", &h.case_id, true)?;
    check_id("header.department_id", &h.department_id, true)?;
    check_id("header.operator_id", &h.operator_id, false)?;
    Ok(h.clone())
}

/// An id: printable, no spaces, at most 64 characters (update ids: 128, checked above).
pub(super) fn check_id(field: &str, value: &str, required: bool) -> Result<(), HandlingError> {
    if value.is_empty() {
        return if required {
            Err(HandlingError::invalid(field, "is required"))
        } else {
            Ok(())
        };
    }
    let max = if field == "header.update_id" {
        MAX_UPDATE_ID
    } else {
        MAX_ID
    };
    if value.chars().count() > max {
        return Err(HandlingError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(HandlingError::invalid(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}

fn check_text(
    field: &str,
    value: &str,
    required: bool,
    limits: &LimitsConfig,
) -> Result<(), HandlingError> {
    if required && value.trim().is_empty() {
        return Err(HandlingError::invalid(field, "is required"));
    }
    if value.chars().count() > limits.max_description_chars {
        return Err(HandlingError::invalid(
            field,
            format!("is longer than {} characters", limits.max_description_chars),
        ));
    }
    Ok(())
}

fn attachments(list: &[pb::Attachment], limits: &LimitsConfig) -> Result<(), HandlingError> {
    if list.len() > limits.max_attachments {
        return Err(HandlingError::invalid(
            "attachments",
            format!("more than {} attachments", limits.max_attachments),
        ));
    }
    for (i, a) in list.iter().enumerate() {
        if a.url.trim().is_empty() || a.url.chars().count() > limits.max_field_chars {
            return Err(HandlingError::invalid(
                &format!("attachments[{i}].url"),
                format!(
                    "is required and at most {} characters",
                    limits.max_field_chars
                ),
            ));
        }
    }
    Ok(())
}

fn urls(list: &[pb::Attachment]) -> Vec<&str> {
    list.iter().map(|a| a.url.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(update_id: &str) -> Option<pb::UpdateHeader> {
        Some(pb::UpdateHeader {
            update_id: update_id.into(),
            case_id: "C20261206000001".into(),
            department_id: "roads".into(),
            case_version: 0,
            operator_id: String::new(),
        })
    }

    fn update(u: Update) -> pb::CaseUpdate {
        pb::CaseUpdate { update: Some(u) }
    }

    #[test]
    fn each_action_names_the_field_to_blame() {
        let limits = LimitsConfig::default();
        let cases = [
            (pb::CaseUpdate::default(), "update"),
            (
                update(Update::SignFor(pb::SignForRequest {
                    header: None,
                    note: String::new(),
                })),
                "header",
            ),
            (
                update(Update::SignFor(pb::SignForRequest {
                    header: header(""),
                    note: String::new(),
                })),
                "header.update_id",
            ),
            (
                update(Update::SignFor(pb::SignForRequest {
                    header: header("a b"),
                    note: String::new(),
                })),
                "header.update_id",
            ),
            (
                update(Update::SignFor(pb::SignForRequest {
                    header: header(&"u".repeat(129)),
                    note: String::new(),
                })),
                "header.update_id",
            ),
            (
                update(Update::Return(pb::ReturnRequest {
                    header: header("u1"),
                    ..Default::default()
                })),
                "reason",
            ),
            (
                update(Update::Return(pb::ReturnRequest {
                    header: header("u1"),
                    reason: pb::ReturnReason::Other as i32,
                    ..Default::default()
                })),
                "text",
            ),
            (
                update(Update::Complete(pb::CompleteRequest {
                    header: header("u1"),
                    result: "修好了".into(),
                    ..Default::default()
                })),
                "handling_type",
            ),
            (
                update(Update::Complete(pb::CompleteRequest {
                    header: header("u1"),
                    result: "修好了".into(),
                    handling_type: pb::HandlingType::Immediate as i32,
                    answered_ticket_ids: vec!["t-1".into(), String::new()],
                    ..Default::default()
                })),
                "answered_ticket_ids",
            ),
            (
                update(Update::RequestExtension(pb::RequestExtensionRequest {
                    header: header("u1"),
                    reason: "材料".into(),
                    ..Default::default()
                })),
                "new_due_at",
            ),
            (
                update(Update::Reassign(pb::ReassignRequest {
                    header: header("u1"),
                    reason: "x".into(),
                    ..Default::default()
                })),
                "to_department_id",
            ),
            (
                update(Update::ReportProgress(pb::ReportProgressRequest {
                    header: header("u1"),
                    ..Default::default()
                })),
                "note",
            ),
        ];
        for (u, field) in cases {
            match parse(&u, &limits) {
                Err(HandlingError::Invalid(i)) => assert_eq!(i.field, field, "{u:?}"),
                other => panic!("{u:?}: {other:?}"),
            }
        }
        let ok = update(Update::Complete(pb::CompleteRequest {
            header: header("u1"),
            result: "已修复路面".into(),
            handling_type: pb::HandlingType::Immediate as i32,
            ..Default::default()
        }));
        let p = parse(&ok, &limits).unwrap();
        assert_eq!(p.action, Action::Complete);
        assert_eq!(p.detail["handling_type"], "HANDLING_TYPE_IMMEDIATE");
    }
}
