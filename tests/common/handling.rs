//! Helpers for the department side of the closed loop (`minhu.v1.Handling`): a report the
//! sample rules route to `roads` with fall-backs, update headers, a return, a Handling client,
//! and the one dispatch waiting in a department's queue.
#![allow(dead_code)]

use std::time::Duration;

use minhu::pb;
use minhu::pb::handling_client::HandlingClient;
use prost::Message;
use tonic::transport::Channel;

use super::broker::drain;
use super::gateway::{Gateway, request};

/// How long a test waits for a dispatch.
pub const WAIT: Duration = Duration::from_secs(20);

/// A road report that mentions a streetlight: the `roads` rule takes it first, the
/// `keywords-streetlight` rule (urban-mgmt) next, then nothing but the fallback.
pub fn road_report(source_id: &str) -> pb::Request {
    let mut r = request(pb::Channel::Hotline12345, source_id, "road.pothole");
    r.description = "大兴东路路面塌陷，旁边路灯也不亮".into();
    r
}

/// An update's header, by operator `staff-1`.
pub fn header(
    case_id: &str,
    department: &str,
    version: u64,
    update_id: &str,
) -> Option<pb::UpdateHeader> {
    Some(pb::UpdateHeader {
        update_id: update_id.into(),
        case_id: case_id.into(),
        department_id: department.into(),
        case_version: version,
        operator_id: "staff-1".into(),
    })
}

/// `department` returns the case for `reason`.
pub fn give_back(
    case_id: &str,
    department: &str,
    version: u64,
    id: &str,
    reason: pb::ReturnReason,
) -> pb::ReturnRequest {
    pb::ReturnRequest {
        header: header(case_id, department, version, id),
        reason: reason as i32,
        text: "不属于本单位职责".into(),
        suggested_department_id: String::new(),
    }
}

pub async fn handling(gw: &Gateway) -> HandlingClient<Channel> {
    HandlingClient::new(gw.channel().await)
}

/// The one dispatch waiting in `queue`, decoded.
pub async fn dispatch(url: &str, queue: &str) -> pb::Dispatch {
    let got = drain(url, queue, 1, WAIT).await;
    assert_eq!(got.len(), 1, "one dispatch in {queue}");
    pb::Dispatch::decode(got[0].data.as_slice()).expect("a Dispatch")
}
