//! Committed changes of cases, told to whoever watches (`WatchCases`): a case given to a
//! department, each applied update, each light change. Sent after the commit, from the
//! store's handle, so a watcher never hears of something that was rolled back. Watching is
//! best effort on top of the durable record: a watcher that falls behind is told so and
//! re-reads with `ListCases`.
use tokio::sync::broadcast;

use crate::pb;

/// Changes buffered per watcher before it counts as fallen behind.
const BUFFER: usize = 4096;

/// What a watcher is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseChange {
    /// The department the change is for (the holder; for `left`, the one that let go).
    pub department_id: String,
    pub change: pb::CaseChange,
}

/// The sending side, kept in every `Store` handle.
#[derive(Debug, Clone)]
pub struct Changes(broadcast::Sender<CaseChange>);

impl Default for Changes {
    fn default() -> Self {
        Self(broadcast::channel(BUFFER).0)
    }
}

impl Changes {
    pub fn subscribe(&self) -> broadcast::Receiver<CaseChange> {
        self.0.subscribe()
    }

    /// Whether anyone watches: callers skip building a change nobody would read.
    pub fn watched(&self) -> bool {
        self.0.receiver_count() > 0
    }

    /// Tells every watcher; nobody watching costs one atomic load.
    pub fn send(&self, department_id: &str, change: pb::CaseChange) {
        if self.0.receiver_count() > 0 {
            let _ = self.0.send(CaseChange {
                department_id: department_id.to_owned(),
                change,
            });
        }
    }
}
