//! Who is told what when a case completes: every reporter of every ticket merged into the
//! case, once per route, on the channel they reported by (专项反馈). Pure: the store calls it
//! inside the transaction that completes the case, so the notices exist exactly when the
//! completion does.
//!
//! A reporter is skipped — and the skip recorded and counted — when they asked for no contact
//! (不需回复), left nothing to reach them by, were already told by the department itself
//! (`CompleteRequest.answered_ticket_ids`), or reported twice (the second ticket folds into
//! the first notice). Reports from systems rather than citizens (grid patrols, emergency
//! transfers, 数字城管 events without a citizen contact) are answered through those systems;
//! where config names such a system ([`Systems`]) the plan says so and the store writes the
//! system's message to the outbox.
use std::collections::HashSet;

use sha2::{Digest, Sha256};

use super::notice::{Address, Facts, Route};
use super::systems::{System, Systems};
use crate::pb;

/// One ticket of the case, as the store holds it.
#[derive(Debug, Clone, Copy)]
pub struct Reported<'a> {
    pub ticket_id: &'a str,
    pub request: &'a pb::Request,
    /// When Minhu accepted the ticket, ms since the epoch.
    pub accepted_at_ms: i64,
    /// The reporter's latest message on this channel (at least `accepted_at_ms`): WeChat's
    /// customer-service window counts from it.
    pub last_seen_ms: i64,
}

/// The completion the notices answer.
#[derive(Debug, Clone, Copy)]
pub struct Completed<'a> {
    pub case_id: &'a str,
    pub category: &'a str,
    /// The department that completed the case.
    pub department_id: &'a str,
    pub result: &'a str,
    pub completed_at_ms: i64,
    /// Tickets whose reporters the department told itself.
    pub answered: &'a [String],
}

/// Why a reporter gets no notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// They asked not to be contacted (不需回复).
    NoContact,
    /// Nothing to reach them by on any route.
    NoAddress,
    /// The department told them itself.
    AnsweredByDepartment,
    /// The same person on the same route already gets a notice for an earlier ticket.
    Duplicate,
    /// A system's report (patrol, emergency transfer): answered through that system.
    ThroughItsSystem,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::NoContact => "no_contact",
            Skip::NoAddress => "no_address",
            Skip::AnsweredByDepartment => "answered_by_department",
            Skip::Duplicate => "duplicate",
            Skip::ThroughItsSystem => "through_its_system",
        }
    }
}

/// One reporter's part of the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Send {
        route: Route,
        /// Who, without saying who: a digest of the route and the normalised address, to fold
        /// duplicates and to find the notice again without decrypting addresses.
        contact_key: String,
        address: Box<Address>,
        facts: Box<Facts>,
    },
    Skip {
        ticket_id: String,
        reason: Skip,
        facts: Box<Facts>,
    },
    /// Answered through the system the report came from (a 回访 task to the call-centre, a
    /// 核查 task to the 数字城管 platform, the result to an emergency dispatch centre).
    Return {
        system: System,
        address: Box<Address>,
        facts: Box<Facts>,
    },
}

/// Plans the result notices of a completed case, in ticket order. `systems` (None: only
/// citizens) names the systems that answer their own reporters.
pub fn result_notices(
    done: &Completed<'_>,
    tickets: &[Reported<'_>],
    systems: Option<&Systems>,
) -> Vec<Planned> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(tickets.len());
    for t in tickets {
        let facts = Box::new(facts(done, t));
        let skip = |reason| Planned::Skip {
            ticket_id: t.ticket_id.to_owned(),
            reason,
            facts: facts.clone(),
        };
        let reporter = t.request.reporter.clone().unwrap_or_default();
        if reporter.no_contact {
            out.push(skip(Skip::NoContact));
            continue;
        }
        if done.answered.iter().any(|a| a == t.ticket_id) {
            out.push(skip(Skip::AnsweredByDepartment));
            continue;
        }
        if let Some(sys) = systems {
            let extra = |k: &str| t.request.extra.get(k).cloned();
            let a = address(t, &reporter);
            if let Some(system) = sys.answering(&a, &extra) {
                // One call per phone: a caller who rang twice about the same thing is called
                // back once.
                let key = (!a.phone.is_empty())
                    .then(|| format!("{}:{}", system.route(), contact_key(Route::Sms, &a)));
                if key.is_some_and(|k| !seen.insert(k)) {
                    out.push(skip(Skip::Duplicate));
                    continue;
                }
                out.push(Planned::Return {
                    system,
                    address: Box::new(a),
                    facts,
                });
                continue;
            }
        }
        let (route, address) = match route(t, &reporter) {
            Ok(found) => found,
            Err(reason) => {
                out.push(skip(reason));
                continue;
            }
        };
        let contact_key = contact_key(route, &address);
        if !seen.insert(contact_key.clone()) {
            out.push(skip(Skip::Duplicate));
            continue;
        }
        out.push(Planned::Send {
            route,
            contact_key,
            address: Box::new(address),
            facts,
        });
    }
    out
}

