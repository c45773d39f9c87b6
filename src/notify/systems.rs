//! Answers that go back through a system rather than to a citizen directly: the 12345
//! call-centre's 回访 task, the 数字城管 platform's 核查 task, and the result of a transferred
//! emergency call back to its dispatch centre. Each is a JSON message on the system's own queue
//! (`minhu.return.<system>…` on `minhu.dispatch`), written to the outbox in the transaction that
//! completes the case, so it is published until the broker confirms it like any dispatch.
//!
//! [`Systems`] says which systems take their answers back (from the service config) and
//! renders each message with the pure parts of the channels' adapter crates.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use minhu_adapter_hotline12345::Mapping;

use super::notice::{Address, Facts};
use crate::config::service::ServiceConfig;

/// The exchange binding prefix of every return queue.
pub const RETURN_KEY_PREFIX: &str = "return.";
/// The queue name prefix of every return queue.
pub const RETURN_QUEUE_PREFIX: &str = "minhu.return.";

/// A system that answers its own reporters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum System {
    /// A 12345 call-centre that calls its callers back (回访).
    CallCentre { source: String },
    /// The 数字城管 platform: its grid inspector verifies the work (核查).
    CityManagement,
    /// The 110/119/120/122 dispatch centre that transferred the call.
    Emergency { centre: String, line: String },
}

impl System {
    /// The route name in the sent-ledger and `GetTicket.notices`.
    pub fn route(&self) -> &'static str {
        match self {
            System::CallCentre { .. } => "call_centre",
            System::CityManagement => "citymgmt",
            System::Emergency { .. } => "emergency",
        }
    }

    /// The binding key on `minhu.dispatch`; the queue is `minhu.return.` and the same suffix.
    pub fn routing_key(&self) -> String {
        let suffix = match self {
            System::CallCentre { source } => format!("hotline12345.{source}"),
            System::CityManagement => "citymgmt".to_owned(),
            System::Emergency { centre, .. } => format!("emergency.{centre}"),
        };
        format!("{RETURN_KEY_PREFIX}{suffix}")
    }
}

/// The queue bound to a return routing key.
pub fn queue_for(routing_key: &str) -> String {
    let suffix = routing_key
        .strip_prefix(RETURN_KEY_PREFIX)
        .unwrap_or(routing_key);
    format!("{RETURN_QUEUE_PREFIX}{suffix}")
}

/// One rendered message for a system's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnMessage {
    pub routing_key: String,
    /// AMQP `type`.
    pub message_type: &'static str,
    /// JSON.
    pub body: Vec<u8>,
    /// The case waits in COMPLETED for the inspector's verdict (核查) before it is closed.
    pub closure_waits: bool,
}

/// Which systems take their answers back, from the service config.
#[derive(Debug, Clone, Default)]
pub struct Systems {
    /// Call-back sources and their order mappings (the task names the order their way).
    call_centres: BTreeMap<String, Mapping>,
    /// `[adapters.citymgmt] verify`: the platform's source system, when on.
    citymgmt: Option<String>,
    /// Dispatch centres with `return_results`.
    emergency: BTreeSet<String>,
}

impl Systems {
    /// From a checked service config.
    pub fn from_config(cfg: &ServiceConfig) -> Self {
        let a = &cfg.adapters;
        let call_centres = if a.hotline12345.enabled {
            a.hotline12345
                .mappings()
                .into_iter()
                .filter(|(_, m)| m.followup.call_back)
                .collect()
        } else {
            BTreeMap::new()
        };
        let citymgmt =
            (a.citymgmt.enabled && a.citymgmt.verify).then(|| a.citymgmt.source_system.clone());
        let emergency = if a.emergency.enabled {
            a.emergency
                .centres
                .iter()
                .filter(|c| c.return_results)
                .map(|c| c.id.clone())
                .collect()
        } else {
            BTreeSet::new()
        };
        Self {
            call_centres,
            citymgmt,
            emergency,
        }
    }

    /// Adds a call-centre that calls its callers back, with its order mapping.
    pub fn with_call_centre(mut self, source: &str, mapping: Mapping) -> Self {
        self.call_centres.insert(source.to_owned(), mapping);
        self
    }

    /// Sends 核查 tasks for the 数字城管 platform's events (`source_system`).
    pub fn with_verification(mut self, source_system: &str) -> Self {
        self.citymgmt = Some(source_system.to_owned());
        self
    }

