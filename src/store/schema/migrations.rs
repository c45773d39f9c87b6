//! The migrations, oldest first, in the SQL both engines run (PostgreSQL runs them translated;
//! see `postgres`). Never edit one that has shipped: add another.
/// Migrations, oldest first. Never edit one that has shipped: add another.
pub(in crate::store) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE cases (
    seq             INTEGER PRIMARY KEY,
    case_id         TEXT NOT NULL UNIQUE,
    status          INTEGER NOT NULL,          -- minhu.v1.CaseStatus
    category        TEXT NOT NULL,
    district_code   TEXT NOT NULL,
    department_id   TEXT NOT NULL,             -- who holds it now
    level           INTEGER NOT NULL,          -- minhu.v1.Level
    urgency         INTEGER NOT NULL,          -- minhu.v1.Urgency (highest of its tickets)
    rule_id         TEXT NOT NULL,
    routing_version TEXT NOT NULL,
    opened_at       INTEGER NOT NULL,          -- ms since epoch
    due_at          INTEGER NOT NULL,          -- ms since epoch
    report_count    INTEGER NOT NULL,
    dispatched_at   INTEGER,                   -- first broker confirm
    closed_at       INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX cases_by_status_due ON cases(status, due_at);

CREATE TABLE tickets (
    seq             INTEGER PRIMARY KEY,
    ticket_id       TEXT NOT NULL UNIQUE,
    case_id         TEXT NOT NULL REFERENCES cases(case_id),
    channel         INTEGER NOT NULL,          -- minhu.v1.Channel
    source_system   TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    disposition     INTEGER NOT NULL,          -- minhu.v1.Disposition when accepted
    accepted_at     INTEGER NOT NULL,
    request         BLOB NOT NULL,             -- encoded minhu.v1.Request
    UNIQUE (channel, source_system, source_id) -- the idempotency key
);
CREATE INDEX tickets_by_case ON tickets(case_id);

-- Every dispatch ever created; confirmed_at is set when the broker acks it.
CREATE TABLE dispatches (
    seq             INTEGER PRIMARY KEY,
    dispatch_id     TEXT NOT NULL UNIQUE,
    case_id         TEXT NOT NULL REFERENCES cases(case_id),
    kind            INTEGER NOT NULL,          -- minhu.v1.DispatchKind
    department_id   TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    confirmed_at    INTEGER
);
CREATE INDEX dispatches_by_case ON dispatches(case_id);

-- Dispatches the broker has not confirmed yet. A row leaves only on a clean ack.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    dispatch_id     TEXT NOT NULL UNIQUE REFERENCES dispatches(dispatch_id),
    case_id         TEXT NOT NULL,
    routing_key     TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    level           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    payload         BLOB NOT NULL,             -- encoded minhu.v1.Dispatch
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);

