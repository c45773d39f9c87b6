//! The authenticated caller and what it may do: submit on its channels and as its source
//! systems, act for its departments, coordinate, use the console. Apart from authenticating
//! because the pipeline and the handlers ask these questions long after the listener has
//! found out who is calling.
use std::sync::atomic::Ordering::Relaxed;

use crate::intake::IntakeError;
use crate::pb;
use crate::protect::metrics as m;

/// An authenticated calling system and what it may do.
#[derive(Debug)]
pub struct Caller {
    pub id: String,
    pub(super) channels: Vec<i32>,
    pub(super) source_systems: Vec<String>,
    /// Departments it acts for in `minhu.v1.Handling`.
    pub(super) departments: Vec<String>,
    /// The coordination centre's role.
    pub(super) coordination: bool,
    /// What it may do in the supervision console.
    pub(super) console: Console,
}

/// A caller's access to the supervision console, from its `[auth]` scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Console {
    /// No console login.
    None,
    /// Pages only.
    Read,
    /// Pages and actions.
    Act,
}

fn channel_name(c: i32) -> String {
    pb::Channel::try_from(c).map_or_else(
        |_| c.to_string(),
        |c| c.as_str_name().trim_start_matches("CHANNEL_").to_owned(),
    )
}

impl Caller {
    /// Whether this caller may submit `req`: its channel and source system must be allowed.
    pub fn authorize(&self, req: &pb::Request) -> Result<(), IntakeError> {
        match self.denial(req) {
            None => Ok(()),
            Some(why) => {
                m::AUTH_DENIED.fetch_add(1, Relaxed);
                Err(IntakeError::PermissionDenied(why))
            }
        }
    }

    /// Whether this caller may act for (update, list the cases of) `department_id`.
    pub fn acts_for(&self, department_id: &str) -> bool {
        self.departments.iter().any(|d| d == department_id)
    }

    /// Whether this caller acts for at least one department (a department's system).
    pub fn acts_for_any(&self) -> bool {
        !self.departments.is_empty()
    }

    /// Whether this caller has the coordination centre's role (decide extensions, reassign,
    /// list any department).
    pub fn coordinates(&self) -> bool {
        self.coordination
    }

    /// The departments it acts for; the console shows their cases (all, with [`Self::coordinates`]).
    pub fn departments(&self) -> &[String] {
        &self.departments
    }

    /// What it may do in the supervision console.
    pub fn console(&self) -> Console {
        self.console
    }

    /// Whether this caller may read or act on a stored ticket: only one it could have
    /// submitted. Tickets carry citizens' personal data, and ticket numbers are sequential.
    pub fn may_see(&self, req: &pb::Request) -> bool {
        self.denial(req).is_none()
    }

    fn denial(&self, req: &pb::Request) -> Option<String> {
        if !self.channels.contains(&req.channel) {
            return Some(format!(
                "caller {} may not submit on channel {}",
                self.id,
                channel_name(req.channel)
            ));
        }
        let allowed = self
            .source_systems
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => req.source_system.starts_with(prefix),
                None => *p == req.source_system,
            });
        (!allowed).then(|| {
            format!(
                "caller {} may not submit as source_system {:?}",
                self.id, req.source_system
            )
        })
    }
}