    /// Sends results back to dispatch centre `centre`.
    pub fn with_emergency_results(mut self, centre: &str) -> Self {
        self.emergency.insert(centre.to_owned());
        self
    }

    /// Every return queue's routing key, for the topology.
    pub fn routing_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .call_centres
            .keys()
            .map(|source| {
                System::CallCentre {
                    source: source.clone(),
                }
                .routing_key()
            })
            .collect();
        if self.citymgmt.is_some() {
            keys.push(System::CityManagement.routing_key());
        }
        keys.extend(self.emergency.iter().map(|centre| {
            System::Emergency {
                centre: centre.clone(),
                line: String::new(),
            }
            .routing_key()
        }));
        keys
    }

    /// The system that answers the reporter at `a`, if any.
    pub fn answering(&self, a: &Address, extra: &dyn Fn(&str) -> Option<String>) -> Option<System> {
        use crate::pb::Channel as C;
        match C::try_from(a.channel).unwrap_or(C::Unspecified) {
            C::Hotline12345 if self.call_centres.contains_key(&a.source_system) => {
                Some(System::CallCentre {
                    source: a.source_system.clone(),
                })
            }
            C::CityManagement if self.citymgmt.as_deref() == Some(a.source_system.as_str()) => {
                Some(System::CityManagement)
            }
            C::Emergency110 | C::Emergency119 | C::Emergency120 | C::Emergency122 => {
                let centre = extra(minhu_adapter_emergency::extra::CENTRE)?;
                self.emergency.contains(&centre).then(|| System::Emergency {
                    centre,
                    line: extra(minhu_adapter_emergency::extra::LINE).unwrap_or_default(),
                })
            }
            _ => None,
        }
    }

    /// Renders the message for `system` about the reporter at `a` (`id` is the notice id: the
    /// message's stable task id).
    pub fn render(&self, system: &System, id: &str, a: &Address, f: &Facts) -> ReturnMessage {
        let completed_at =
            minhu_adapter_citymgmt::time::format(&crate::time::ms_to_timestamp(f.completed_at_ms))
                .unwrap_or_default();
        let (message_type, body, closure_waits) = match system {
            System::CallCentre { source } => {
                use minhu_adapter_hotline12345::followup;
                let task = followup::Task {
                    task_id: id,
                    ticket_id: &f.ticket_id,
                    case_id: &f.case_id,
                    source_id: &a.source_id,
                    reporter_name: &a.name,
                    reporter_phone: &a.phone,
                    department_id: &f.department_id,
                    result: &f.result,
                    completed_at: &completed_at,
                };
                let body = self
                    .call_centres
                    .get(source)
                    .map(|m| followup::task(m, &task))
                    .unwrap_or_default();
                (followup::TASK_TYPE, body, false)
            }
            System::CityManagement => {
                use minhu_adapter_citymgmt::verification;
                let body = verification::task(&verification::Task {
                    task_id: id,
                    case_number: &a.source_id,
                    ticket_id: &f.ticket_id,
                    case_id: &f.case_id,
                    department_id: &f.department_id,
                    result: &f.result,
                    completed_at: &completed_at,
                    closure_waits: true,
                });
                (verification::TASK_TYPE, body, true)
            }
            System::Emergency { centre, line } => {
                use minhu_adapter_emergency::result;
                let body = serde_json::to_value(result::TransferResult {
                    schema: result::SCHEMA,
                    result_id: id,
                    line,
                    incident_number: &a.source_id,
                    centre,
                    ticket_id: &f.ticket_id,
                    case_id: &f.case_id,
                    department_id: &f.department_id,
                    result: &f.result,
                    completed_at: &completed_at,
                })
                .unwrap_or_default();
                (result::TYPE, body, false)
            }
        };
        ReturnMessage {
            routing_key: system.routing_key(),
            message_type,
            body: body.to_string().into_bytes(),
            closure_waits,
        }
    }
}

/// The systems in force, shared between the server (which sets them from config) and the
/// store's writer (which plans with them).
#[derive(Debug, Clone, Default)]
pub struct SharedSystems(Arc<RwLock<Arc<Systems>>>);

impl SharedSystems {
    pub fn set(&self, s: Systems) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(s);
    }

    pub fn get(&self) -> Arc<Systems> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
