//! The writer's commands: what a caller can ask of the writer thread, what each one runs
//! (`execute`), and how its outcome gets back to the caller once the batch is committed. The
//! batching and the group commit are `writer`'s.
use tokio::sync::oneshot;

use crate::db::Conn;
use crate::merge::Index;
use crate::outbox::OutboxMessage;

use super::writer::State;
use super::{Accepted, NewTicket, Split, SplitTicket, StoreError};
use super::{ops, outbox_rows};

/// Work for the writer thread; each carries the channel its answer goes back on.
pub(super) enum Command {
    Accept(
        Box<NewTicket>,
        oneshot::Sender<Result<Accepted, StoreError>>,
    ),
    Split(Box<SplitTicket>, oneshot::Sender<Result<Split, StoreError>>),
    Delivered(Vec<i64>, oneshot::Sender<Result<(), StoreError>>),
    Failed(i64, String, oneshot::Sender<Result<(), StoreError>>),
    /// A department's update (see `updates`).
    Update(
        Box<super::CaseUpdate>,
        oneshot::Sender<Result<super::Decided, StoreError>>,
    ),
    /// Recounted provisional deadlines; answers with the number of dispatches made.
    Recount(
        Vec<super::Recount>,
        oneshot::Sender<Result<usize, StoreError>>,
    ),
    /// The scheduler's pass: units whose clocks are due at the instant given (see
    /// `supervision`).
    FireDue(
        i64,
        super::clocks::Lookup,
        usize,
        oneshot::Sender<Result<super::supervision::Fired, StoreError>>,
    ),
    /// The notifier's record of attempts' outcomes at an instant; answers with the number of
    /// rows that were still pending (see `notices`).
    RecordNotices(
        Vec<(String, super::Recorded)>,
        i64,
        oneshot::Sender<Result<usize, StoreError>>,
    ),
    /// A reporter's rating (see `ratings`).
    Rate(
        Box<super::NewRating>,
        oneshot::Sender<Result<super::Rated, StoreError>>,
    ),
    /// Personal data housekeeping: erasing contacts of long-closed cases, re-sealing old
    /// rows (see `erase`).
    Privacy(
        super::erase::Job,
        oneshot::Sender<Result<super::erase::Done, StoreError>>,
    ),
    /// A heartbeat of this gateway (see `gateways`; PostgreSQL only).
    Beat(oneshot::Sender<Result<super::gateways::Beat, StoreError>>),
    /// Commit what came before, then stop. Later commands get [`StoreError::Closed`]: handles
    /// can outlive shutdown (a connection task the server had to abort), so the writer cannot
    /// wait for the last one to drop.
    Stop,
}

/// What one command produced, sent back to its caller after the commit.
pub(super) enum Outcome {
    Accept(Result<Accepted, StoreError>),
    Split(Result<Split, StoreError>),
    Unit(Result<(), StoreError>),
    Count(Result<usize, StoreError>),
    Update(Result<super::Decided, StoreError>),
    Fired(Result<super::supervision::Fired, StoreError>),
    Rated(Result<super::Rated, StoreError>),
    Privacy(Result<super::erase::Done, StoreError>),
    Beat(Result<super::gateways::Beat, StoreError>),
}