-- The audit trail: every state change of a case or ticket, with its reasons (JSON).
CREATE TABLE audit (
    seq             INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    case_id         TEXT NOT NULL,
    ticket_id       TEXT,
    event           TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_by_case ON audit(case_id, seq);

-- Facts about this store itself, such as its random instance id.
CREATE TABLE meta (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
"#,
    // 2: follow-ups. A ticket remembers who reported it (e.g. `wechat:<appid>:<openid>`) so a
    // message minutes later can join the same case; a case remembers its routing key.
    r#"
ALTER TABLE tickets ADD COLUMN reporter_key TEXT;
CREATE INDEX tickets_by_reporter ON tickets(reporter_key, accepted_at) WHERE reporter_key IS NOT NULL;
ALTER TABLE cases ADD COLUMN routing_key TEXT;
"#,
    // 3: listing tickets by time (Open311 `GET requests`, and reports over periods).
    r#"
CREATE INDEX tickets_by_time ON tickets(accepted_at);
"#,
    // 4 (issue 5): merging. What the merge index remembers of each open case's reports
    // (encoded `merge::Sketch`es), so the index is rebuilt at start-up without re-reading
    // every ticket.
    r#"
CREATE TABLE merge_members (
    case_seq        INTEGER PRIMARY KEY,       -- cases.seq
    case_id         TEXT NOT NULL,
    district        INTEGER NOT NULL,          -- district code as a number
    category        TEXT NOT NULL,             -- given or inferred; '' when unknown
    members         BLOB NOT NULL              -- encoded merge::Sketch list
);
-- A case update waits for its case's earlier dispatches still in the outbox.
CREATE INDEX outbox_by_case ON outbox(case_id);
"#,
    // 5 (issue 6): routing: outbox rows that are not protobuf `minhu.v1.Dispatch` — proto3 JSON
    // dispatches and emergency linkage messages — carry their AMQP content_type and type.
    r#"
ALTER TABLE outbox ADD COLUMN content_type TEXT;
ALTER TABLE outbox ADD COLUMN message_type TEXT;
"#,
    // 6: the outbox without its own UNIQUE index and foreign key on `dispatch_id`. Nothing looks
    // rows up by dispatch id (the relay works by `id`), `dispatches` already keeps dispatch ids
    // unique, and each outbox row cost an extra index insert, an index delete and a
    // foreign-key probe. SQLite cannot drop a constraint, so the table is rebuilt; rows waiting
    // for the broker are copied with their ids, so the relay finds them as before.
    r#"
CREATE TABLE outbox_v6 (
    id              INTEGER PRIMARY KEY,
    dispatch_id     TEXT NOT NULL,             -- dispatches.dispatch_id
    case_id         TEXT NOT NULL,
    routing_key     TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    level           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    payload         BLOB NOT NULL,             -- encoded minhu.v1.Dispatch (or content_type)
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    content_type    TEXT,
    message_type    TEXT
);
INSERT INTO outbox_v6 (id, dispatch_id, case_id, routing_key, priority, channel, level, created_at,
                       payload, attempts, last_error, content_type, message_type)
    SELECT id, dispatch_id, case_id, routing_key, priority, channel, level, created_at,
           payload, attempts, last_error, content_type, message_type
      FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v6 RENAME TO outbox;
CREATE INDEX outbox_by_case ON outbox(case_id);
"#,
    // 7 (issue 12): deadlines counted on a provisional working-day calendar (a year whose
    // official file was not in yet). One row per case and department while its deadline is
    // provisional: how it was counted, so it can be counted again when the file arrives.
    r#"
CREATE TABLE provisional_deadlines (
    case_id         TEXT NOT NULL,
    department_id   TEXT NOT NULL,
    counted_from    INTEGER NOT NULL,          -- ms since epoch
    working_days    INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,          -- ms since epoch, as last counted
    years           TEXT NOT NULL,             -- provisional years counted, e.g. '2027,2028'
    rule_id         TEXT NOT NULL,
    routing_key     TEXT NOT NULL,             -- the department's, for its update dispatch
    level           INTEGER NOT NULL,          -- minhu.v1.Level it was given
    PRIMARY KEY (case_id, department_id)
) WITHOUT ROWID;
"#,
    // 8 (issue 14): the department side of the closed loop. A case has a version (one more per
    // applied update; updates name the version they were based on), the holder's own deadline
    // (NULL: the case's due_at) and a pending extension request. `case_updates` is the ledger
    // of every update decided, by (department, update_id): the first answer is replayed to a
    // duplicate. `handovers` records every time a department let go of a case (returned or
    // reassigned away), so a return is routed with every returning department excluded.
    r#"
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN unit_due_at INTEGER;
ALTER TABLE cases ADD COLUMN extension_due_at INTEGER;
CREATE INDEX cases_by_department ON cases(department_id, status, seq);

CREATE TABLE case_updates (
    seq             INTEGER PRIMARY KEY,
    department_id   TEXT NOT NULL,             -- the acting department (header.department_id)
    update_id       TEXT NOT NULL,             -- chosen by the caller
    case_id         TEXT NOT NULL,
    action          TEXT NOT NULL,             -- sign_for, progress, return, ...
    digest          BLOB NOT NULL,             -- SHA-256 of the encoded minhu.v1.CaseUpdate
    caller          TEXT,                      -- the authenticated caller, when [auth] is on
    via             TEXT NOT NULL,             -- grpc or amqp
    decided_at      INTEGER NOT NULL,          -- ms since epoch
    code            INTEGER NOT NULL,          -- 0 applied, else the gRPC code of the refusal
    outcome         BLOB NOT NULL,             -- encoded minhu.v1.UpdateOutcome, replayed as is
    UNIQUE (department_id, update_id)
);
CREATE INDEX case_updates_by_case ON case_updates(case_id, seq);

CREATE TABLE handovers (
    seq             INTEGER PRIMARY KEY,
    case_id         TEXT NOT NULL,
    department_id   TEXT NOT NULL,             -- who let go of the case
    how             TEXT NOT NULL,             -- returned or reassigned
    at              INTEGER NOT NULL,
    to_department   TEXT NOT NULL,             -- who holds it next
    reason          TEXT NOT NULL              -- reason code and text (JSON)
);
CREATE INDEX handovers_by_case ON handovers(case_id, seq);
"#,
    // 9 (issue 14): the clocks of each open unit (the case's holder) and what they sent. The
    // scheduler reads only rows whose `next_at` has come, through the partial index: a unit
    // with nothing left to happen (paused, or red with every escalation sent) has none.
    r#"
CREATE TABLE unit_clocks (
    case_id          TEXT PRIMARY KEY,
    department_id    TEXT NOT NULL,             -- the holder these clocks time
    started_at       INTEGER NOT NULL,          -- ms since epoch: given to the holder
    sign_yellow_at   INTEGER,                   -- the sign-for clock (NULL: none)
    sign_red_at      INTEGER,
    signed_at        INTEGER,                   -- NULL until signed for
    yellow_at        INTEGER NOT NULL,          -- the completion clock
    red_at           INTEGER NOT NULL,          -- = the unit deadline
    around_the_clock INTEGER NOT NULL,          -- counted in wall time, not working time
    sign_light       INTEGER NOT NULL DEFAULT 1, -- minhu.v1.Light last sent per clock
    light            INTEGER NOT NULL DEFAULT 1,
    paused_at        INTEGER,                   -- the clocks stand since (extension, 补办件)
    paused_ms        INTEGER NOT NULL DEFAULT 0, -- counted time stood so far
    policy           TEXT,                      -- escalation policy id
    sent             TEXT NOT NULL DEFAULT '',  -- per step `sends:last_at`, comma-separated
    next_at          INTEGER                    -- when to look again; NULL: nothing pending
) WITHOUT ROWID;
CREATE INDEX unit_clocks_due ON unit_clocks(next_at) WHERE next_at IS NOT NULL;
"#,
    // 10 (issue 15): the sent-ledger. One row per reporter of a completed case: a notice to
    // send (pending until recorded sent, unreachable or dead) or a reporter skipped, with why.
    // The notifier reads only rows whose `next_at` has come, through the partial index.
    r#"
CREATE TABLE notices (
    seq              INTEGER PRIMARY KEY,
    notice_id        TEXT NOT NULL UNIQUE,      -- <case_id>/<case version>/<kind>/<n>
    case_id          TEXT NOT NULL,
    ticket_id        TEXT NOT NULL,             -- the reporter's ticket
    kind             TEXT NOT NULL,             -- result, ...
    route            TEXT,                      -- wechat, email, sms; NULL when skipped
    contact_key      TEXT,                      -- digest of route and address (no contact in clear)
    address          BLOB,                      -- JSON notify::Address; NULL when skipped
    facts            TEXT NOT NULL,             -- JSON notify::Facts
    state            TEXT NOT NULL,             -- pending, sent, unreachable, dead, skipped
    reason           TEXT,                      -- why skipped, unreachable or dead; last error
    created_at       INTEGER NOT NULL,
    next_at          INTEGER,                   -- pending: when it is tried next
    attempts         INTEGER NOT NULL DEFAULT 0,
    sent_at          INTEGER,
    via              TEXT,                      -- how it went out (wechat.custom, smtp, ...)
    receipt          TEXT                       -- what the far side answered
);
CREATE INDEX notices_due ON notices(next_at) WHERE next_at IS NOT NULL;
CREATE INDEX notices_by_case ON notices(case_id, seq);
CREATE INDEX notices_by_ticket ON notices(ticket_id);
-- A reply (回访 by SMS or WeChat) is placed by its sender's contact_key.
CREATE INDEX notices_by_contact ON notices(contact_key, sent_at) WHERE state = 'sent';
-- Each reporter's rating of each completion (回访): `round` is how many times the case had
-- been reopened when it was rated, so a reopened and completed-again case is rated afresh.
CREATE TABLE ratings (
    seq              INTEGER PRIMARY KEY,
    ticket_id        TEXT NOT NULL,             -- the reporter's ticket
    case_id          TEXT NOT NULL,
    round            INTEGER NOT NULL,
    rating_id        TEXT NOT NULL,             -- chosen by the caller
    digest           BLOB NOT NULL,             -- SHA-256 of the encoded minhu.v1.RateRequest
    department_id    TEXT NOT NULL,             -- the department that completed the case
    satisfaction     INTEGER NOT NULL,          -- minhu.v1.Satisfaction
    solved           INTEGER NOT NULL,          -- minhu.v1.Solved
    text             TEXT NOT NULL,
    via              TEXT NOT NULL,
    at               INTEGER NOT NULL,
    answer           BLOB NOT NULL,             -- encoded minhu.v1.RateResponse, replayed as is
    UNIQUE (ticket_id, round),
    UNIQUE (ticket_id, rating_id)
);
CREATE INDEX ratings_by_case ON ratings(case_id, round);
CREATE INDEX ratings_by_department ON ratings(department_id, at);
"#,
    // 11 (issue 15): personal data at rest. With [privacy] keys, a ticket's reporter contacts
    // are sealed in `reporter` instead of its `request` (see `contacts`). A case records when
    // its reporters' contacts were erased; the partial index holds only closed cases whose
    // contacts are still there (or came back with a later report), so the erasure pass finds
    // the next ones without reading every closed case. A store that already has tickets wrote
    // them in clear: `seal.clear` tells the re-key pass to seal them once keys are configured.
    r#"
ALTER TABLE tickets ADD COLUMN reporter BLOB;   -- sealed minhu.v1.Reporter contacts; NULL: none, in clear, or erased
ALTER TABLE cases ADD COLUMN contacts_erased_at INTEGER;
CREATE INDEX cases_to_erase ON cases(closed_at)
    WHERE closed_at IS NOT NULL AND (contacts_erased_at IS NULL OR contacts_erased_at < closed_at);
INSERT OR REPLACE INTO meta (key, value) SELECT 'seal.clear', '1' WHERE EXISTS (SELECT 1 FROM tickets);
"#,
    // 12 (issue 15): 谁呼谁评 scores. `unit_clocks` keeps only the current holder's clocks, so
    // every stint of a department on a case is kept in `assignments`, written in the
    // transactions that cause it (`stints`): when it was given the case, its sign-for deadline,
    // when and how late it answered (working time on its calendar, counted then), and how it let
    // go. `case_scores` keeps each (case, department) score with the facts it was computed from
    // (JSON `scores::CaseFacts` and `scores::CaseScore`), so a score explains itself and is
    // recomputed when an input changes (`case_scores::rescore`). Current holders are copied
    // from `unit_clocks` (lateness unknown, so 0); cases closed before this have no stints.
    r#"
CREATE TABLE assignments (
    seq              INTEGER PRIMARY KEY,
    case_id          TEXT NOT NULL,
    department_id    TEXT NOT NULL,
    given_at         INTEGER NOT NULL,          -- ms since epoch: its clocks' start
    sign_due_at      INTEGER,                   -- sign-for deadline (NULL: no sign-for clock)
    responded_at     INTEGER,                   -- signed for, or returned before signing
    sign_late_ms     INTEGER NOT NULL DEFAULT 0, -- counted time past sign_due_at
    sign_allowed_ms  INTEGER NOT NULL DEFAULT 0, -- counted time the sign-for clock allowed
    ended_at         INTEGER,                   -- NULL while it holds the case
    ended_how        TEXT,                      -- completed, returned, reassigned, replaced
    unit_due_at      INTEGER,                   -- completed: the unit deadline in force
    late_ms          INTEGER,                   -- completed: counted time past unit_due_at
    allowed_ms       INTEGER                    -- completed: counted time the clock allowed
);
CREATE INDEX assignments_by_case ON assignments(case_id, seq);
INSERT INTO assignments (case_id, department_id, given_at, sign_due_at, responded_at)
    SELECT case_id, department_id, started_at, sign_red_at, signed_at FROM unit_clocks;

CREATE TABLE case_scores (
    case_id          TEXT NOT NULL,
    department_id    TEXT NOT NULL,
    counted_at       INTEGER NOT NULL,          -- when it counts in a period (first completion)
    score_hundredths INTEGER NOT NULL,          -- the total: 9350 is 93.50
    facts            TEXT NOT NULL,             -- JSON scores::CaseFacts
    score            TEXT NOT NULL,             -- JSON scores::CaseScore
    computed_at      INTEGER NOT NULL,          -- last time facts or score changed
    PRIMARY KEY (case_id, department_id)
) WITHOUT ROWID;
CREATE INDEX case_scores_by_time ON case_scores(counted_at);
"#,
    // 13 (issue 16): the console's Analysis page. Cases opened in a time window, counted per
    // category, district and department, read from the index alone (no table row per case);
    // open cases per district likewise. `IF NOT EXISTS`: they index columns every version has,
    // so a store taken back to an older version by hand may still hold them.
    r#"
CREATE INDEX IF NOT EXISTS cases_by_opened
    ON cases(opened_at, category, district_code, department_id);
CREATE INDEX IF NOT EXISTS cases_open_by_district ON cases(status, district_code, department_id);
"#,
    // 14 (issue 16): the Analysis page's streets (街道). A case keeps the street code of the
    // report that opened it, so open cases can be counted per street. Cases opened before keep
    // '': their requests are stored encoded (and maybe sealed), out of SQL's reach. The street
    // index begins with the district one's columns, so it serves the district counts too and
    // replaces it (one index fewer to write per case update).
    r#"
ALTER TABLE cases ADD COLUMN street_code TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_open_by_street ON cases(status, district_code, street_code, department_id);
DROP INDEX IF EXISTS cases_open_by_district;
"#,
    // 15 (issue 16): the console's lights board, read from this index alone. The board's one
    // pass over the open cases needs only these columns, and case_id second makes each status's cases come in case_id order, so the per-case lookup
    // of its clocks (`unit_clocks`, keyed by case_id) walks that table in order instead of
    // jumping about: at 100,000 open cases the pass went from ~190 to ~85 ms (sqlite3 shell,
    // BENCHMARKS.md "Console pages (issue 16)"). `IF NOT EXISTS` as in 13.
    r#"
CREATE INDEX IF NOT EXISTS cases_board
    ON cases(status, case_id, department_id, district_code, level, unit_due_at, due_at, opened_at);
"#,
    // 16 (issue 16): the 谁呼谁评 ranking read from an index alone. Each score row holds its
    // facts and parts as JSON (about 1.2 kB, so it spills onto overflow pages); ranking a
    // period read and parsed all of it, 0.7 s at 30,000 scored cases. The ranking needs only
    // the summary, kept here in columns beside the JSON (written by `rescore` from the same
    // `Summary`), filled for existing rows from the JSON, and covered by one index in
    // `counted_at` order. The JSON stays the whole record; per-case detail still reads it.
    r#"
ALTER TABLE case_scores ADD COLUMN completed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN completed_on_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN responded_on_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN satisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN basically_satisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN dissatisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_scores ADD COLUMN unsolved INTEGER NOT NULL DEFAULT 0;
UPDATE case_scores SET
    completed = COALESCE(json_extract(score, '$.summary.completed'), 0),
    completed_on_time = COALESCE(json_extract(score, '$.summary.completed_on_time'), 0),
    reopened = COALESCE(json_extract(score, '$.summary.reopened'), 0),
    responded_on_time = COALESCE(json_extract(score, '$.summary.responded_on_time'), 0),
    satisfied = COALESCE(json_extract(score, '$.summary.ratings.satisfied'), 0),
    basically_satisfied = COALESCE(json_extract(score, '$.summary.ratings.basically_satisfied'), 0),
    dissatisfied = COALESCE(json_extract(score, '$.summary.ratings.dissatisfied'), 0),
    unsolved = COALESCE(json_extract(score, '$.summary.ratings.unsolved'), 0);
CREATE INDEX case_scores_ranking ON case_scores(counted_at, department_id, score_hundredths,
    completed, completed_on_time, reopened, responded_on_time,
    satisfied, basically_satisfied, dissatisfied, unsolved);
"#,
    // 17 (issue 17): several gateways on one PostgreSQL database. Each district's merge
    // decisions are serialised by its row here (taken, and its version raised, in the
    // transaction that decides), and every merge_members row written records the version it
    // was written at, so a gateway whose index last saw an older version reads back only what
    // changed since (`merge_shared`). Unused on SQLite, whose single writer sees everything.
    r#"
CREATE TABLE merge_districts (
    district         INTEGER PRIMARY KEY,       -- district code as a number
    version          INTEGER NOT NULL           -- raised by every decision in the district
);
ALTER TABLE merge_members ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX merge_members_by_version ON merge_members(district, version);
"#,
    // 18 (issue 17): gateways sharing a PostgreSQL database (`gateways`): their heartbeats,
    // which gateway's relay publishes each outbox row (`owner`; NULL: whoever finds it), and
    // the lease of the gateway that runs the timers. Unused on SQLite.
    r#"
ALTER TABLE outbox ADD COLUMN owner TEXT;
CREATE TABLE gateways (
    gateway_id       TEXT PRIMARY KEY,          -- random, one per gateway process
    started_at       INTEGER NOT NULL,          -- ms since epoch, the database's clock
    alive_until      INTEGER NOT NULL           -- its last heartbeat + TTL
);
CREATE TABLE leases (
    name             TEXT PRIMARY KEY,          -- timers
    holder           TEXT NOT NULL,             -- gateway_id
    until            INTEGER NOT NULL           -- ms since epoch, the database's clock
);
"#,
];
