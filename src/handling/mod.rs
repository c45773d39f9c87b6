//! The department side of the closed loop (闭环): what happens to a case after its hand-off.
//!
//! - [`machine`]: the one state machine (签收 → 办理 → 办结, 退单 → 改派, 延期), as a table.
pub mod machine;