/// The route a reporter is answered by: their own channel first, else whatever contact they
/// left (a phone by SMS before an e-mail address: most citizens read SMS the same day).
fn route(t: &Reported<'_>, r: &pb::Reporter) -> Result<(Route, Address), Skip> {
    use pb::Channel as C;
    let req = t.request;
    let channel = C::try_from(req.channel).unwrap_or(C::Unspecified);
    let mut a = address(t, r);
    let extra = |k: &str| req.extra.get(k).map(String::as_str);
    let by_contact = |a: Address| {
        if !a.phone.is_empty() {
            Ok((Route::Sms, a))
        } else if !a.email.is_empty() {
            Ok((Route::Email, a))
        } else {
            Err(Skip::NoAddress)
        }
    };
    match channel {
        C::Wechat if !a.wechat_openid.is_empty() => {
            a.miniprogram = extra("wechat.msg_type") == Some("miniprogram");
            Ok((Route::Wechat, a))
        }
        C::MayorMailbox | C::WebPortal if !a.email.is_empty() => {
            if extra(minhu_adapter_mailbox::extra::KIND) == Some("email") {
                a.subject.clone_from(&req.title);
            }
            Ok((Route::Email, a))
        }
        C::GridPatrol | C::Emergency110 | C::Emergency119 | C::Emergency120 | C::Emergency122 => {
            Err(Skip::ThroughItsSystem)
        }
        C::CityManagement if a.phone.is_empty() && a.email.is_empty() => {
            Err(Skip::ThroughItsSystem)
        }
        _ => by_contact(a),
    }
}

/// What the ticket says about where its reporter is.
fn address(t: &Reported<'_>, r: &pb::Reporter) -> Address {
    let req = t.request;
    Address {
        channel: req.channel,
        source_system: req.source_system.clone(),
        source_id: req.source_id.clone(),
        name: r.name.clone(),
        phone: r.phone.trim().to_owned(),
        email: r.email.trim().to_owned(),
        wechat_openid: r.wechat_openid.trim().to_owned(),
        last_seen_ms: t.last_seen_ms.max(t.accepted_at_ms),
        ..Default::default()
    }
}

/// A digest of who is reached where: the same person on the same route twice is one notice.
pub(crate) fn contact_key(route: Route, a: &Address) -> String {
    let who = match route {
        Route::Wechat => format!("{}\u{0}{}", a.source_system, a.wechat_openid),
        Route::Email => a.email.to_lowercase(),
        Route::Sms => {
            // The last 11 digits: +86 138…, 0086-138… and 138… are one phone.
            let digits: Vec<char> = a.phone.chars().filter(char::is_ascii_digit).collect();
            digits[digits.len().saturating_sub(11)..].iter().collect()
        }
    };
    let mut h = Sha256::new();
    h.update(route.as_str().as_bytes());
    h.update([0]);
    h.update(who.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn facts(done: &Completed<'_>, t: &Reported<'_>) -> Facts {
    let req = t.request;
    let title = if req.title.trim().is_empty() {
        minhu_adapter::template::truncate_chars(req.description.trim(), 30)
    } else {
        req.title.trim().to_owned()
    };
    Facts {
        case_id: done.case_id.to_owned(),
        ticket_id: t.ticket_id.to_owned(),
        title,
        category: done.category.to_owned(),
        department_id: done.department_id.to_owned(),
        department_name: String::new(),
        result: done.result.to_owned(),
        completed_at_ms: done.completed_at_ms,
        reported_at_ms: req
            .reported_at
            .as_ref()
            .map_or(t.accepted_at_ms, crate::time::timestamp_to_ms),
        rate_url: String::new(),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
