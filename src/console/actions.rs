//! The coordination centre's actions on a case page: approve or refuse an extension (延期审批),
//! re-dispatch the case (改派), split a wrongly merged report out (拆分). Each takes the same
//! path as its gRPC call: a `minhu.v1.CaseUpdate` through [`Updates::apply`], or
//! [`crate::intake::Intake::split_by_operator`], with the operator as the caller, so the audit
//! trail names them (`"caller"`, `"operator_id"`, `"via": "console"`) and the state machine,
//! version check and refusals are the ones departments meet.
//!
//! Only an operator with `console:act` and the coordination role sees the forms or may post
//! them. Each form carries the case version it was drawn from: an action on a case that moved
//! on meanwhile is refused (409), never applied to a state the operator did not see. The
//! update id is derived from the session, the case, that version and the form's content, so a
//! double click or a resent form is the same update and answers as the first did.
use axum::extract::{Path, State};
use axum::response::Redirect;
use maud::{Markup, html};
use sha2::{Digest, Sha256};

use super::ConsoleState;
use super::error::ConsoleError;
use super::layout;
use super::session::{ActionForm, Operator};
use crate::pb;
use crate::pb::case_update::Update;
use crate::store::{CaseStory, Via};

/// What a finished action says on the case page it returns to (`?done=`).
pub fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "extension-approved" => "已批准延期 Extension approved: the new deadline is in force",
        "extension-refused" => "已驳回延期 Extension refused: the deadline stands",
        "reassigned" => "已改派 Re-dispatched to the department chosen",
        "split" => "已拆分 Split: the report is a case of its own (linked below)",
        _ => return None,
    })
}

/// Whether `op` may take the coordination centre's actions.
fn may_coordinate(op: &Operator) -> bool {
    op.may_act() && op.caller.coordinates()
}

fn check_may_coordinate(op: &Operator) -> Result<(), ConsoleError> {
    if may_coordinate(op) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden(
            "actions are for the coordination centre's operators \
             (scopes = [\"console:act\"] and coordination = true)",
        ))
    }
}

fn field<'a>(form: &'a ActionForm, name: &str) -> &'a str {
    form.fields.get(name).map_or("", |v| v.trim())
}

/// The case version the form was drawn from.
fn version(form: &ActionForm) -> Result<u64, ConsoleError> {
    field(form, "version")
        .parse()
        .map_err(|_| ConsoleError::BadRequest("the form lacks the case version: reload the page"))
}