/// Runs one command. `Err` means SQLite failed part-way; a clean refusal is an `Ok` outcome.
pub(super) fn execute(
    conn: &Conn,
    state: &mut State,
    merge: &mut Option<Index>,
    cmd: &Command,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Outcome, StoreError> {
    Ok(match cmd {
        Command::Accept(t, _) => Outcome::Accept(ops::accept(conn, state, merge.as_mut(), t)?.map(
            |(accepted, entry)| {
                fresh.extend(entry);
                accepted
            },
        )),
        Command::Split(s, _) => Outcome::Split(
            super::split::split(conn, state, merge.as_mut(), s)?.map(|(done, entry)| {
                fresh.push(entry);
                done
            }),
        ),
        Command::Delivered(ids, _) => Outcome::Unit(outbox_rows::delivered(conn, state, ids)),
        Command::Failed(id, reason, _) => Outcome::Unit(outbox_rows::failed(conn, *id, reason)),
        Command::Recount(r, _) => {
            let rows = super::deadlines::apply(conn, state, r)?;
            let n = rows.len();
            fresh.extend(rows);
            Outcome::Count(Ok(n))
        }
        Command::Update(u, _) => Outcome::Update(Ok(super::updates::apply(conn, state, u, fresh)?)),
        Command::Rate(r, _) => Outcome::Rated(Ok(super::ratings::rate(conn, state, r, fresh)?)),
        Command::RecordNotices(records, now, _) => {
            Outcome::Count(Ok(super::notices::record(conn, records, *now)?))
        }
        // Only where the timers lease is held, checked in this transaction (see `gateways`).
        Command::FireDue(now, lookup, limit, _) => Outcome::Fired(Ok(
            if super::gateways::holds_timers(conn, &state.gateway)? {
                super::supervision::fire_due(conn, state, *now, lookup, *limit, fresh)?
            } else {
                super::supervision::Fired::default()
            },
        )),
        Command::Beat(_) => Outcome::Beat(Ok(super::gateways::beat(conn, &state.gateway)?)),
        Command::Privacy(job, _) => {
            Outcome::Privacy(Ok(super::erase::run(conn, &state.seal, job)?))
        }
        Command::Stop => Outcome::Unit(Ok(())),
    })
}

/// The refusal outcome of the right kind for `cmd`.
pub(super) fn refused_as(cmd: &Command, e: StoreError) -> Outcome {
    match cmd {
        Command::Accept(..) => Outcome::Accept(Err(e)),
        Command::Split(..) => Outcome::Split(Err(e)),
        Command::Recount(..) | Command::RecordNotices(..) => Outcome::Count(Err(e)),
        Command::Update(..) => Outcome::Update(Err(e)),
        Command::FireDue(..) => Outcome::Fired(Err(e)),
        Command::Rate(..) => Outcome::Rated(Err(e)),
        Command::Privacy(..) => Outcome::Privacy(Err(e)),
        Command::Beat(..) => Outcome::Beat(Err(e)),
        _ => Outcome::Unit(Err(e)),
    }
}

/// Sends the outcome to the command's caller. A caller that went away (timeout, cancelled
/// stream) no longer needs it; the work itself is committed either way.
pub(super) fn reply(cmd: Command, outcome: Outcome) {
    // Outcomes are made per command kind (`execute`, `refused_as`), so the kinds always pair.
    let mismatch = || StoreError::Corrupt("writer outcome does not match its command".into());
    match (cmd, outcome) {
        (Command::Accept(_, tx), Outcome::Accept(r)) => drop(tx.send(r)),
        (Command::Split(_, tx), Outcome::Split(r)) => drop(tx.send(r)),
        (Command::Split(_, tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::Recount(_, tx) | Command::RecordNotices(_, _, tx), Outcome::Count(r)) => {
            drop(tx.send(r))
        }
        (Command::Recount(_, tx) | Command::RecordNotices(_, _, tx), _) => {
            drop(tx.send(Err(mismatch())))
        }
        (Command::Update(_, tx), Outcome::Update(r)) => drop(tx.send(r)),
        (Command::Update(_, tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::FireDue(.., tx), Outcome::Fired(r)) => drop(tx.send(r)),
        (Command::Rate(_, tx), Outcome::Rated(r)) => drop(tx.send(r)),
        (Command::Rate(_, tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::Privacy(_, tx), Outcome::Privacy(r)) => drop(tx.send(r)),
        (Command::Privacy(_, tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::FireDue(.., tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::Delivered(_, tx) | Command::Failed(_, _, tx), Outcome::Unit(r)) => {
            drop(tx.send(r))
        }
        (Command::Accept(_, tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::Delivered(_, tx) | Command::Failed(_, _, tx), _) => {
            drop(tx.send(Err(mismatch())))
        }
        (Command::Beat(tx), Outcome::Beat(r)) => drop(tx.send(r)),
        (Command::Beat(tx), _) => drop(tx.send(Err(mismatch()))),
        (Command::Stop, _) => {}
    }
}
