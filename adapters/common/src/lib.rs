//! What every Minhu channel adapter shares. Adapters are pure translators (input bytes →
//! `minhu.v1.Request`) so they can run inside the gateway or as a small edge process that
//! forwards requests over gRPC; nothing here knows about the gateway's internals.
//!
//! - [`geo`]: coordinates in GCJ-02, BD-09 or CGCS2000 normalised to WGS-84, the received values
//!   kept in the request.
//! - [`division`]: administrative division codes (行政区划代码) checked and normalised.
//! - [`civil`]: calendar dates as day numbers, for date parsers and working-day calendars.
//! - [`template`]: the outbound notifiers' message templates (`{name}` placeholders).
//! - [`rating_reply`]: a citizen's rating written as a reply to a result notice ("1" 满意, "0
//!   还是不亮"), one grammar for the SMS and WeChat doors.
#![forbid(unsafe_code)]

pub mod civil;
pub mod division;
pub mod geo;
pub mod rating_reply;
pub mod template;

pub use minhu_proto::v1 as pb;
