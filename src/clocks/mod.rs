//! Per-stage clocks and lights (计时与亮灯) of the closed loop: how long a department has to sign
//! for a case and to complete it, counted in working time on its calendar; when its light turns
//! yellow and red. The task that turns the due times kept in the store into supervision events
//! is [`crate::scheduler`]; this module is its arithmetic and knows nothing of the store.
//!
//! - [`working_time`]: the working day's hours and the arithmetic on working time.
//! - [`light`]: the lights, a clock's two instants, and how a pause moves them.
//! - [`clock`]: the time source the scheduler and the store read, so tests can move it.
//! - [`escalation`]: escalation chains (催办/督办) as data: triggers, targets, repeats, as the
//!   scheduler evaluates them.
//! - [`evaluate`]: what is due on one unit at an instant (lights, escalations, next look).
pub mod clock;
pub mod escalation;
pub mod evaluate;
pub mod light;
pub mod working_time;

pub use clock::{Clock as TimeSource, SharedClock, SystemClock};
pub use light::{Clock, Counting, Light, Stage, UnitClocks};
pub use working_time::WorkingHours;
