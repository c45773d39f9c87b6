//! The result of a transferred call, back to the dispatch centre that transferred it (办理结果
//! 反馈), so the 110/119/120/122 system can close its own incident. JSON on the centre's return
//! queue `minhu.return.emergency.<centre>`.
use serde::Serialize;

/// The `schema` of every result message.
pub const SCHEMA: &str = "minhu.emergency_result.v1";
/// The AMQP `type` of a result message.
pub const TYPE: &str = "minhu.EmergencyResult";

/// One transferred call's result.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TransferResult<'a> {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Stable: the same completion's result is re-published under the same id.
    pub result_id: &'a str,
    /// The line the call came in on (`110`, `119`, `120`, `122`).
    pub line: &'a str,
    /// The centre's 接警单号 (the ticket's `source_id`).
    pub incident_number: &'a str,
    pub centre: &'a str,
    pub ticket_id: &'a str,
    pub case_id: &'a str,
    pub department_id: &'a str,
    pub result: &'a str,
    /// RFC 3339 in China time.
    pub completed_at: &'a str,
}