/// The update id of a form: the same form sent twice is one update.
fn update_id(form: &ActionForm, case_id: &str, action: &str) -> String {
    let mut h = Sha256::new();
    for part in [form.operator.csrf.as_str(), case_id, action] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let mut fields: Vec<_> = form.fields.iter().filter(|(k, _)| *k != "csrf").collect();
    fields.sort();
    for (k, v) in fields {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("console-{hex}")
}

/// Applies a coordination update built from the form; where to go next.
async fn coordinate(
    s: &ConsoleState,
    form: &ActionForm,
    case_id: &str,
    action: &str,
    wrap: impl FnOnce(pb::UpdateHeader) -> Update,
) -> Result<(), ConsoleError> {
    check_may_coordinate(&form.operator)?;
    if case_id.len() > 64 {
        return Err(ConsoleError::NotFound);
    }
    let header = pb::UpdateHeader {
        update_id: update_id(form, case_id, action),
        case_id: case_id.to_owned(),
        department_id: s.router.current().coordination_centre().to_owned(),
        case_version: version(form)?,
        operator_id: form.operator.caller.id.clone(),
    };
    let update = pb::CaseUpdate {
        update: Some(wrap(header)),
    };
    s.updates
        .apply(update, Via::Console, Some(form.operator.caller.clone()))
        .await?;
    Ok(())
}

fn back(case_id: &str, done: &str) -> Redirect {
    Redirect::to(&format!("/console/cases/{case_id}?done={done}"))
}

/// `POST /console/cases/{case_id}/extension`: `decision` = approve | refuse, `reason`.
pub async fn extension(
    State(s): State<ConsoleState>,
    Path(case_id): Path<String>,
    form: ActionForm,
) -> Result<Redirect, ConsoleError> {
    let approve = match field(&form, "decision") {
        "approve" => true,
        "refuse" => false,
        _ => {
            return Err(ConsoleError::BadRequest(
                "decision must be approve or refuse",
            ));
        }
    };
    let reason = field(&form, "reason").to_owned();
    coordinate(&s, &form, &case_id, "decide_extension", |header| {
        Update::DecideExtension(pb::DecideExtensionRequest {
            header: Some(header),
            approve,
            reason,
        })
    })
    .await?;
    let done = if approve {
        "extension-approved"
    } else {
        "extension-refused"
    };
    Ok(back(&case_id, done))
}

/// `POST /console/cases/{case_id}/reassign`: `to_department_id`, `reason`.
pub async fn reassign(
    State(s): State<ConsoleState>,
    Path(case_id): Path<String>,
    form: ActionForm,
) -> Result<Redirect, ConsoleError> {
    let to = field(&form, "to_department_id").to_owned();
    let reason = field(&form, "reason").to_owned();
    coordinate(&s, &form, &case_id, "reassign", |header| {
        Update::Reassign(pb::ReassignRequest {
            header: Some(header),
            to_department_id: to,
            reason,
        })
    })
    .await?;
    Ok(back(&case_id, "reassigned"))
}

/// `POST /console/cases/{case_id}/split`: `ticket_id` (a report merged into this case),
/// `reason`. Answers with the new case's page.
pub async fn split(
    State(s): State<ConsoleState>,
    Path(case_id): Path<String>,
    form: ActionForm,
) -> Result<Redirect, ConsoleError> {
    check_may_coordinate(&form.operator)?;
    let ticket_id = field(&form, "ticket_id");
    let reason = field(&form, "reason");
    if reason.is_empty() {
        return Err(ConsoleError::BadRequest(
            "say why the report is split out (reason)",
        ));
    }
    let done = s
        .intake
        .split_by_operator(&case_id, ticket_id, reason, &form.operator.caller.id)
        .await?;
    Ok(back(&done.case_id, "split"))
}

/// The actions section of a case page, for an operator who may take them on an open case.
pub fn forms(op: &Operator, story: &CaseStory, departments: &[(String, String)]) -> Markup {
    let h = &story.head;
    let open = pb::CaseStatus::try_from(h.status).is_ok_and(crate::handling::machine::is_open);
    if !may_coordinate(op) || !open {
        return html! {};
    }
    let path = format!("/console/cases/{}", h.case_id);
    html! {
        h2 { "督办操作 " small { "actions" } }
        div.actions {
            @if let Some(asked) = h.extension_due_at_ms {
                form method="post" action={(path) "/extension"} id="extension" {
                    input type="hidden" name="csrf" value=(op.csrf);
                    input type="hidden" name="version" value=(h.version);
                    p { "延期申请 Extension requested to " strong { (layout::when(asked)) } }
                    label { "理由 Reason " input type="text" name="reason" maxlength="500"; }
                    button type="submit" name="decision" value="approve" id="approve-extension" { "批准 Approve" }
                    " "
                    button type="submit" name="decision" value="refuse" id="refuse-extension" { "驳回 Refuse" }
                }
            }
            form method="post" action={(path) "/reassign"} id="reassign" {
                input type="hidden" name="csrf" value=(op.csrf);
                input type="hidden" name="version" value=(h.version);
                label { "改派至 Re-dispatch to "
                    select name="to_department_id" {
                        @for (id, name) in departments {
                            @if *id != h.department_id {
                                option value=(id) { (name) " (" (id) ")" }
                            }
                        }
                    }
                }
                " "
                label { "理由 Reason " input type="text" name="reason" required maxlength="500"; }
                " "
                button type="submit" { "改派 Re-dispatch" }
            }
        }
    }
}

/// The split form for one report row (merged reports of an open case only).
pub fn split_form(op: &Operator, story: &CaseStory, ticket_id: &str, merged: bool) -> Markup {
    let open =
        pb::CaseStatus::try_from(story.head.status).is_ok_and(crate::handling::machine::is_open);
    if !may_coordinate(op) || !open || !merged {
        return html! {};
    }
    html! {
        form.split method="post" action={"/console/cases/" (story.head.case_id) "/split"} {
            input type="hidden" name="csrf" value=(op.csrf);
            input type="hidden" name="ticket_id" value=(ticket_id);
            input type="text" name="reason" required maxlength="500" placeholder="理由 reason";
            " "
            button type="submit" { "拆分 Split" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn form(pairs: &[(&str, &str)]) -> ActionForm {
        let auth = crate::protect::auth::Authenticator::new(&crate::config::auth::AuthConfig {
            enabled: true,
            callers: vec![crate::config::auth::CallerConfig {
                id: "centre".into(),
                token_sha256: Some(minhu_adapter_emergency::auth::token_sha256_hex("t")),
                departments: vec!["coordination-centre".into()],
                coordination: true,
                scopes: vec![crate::config::auth::Scope::ConsoleAct],
                ..Default::default()
            }],
            ..Default::default()
        });
        let caller: Arc<_> = auth
            .authenticate(Some(b"Bearer t"), None)
            .ok()
            .flatten()
            .expect("the test caller");
        ActionForm {
            operator: Operator {
                caller,
                csrf: "c".repeat(64),
            },
            fields: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        }
    }

    #[test]
    fn the_same_form_is_the_same_update_and_another_is_not() {
        let a = form(&[("version", "3"), ("decision", "approve"), ("csrf", "x")]);
        let again = form(&[("decision", "approve"), ("version", "3"), ("csrf", "y")]);
        let refuse = form(&[("version", "3"), ("decision", "refuse")]);
        let id = update_id(&a, "C1", "decide_extension");
        assert!(id.starts_with("console-") && id.len() <= 128, "{id}");
        assert_eq!(id, update_id(&again, "C1", "decide_extension"));
        assert_ne!(id, update_id(&refuse, "C1", "decide_extension"));
        assert_ne!(id, update_id(&a, "C2", "decide_extension"));
        assert_ne!(id, update_id(&a, "C1", "reassign"));
    }

    #[test]
    fn a_form_without_a_version_is_refused() {
        assert!(matches!(
            version(&form(&[("version", "x")])),
            Err(ConsoleError::BadRequest(_))
        ));
        assert_eq!(version(&form(&[("version", "7")])).ok(), Some(7));
        assert!(may_coordinate(&form(&[]).operator));
    }

    #[test]
    fn every_done_code_has_a_message() {
        for code in [
            "extension-approved",
            "extension-refused",
            "reassigned",
            "split",
        ] {
            assert!(done_message(code).is_some(), "{code}");
        }
        assert!(done_message("<script>").is_none());
    }
}
